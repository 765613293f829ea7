#!/bin/bash
# https:// for real: `git http-backend` (smart HTTP) behind a small TLS
# server (git_https_server.py, Python's http.server + ssl) on 127.0.0.1,
# with a throwaway CA and a server certificate for "localhost" made here.
# With the CA given by --ca-file (or $SSL_CERT_FILE) the pull and apply
# work; with another CA, or the system's CAs only, the certificate is
# refused.
. "$(dirname "$0")/../cli/lib.sh"
has_type file || skip "file type not registered"
command -v openssl >/dev/null || skip "openssl not installed"
command -v python3 >/dev/null || skip "python3 not installed"
[ -x "$(git --exec-path)/git-http-backend" ] || skip "git http-backend not installed"

SERVER_PID=""
cleanup() {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
  rm -rf "$T"
}
trap cleanup EXIT

# A CA, a server certificate it signs (CN and SAN localhost), and another CA.
ossl() { openssl "$@" 2>>"$T/openssl.log" || fail "openssl $1 failed: $(cat "$T/openssl.log")"; }
ossl req -x509 -newkey rsa:2048 -nodes -keyout "$T/ca.key" -out "$T/ca.pem" -days 2 \
  -subj "/CN=keel test CA"
ossl req -x509 -newkey rsa:2048 -nodes -keyout "$T/other_ca.key" -out "$T/other_ca.pem" -days 2 \
  -subj "/CN=keel other CA"
ossl req -newkey rsa:2048 -nodes -keyout "$T/server.key" -out "$T/server.csr" -subj "/CN=localhost"
printf 'subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\n' >"$T/ext"
ossl x509 -req -in "$T/server.csr" -CA "$T/ca.pem" -CAkey "$T/ca.key" -CAcreateserial \
  -out "$T/server.pem" -days 2 -extfile "$T/ext"

SRV="$T/srv"
git init -q -b main "$SRV/config.git"
git -C "$SRV/config.git" config user.email t@example.com
git -C "$SRV/config.git" config user.name t
printf 'resources:\n  - file: /etc/motd\n    content: "over https\\n"\n' >"$SRV/config.git/site.yaml"
git -C "$SRV/config.git" add site.yaml && git -C "$SRV/config.git" commit -qm one
c1=$(git -C "$SRV/config.git" rev-parse HEAD)

python3 "$KEEL_SRC/tests/integration/git_https_server.py" "$SRV" "$T/server.pem" "$T/server.key" \
  "$T/port" 2>"$T/server.log" &
SERVER_PID=$!
for _ in $(seq 100); do
  [ -s "$T/port" ] && break
  kill -0 "$SERVER_PID" 2>/dev/null || fail "https server did not start: $(cat "$T/server.log")"
  sleep 0.1
done
[ -s "$T/port" ] || fail "https server did not start"
URL="https://localhost:$(cat "$T/port")/config.git"
unset SSL_CERT_FILE SSL_CERT_DIR  # the system's CAs unless a test sets them

pull() { "$KEEL" pull --git "$URL" --branch main --dest "$T/pull" "$@"; }

# The system's CAs do not know the test CA; another CA is refused too.
assert_exit 1 pull
assert_contains "$ERR" "the TLS certificate of localhost is not trusted by the system's CAs"
assert_exit 1 pull --ca-file "$T/other_ca.pem"
assert_contains "$ERR" "not trusted by the CAs of $T/other_ca.pem"
[ -e "$T/pull/current" ] && fail "a refused certificate left a checkout"
assert_exit 1 pull --ca-file "$T/no_such.pem"
assert_contains "$ERR" "--ca-file $T/no_such.pem: no such file"
echo "not a certificate" >"$T/garbage.pem"
assert_exit 1 pull --ca-file "$T/garbage.pem"
assert_contains "$ERR" "CA certificates $T/garbage.pem"

# The right CA: by --ca-file, or by $SSL_CERT_FILE.
assert_exit 0 pull --ca-file "$T/ca.pem"
assert_contains "$OUT" "$c1"
SSL_CERT_FILE="$T/ca.pem" run pull
assert_eq 0 "$RC" "pull with SSL_CERT_FILE: $ERR"
SSL_CERT_FILE="$T/other_ca.pem" run pull
assert_eq 1 "$RC" "pull with SSL_CERT_FILE of another CA"

R=$(mkroot)
S="$T/state"
assert_exit 0 "$KEEL" apply --git "$URL" --branch main --ca-file "$T/ca.pem" --root "$R" \
  --state-dir "$S" --format json
assert_eq "$c1" "$(echo "$OUT" | json_get - 'j["source"]["commit"]')" "commit over https"
assert_eq "$URL" "$(echo "$OUT" | json_get - 'j["source"]["git_url"]')" "url over https"
assert_file_eq "$R/etc/motd" "over https
"
grep -q 'POST /config.git/git-upload-pack' "$T/server.log" || fail "no smart-HTTP fetch was served"
echo "git_https: ok"
