A=1
if true; then
  FOO=in_block
fi
B=2
