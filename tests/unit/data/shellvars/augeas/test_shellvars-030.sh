ulimit -c unlimited
