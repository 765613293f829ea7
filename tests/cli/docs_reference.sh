#!/bin/bash
# docs/reference/types.md is generated from the registered type schemas
# (`keel generate types-md`, the text of `keel describe`) and checked in;
# this test fails when the checked-in file is not what the binary prints.
. "$(dirname "$0")/lib.sh"

REF="$KEEL_SRC/docs/reference/types.md"
assert_exit 0 "$KEEL" generate types-md
printf '%s\n' "$OUT" >"$T/types.md"
[ -f "$REF" ] || fail "$REF is missing: run  build/keel generate types-md > docs/reference/types.md"
if ! diff -u "$REF" "$T/types.md" >"$T/diff"; then
  cat "$T/diff" >&2
  fail "docs/reference/types.md is out of date (diff above): run  build/keel generate types-md > docs/reference/types.md  and commit it"
fi

# Every type has its section, holding exactly `keel describe TYPE` (minus the
# metaparameters, which come once at the end).
for t in $("$KEEL" types | awk '{print $1}'); do
  grep -qx "## $t" "$REF" || fail "no section for $t"
  d=$("$KEEL" describe "$t" | sed '/^Metaparameters/,$d')
  d=${d%$'\n'}
  assert_contains "$(cat "$REF")" "$d" "reference of $t"
done
grep -q "^## Metaparameters" "$REF" || fail "no metaparameters section"
echo ok
