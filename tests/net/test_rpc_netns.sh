#!/usr/bin/env bash
# The RPC proxy inside a network namespace: a namespace of this test's own
# (loopback only, no route out), anvil started inside it, and the proxy run
# from the root namespace with "netns" set, so its listener and its upstream
# connections are made inside. A client inside the namespace gets faked and
# real answers; nothing listens in the root namespace.
#
#   tests/net/test_rpc_netns.sh BUILD_DIR     (exit 0 pass, 1 fail, 77 skip)
set -u
B=${1:?usage: test_rpc_netns.sh BUILD_DIR}
cd "$(dirname "$0")/../.."
ANVIL=tests/peers/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil
CAST=tests/peers/node_modules/@foundry-rs/cast-linux-amd64/bin/cast
HELPER=$B/helpers/rpcproxy
for x in "$ANVIL" "$CAST" "$HELPER"; do
  [ -x "$x" ] || { echo "missing $x"; exit 77; }
done
[ "$(id -u)" -eq 0 ] || { echo "needs root (ip netns)"; exit 77; }

NS=djt-rpc-$$
T=$(mktemp -d /tmp/djt-rpcns.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
  ip netns del "$NS" 2>/dev/null
  rm -rf "$T"
}
trap cleanup EXIT
ip netns add "$NS" || { echo "cannot create a namespace"; exit 77; }
ip -n "$NS" link set lo up

fails=0 passes=0
check() {
  local d=$1; shift
  if "$@"; then passes=$((passes + 1)); echo "ok   $d"; else fails=$((fails + 1)); echo "FAIL $d"; fi
}
inns() { ip netns exec "$NS" "$@"; }

# Ports inside a fresh namespace are all free.
ip netns exec "$NS" "$ANVIL" --host 127.0.0.1 --port 18545 > "$T/anvil.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
  inns curl -s -m 1 http://127.0.0.1:18545 -H 'content-type: application/json' \
    -d '{"jsonrpc":"2.0","id":1,"method":"eth_chainId"}' 2>/dev/null | grep -q result && break
  sleep 0.1
done
cat > "$T/p.json" <<EOF2
{"rpc": {"ns": {"listen": "127.0.0.1:8545", "netns": "$NS", "upstream": "http://127.0.0.1:18545"}},
 "faults": [{"kind": "rpc.chain_id", "upstream": "ns", "chain_id": 10}]}
EOF2
"$HELPER" "$T/p.json" > "$T/out" 2> "$T/log" &
HP=$!
pids+=($HP)
for _ in $(seq 50); do grep -q '^ready' "$T/out" 2>/dev/null && break; sleep 0.1; done
grep -q '^ready' "$T/out" || { cat "$T/log"; echo "proxy did not start"; exit 1; }

cid=$(inns "$CAST" chain-id --rpc-url http://127.0.0.1:8545 2>&1)
check "inside the namespace: faked chain id ($cid)" [ "$cid" = 10 ]
bn=$(inns "$CAST" block-number --rpc-url http://127.0.0.1:8545 2>&1)
check "inside the namespace: real block number through the upstream leg ($bn)" [ "$bn" = 0 ]
root=$(ss -ltnpH 2>/dev/null | grep -c "pid=$HP,")
inside=$(inns ss -ltnpH 2>/dev/null | grep "pid=$HP," | grep -c '127.0.0.1:8545')
check "the proxy listens inside the namespace only (root $root, inside $inside)" \
  [ "$root" = 0 -a "$inside" = 1 ]
check "request log shows both" [ "$(grep -c '"proxy":"ns"' "$T/log")" -ge 2 ]

echo "rpc_netns: $passes passed, $fails failed"
[ $fails -eq 0 ]
