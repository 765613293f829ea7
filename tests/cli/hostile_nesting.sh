#!/bin/bash
# Hostile user, deep nesting everywhere input is read (issue 11; the
# include chain, 100,000 flow levels in content, 3,000 block levels in vars
# and 100,000 parentheses are in badinput_load): block maps 10,000 deep in
# a resource attribute, flow maps, a --facts file and a hierarchy data file
# 10,000 deep, `not` 100,000 times, list literals 100,000 deep in `when`,
# 5,000 nested `{{`, YAML aliases that expand to 10^10 nodes. Each is an
# error with file:line:col (exit 1, nothing changed) in bounded time and
# memory, never a signal death.
. "$(dirname "$0")/lib.sh"

R=$(mkroot)
mkdir -p "$T/data"
python3 - "$T" <<'PY'
import sys
T = sys.argv[1]
N = 10000
w = lambda name, text: open(T + '/' + name, 'w').write(text)
w('blockmap.yaml', 'resources:\n  - file: /etc/x\n    content:\n' +
  ''.join(' ' * (6 + i) + 'a:\n' for i in range(N)))
w('flowmap.yaml', 'resources:\n  - file: /etc/x\n    content: ' + '{a: ' * N + '1' + '}' * N + '\n')
w('facts.yaml', 'deep: ' + '[' * N + ']' * N + '\n')
w('site.yaml', 'resources:\n  - file: /etc/x\n    content: "{{ facts.hostname }}"\n')
w('data/common.yaml', 'deep: ' + '{a: ' * N + '1' + '}' * N + '\n')
w('hier.yaml', 'hierarchy:\n  - data/common.yaml\nresources:\n  - file: /etc/x\n    content: "x"\n')
w('notnot.yaml', 'resources:\n  - file: /etc/x\n    content: x\n    when: "' + 'not ' * 100000 + 'true"\n')
w('listlit.yaml', 'resources:\n  - file: /etc/x\n    content: x\n    when: "1 in ' + '[' * 100000 + ']' * 100000 + '"\n')
w('interp.yaml', 'resources:\n  - file: /etc/x\n    content: "' + '{{ ' * 5000 + '1' + ' }}' * 5000 + '"\n')
w('anchors.yaml', 'vars:\n  a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n' +
  ''.join('  a%d: &a%d [%s]\n' % (i, i, ', '.join(['*a%d' % (i - 1)] * 10)) for i in range(1, 10)) +
  'resources:\n  - file: /etc/x\n    content: "{{ a9 }}"\n')
# Variables doubling a list 60 times: 2^60 strings once rendered.
w('varlist.yaml', 'vars:\n  v0: [x, x]\n' +
  ''.join('  v%d: ["{{ v%d }}", "{{ v%d }}"]\n' % (i, i - 1, i - 1) for i in range(1, 60)) +
  'resources:\n  - file: /etc/x\n    content: "x{{ v59 }}"\n')
PY
sum=$(tree_sum "$R")
check() {  # MANIFEST PLACE MESSAGE [keel options]
  local m=$1 place=$2 msg=$3
  shift 3
  local start
  start=$(date +%s)
  run_limited 60 /usr/bin/time -f "%M" "$KEEL" apply "$T/$m" --root "$R" "$@"
  assert_eq 1 "$RC" "$m: exit"
  assert_contains "$ERR" "$place" "$m"
  assert_contains "$ERR" "$msg" "$m"
  local kb
  kb=$(tail -1 "$T/.err")
  [ "$kb" -lt 600000 ] || fail "$m: peak RSS $kb KB"
  echo "$m: $(($(date +%s) - start)) s, $kb KB"
}
check blockmap.yaml "blockmap.yaml:" "YAML nested too deeply"
check flowmap.yaml "flowmap.yaml:3:" "YAML nested too deeply"
check site.yaml "facts.yaml:1:" "" --facts "$T/facts.yaml"
check hier.yaml "data/common.yaml:1:" "YAML nested too deeply"
check notnot.yaml "notnot.yaml:4:" "expression nested too deeply"
check listlit.yaml "listlit.yaml:4:" "expression nested too deeply"
check interp.yaml "interp.yaml:3:" ""
check anchors.yaml "anchors.yaml:" "value too large or nested too deeply"
# Variables that double a list 60 times: "x{{ v59 }}" rendered 2^60
# strings (killed after 60 s at 1 GB and growing); a variable's expanded
# size is bounded as YAML aliases are.
check varlist.yaml "varlist.yaml:" "too large"
assert_eq "$sum" "$(tree_sum "$R")" "tree after the refused manifests"
echo "hostile_nesting: ok"
