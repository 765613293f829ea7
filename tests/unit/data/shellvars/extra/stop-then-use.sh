if true; then
  A=1
fi
[ -n "$KEEL_NEVER" ] && return 0
B="${A}x"
