#!/bin/bash
# Issue 11, bad input at load time: bounded recursion (include chains, deep
# YAML), linear-time regexes (line match, =~), memoised variables, path
# normalisation, unterminated quoted scalars, `when` must be a boolean,
# dependency cycles with places, exec exit codes as integers. Each one
# exits 1 with a place (or converges correctly), never dies by a signal,
# never hangs, and changes nothing.
. "$(dirname "$0")/lib.sh"

R=$(mkroot)

# --- 1. a chain of 2,000 includes: an error naming the chain, no SIGSEGV
mkdir -p "$T/inc"
for i in $(seq 0 1999); do
  printf 'include:\n  - d%d.yaml\n' $((i + 1)) >"$T/inc/d$i.yaml"
done
printf 'resources: []\n' >"$T/inc/d2000.yaml"
cd "$T/inc" || fail "cd"
run_limited 60 "$KEEL" validate d0.yaml
cd - >/dev/null || fail "cd -"
assert_eq 1 "$RC" "validate of a 2,000-deep include chain"
assert_contains "$ERR" "includes nested more than 100 deep: d0.yaml -> d1.yaml -> d2.yaml -> ..."
assert_contains "$ERR" "d99.yaml -> d100.yaml"
assert_contains "$ERR" "error(s) in the manifests; nothing changed"
# A chain of 50 is fine.
printf 'resources: []\n' >"$T/inc/d50.yaml"
assert_exit 0 "$KEEL" validate "$T/inc/d0.yaml"

# --- 1. YAML nested 100,000 deep (flow) and 5,000 deep (block)
python3 -c "print('resources:\n  - file: /etc/x\n    content: ' + '['*100000 + ']'*100000)" >"$T/deep1.yaml"
run_limited 60 "$KEEL" validate "$T/deep1.yaml"
assert_eq 1 "$RC" "deep flow YAML"
assert_contains "$ERR" "deep1.yaml:3:"
assert_contains "$ERR" "YAML nested too deeply"
python3 -c "
import sys
sys.stdout.write('vars:\n  v:\n')
for i in range(3000): sys.stdout.write(' ' * (4 + i) + '-\n')
" >"$T/deep2.yaml"
run_limited 60 "$KEEL" validate "$T/deep2.yaml"
assert_eq 1 "$RC" "deep block YAML"
assert_contains "$ERR" "YAML nested too deeply"

# --- 1. an expression nested 100,000 deep
python3 -c "print('resources:\n  - file: /etc/x\n    content: x\n    when: \"' + '('*100000 + 'true' + ')'*100000 + '\"')" >"$T/deep3.yaml"
run_limited 60 "$KEEL" validate "$T/deep3.yaml"
assert_eq 1 "$RC" "deeply nested expression"
assert_contains "$ERR" "expression nested too deeply"

# --- 2. catastrophic regexes: linear with RE2
printf 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab\n' >"$R/etc/evil"
cat >"$T/re.yaml" <<'Y'
resources:
  - line: fixed
    path: /etc/evil
    line: fixed
    match: "^(a+)+$"
  - file: /etc/by-when
    content: "x\n"
    when: '"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaab" =~ "^(a+)+$"'
Y
run_limited 20 "$KEEL" apply "$T/re.yaml" --root "$R"
assert_eq 0 "$RC" "apply with catastrophic patterns"
assert_file_eq "$R/etc/evil" "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab
fixed
"
[ ! -e "$R/etc/by-when" ] || fail "=~ matched a string that does not match"
# A line far longer than the old 4 KiB cap is matched.
python3 -c "print('x=' + 'a' * 100000)" >"$R/etc/long"
cat >"$T/long.yaml" <<'Y'
resources:
  - line: x
    path: /etc/long
    line: x=1
    match: "^x="
Y
run_limited 20 "$KEEL" apply "$T/long.yaml" --root "$R"
assert_eq 0 "$RC" "apply on a 100 KB line"
assert_file_eq "$R/etc/long" "x=1
"
# A pattern RE2 does not accept is a load error with its place.
cat >"$T/badre.yaml" <<'Y'
resources:
  - line: x
    path: /etc/long
    line: x=1
    match: "^(?=x)"
Y
assert_exit 1 "$KEEL" validate "$T/badre.yaml"
assert_contains "$ERR" "badre.yaml:5:"
assert_contains "$ERR" "RE2 syntax"

# --- 3. 20,000 chained variables resolve in linear time; a cycle is named
python3 -c "
n = 20000
print('vars:')
for i in range(n): print('  v%d: \"{{ v%d }}\"' % (i, i + 1))
print('  v%d: end' % n)
print('resources:\n  - file: /etc/chain\n    content: \"{{ v0 }}\"')
" >"$T/chain.yaml"
start=$(date +%s%N)
run_limited 60 "$KEEL" validate "$T/chain.yaml"
ms=$((($(date +%s%N) - start) / 1000000))
assert_eq 0 "$RC" "validate of 20,000 chained variables: $ERR"
[ "$ms" -lt 30000 ] || fail "20,000 chained variables took ${ms} ms"
echo "20,000 chained variables: ${ms} ms"
cat >"$T/cycle.yaml" <<'Y'
vars:
  a: "{{ b }}"
  b: "{{ c }}"
  c: "x{{ a }}"
resources:
  - file: /etc/x
    content: "{{ a }}"
Y
assert_exit 1 "$KEEL" validate "$T/cycle.yaml"
assert_contains "$ERR" "cycle.yaml:2:3: variable 'a' cannot be resolved: its value depends on itself (a -> b -> c -> a)"

# --- 4. paths are normalised: one file, two spellings, is two owners
cat >"$T/own.yaml" <<'Y'
resources:
  - file: /etc/own
    content: "A=1\n"
  - shellvar: /etc/./own:A
    value: "2"
Y
assert_exit 1 "$KEEL" validate "$T/own.yaml"
assert_contains "$ERR" "two owners of /etc/own"
cat >"$T/dup.yaml" <<'Y'
resources:
  - shellvar: /etc/../etc/cfg:A
    value: "1"
  - shellvar: /etc/cfg:A
    value: "2"
  - line: /etc/./lf
    path: /etc/./lf
    line: one
  - line: /etc/lf
    path: /etc//lf/
    line: one
Y
assert_exit 1 "$KEEL" validate "$T/dup.yaml"
assert_contains "$ERR" "dup.yaml:4:5: duplicate resource shellvar[/etc/cfg:A]"
assert_contains "$ERR" "dup.yaml:9:5: duplicate resource line[/etc/lf]"
# Spelled oddly but alone: converges once, then nothing changes.
cat >"$T/odd.yaml" <<'Y'
resources:
  - shellvar: /etc/./sub/../cfg2:A
    value: "1"
  - line: l
    path: /etc//cfg2/
    line: "# managed"
Y
assert_exit 0 "$KEEL" apply "$T/odd.yaml" --root "$R"
run "$KEEL" apply "$T/odd.yaml" --root "$R" --detailed-exitcodes
assert_eq 0 "$RC" "second apply of oddly spelled paths: $OUT $ERR"
assert_file_eq "$R/etc/cfg2" "A=1
# managed
"

# --- 5. a truncated manifest (unterminated quotes) is refused, nothing changes
sum=$(tree_sum "$R")
printf 'resources:\n  - file: /etc/trunc\n    content: "abc\n    mode: [\n' >"$T/trunc1.yaml"
assert_exit 1 "$KEEL" apply "$T/trunc1.yaml" --root "$R"
assert_contains "$ERR" "trunc1.yaml:3:14: unterminated double-quoted string"
printf "resources:\n  - file: /etc/trunc\n    content: 'abc\n    mode: \"0600\"\n" >"$T/trunc2.yaml"
assert_exit 1 "$KEEL" apply "$T/trunc2.yaml" --root "$R"
assert_contains "$ERR" "trunc2.yaml:3:14: unterminated single-quoted string"
assert_eq "$sum" "$(tree_sum "$R")" "tree after refused truncated manifests"
# Quotes that close across lines, escaped quotes and '' are fine.
printf 'resources:\n  - file: /etc/q\n    content: "a \\" b\n      c"\n  - file: /etc/q2\n    content: '"'"'it'"''"'s'"'"'\n' >"$T/quotes.yaml"
assert_exit 0 "$KEEL" validate "$T/quotes.yaml"

# --- 6. `when` must be a boolean
for v in no '"false"' '"0"' 1; do
  cat >"$T/when.yaml" <<Y
vars:
  ec2_image: $v
resources:
  - file: /etc/w
    content: x
    when: ec2_image
Y
  assert_exit 1 "$KEEL" validate "$T/when.yaml"
  assert_contains "$ERR" "when.yaml:6:11: 'when' must be true or false, got"
done
cat >"$T/when2.yaml" <<'Y'
vars:
  flag: true
resources:
  - file: /etc/w
    content: x
    when: flag and 1 == 1
Y
assert_exit 0 "$KEEL" validate "$T/when2.yaml"

# --- 9. every dependency cycle, each resource with its place
cat >"$T/cyc.yaml" <<'Y'
resources:
  - file: /etc/a
    content: a
    require: exec[c]
  - exec: c
    command: "true"
    require: file[/etc/a]
  - exec: d
    command: "true"
    require: exec[d]
Y
assert_exit 1 "$KEEL" validate "$T/cyc.yaml"
assert_contains "$ERR" "cyc.yaml:2:5: dependency cycle: file[/etc/a] (${T}/cyc.yaml:2:5) -> exec[c] (${T}/cyc.yaml:5:5) -> file[/etc/a]"
assert_contains "$ERR" "dependency cycle: exec[d] (${T}/cyc.yaml:8:5) -> exec[d]"
assert_contains "$ERR" "2 error(s) in the manifests; nothing changed"

# --- 11. exec returns are integers
cat >"$T/ret.yaml" <<'Y'
resources:
  - exec: zero
    command: "exit 0"
    chroot: false
    returns: ["00"]
Y
assert_exit 0 "$KEEL" apply "$T/ret.yaml" --root "$R"

# --- 14. sensitive redacts values, not the shape of the change
printf 'password=old\n' >"$R/etc/secret"
cat >"$T/sens.yaml" <<'Y'
resources:
  - file: /etc/secret
    ensure: absent
    sensitive: true
Y
assert_exit 0 "$KEEL" plan "$T/sens.yaml" --root "$R" --format json
assert_eq "absent" "$(echo "$OUT" | json_get - '[c for c in j["resources"][0]["changes"] if c["attribute"]=="ensure"][0]["to"]')" "ensure of a sensitive file"
assert_not_contains "$OUT" "password=old"

# --- 16. --version and "did you mean"
assert_exit 0 "$KEEL" --version
assert_contains "$OUT" "keel "
assert_exit 1 "$KEEL" aply
assert_contains "$ERR" "unknown command 'aply' (did you mean 'apply'?)"
echo "badinput_load: ok"
