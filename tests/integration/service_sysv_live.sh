#!/usr/bin/env bash
# service, sysvinit, live and for real: inside a private mount namespace
# (unshare -m) a tmpfs covers /etc/init.d, so the host's scripts are hidden
# and nothing of the host changes. A test init script there starts a real
# daemon (a sleep loop, setsid, with a pid file in the test's temp dir).
#  - ensure running starts it; the notify of the same run does not restart
#    what was just started; a second apply changes nothing;
#  - a notify (the config file changes) restarts it: a new pid;
#  - the daemon is killed (-9, the pid file stays): the next run sees it
#    stopped (status answers 1, the pid file names a dead process) and
#    starts it;
#  - plan with ensure stopped changes nothing (the daemon still runs);
#  - ensure stopped stops it; a second apply changes nothing.
set -euo pipefail
KEEL=${KEEL:?}
[ "$(id -u)" = 0 ] || { echo "skip: needs root"; exit 77; }
unshare -m --propagation private true 2>/dev/null || { echo "skip: no mount namespaces"; exit 77; }
command -v setsid >/dev/null || { echo "skip: no setsid"; exit 77; }
t=$(mktemp -d)
cleanup() {
  [ -s "$t/keeltestd.pid" ] && kill -9 "$(cat "$t/keeltestd.pid")" 2>/dev/null || true
  rm -rf "$t"
}
trap cleanup EXIT

# The init script, LSB exit codes: status 0 running, 1 dead with a pid
# file, 3 stopped.
cat >"$t/keeltestd" <<SCRIPT
#!/bin/sh
# chkconfig: 345 80 20
# description: keel test daemon
PIDFILE=$t/keeltestd.pid
LOG=$t/log
alive() { [ -s "\$PIDFILE" ] && kill -0 "\$(cat "\$PIDFILE")" 2>/dev/null; }
start() {
  alive && return 0
  rm -f "\$PIDFILE"
  setsid sh -c 'echo \$\$ >"\$0"; while :; do sleep 1; done' "\$PIDFILE" </dev/null >/dev/null 2>&1 &
  i=0
  while [ ! -s "\$PIDFILE" ] && [ \$i -lt 100 ]; do sleep 0.05; i=\$((i + 1)); done
  echo start >>"\$LOG"
}
stop() {
  if alive; then
    p=\$(cat "\$PIDFILE")
    kill "\$p"
    i=0
    while kill -0 "\$p" 2>/dev/null && [ \$i -lt 100 ]; do sleep 0.05; i=\$((i + 1)); done
  fi
  rm -f "\$PIDFILE"
  echo stop >>"\$LOG"
}
case "\$1" in
  start) start ;;
  stop) stop ;;
  restart) stop; start ;;
  status) alive && exit 0; [ -f "\$PIDFILE" ] && exit 1; exit 3 ;;
  *) echo "usage: \$0 start|stop|status|restart" >&2; exit 2 ;;
esac
SCRIPT
chmod 0755 "$t/keeltestd"

site() {  # $1 = ensure, $2 = config content
  cat >"$t/site.yaml" <<YAML
resources:
  - file: $t/app.conf
    content: "$2\n"
    notify: service[keeltestd]
  - service: keeltestd
    provider: sysvinit
    ensure: $1
YAML
}
declare -f site >"$t/site.sh"

unshare -m --propagation private bash -c '
  set -euo pipefail
  KEEL=$1 t=$2
  mount -t tmpfs -o size=1m,mode=0755 tmpfs /etc/init.d
  cp "$t/keeltestd" /etc/init.d/keeltestd
  apply() {  # $1 = wanted detailed exit code
    local rc=0
    "$KEEL" apply "$t/site.yaml" --state-dir "$t/state" --detailed-exitcodes >"$t/out" 2>&1 || rc=$?
    [ "$rc" = "$1" ] || { cat "$t/out"; echo "FAIL: apply exit $rc, want $1"; exit 1; }
  }
  pid() { cat "$t/keeltestd.pid"; }
  running() { kill -0 "$(pid)" 2>/dev/null; }

  . "$t/site.sh"
  site running v1
  apply 2
  running || { echo "FAIL: not started"; exit 1; }
  p1=$(pid)
  [ "$(cat "$t/log")" = start ] || { echo "FAIL: started and restarted in one run: $(cat "$t/log")"; exit 1; }
  apply 0
  [ "$(pid)" = "$p1" ] || { echo "FAIL: second apply touched the daemon"; exit 1; }

  site running v2
  apply 2
  grep -q "refreshed\|restarted" "$t/out" || { cat "$t/out"; echo "FAIL: no restart reported"; exit 1; }
  p2=$(pid)
  [ "$p2" != "$p1" ] && running || { echo "FAIL: not restarted ($p1 -> $p2)"; exit 1; }
  kill -0 "$p1" 2>/dev/null && { echo "FAIL: old daemon $p1 still runs"; exit 1; }

  kill -9 "$p2"
  while kill -0 "$p2" 2>/dev/null; do sleep 0.05; done
  [ -s "$t/keeltestd.pid" ] || { echo "FAIL: pid file gone"; exit 1; }
  apply 2
  p3=$(pid)
  [ "$p3" != "$p2" ] && running || { echo "FAIL: killed daemon not started again"; exit 1; }

  site stopped v2
  rc=0; "$KEEL" plan "$t/site.yaml" --detailed-exitcodes >"$t/out" 2>&1 || rc=$?
  [ "$rc" = 2 ] || { cat "$t/out"; echo "FAIL: plan exit $rc"; exit 1; }
  grep -q "service\[keeltestd\]" "$t/out" || { cat "$t/out"; echo "FAIL: plan silent"; exit 1; }
  [ "$(pid)" = "$p3" ] && running || { echo "FAIL: plan stopped the daemon"; exit 1; }
  apply 2
  kill -0 "$p3" 2>/dev/null && { echo "FAIL: not stopped"; exit 1; }
  apply 0
  exit 0
' _ "$KEEL" "$t"
[ "$(tr '\n' ' ' <"$t/log")" = "start stop start start stop " ] || {
  echo "FAIL: actions were: $(tr '\n' ' ' <"$t/log")"
  exit 1
}
[ ! -e /etc/init.d/keeltestd ] || { echo "FAIL: visible on the host"; exit 1; }
echo "ok: sysvinit daemon started, restarted on notify, restarted after a kill, stopped"
