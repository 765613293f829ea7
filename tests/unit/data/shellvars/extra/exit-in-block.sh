A=1
if [ -n "$KEEL_NEVER" ]; then
  echo never
  exit 3
fi
B=2
