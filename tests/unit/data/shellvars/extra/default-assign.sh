FOO=1
: ${BAR:=default}
A=1 B=2
