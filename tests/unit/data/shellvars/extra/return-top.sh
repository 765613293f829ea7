# sourced by a script: stops early unless asked to go on
A=1
FOO=before
[ -z "$KEEL_GO_ON" ] && return 0
FOO=after
B=2
