#!/usr/bin/env bash
# file type through the CLI against a --root tree: plan changes no byte and
# shows diffs, apply converges (directory + purge, content, source, template,
# link, absent with a backup), a second apply changes nothing.
. "$(dirname "$0")/lib.sh"

root=$(mkroot)
repo=$T/repo
state=$T/state
mkdir -p "$repo/files" "$repo/templates"
printf 'welcome to the fleet\n' >"$repo/files/motd"
printf 'host={{ facts.hostname }}\n' >"$repo/templates/hostinfo.tmpl"
printf 'hostname: cli-host\n' >"$T/facts.yaml"

mkdir -p "$root/etc/app/stray.d" "$root/usr/share/zoneinfo"
printf 'stray\n' >"$root/etc/app/stray.conf"
printf 'x\n' >"$root/etc/app/stray.d/x"
printf 'old motd\n' >"$root/etc/motd"
printf 'obsolete\n' >"$root/etc/old.conf"
printf 'foreign\n' >"$root/etc/foreign.conf"

cat >"$repo/site.yaml" <<'EOF'
resources:
  - file: /etc/app
    ensure: directory
    mode: "0750"
    purge: true
  - file: /etc/app/app.conf
    content: |
      port=80
    mode: "0640"
  - file: /etc/motd
    source: files/motd
  - file: /etc/hostinfo
    template: templates/hostinfo.tmpl
  - file: /etc/localtime
    target: /usr/share/zoneinfo/UTC
  - file: /etc/old.conf
    ensure: absent
EOF

keel() { "$KEEL" "$@" --root "$root" --state-dir "$state" --facts "$T/facts.yaml" --jobs ${JOBS:-1}; }

# 1. The plan shows the diffs and leaves the tree (and the state dir) alone.
before=$(tree_sum "$root")
assert_exit 2 keel plan "$repo/site.yaml" --detailed-exitcodes
assert_eq "$before" "$(tree_sum "$root")" "tree after plan"
[ ! -e "$state" ] || fail "plan created the state dir"
assert_contains "$OUT" "file[/etc/app/app.conf]"
assert_contains "$OUT" "+port=80"
assert_contains "$OUT" "-old motd"
assert_contains "$OUT" "+welcome to the fleet"
assert_contains "$OUT" "+host=cli-host"

# 2. Apply converges.
assert_exit 2 keel apply "$repo/site.yaml" --detailed-exitcodes --report "$T/report.json"
[ -d "$root/etc/app" ] || fail "/etc/app is not a directory"
assert_eq 750 "$(stat -c %a "$root/etc/app")" "mode of /etc/app"
assert_file_eq "$root/etc/app/app.conf" $'port=80\n'
assert_eq 640 "$(stat -c %a "$root/etc/app/app.conf")" "mode of app.conf"
[ ! -e "$root/etc/app/stray.conf" ] || fail "purge kept stray.conf"
[ ! -e "$root/etc/app/stray.d" ] || fail "purge kept stray.d"
assert_file_eq "$root/etc/motd" $'welcome to the fleet\n'
assert_file_eq "$root/etc/hostinfo" $'host=cli-host\n'
assert_eq /usr/share/zoneinfo/UTC "$(readlink "$root/etc/localtime")" "link target"
[ ! -e "$root/etc/old.conf" ] || fail "old.conf not removed"
assert_file_eq "$root/etc/foreign.conf" $'foreign\n'
# The removed and replaced content went to the backup store.
grep -rqx 'obsolete' "$state/backup" || fail "no backup of /etc/old.conf"
grep -rqx 'old motd' "$state/backup" || fail "no backup of /etc/motd"
assert_eq changed "$(json_get "$T/report.json" '[r for r in j["resources"] if r["id"] == "file[/etc/motd]"][0]["status"]')"
from=$(json_get "$T/report.json" '[c for r in j["resources"] if r["id"] == "file[/etc/motd]" for c in r["changes"] if c["attribute"] == "content"][0]["from"]')
assert_contains "$from" "{sha256}"

# 3. A second apply changes nothing.
after=$(tree_sum "$root")
assert_exit 0 keel apply "$repo/site.yaml" --detailed-exitcodes
assert_contains "$OUT" "changed 0, failed 0"
assert_eq "$after" "$(tree_sum "$root")" "tree after the second apply"

# 4. A symlink in the root pointing at an absolute path stays in the root.
escape=/keel-cli-escape-$$
mkdir -p "$root$escape"
ln -s "$escape/target" "$root/etc/escape"
cat >"$T/escape.yaml" <<'EOF'
resources:
  - file: /etc/escape
    content: "inside\n"
EOF
assert_exit 0 keel apply "$T/escape.yaml"
assert_file_eq "$root$escape/target" $'inside\n'
[ ! -e "$escape" ] || fail "the write escaped the root to $escape"

# 5. A directory in the way is a failure without force (exit 4), not a crash.
mkdir -p "$root/etc/isdir"
cat >"$T/force.yaml" <<'EOF'
resources:
  - file: /etc/isdir
    content: "x\n"
EOF
assert_exit 4 keel apply "$T/force.yaml" --detailed-exitcodes
assert_contains "$OUT$ERR" "is a directory; use force"
[ -d "$root/etc/isdir" ] || fail "the directory was replaced without force"

# 6. Two of content/source/template: a load-time error with the place.
cat >"$T/bad.yaml" <<'EOF'
resources:
  - file: /etc/bad
    content: "x"
    template: templates/hostinfo.tmpl
EOF
cp "$T/bad.yaml" "$repo/bad.yaml"
assert_exit 1 keel apply "$repo/bad.yaml"
assert_contains "$ERR$OUT" "bad.yaml:"
assert_contains "$ERR$OUT" "only one of content, source and template"
[ ! -e "$root/etc/bad" ] || fail "invalid manifest changed the tree"
echo "ok"
