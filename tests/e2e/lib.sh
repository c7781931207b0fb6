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

finish() {
  echo "$(basename "$0"): $((CHECKS - FAILS)) passed, $FAILS failed"
  [ "$FAILS" -eq 0 ]
}
