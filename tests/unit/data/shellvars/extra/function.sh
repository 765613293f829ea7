setup() {
  FOO=fn
}
FOO=top
BAR=$((1+2))
