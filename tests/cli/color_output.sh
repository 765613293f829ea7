#!/bin/bash
# Colour in plan and apply output: + green, - red, ~ yellow, ! red, diffs
# coloured like git (@@ cyan, + green, - red). --color always|never decide;
# auto colours only a terminal (driven through a real pty with script(1))
# and honours NO_COLOR; JSON and pipes never carry escape codes.
. "$(dirname "$0")/lib.sh"
unset NO_COLOR
ESC=$'\033'
GREEN="${ESC}[32m" RED="${ESC}[31m" YELLOW="${ESC}[33m" CYAN="${ESC}[36m" RESET="${ESC}[0m"

R=$(mkroot)
printf 'old line\nkeep\n' >"$R/etc/changed"
echo gone >"$R/etc/gone"
cat >"$T/site.yaml" <<'Y'
resources:
  - file: /etc/new
    content: "new\n"
  - file: /etc/changed
    content: "new line\nkeep\n"
  - file: /etc/gone
    ensure: absent
  - exec: broken
    command: "exit 1"
    chroot: false
Y

assert_exit 0 "$KEEL" plan "$T/site.yaml" --root "$R" --color always
p=$OUT
assert_contains "$p" "${GREEN}+${RESET} file[/etc/new]" "created, green"
assert_contains "$p" "${YELLOW}~${RESET} file[/etc/changed]" "changed, yellow"
assert_contains "$p" "${RED}-${RESET} file[/etc/gone]" "removed, red"
assert_contains "$p" "${CYAN}@@" "hunk header, cyan"
assert_contains "$p" "${RED}-old line${RESET}" "removed line, red"
assert_contains "$p" "${GREEN}+new line${RESET}" "added line, green"
assert_not_contains "$p" "${ESC}[3${ESC}" "no nested codes"

cp -a "$R" "$T/applied"
assert_exit 1 "$KEEL" apply "$T/site.yaml" --root "$T/applied" --color always
assert_contains "$OUT" "${RED}!${RESET} exec[broken]" "failed, red"

for args in "--color never" "" "--color auto"; do
  assert_exit 0 "$KEEL" plan "$T/site.yaml" --root "$R" $args
  assert_not_contains "$OUT" "$ESC" "output to a pipe with [$args]"
  assert_contains "$OUT" "+ file[/etc/new]" "plain output with [$args]"
done
assert_exit 0 "$KEEL" plan "$T/site.yaml" --root "$R" --color always --format json
assert_not_contains "$OUT" "$ESC" "JSON with --color always"
assert_exit 1 "$KEEL" plan "$T/site.yaml" --root "$R" --color rainbow
assert_contains "$ERR" "--color" "a bad --color value"

# On a terminal (a pty made by script(1)): auto colours, NO_COLOR turns it
# off, --color always wins over NO_COLOR.
command -v script >/dev/null || skip "script(1) (util-linux) is not installed"
tty_plan() {  # tty_plan ENV... -- ARGS: stdout of a plan run on a pty
  script -qec "env $1 '$KEEL' plan '$T/site.yaml' --root '$R' $2" /dev/null </dev/null
}
out=$(tty_plan "" "")
assert_contains "$out" "${GREEN}+${RESET} file[/etc/new]" "auto on a terminal"
out=$(tty_plan "NO_COLOR=1" "")
assert_not_contains "$out" "${GREEN}" "NO_COLOR on a terminal"
assert_contains "$out" "+ file[/etc/new]" "NO_COLOR output"
out=$(tty_plan "NO_COLOR=1" "--color always")
assert_contains "$out" "${GREEN}+${RESET} file[/etc/new]" "--color always over NO_COLOR"
out=$(tty_plan "" "--color never")
assert_not_contains "$out" "${GREEN}" "--color never on a terminal"
echo ok
