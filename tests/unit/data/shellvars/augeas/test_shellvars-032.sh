ulimit -c \
unlimited
ulimit \
 -x 123
