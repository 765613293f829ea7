DAEMON_OPTS="-a :6081 \
             -T localhost:6082"
