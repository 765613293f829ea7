#!/bin/bash
# keel's read-only commands: version, types, describe, facts, validate,
# graph, usage errors, PATH as a directory.
. "$(dirname "$0")/lib.sh"

R=$(mkroot)
cat >"$R/etc/os-release" <<'OS'
ID=centos
NAME="CentOS Linux"
VERSION_ID="7.9"
ID_LIKE="rhel fedora"
OS

assert_exit 0 "$KEEL" version
assert_contains "$OUT" "keel 0.1.0"

# types: one line per type, "name  doc".
assert_exit 0 "$KEEL" types
assert_contains "$OUT" "file  "
assert_contains "$OUT" "exec  "
first=$(echo "$OUT" | head -1)
[ "$(echo "$first" | awk '{print NF}')" -gt 2 ] || fail "types line has no doc: $first"

# describe: every attribute with kind, doc, default, allowed values; metaparameters.
assert_exit 0 "$KEEL" describe file
assert_contains "$OUT" "path (absolute path, name attribute)"
assert_contains "$OUT" "allowed: file, directory, link, absent"
assert_contains "$OUT" "default: true"
assert_contains "$OUT" "Metaparameters"
assert_contains "$OUT" "sensitive"
assert_exit 1 "$KEEL" describe fiel
assert_contains "$ERR" "unknown type 'fiel'"
assert_contains "$ERR" "did you mean 'file'"

# facts read from the root; YAML by default, JSON on request.
assert_exit 0 "$KEEL" facts --root "$R"
assert_contains "$OUT" "hostname: testhost"
assert_exit 0 "$KEEL" facts --root "$R" --format json
assert_eq "testhost" "$(echo "$OUT" | json_get - 'j["hostname"]')" "facts hostname"
assert_eq "7" "$(echo "$OUT" | json_get - 'j["os"]["release"]["major"]')" "facts os.release.major"
echo '{"hostname": "other", "os": {"family": "Debian"}}' >"$T/facts.json"
assert_exit 0 "$KEEL" facts --root "$R" --format json --facts "$T/facts.json"
assert_eq "other" "$(echo "$OUT" | json_get - 'j["hostname"]')" "merged hostname"
assert_eq "7" "$(echo "$OUT" | json_get - 'j["os"]["release"]["major"]')" "deep merge keeps siblings"
assert_exit 1 "$KEEL" facts --root "$T/nope"

# validate: ok with a count; PATH may be a directory holding site.yaml.
mkdir -p "$T/m"
cat >"$T/m/site.yaml" <<'Y'
resources:
  - file: /etc/motd
    content: "hi {{ facts.hostname }}\n"
  - exec: touch-it
    command: "true"
    require: file[/etc/motd]
Y
assert_exit 0 "$KEEL" validate "$T/m" --root "$R"
assert_contains "$OUT" "ok: 2 resources"
(cd "$T/m" && "$KEEL" validate --root "$R" >"$T/o") || fail "validate with the default PATH"
assert_contains "$(cat "$T/o")" "ok: 2 resources"

# --facts FILE is merged over the discovered facts (`when` sees it).
cat >"$T/when.yaml" <<'Y'
resources:
  - file: /etc/debian-only
    content: "x\n"
    when: facts.os.family == "Debian"
  - file: /etc/always
    content: "y\n"
Y
assert_exit 0 "$KEEL" validate "$T/when.yaml" --root "$R"
assert_contains "$OUT" "ok: 1 resources"
assert_exit 0 "$KEEL" validate "$T/when.yaml" --root "$R" --facts "$T/facts.json"
assert_contains "$OUT" "ok: 2 resources"
assert_exit 1 "$KEEL" validate "$T/when.yaml" --root "$R" --facts "$T/no-such-facts.json"

# graph: DOT that graphviz accepts.
assert_exit 0 "$KEEL" graph "$T/m/site.yaml" --root "$R"
assert_contains "$OUT" "digraph"
assert_contains "$OUT" "file[/etc/motd]"
if command -v dot >/dev/null; then
  echo "$OUT" | dot -Tsvg >"$T/g.svg" || fail "dot rejects keel graph output"
  assert_contains "$(cat "$T/g.svg")" "<svg"
fi

# Invalid manifests: every error, each as path:line:col: message, exit 1.
cat >"$T/bad.yaml" <<'Y'
resources:
  - file: /etc/a
    contnet: "x"
  - exec: b
    require: file[/etc/nope]
  - file: /etc/c
    mode: "99z"
Y
assert_exit 1 "$KEEL" validate "$T/bad.yaml" --root "$R"
assert_contains "$ERR" "$T/bad.yaml:3:5: "
assert_contains "$ERR" "did you mean 'content'"
assert_contains "$ERR" "$T/bad.yaml:5:"
assert_contains "$ERR" "file[/etc/nope]"
assert_contains "$ERR" "$T/bad.yaml:7:"
assert_eq "" "$OUT" "stdout of an invalid validate"
assert_exit 1 "$KEEL" graph "$T/bad.yaml" --root "$R"
assert_exit 1 "$KEEL" validate "$T/missing.yaml" --root "$R"

# A cycle is an error naming it, each resource with its place.
cat >"$T/cycle.yaml" <<'Y'
resources:
  - exec: a
    command: "true"
    require: exec[b]
  - exec: b
    command: "true"
    require: exec[a]
Y
assert_exit 1 "$KEEL" validate "$T/cycle.yaml" --root "$R"
assert_contains "$ERR" "cycle.yaml:2:5: dependency cycle: exec[a] ($T/cycle.yaml:2:5) -> exec[b] ($T/cycle.yaml:5:5) -> exec[a]"
assert_contains "$ERR" "1 error(s) in the manifests; nothing changed"

# Usage errors exit 1 with a message.
assert_exit 1 "$KEEL"
assert_exit 1 "$KEEL" frobnicate
assert_exit 1 "$KEEL" apply --format xml "$T/m"
assert_contains "$ERR" "format"
assert_exit 1 "$KEEL" apply --no-such-flag
assert_exit 1 "$KEEL" plan "$T/m" --root "$R" --var novalue
assert_contains "$ERR" "--var expects KEY=VALUE"
assert_exit 1 "$KEEL" plan "$T/m" --root "$T/does-not-exist"
assert_contains "$ERR" "not a directory"
assert_exit 0 "$KEEL" --help
assert_exit 0 "$KEEL" apply --help
assert_contains "$OUT" "--detailed-exitcodes"

# resource: the current state as manifest YAML.
printf 'hello\n' >"$R/etc/motd"
chmod 0640 "$R/etc/motd"
assert_exit 0 "$KEEL" resource file /etc/motd --root "$R"
assert_contains "$OUT" "- file: /etc/motd"
assert_contains "$OUT" "0640"
assert_contains "$OUT" "hello"
{ echo "resources:"; echo "$OUT" | sed 's/^/  /'; } >"$T/adopt.yaml"
assert_exit 0 "$KEEL" plan "$T/adopt.yaml" --root "$R" --detailed-exitcodes
assert_exit 1 "$KEEL" resource nosuchtype x
echo "ok"
