#!/bin/bash
# keel graph --format svg renders the graph through Graphviz's dot; without
# dot in PATH it fails with a message saying what to install; --format dot
# (the default) prints DOT.
. "$(dirname "$0")/lib.sh"
R=$(mkroot)
cat >"$T/site.yaml" <<'Y'
resources:
  - file: /etc/a
    content: "a\n"
  - exec: b
    command: "true"
    require: file[/etc/a]
Y
assert_exit 0 "$KEEL" graph "$T/site.yaml" --root "$R"
dot_text=$OUT
assert_contains "$dot_text" "digraph"
assert_exit 0 "$KEEL" graph "$T/site.yaml" --root "$R" --format dot
assert_eq "$dot_text" "$OUT" "--format dot = default"

# No dot in PATH: a clear error, nothing on stdout.
mkdir "$T/emptybin"
run env PATH="$T/emptybin" "$KEEL" graph "$T/site.yaml" --root "$R" --format svg
assert_eq 1 "$RC" "exit without dot"
assert_eq "" "$OUT" "stdout without dot"
assert_contains "$ERR" "graphviz" "message names the package"
assert_exit 1 "$KEEL" graph "$T/site.yaml" --root "$R" --format png
assert_contains "$ERR" "--format"

command -v dot >/dev/null || skip "Graphviz dot is not installed"
assert_exit 0 "$KEEL" graph "$T/site.yaml" --root "$R" --format svg
assert_contains "$OUT" "<svg" "SVG output"
assert_contains "$OUT" "file[/etc/a]" "SVG holds the nodes"
python3 -c 'import sys, xml.dom.minidom; xml.dom.minidom.parseString(sys.stdin.read())' <<<"$OUT" ||
  fail "the SVG is not well-formed XML"
# A failing dot (a non-DOT input cannot happen; a broken dot can): exit 1.
printf '#!/bin/sh\ncat >/dev/null; echo broken >&2; exit 3\n' >"$T/emptybin/dot"
chmod +x "$T/emptybin/dot"
run env PATH="$T/emptybin:/usr/bin:/bin" "$KEEL" graph "$T/site.yaml" --root "$R" --format svg
assert_eq 1 "$RC" "exit when dot fails"
assert_contains "$ERR" "dot failed (exit 3)"
echo ok
