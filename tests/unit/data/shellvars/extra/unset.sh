FOO=1
unset FOO
BAR=2
export BAR
