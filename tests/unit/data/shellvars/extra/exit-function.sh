die() {
  echo "fatal: $*" >&2
  exit 1
}
check() {
  [ -n "$1" ] || return 1
  return 0
}
A=1
check yes || die "no check"
B=2
exit 0
C=3
