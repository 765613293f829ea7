#!/bin/bash
# Hostile user, pathological regular expressions (issue 11): every place
# that takes a user pattern (line `match` and `after`, `=~` in `when` and in
# `{{ }}`) gets huge repetition counts, nested repetitions, backreferences,
# lookaround, 3,000 nested groups, a long literal and catastrophic
# backtracking shapes. Each is a load error with file:line:col naming RE2
# syntax, or converges in linear time; nothing hangs, nothing changes on a
# refused manifest.
. "$(dirname "$0")/lib.sh"
has_type line || skip "line not registered"

R=$(mkroot)
python3 -c "print('a' * 30 + 'b'); print('a' * 200000 + '!')" >"$R/etc/evil"

# manifest PATTERN: the pattern in match, after, and =~ in `when` and in
# `{{ }}` (quoted for YAML and for the expression's string literal).
manifest() {
  rm -f "$T/re.yaml"
  python3 - "$1" "$T/re.yaml" <<'PY'
import sys
re, out = sys.argv[1], sys.argv[2]
y = lambda s: "'" + s.replace("'", "''") + "'"
e = '"' + re.replace('\\', '\\\\').replace('"', '\\"') + '"'
open(out, 'w').write(
    "resources:\n  - line: l\n    path: /etc/evil\n    line: fixed\n"
    "    match: %s\n    after: %s\n  - file: /etc/w\n    content: %s\n"
    "    when: %s\n" % (y(re), y(re), y('{{ "aaaa" =~ ' + e + ' }}'), y('"aaaa" =~ ' + e)))
PY
  [ -s "$T/re.yaml" ] || fail "manifest"
}

for re in 'a{1000}{1000}' '(a{1000}){1000}' '((a{100}){100}){100}' 'a{1001}' '(a)\1' \
  '(?=a)' '(?<!a)b' '(?P<n>a)(?P=n)' 'a**' '(' '[[:nope:]]' '\p{Nope}'; do
  manifest "$re"
  sum=$(tree_sum "$R")
  run_limited 30 "$KEEL" apply "$T/re.yaml" --root "$R"
  assert_eq 1 "$RC" "pattern $re: $OUT"
  assert_contains "$ERR" "re.yaml:5:5: invalid regex" "pattern $re"
  assert_contains "$ERR" "re.yaml:6:5: invalid regex" "pattern $re"
  assert_contains "$ERR" "RE2 syntax" "pattern $re"
  assert_contains "$ERR" "re.yaml:9:" "pattern $re (when)"
  assert_eq "$sum" "$(tree_sum "$R")" "tree after the refused pattern $re"
done

# Accepted, and linear: catastrophic shapes for a backtracking engine, deep
# groups, a huge literal.
deep=$(python3 -c "print('(' * 1500 + 'a' + ')' * 1500)")  # 3001 bytes: under the 4096 cap
# A long literal pattern against the 200 KB line took minutes (RE2's DFA
# runs out of memory on a pattern that long and falls back to a matcher of
# O(line x pattern): 20 KB 3.4 s, 40 KB 12.6 s): patterns over 4096 bytes
# are refused at load time, in `match` and in `=~`.
big=$(python3 -c "print('a' * 100000)")
manifest "$big"
run_limited 30 "$KEEL" plan "$T/re.yaml" --root "$R" --detailed-exitcodes
assert_eq 1 "$RC" "a 100 KB pattern: $ERR"
assert_contains "$ERR" "regex too long (100000 bytes, at most 4096)"
assert_contains "$ERR" "re.yaml:9:" "the 100 KB pattern in when"
lit=$(python3 -c "print('a' * 2000)")
for re in '^(a+)+$' '^(a|aa)*$' '^(a*)*b$' '(x+x+)+y' '^(.*a){20}$' "$deep" "$lit"; do
  manifest "$re"
  start=$(date +%s%N)
  run_limited 30 "$KEEL" plan "$T/re.yaml" --root "$R" --detailed-exitcodes
  ms=$((($(date +%s%N) - start) / 1000000))
  case $RC in 0 | 2) ;; *) fail "pattern ${re:0:40}: exit $RC: $ERR" ;; esac
  [ "$ms" -lt 20000 ] || fail "pattern ${re:0:40} took $ms ms"
  echo "pattern ${re:0:20}: $ms ms"
done
echo "hostile_regex: ok"
