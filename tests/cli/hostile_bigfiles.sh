#!/bin/bash
# Hostile user, huge and binary files (issue 11) for every editing type and
# `file`: a file holding NUL bytes is refused by the editing types and left
# byte for byte; CRLF line ends, invalid UTF-8 and a missing final newline
# are kept (only the managed line changes), the JSON report stays valid
# JSON, and a second apply changes nothing; a 50 MB binary file is replaced
# by `file` with bounded memory and shown by `keel resource` as a checksum;
# a manifest with a BOM loads; a 500,000-line text file is edited by every
# editing type in bounded memory, every unmanaged byte kept.
. "$(dirname "$0")/lib.sh"

edit_of() {
  local type=$1 path=$2
  case $type in
    line) printf '  - line: pw\n    path: %s\n    line: "password=s3cret"\n    match: "^password="\n' "$path" ;;
    shellvar) printf '  - shellvar: %s:PASSWORD\n    value: s3cret\n' "$path" ;;
    sysctl) printf '  - sysctl: kernel.keel_test\n    value: "1"\n    apply: false\n    file: %s\n' "$path" ;;
    modprobe) printf '  - modprobe: ipmi_si\n    options: {type: kcs}\n    file: %s\n' "$path" ;;
    host) printf '  - host: db01\n    ip: 10.0.0.5\n    target: %s\n' "$path" ;;
    mount) printf '  - mount: /data\n    device: /dev/sdb1\n    fstype: xfs\n    target: %s\n' "$path" ;;
    ifcfg) printf '  - ifcfg: eth9\n    settings: {ONBOOT: "yes"}\n    path: %s\n' "$path" ;;
  esac
}
types=""
for type in line shellvar sysctl modprobe host mount ifcfg; do
  has_type "$type" && types="$types $type"
done

R=$(mkroot)
for type in $types; do
  # Binary: refused, untouched.
  printf 'A=1\n\0\377\376 binary\n' >"$R/etc/bin-$type"
  { echo resources:; edit_of "$type" "/etc/bin-$type"; } >"$T/bin.yaml"
  sum=$(sha256sum <"$R/etc/bin-$type")
  run "$KEEL" apply "$T/bin.yaml" --root "$R" --detailed-exitcodes
  assert_eq 4 "$RC" "$type on a binary file: $OUT"
  assert_contains "$OUT" "/etc/bin-$type looks binary; refusing to edit"
  assert_eq "$sum" "$(sha256sum <"$R/etc/bin-$type")" "$type: the binary file"

  # CRLF, invalid UTF-8, no final newline: kept; valid JSON; idempotent.
  printf '# keep \303\050 me\r\nX\377=\376\r\n# last line, no newline' >"$R/etc/odd-$type"
  { echo resources:; edit_of "$type" "/etc/odd-$type"; } >"$T/odd.yaml"
  assert_exit 2 "$KEEL" plan "$T/odd.yaml" --root "$R" --detailed-exitcodes --format json
  printf '%s' "$OUT" | python3 -c 'import json, sys; json.load(sys.stdin)' ||
    fail "$type: the plan's JSON report is not valid JSON"
  assert_exit 2 "$KEEL" apply "$T/odd.yaml" --root "$R" --detailed-exitcodes --report "$T/r.json"
  json_get "$T/r.json" "j['summary']['changed']" >/dev/null || fail "$type: report not JSON"
  head -c 26 "$R/etc/odd-$type" | cmp -s - <(printf '# keep \303\050 me\r\nX\377=\376\r\n# last') ||
    fail "$type: unmanaged bytes changed: $(od -c "$R/etc/odd-$type" | head -5)"
  assert_exit 0 "$KEEL" apply "$T/odd.yaml" --root "$R" --detailed-exitcodes
done

# A 50 MB binary file: replaced by `file` content, backed up, shown by
# `keel resource` as a checksum; memory stays within a few times its size.
head -c 50000000 /dev/urandom >"$R/etc/big"
printf 'resources:\n  - file: /etc/big\n    content: "small\\n"\n' >"$T/big.yaml"
run /usr/bin/time -f "%M" "$KEEL" resource file /etc/big --root "$R"
assert_eq 0 "$RC" "keel resource on 50 MB"
assert_contains "$OUT" "content not shown (50000000 bytes"
[ "${#OUT}" -lt 2000 ] || fail "keel resource printed ${#OUT} bytes"
run /usr/bin/time -f "%M" "$KEEL" apply "$T/big.yaml" --root "$R" --detailed-exitcodes
assert_eq 2 "$RC" "apply over 50 MB: $ERR"
kb=$(tail -1 <<<"$ERR")
sanitized || [ "$kb" -lt 250000 ] || fail "apply over a 50 MB file: peak RSS $kb KB"
assert_file_eq "$R/etc/big" "small
"

# A manifest with a UTF-8 byte order mark loads.
printf '\357\273\277resources:\n  - file: /etc/bom\n    content: "x\\n"\n' >"$T/bom.yaml"
assert_exit 0 "$KEEL" apply "$T/bom.yaml" --root "$R"
assert_file_eq "$R/etc/bom" "x
"

# A 7.5 MB, 500,000-line text file (CRLF, invalid UTF-8) edited by one
# resource of each type: peak memory a few times the file, never a struct
# of strings per line (these took 180-290 MB and 4 s each before).
python3 -c "
import sys
sys.stdout.buffer.write(b'A=1\r\n' + b'X\xff=\x80 text\r\n' * 500000)" >"$T/large"
for type in $types; do
  cp "$T/large" "$R/etc/large-$type"
  { echo resources:; edit_of "$type" "/etc/large-$type"; } >"$T/large.yaml"
  run_limited 60 /usr/bin/time -f "%M" "$KEEL" plan "$T/large.yaml" --root "$R" --detailed-exitcodes
  assert_eq 2 "$RC" "$type plan on a large file"
  kb=$(tail -1 <<<"$ERR")
  sanitized || [ "$kb" -lt 60000 ] || fail "$type: plan on a 7.5 MB file: peak RSS $kb KB"
  run_limited 60 "$KEEL" apply "$T/large.yaml" --root "$R" --detailed-exitcodes
  assert_eq 2 "$RC" "$type apply on a large file: $ERR"
  # Every unmanaged line is still there, byte for byte.
  assert_eq "$(printf 'A=1\r\n')" "$(head -c 5 "$R/etc/large-$type")" "$type: first line"
  assert_eq 500000 "$(LC_ALL=C grep -c "$(printf '^X\377=\200 text\r$')" "$R/etc/large-$type")" \
    "$type: unmanaged lines of the large file"
  run_limited 60 "$KEEL" apply "$T/large.yaml" --root "$R" --detailed-exitcodes
  assert_eq 0 "$RC" "$type second apply on a large file: $OUT"
done
echo "hostile_bigfiles: ok"
