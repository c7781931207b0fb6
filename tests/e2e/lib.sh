# Helpers for the end-to-end tests: start real peers on loopback, read JSON
# reports, assert. Sourced by tests/e2e/test_*.sh; every process started here
# is killed by the EXIT trap.
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
ANVIL=$ROOT/tests/peers/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil
CAST=$ROOT/tests/peers/node_modules/@foundry-rs/cast-linux-amd64/bin/cast
TMP=$(mktemp -d /tmp/doorjam-e2e.XXXXXX)
PIDS=()
FAILS=0
CHECKS=0

cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$TMP"
}
trap cleanup EXIT

# wait_port HOST PORT: until a TCP connect succeeds (10 s at most)
wait_port() {
  local i
  for i in $(seq 1 100); do
    (exec 3<>/dev/tcp/$1/$2) 2>/dev/null && return 0
    sleep 0.1
  done
  echo "peer on $1:$2 did not come up" >&2
  return 1
}

port_free() { ! (exec 3<>/dev/tcp/127.0.0.1/$1) 2>/dev/null; }

start_anvil() {  # PORT
  port_free "$1" || { echo "port $1 is taken; stop what listens there" >&2; exit 1; }
  "$ANVIL" --host 127.0.0.1 --port "$1" --chain-id 31337 --silent > "$TMP/anvil-$1.log" 2>&1 &
  PIDS+=($!)
  wait_port 127.0.0.1 "$1"
}

start_testsrv() {  # PORT
  port_free "$1" || { echo "port $1 is taken; stop what listens there" >&2; exit 1; }
  node "$ROOT/tests/e2e/testsrv.js" "$1" > "$TMP/testsrv-$1.log" 2>&1 &
  PIDS+=($!)
  wait_port 127.0.0.1 "$1"
}

set_mode() {  # PORT PATH MODE
  curl -fsS -X POST -d "{\"path\":\"$2\",\"mode\":\"$3\"}" "http://127.0.0.1:$1/_mode" > /dev/null
}

# jq-like read of a JSON file with a JavaScript expression over `r`
jget() {  # FILE EXPR
  node -e "const r=JSON.parse(require('fs').readFileSync(process.argv[1],'utf8')); const v=eval(process.argv[2]); console.log(typeof v==='object'?JSON.stringify(v):String(v));" "$1" "$2"
}

check() {  # DESCRIPTION GOT WANT
  CHECKS=$((CHECKS + 1))
  if [ "$2" = "$3" ]; then
    echo "  ok   $1"
  else
    echo "  FAIL $1: got '$2', want '$3'"
    FAILS=$((FAILS + 1))
  fi
}

check_cmd() {  # DESCRIPTION COMMAND...: the command must succeed
  local d=$1; shift
  CHECKS=$((CHECKS + 1))
  if "$@"; then echo "  ok   $d"; else echo "  FAIL $d"; FAILS=$((FAILS + 1)); fi
}

# ---- what doorjam leaves on the machine (test_kill.sh, test_signals.sh) ----

JDIR=${DOORJAM_JOURNAL_DIR:-/run/doorjam}

netstate() {  # the machine's own network state
  {
    ip rule; ip -6 rule; ip route show table all; ip -6 route show table all
    ip -d link show
    for dev in $(ip -o link show | awk -F': ' '{print $2}' | cut -d@ -f1); do
      echo "dev $dev"
      tc qdisc show dev "$dev"; tc class show dev "$dev"
      tc filter show dev "$dev"; tc filter show dev "$dev" ingress
    done
  } 2>&1
}

# Labs and journals of other live doorjam processes (someone else's run on
# this machine) are not ours to judge: a lab's lock file is flock()ed by its
# holder while the lab lives (the probe opens it read-only, so it never
# creates one), and a journal is run-<pid>.journal. Prints patterns for them.
others() {
  local f pid id
  for f in /run/doorjam/lab-*.lock; do
    [ -e "$f" ] || continue
    if ! ( exec 9< "$f" && flock -n 9 ) 2>/dev/null; then
      id=${f##*/lab-}; id=${id%.lock}
      echo "dj$id-|lab-$id\\.lock"
    fi
  done
  for f in "$JDIR"/run-*.journal; do
    [ -e "$f" ] || continue
    pid=${f##*/run-}; pid=${pid%.journal}
    [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = doorjam ] && echo "run-$pid\\.journal"
  done
}

# leftovers: one line per thing of doorjam's that remains
leftovers() {
  local skip p
  skip=$(others | paste -sd'|')
  {
    ip netns list 2>/dev/null | grep -oE '^dj[0-9a-f]{4}-[^ ]+' | sed 's/^/namespace /'
    ls /etc/netns 2>/dev/null | grep -E '^dj[0-9a-f]{4}-' | sed 's/^/etc\/netns /'
    awk '{print $5}' /proc/self/mountinfo | grep -E '/netns/dj[0-9a-f]{4}-' | sed 's/^/mount /'
    ls /run/doorjam 2>/dev/null | grep -E '^lab-' | sed 's/^/lock /'
    ls "$JDIR" 2>/dev/null | grep -E 'journal' | sed 's/^/journal /'
    for p in $(pgrep -f '[t]imestamp 1767225600|[e]xamples/wallet-demo/(wallet|prices)'); do
      echo "process $p in [$(ip netns identify "$p" 2>/dev/null)] $(tr '\0' ' ' < "/proc/$p/cmdline" 2>/dev/null)"
    done
  } | grep -vE "${skip:-^\$}"
}

ms_now() { echo $(( $(date +%s%N) / 1000000 )); }

finish() {
  echo "$(basename "$0"): $((CHECKS - FAILS)) passed, $FAILS failed"
  [ "$FAILS" -eq 0 ]
}
