FOO=top
if false; then
  FOO=never
else
  FOO=else_branch
fi
