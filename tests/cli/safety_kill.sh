#!/bin/bash
# Atomic writes (SPEC 6): SIGKILL keel at random moments while it replaces a
# 20 MB file; afterwards the file is byte-identical to the old or the new
# content, never a mix or a truncated file.
. "$(dirname "$0")/lib.sh"
has_type file || skip "file type not registered"

R=$(mkroot)
mkdir -p "$R/data" "$T/repo/files"
python3 - "$T/old" "$T/repo/files/big" <<'PY'
import sys
old, new = sys.argv[1], sys.argv[2]
with open(old, "wb") as f:
    for i in range(700000):
        f.write(b"old line %07d ....\n" % i)
# A few changed lines: the diff stays cheap, the write is the whole file.
with open(new, "wb") as f:
    for i in range(700000):
        if i in (0, 350000, 699999):
            f.write(b"NEW LINE %07d ####\n" % i)
        else:
            f.write(b"old line %07d ....\n" % i)
PY
cat >"$T/repo/site.yaml" <<'Y'
resources:
  - file: /data/big
    source: files/big
    mode: "0640"
Y
old_sum=$(sha256sum <"$T/old" | cut -d' ' -f1)
new_sum=$(sha256sum <"$T/repo/files/big" | cut -d' ' -f1)

# How long a full apply takes, to spread the kills over it.
cp "$T/old" "$R/data/big"
start=$(date +%s%N)
assert_exit 0 "$KEEL" apply "$T/repo/site.yaml" --root "$R" --state-dir "$T/state"
full_ms=$((($(date +%s%N) - start) / 1000000))
[ "$(sha256sum <"$R/data/big" | cut -d' ' -f1)" = "$new_sum" ] || fail "apply did not write the new content"

saw_old=0
saw_new=0
left_temps=0
for i in $(seq 20); do
  for f in "$R/data"/.keel-big.*; do
    [ -e "$f" ] && left_temps=$((left_temps + 1)) && rm -f "$f"
  done
  cp "$T/old" "$R/data/big"
  chmod 0644 "$R/data/big"
  "$KEEL" apply "$T/repo/site.yaml" --root "$R" --state-dir "$T/state" >/dev/null 2>&1 &
  pid=$!
  if [ $((i % 2)) = 0 ]; then
    # Any moment of the run.
    delay_ms=$((RANDOM % (full_ms + 20)))
    when="${delay_ms} ms after the start"
  else
    # Aim at the replacement: wait for the temp file, then a little more.
    while kill -0 "$pid" 2>/dev/null && ! compgen -G "$R/data/.keel-big.*" >/dev/null; do :; done
    delay_ms=$((RANDOM % 300))
    when="${delay_ms} ms after the temp file appeared"
  fi
  sleep "$(printf '%d.%03d' $((delay_ms / 1000)) $((delay_ms % 1000)))"
  kill -9 "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  got=$(sha256sum <"$R/data/big" | cut -d' ' -f1)
  size=$(stat -c %s "$R/data/big")
  if [ "$got" = "$old_sum" ]; then
    saw_old=$((saw_old + 1))
  elif [ "$got" = "$new_sum" ]; then
    saw_new=$((saw_new + 1))
    # The new file appears with its final mode, never the temp file's.
    assert_eq 640 "$(stat -c %a "$R/data/big")" "mode of the replaced file (kill $i)"
  else
    fail "kill $i $when left a mixed or truncated file ($size bytes)"
  fi
done
echo "kills: 20 (full apply ${full_ms} ms): old content $saw_old, new content $saw_new, temp files left $left_temps"
# The next write of the file sweeps what a killed run left.
touch "$R/data/.keel-big.0123456789ab"
cp "$T/old" "$R/data/big"
# A later run converges and cleans nothing it should not: the file is new.
assert_exit 0 "$KEEL" apply "$T/repo/site.yaml" --root "$R" --state-dir "$T/state"
assert_eq "$new_sum" "$(sha256sum <"$R/data/big" | cut -d' ' -f1)" "content after a clean run"
# The clean run swept the temp files the killed runs left behind.
left=$(ls -A "$R/data")
assert_eq "big" "$left" "entries of /data after a clean run"
echo ok
