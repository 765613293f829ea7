#!/bin/bash
# ssh:// for real: an OpenSSH server (/usr/sbin/sshd) on 127.0.0.1 and a
# free port, with a throwaway host key and authorized key made here, serves
# a repo through git-upload-pack. An unknown host key and a changed one are
# refused (known_hosts checked: --known-hosts, else ~/.ssh/known_hosts and
# /etc/ssh/ssh_known_hosts); a known one works with --ssh-key; a key the
# server refuses fails the fetch instead of looping. sshd runs in its own
# mount namespace with a tmpfs on /run (its privilege-separation dir), so
# the host's /run and its own ssh configuration are never touched.
. "$(dirname "$0")/../cli/lib.sh"
has_type file || skip "file type not registered"
[ -x /usr/sbin/sshd ] || skip "openssh-server not installed"
[ "$(id -u)" = 0 ] || skip "needs root (sshd, unshare -m)"
command -v unshare >/dev/null || skip "unshare not installed"
command -v git-upload-pack >/dev/null || skip "git-upload-pack not on PATH"

SSHD_PID=""
cleanup() {
  [ -n "$SSHD_PID" ] && kill "$SSHD_PID" 2>/dev/null && wait "$SSHD_PID" 2>/dev/null
  rm -rf "$T"
}
trap cleanup EXIT

ssh-keygen -q -t ed25519 -N '' -f "$T/host_key"
ssh-keygen -q -t ed25519 -N '' -f "$T/other_host_key"
ssh-keygen -q -t ed25519 -N '' -C keel-client -f "$T/client_key"
ssh-keygen -q -t ed25519 -N '' -C stranger -f "$T/stranger_key"
cp "$T/client_key.pub" "$T/authorized_keys"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
user=$(id -un)
cat >"$T/sshd_config" <<EOF
Port $port
ListenAddress 127.0.0.1
HostKey $T/host_key
AuthorizedKeysFile $T/authorized_keys
PidFile $T/sshd.pid
StrictModes no
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin prohibit-password
AllowUsers $user
MaxAuthTries 6
LogLevel VERBOSE
EOF
/usr/sbin/sshd -t -f "$T/sshd_config" 2>"$T/sshd_check" ||
  grep -q 'Missing privilege separation directory' "$T/sshd_check" ||
  fail "sshd rejects the test config: $(cat "$T/sshd_check")"
unshare -m --propagation private sh -c \
  'mount -t tmpfs -o mode=755 tmpfs /run && mkdir -m 755 /run/sshd && exec /usr/sbin/sshd -D -e -f "$1"' \
  sh "$T/sshd_config" 2>"$T/sshd.log" &
SSHD_PID=$!
for _ in $(seq 100); do
  (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break
  kill -0 "$SSHD_PID" 2>/dev/null || fail "sshd did not start: $(cat "$T/sshd.log")"
  sleep 0.1
done

SRV="$T/srv/config.git"
git init -q -b main "$SRV"
git -C "$SRV" config user.email t@example.com
git -C "$SRV" config user.name t
printf 'resources:\n  - file: /etc/motd\n    content: "over ssh\\n"\n' >"$SRV/site.yaml"
git -C "$SRV" add site.yaml && git -C "$SRV" commit -qm one
c1=$(git -C "$SRV" rev-parse HEAD)
URL="ssh://$user@127.0.0.1:$port$SRV"

echo "[127.0.0.1]:$port $(cut -d' ' -f1,2 "$T/host_key.pub")" >"$T/known_hosts"
echo "[127.0.0.1]:$port $(cut -d' ' -f1,2 "$T/other_host_key.pub")" >"$T/wrong_known_hosts"
: >"$T/empty_known_hosts"
fp=$(ssh-keygen -l -f "$T/host_key.pub" | cut -d' ' -f2)

R=$(mkroot)
S="$T/state"
pull() { "$KEEL" pull --git "$URL" --branch main --dest "$T/pull" --ssh-key "$T/client_key" "$@"; }

# An unknown host key is refused, naming its fingerprint; nothing checked out.
assert_exit 1 pull --known-hosts "$T/empty_known_hosts"
assert_contains "$ERR" "host key of [127.0.0.1]:$port ($fp) is not in $T/empty_known_hosts"
[ -e "$T/pull/current" ] && fail "a refused host key left a checkout"
# A changed host key (another key on record for this host:port) is refused.
assert_exit 1 pull --known-hosts "$T/wrong_known_hosts"
assert_contains "$ERR" "DIFFERS"
# Default files: $HOME/.ssh/known_hosts (absent here) and /etc/ssh/ssh_known_hosts.
mkdir -p "$T/home"
HOME="$T/home" run pull
assert_eq 1 "$RC" "pull with the default known_hosts files"
assert_contains "$ERR" "is not in $T/home/.ssh/known_hosts and /etc/ssh/ssh_known_hosts"
# A key the server does not accept: refused once, no endless retry.
assert_exit 1 timeout 60 "$KEEL" pull --git "$URL" --branch main --dest "$T/pull" \
  --ssh-key "$T/stranger_key" --known-hosts "$T/known_hosts"
assert_contains "$ERR" "the server refused the key $T/stranger_key for user $user"
assert_exit 1 pull --known-hosts "$T/no_such_file"
assert_contains "$ERR" "--known-hosts $T/no_such_file: no such file"
assert_exit 1 "$KEEL" pull --git "$URL" --dest "$T/pull" --ssh-key "$T/no_key"
assert_contains "$ERR" "--ssh-key $T/no_key: no such file"

# A known host key and an authorized key: the pull works.
assert_exit 0 pull --known-hosts "$T/known_hosts"
assert_contains "$OUT" "$c1"
# ... and from $HOME/.ssh/known_hosts by default.
mkdir -p "$T/home/.ssh"
cp "$T/known_hosts" "$T/home/.ssh/known_hosts"
HOME="$T/home" run pull
assert_eq 0 "$RC" "pull with \$HOME/.ssh/known_hosts: $ERR"

# apply --git over ssh converges, and a second run changes nothing.
assert_exit 0 "$KEEL" apply --git "$URL" --branch main --ssh-key "$T/client_key" \
  --known-hosts "$T/known_hosts" --root "$R" --state-dir "$S" --format json
assert_eq "$c1" "$(echo "$OUT" | json_get - 'j["source"]["commit"]')" "commit over ssh"
assert_file_eq "$R/etc/motd" "over ssh
"
assert_exit 0 "$KEEL" apply --git "$URL" --branch main --ssh-key "$T/client_key" \
  --known-hosts "$T/known_hosts" --root "$R" --state-dir "$S" --format json
assert_eq "[]" "$(echo "$OUT" | json_get - '[r for r in j["resources"] if r["status"] != "unchanged"]')" \
  "second run over ssh"
grep -q "Accepted publickey for $user" "$T/sshd.log" || fail "sshd never authenticated the client"
echo "git_ssh: ok"
