FOO="a\
b"
BAR=c\
d
