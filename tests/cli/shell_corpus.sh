#!/bin/bash
# shellvar against bash on a corpus of real shell files (issue 11 item 18):
# the shell-variable snippets of Augeas' lens tests plus keel's own hard
# cases (tests/unit/data/shellvars/). For every snippet and every variable
# bash sees in it (and one new variable), keel sets it to a plain value,
# sets it to a value that needs quoting, and removes it (ensure: absent).
# After each apply:
#  - bash -n accepts the file and `env -i bash` sources it quietly;
#  - bash sees exactly the intended change: the variable has the new value
#    (or is unset) and every other variable is exactly as before;
#  - a second apply changes nothing.
# Where keel cannot be sure how bash reads the file, it must refuse: exit 4,
# a message naming the reason, and the file byte for byte unchanged. A set
# may be refused only when the file itself cannot be followed, or when the
# key is used after a command that may stop the sourcing (exit, return).
# Snippets that stop the sourcing are compared up to where bash stops.
. "$(dirname "$0")/lib.sh"
has_type shellvar || skip "shellvar not registered"

DATA="$KEEL_SRC/tests/unit/data/shellvars"
EMPTY="$T/empty"
mkdir -p "$EMPTY"

# vars FILE: one line per variable bash has after sourcing FILE: "NAME DECL"
# with DECL the `declare -p` text, %q-escaped to one line. Bash's own
# changing variables are left out. Writes the sourcing's stderr to $T/err.
# A file that stops the sourcing (`return` at top level, `exit`) is read up
# to there: the EXIT trap lists what bash has when it exits.
vars() {
  (cd "$EMPTY" && env -i PATH="$T/bin:/usr/bin:/bin" bash --norc --noprofile -c '
    exec 7>&1
    __keel_dump() {
      for __keel_v in $(compgen -v); do
        case $__keel_v in
          BASH*|PPID|PWD|OLDPWD|SHLVL|_|RANDOM|SRANDOM|SECONDS|LINENO|EPOCH*|HISTCMD|COLUMNS|LINES|FUNCNAME|PIPESTATUS|GROUPS|DIRSTACK|__keel_*) continue ;;
        esac
        printf "%s %q\n" "$__keel_v" "$(declare -p "$__keel_v" 2>/dev/null)" >&7
      done
    }
    trap __keel_dump EXIT
    source "$0" >/dev/null 2>"$1" </dev/null' "$1" "$T/err")
}

value_of() {  # FILE NAME: what bash sees for $NAME ("<unset>" when unset)
  (cd "$EMPTY" && env -i PATH="$T/bin:/usr/bin:/bin" bash --norc --noprofile -c '
    exec 7>&1
    __keel_key=$1
    trap '\''printf "%s" "${!__keel_key-<unset>}" >&7'\'' EXIT
    source "$0" >/dev/null 2>&1 </dev/null' "$1" "$2")
}

base=$(printf '' >"$T/nothing.sh"; vars "$T/nothing.sh")

# A snippet may run `date` (bash sees a new value each second): the
# sourcing shells get a `date` that always prints the same.
mkdir -p "$T/bin"
printf '#!/bin/sh\necho "Tue Dec  1 00:00:00 UTC 2026"\n' >"$T/bin/date"
chmod +x "$T/bin/date"

# Every file (default: every third, about 3 minutes; KEEL_SHELL_CORPUS=full
# for all of them, about 10).
step=3
[ "${KEEL_SHELL_CORPUS:-}" = full ] && step=1
index=0

R=$(mkroot)
ok=0
refused=0
checked_files=0
bad=()
refusals=()
PLAIN=new_value
TRICKY="it's \"quoted\" \$HOME; \`x\` \\ end"

for f in "$DATA"/augeas/*.sh "$DATA"/extra/*.sh; do
  name=${f#"$DATA"/}
  index=$((index + 1))
  [ $(((index - 1) % step)) = 0 ] || continue
  before=$(vars "$f")
  [ -s "$T/err" ] && { bad+=("$name: the original does not source quietly"); continue; }
  # Bash's view must not change between two sourcings (no $RANDOM, date).
  [ "$before" = "$(vars "$f")" ] || continue
  checked_files=$((checked_files + 1))
  echo "[$checked_files] $name (wrong so far: ${#bad[@]})"
  [ "${#bad[@]}" -gt 0 ] && printf '  WRONG: %s\n' "${bad[-1]}" >&2
  own=$(comm -13 <(printf '%s\n' "$base" | sort) <(printf '%s\n' "$before" | sort) |
    awk '{print $1}' | sort -u)
  for key in $own KEEL_NEW_VAR; do
    for op in plain tricky absent; do
      cp "$f" "$R/etc/f"
      case $op in
        plain) printf 'resources:\n  - shellvar: /etc/f:%s\n    value: %s\n' "$key" "$PLAIN" ;;
        tricky) printf 'resources:\n  - shellvar: /etc/f:%s\n    value: %s\n' "$key" \
          "'$(printf '%s' "$TRICKY" | sed "s/'/''/g")'" ;;
        absent) printf 'resources:\n  - shellvar: /etc/f:%s\n    ensure: absent\n' "$key" ;;
      esac >"$T/site.yaml"
      run "$KEEL" apply "$T/site.yaml" --root "$R" --state-dir "$T/state" --detailed-exitcodes
      what="$name $key $op"
      if [ "$RC" = 4 ]; then
        cmp -s "$f" "$R/etc/f" || { bad+=("$what: refused but the file changed"); continue; }
        case "$OUT$ERR" in
          *"cannot set $key"* | *"cannot remove $key"*) ;;
          *) bad+=("$what: refused without a clear reason: $OUT $ERR"); continue ;;
        esac
        if [ "$op" != absent ]; then
          case "$OUT$ERR" in
            *"cannot read this file exactly"*) ;;
            *"where bash may stop reading the file"*) ;;
            *) bad+=("$what: a set may only be refused on a file keel cannot follow"); continue ;;
          esac
        fi
        refused=$((refused + 1))
        refusals+=("$what: $(printf '%s' "$OUT$ERR" | grep -o 'cannot [a-z]* [A-Za-z_0-9]*: .*' | head -1 | cut -c1-150)")
        continue
      fi
      if [ "$RC" != 0 ] && [ "$RC" != 2 ]; then
        bad+=("$what: apply exited $RC: $ERR")
        continue
      fi
      bash -n "$R/etc/f" 2>/dev/null || { bad+=("$what: bash -n rejects the result"); continue; }
      after=$(vars "$R/etc/f")
      [ -s "$T/err" ] && { bad+=("$what: sourcing complains: $(head -c 200 "$T/err")"); continue; }
      got=$(value_of "$R/etc/f" "$key")
      case $op in
        plain) want=$PLAIN ;;
        tricky) want=$TRICKY ;;
        absent) want="<unset>" ;;
      esac
      [ "$got" = "$want" ] || { bad+=("$what: bash sees [$got], wanted [$want]"); continue; }
      others_before=$(printf '%s\n' "$before" | awk -v k="$key" '$1 != k')
      others_after=$(printf '%s\n' "$after" | awk -v k="$key" '$1 != k')
      if [ "$others_before" != "$others_after" ]; then
        bad+=("$what: other variables changed: $(diff <(echo "$others_before") <(echo "$others_after") | head -4 | tr '\n' ' ')")
        continue
      fi
      run "$KEEL" apply "$T/site.yaml" --root "$R" --state-dir "$T/state" --detailed-exitcodes
      [ "$RC" = 0 ] || { bad+=("$what: second apply exited $RC: $OUT"); continue; }
      ok=$((ok + 1))
    done
  done
done

echo "shell corpus: $checked_files files, $ok edits exact, $refused refused"
for r in "${refusals[@]}"; do echo "  refused: $r"; done
if [ "${#bad[@]}" -gt 0 ]; then
  printf '  WRONG: %s\n' "${bad[@]}" >&2
  fail "${#bad[@]} edits where bash does not see exactly the intended change"
fi
[ "$checked_files" -ge $((100 / step)) ] || fail "only $checked_files corpus files checked"
[ "$ok" -ge $((300 / step)) ] || fail "only $ok exact edits"
