#!/usr/bin/env bash
# The RPC proxy against a real anvil node, exercised by real clients (curl,
# cast): every rpc.* action, provider presets, and the HTTP edge cases
# (pipelining, chunked bodies, 413, slow and vanishing clients, upstream
# down mirrored as reset / silence or answered with 502). Loopback only; no
# namespace is needed. Every process started here is killed on every path.
#
#   tests/net/test_rpc.sh BUILD_DIR      (exit 0 pass, 1 fail, 77 skip)
set -u
B=${1:?usage: test_rpc.sh BUILD_DIR}
cd "$(dirname "$0")/../.."
PEERS=tests/peers/node_modules/@foundry-rs
ANVIL=$PEERS/anvil-linux-amd64/bin/anvil
CAST=$PEERS/cast-linux-amd64/bin/cast
HELPER=$B/helpers/rpcproxy
for x in "$ANVIL" "$CAST" "$HELPER"; do
  [ -x "$x" ] || { echo "missing $x (make deps; make BUILD=... $HELPER)"; exit 77; }
done
command -v curl >/dev/null || { echo "curl not installed"; exit 77; }

T=$(mktemp -d /tmp/djt-rpc.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
  if [ -n "${KEEP_RPC_LOG:-}" ]; then cp "$T/proxy.log" "$KEEP_RPC_LOG"; fi
  rm -rf "$T"
}
trap cleanup EXIT

fails=0 passes=0
ok()   { passes=$((passes + 1)); echo "ok   $*"; }
bad()  { fails=$((fails + 1)); echo "FAIL $*"; }
check() { # description, then a command that must succeed
  local d=$1; shift
  if "$@"; then ok "$d"; else bad "$d"; fi
}

free_port() {
  local p
  for p in $(shuf -i 20000-60000 -n 50); do
    (exec 9<>/dev/tcp/127.0.0.1/$p) 2>/dev/null || { echo "$p"; return; }
  done
  return 1
}

APORT=$(free_port) || { echo "no free port"; exit 77; }
DEAD=$(free_port)
"$ANVIL" --host 127.0.0.1 --port "$APORT" --block-time 1 > "$T/anvil.log" 2>&1 &
pids+=($!)
UP=http://127.0.0.1:$APORT
for _ in $(seq 100); do
  curl -s -m 1 "$UP" -H 'content-type: application/json' \
    -d '{"jsonrpc":"2.0","id":1,"method":"eth_chainId"}' 2>/dev/null | grep -q result && break
  sleep 0.1
done

ADDR=0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266
KEY=0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80

cat > "$T/proxy.json" <<EOF
{
  "seed": 7,
  "rpc": {
    "pass":     {"listen": "127.0.0.1:0", "upstream": "$UP", "max_body": "64KiB",
                 "request_timeout": "2s", "hosts": ["127.0.0.1", "rpc.example", "x"]},
    "override": {"listen": "127.0.0.1:0", "upstream": "$UP"},
    "stale":    {"listen": "127.0.0.1:0", "upstream": "$UP"},
    "lag":      {"listen": "127.0.0.1:0", "upstream": "$UP"},
    "stblock":  {"listen": "127.0.0.1:0", "upstream": "$UP"},
    "lagblock": {"listen": "127.0.0.1:0", "upstream": "$UP"},
    "batch":    {"listen": "127.0.0.1:0", "upstream": "$UP"},
    "batchy":   {"listen": "127.0.0.1:0", "upstream": "$UP"},
    "rl":       {"listen": "127.0.0.1:0", "upstream": "$UP"},
    "reset":    {"listen": "127.0.0.1:0", "upstream": "$UP"},
    "close":    {"listen": "127.0.0.1:0", "upstream": "$UP"},
    "hang":     {"listen": "127.0.0.1:0", "upstream": "$UP"},
    "trunc":    {"listen": "127.0.0.1:0", "upstream": "$UP"},
    "status":   {"listen": "127.0.0.1:0", "upstream": "$UP"},
    "error":    {"listen": "127.0.0.1:0", "upstream": "$UP"},
    "delay":    {"listen": "127.0.0.1:0", "upstream": "$UP"},
    "chain":    {"listen": "127.0.0.1:0", "upstream": "$UP"},
    "receipt":  {"listen": "127.0.0.1:0", "upstream": "$UP"},
    "nth":      {"listen": "127.0.0.1:0", "upstream": "$UP"},
    "down":     {"listen": "127.0.0.1:0", "upstream": "http://127.0.0.1:$DEAD"},
    "passcurl": {"listen": "127.0.0.1:0", "upstream": "$UP", "upstream_client": "curl"},
    "stalecurl": {"listen": "127.0.0.1:0", "upstream": "$UP", "upstream_client": "curl"},
    "downcurl": {"listen": "127.0.0.1:0", "upstream": "http://127.0.0.1:$DEAD",
                 "upstream_client": "curl"},
    "down502":  {"listen": "127.0.0.1:0", "upstream": "http://127.0.0.1:$DEAD",
                 "on_upstream_down": "502"}
  },
  "faults": [
    {"kind": "rpc.override", "upstream": "override", "method": "eth_getBalance",
     "set": {"": "0x0"}},
    {"kind": "rpc.stale_head", "upstream": "stale"},
    {"kind": "rpc.stale_head", "upstream": "lag", "lag": 3},
    {"kind": "rpc.stale_head", "upstream": "stblock"},
    {"kind": "rpc.stale_head", "upstream": "lagblock", "lag": 2},
    {"kind": "rpc.stale_head", "upstream": "stalecurl", "lag": 2},
    {"kind": "rpc.error", "upstream": "batch", "batch_index": 1, "preset": "header-not-found"},
    {"kind": "rpc.batch_null_id", "upstream": "batchy", "method": "eth_gasPrice"},
    {"kind": "rpc.batch_drop", "upstream": "batchy", "method": "eth_chainId"},
    {"kind": "rpc.batch_reorder", "upstream": "batchy"},
    {"kind": "rpc.rate_limit", "upstream": "rl", "rps": 1, "burst": 1,
     "preset": "infura-rate-limit"},
    {"kind": "rpc.reset", "upstream": "reset"},
    {"kind": "rpc.close", "upstream": "close"},
    {"kind": "rpc.hang", "upstream": "hang", "method": "eth_*"},
    {"kind": "rpc.truncate", "upstream": "trunc", "bytes": 10},
    {"kind": "rpc.status", "upstream": "status", "preset": "cloudflare-502"},
    {"kind": "rpc.error", "upstream": "error", "method": "eth_getBalance",
     "params": {"/0": "$ADDR"}, "preset": "header-not-found"},
    {"kind": "rpc.delay", "upstream": "delay", "delay": "1s"},
    {"kind": "rpc.chain_id", "upstream": "chain", "chain_id": 5},
    {"kind": "rpc.null_receipt", "upstream": "receipt"},
    {"kind": "rpc.status", "upstream": "nth", "every_nth": 2, "status": 503,
     "body": "busy"}
  ]
}
EOF
"$HELPER" "$T/proxy.json" > "$T/proxy.out" 2> "$T/proxy.log" &
HP=$!
pids+=($HP)
for _ in $(seq 50); do grep -q '^ready' "$T/proxy.out" 2>/dev/null && break; sleep 0.1; done
grep -q '^ready' "$T/proxy.out" || { cat "$T/proxy.log"; echo "proxy did not start"; exit 1; }
url() { echo "http://127.0.0.1:$(awk -v n="$1" '$1 == "listening" && $2 == n {print $3}' "$T/proxy.out")"; }
rpc() { # url body -> body on stdout
  curl -s -m 5 "$1" -H 'content-type: application/json' -d "$2"
}
req() { printf '{"jsonrpc":"2.0","id":%s,"method":"%s","params":%s}' "$1" "$2" "${3:-[]}"; }

# --- pass-through is faithful ---
direct=$(curl -s -D "$T/h1" "$UP" -H 'content-type: application/json' -d "$(req 1 eth_chainId)")
proxied=$(curl -s -D "$T/h2" "$(url pass)" -H 'content-type: application/json' -d "$(req 1 eth_chainId)")
check "pass-through body identical ($proxied)" [ "$direct" = "$proxied" ]
check "pass-through keeps upstream headers" grep -qi '^access-control-allow-origin: \*' "$T/h2"
# the libcurl leg ("upstream_client": "curl") answers the same
proxied=$(curl -s -D "$T/h3" "$(url passcurl)" -H 'content-type: application/json' -d "$(req 1 eth_chainId)")
check "libcurl leg: pass-through body identical ($proxied)" [ "$direct" = "$proxied" ]
check "libcurl leg: keeps upstream headers" grep -qi '^access-control-allow-origin: \*' "$T/h3"
bal=$("$CAST" balance "$ADDR" --rpc-url "$(url passcurl)" 2>&1)
check "libcurl leg: cast balance real ($bal)" [ "$bal" = 10000000000000000000000 ]

# --- override: cast balance prints 0, block number passes ---
bal=$("$CAST" balance "$ADDR" --rpc-url "$(url override)" 2>&1)
realbal=$("$CAST" balance "$ADDR" --rpc-url "$UP" 2>&1)
check "cast balance through override prints 0 (real $realbal)" [ "$bal" = 0 ]
check "real balance is not 0" [ "$realbal" != 0 ]
bn1=$("$CAST" block-number --rpc-url "$(url override)")
bn2=$("$CAST" block-number --rpc-url "$UP")
check "eth_blockNumber passes under override ($bn1 vs $bn2)" [ $((bn2 - bn1)) -le 1 ]

# --- stale_head: frozen while anvil mines; "latest" reads follow ---
s1=$("$CAST" block-number --rpc-url "$(url stale)")
sleep 3
s2=$("$CAST" block-number --rpc-url "$(url stale)")
d2=$("$CAST" block-number --rpc-url "$UP")
check "stale_head freezes cast block-number ($s1 -> $s2, chain at $d2)" \
  [ "$s1" = "$s2" -a "$d2" -ge $((s1 + 2)) ]
lb=$(rpc "$(url stale)" "$(req 1 eth_getBlockByNumber '["latest",false]')" | grep -o '"number":"0x[0-9a-f]*"' | head -1)
check "stale_head answers \"latest\" block with the frozen one ($lb)" \
  [ "$lb" = "\"number\":\"$(printf '0x%x' "$s1")\"" ]
lb=$("$CAST" block latest -f number --rpc-url "$(url stale)")
check "stale_head: cast block latest shows the frozen head ($lb)" [ "$lb" = "$s1" ]
# a client that only reads "latest" blocks (as viem does) and never eth_blockNumber
b1=$("$CAST" block latest -f number --rpc-url "$(url stblock)")
sleep 2.5
b2=$("$CAST" block latest -f number --rpc-url "$(url stblock)")
b3=$("$CAST" block latest -f number --rpc-url "$UP")
check "stale_head freezes cast block latest with no eth_blockNumber ($b1 -> $b2, chain at $b3)" \
  [ "$b1" = "$b2" -a "$b3" -ge $((b1 + 2)) ]
bn=$("$CAST" block-number --rpc-url "$(url stblock)")
check "stale_head: eth_blockNumber agrees with the frozen block ($bn)" [ "$bn" = "$b1" ]
g1=$("$CAST" block latest -f number --rpc-url "$(url lagblock)")
g2=$("$CAST" block latest -f number --rpc-url "$(url lagblock)")
sleep 2.5
g3=$("$CAST" block latest -f number --rpc-url "$(url lagblock)")
g4=$("$CAST" block latest -f number --rpc-url "$UP")
check "stale_head lag 2 on cast block latest keeps moving ($g2 -> $g3, chain at $g4)" \
  [ "$g3" -ge $((g2 + 2)) -a $((g4 - g3)) -ge 2 -a $((g4 - g3)) -le 3 ]
c1=$("$CAST" block latest -f number --rpc-url "$(url stalecurl)")
c2=$("$CAST" block latest -f number --rpc-url "$UP")
check "libcurl leg: stale_head lag 2 on cast block latest ($c1 vs $c2)" \
  [ $((c2 - c1)) -ge 2 -a $((c2 - c1)) -le 3 ]
l1=$("$CAST" block-number --rpc-url "$(url lag)")
l2=$("$CAST" block-number --rpc-url "$UP")
check "stale_head lag 3 ($l1 vs $l2)" [ $((l2 - l1)) -ge 3 -a $((l2 - l1)) -le 4 ]

# --- batch: one faked element keeps the others real ---
b=$(rpc "$(url batch)" "[$(req 1 eth_chainId),$(req 2 eth_blockNumber),$(req 3 eth_getBalance "[\"$ADDR\",\"latest\"]")]")
check "batch element 1 faked: $b" \
  grep -q '"id":2,"error":{"code":-32000,"message":"header not found"}' <<<"$b"
check "batch elements 0 and 2 real" grep -q '"id":1,"result":"0x7a69".*"id":3,"result":"0x21e19e0c9bab2400000"' <<<"$b"
b=$(rpc "$(url batchy)" "[$(req 1 eth_chainId),$(req 2 eth_gasPrice),$(req 3 eth_blockNumber)]")
check "batch drop + null id + reorder: $b" \
  grep -Eq '^\[\{"jsonrpc":"2.0","id":3,"result":"0x[0-9a-f]+"\},\{"jsonrpc":"2.0","id":null,"result":"0x[0-9a-f]+"\}\]$' <<<"$b"

# --- rate limit: 429 with Infura's body ---
code1=$(curl -s -o /dev/null -w '%{http_code}' "$(url rl)" -H 'content-type: application/json' -d "$(req 1 eth_chainId)")
code2=$(curl -s -o "$T/rl" -w '%{http_code}' "$(url rl)" -H 'content-type: application/json' -d "$(req 9 eth_chainId)")
check "rate limit: first passes ($code1), second 429 ($code2)" [ "$code1" = 200 -a "$code2" = 429 ]
check "rate limit body is Infura's -32005 with the request id" \
  grep -q '"id":9,"error":{"code":-32005,"message":"daily request count exceeded, request rate limited"' "$T/rl"

# --- reset, close, hang, truncate ---
curl -s -m 5 "$(url reset)" -d "$(req 1 eth_chainId)" -H 'content-type: application/json' 2> "$T/e" >/dev/null
rc=$?
check "reset: curl sees a connection reset (exit $rc)" [ $rc = 56 ]
curl -s -m 5 "$(url close)" -d "$(req 1 eth_chainId)" -H 'content-type: application/json' >/dev/null
rc=$?
check "close: curl sees an empty reply (exit $rc)" [ $rc = 52 ]
curl -s -m 1 "$(url hang)" -d "$(req 1 eth_chainId)" -H 'content-type: application/json' >/dev/null
rc=$?
check "hang: curl times out (exit $rc)" [ $rc = 28 ]
curl -s -m 5 "$(url trunc)" -d "$(req 1 eth_chainId)" -H 'content-type: application/json' > "$T/tr"
rc=$?
check "truncate: curl sees a short body (exit $rc, $(wc -c < "$T/tr") bytes)" [ $rc = 18 -a "$(wc -c < "$T/tr")" = 10 ]

# --- status and error presets ---
code=$(curl -s -o "$T/st" -w '%{http_code} %{content_type}' "$(url status)" -d "$(req 1 eth_chainId)" -H 'content-type: application/json')
check "status preset cloudflare-502 ($code)" [ "$code" = "502 text/html; charset=UTF-8" ]
check "status preset body is an HTML page" grep -q '<h1>Error 502' "$T/st"
e=$("$CAST" balance "$ADDR" --rpc-url "$(url error)" 2>&1)
check "error matched by params: cast reports header not found" grep -q 'header not found' <<<"$e"
e=$("$CAST" balance 0x70997970C51812dc3A010C7d01b50e0d17dc79C8 --rpc-url "$(url error)" 2>&1)
check "error: another address passes ($e)" [ "$e" = 10000000000000000000000 ]

# --- delay ---
t=$(curl -s -o /dev/null -w '%{time_total}' "$(url delay)" -d "$(req 1 eth_chainId)" -H 'content-type: application/json')
check "delay 1s: answered after ${t}s" awk -v t="$t" 'BEGIN { exit !(t >= 0.99 && t < 2.5) }'

# --- chain id, null receipt ---
cid=$("$CAST" chain-id --rpc-url "$(url chain)")
check "chain_id: cast chain-id prints 5 ($cid)" [ "$cid" = 5 ]
nv=$(rpc "$(url chain)" "$(req 1 net_version)")
check "chain_id: net_version is \"5\"" grep -q '"result":"5"' <<<"$nv"
tx=$("$CAST" send --async --private-key "$KEY" --rpc-url "$(url pass)" \
  0x70997970C51812dc3A010C7d01b50e0d17dc79C8 --value 1 2>&1)
sleep 2
r1=$(rpc "$(url receipt)" "$(req 1 eth_getTransactionReceipt "[\"$tx\"]")")
r2=$(rpc "$UP" "$(req 1 eth_getTransactionReceipt "[\"$tx\"]")")
check "null_receipt: null through the proxy" [ "$r1" = '{"jsonrpc":"2.0","id":1,"result":null}' ]
check "null_receipt: the tx was mined ($tx)" grep -q '"status":"0x1"' <<<"$r2"

# --- every_nth ---
codes=""
for i in 1 2 3 4; do
  codes="$codes$(curl -s -o /dev/null -w '%{http_code}' "$(url nth)" -d "$(req $i eth_chainId)" -H 'content-type: application/json') "
done
check "every_nth 2: $codes" [ "$codes" = "200 503 200 503 " ]

# --- HTTP edge cases ---
P=$(url pass); PP=${P##*:}
A1=$(req 11 eth_chainId); A2=$(req 12 net_version)
exec 3<>/dev/tcp/127.0.0.1/"$PP"
printf 'POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%sPOST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s' \
  "${#A1}" "$A1" "${#A2}" "$A2" >&3
two=$(timeout 5 cat <&3)
exec 3<&-
check "pipelined: two answers in order" \
  grep -Pzq '(?s)HTTP/1.1 200.*"id":11,"result":"0x7a69".*HTTP/1.1 200.*"id":12,"result":"31337"' <<<"$two"
ch=$(printf '%s' "$(req 5 eth_chainId)" | curl -s -m 5 "$P" -H 'content-type: application/json' \
  -H 'Transfer-Encoding: chunked' --data-binary @-)
check "chunked request body: $ch" [ "$ch" = '{"jsonrpc":"2.0","id":5,"result":"0x7a69"}' ]
head -c 100000 /dev/zero | tr '\0' ' ' > "$T/big"
code=$(curl -s -o /dev/null -w '%{http_code}' "$P" -H 'content-type: application/json' --data-binary @"$T/big")
check "oversize body: 413 ($code)" [ "$code" = 413 ]
code=$(curl -s -o /dev/null -w '%{http_code}' "$P" --request-target "http://example.com/" -d '{}')
check "absolute-form target refused: 403 ($code)" [ "$code" = 403 ]
code=$(curl -s -o /dev/null -w '%{http_code}' "$P" -H 'Host: evil.example' -d "$(req 1 eth_chainId)")
check "Host not configured: 421 ($code)" [ "$code" = 421 ]
code=$(curl -s -o /dev/null -w '%{http_code}' "$P" -H 'Host: RPC.example:8545' -d "$(req 1 eth_chainId)")
check "configured Host (any case, with port): 200 ($code)" [ "$code" = 200 ]
# a slow client holds a half-sent request; others are served meanwhile; it gets 408
exec 4<>/dev/tcp/127.0.0.1/"$PP"
printf 'POST / HTTP/1.1\r\nHost: x\r\n' >&4
t=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' "$P" -d "$(req 1 eth_chainId)" -H 'content-type: application/json')
check "slow client does not stall others ($t)" awk -v t="$t" 'BEGIN { split(t, a, " "); exit !(a[1] == 200 && a[2] < 1) }'
slow=$(timeout 5 cat <&4)
exec 4<&-
check "slow client gets 408 after request_timeout" grep -q '^HTTP/1.1 408' <<<"$slow"
# client gives up while the upstream leg (delayed) is in flight
curl -s -m 0.3 "$(url delay)" -d "$(req 77 eth_chainId)" -H 'content-type: application/json' >/dev/null
sleep 0.3
check "client disconnect mid-request logged as client-gone" grep -q '"proxy":"delay".*"action":"client-gone"' "$T/proxy.log"
code=$(curl -s -o /dev/null -w '%{http_code}' "$(url delay)" -d "$(req 1 eth_chainId)" -H 'content-type: application/json')
check "proxy still serves after the disconnect ($code)" [ "$code" = 200 ]
# half a request, then the client vanishes
exec 5<>/dev/tcp/127.0.0.1/"$PP"
printf 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"jsonrpc"' >&5
exec 5<&-
code=$(curl -s -o /dev/null -w '%{http_code}' "$P" -d "$(req 1 eth_chainId)" -H 'content-type: application/json')
check "client vanishing mid-body leaves the proxy serving ($code)" [ "$code" = 200 ]

# --- upstream down ---
curl -s -m 5 "$(url down)" -d "$(req 1 eth_chainId)" -H 'content-type: application/json' >/dev/null
rc=$?
check "upstream down mirrored as a reset (curl exit $rc)" [ $rc = 56 ]
curl -s -m 5 "$(url downcurl)" -d "$(req 1 eth_chainId)" -H 'content-type: application/json' >/dev/null
rc=$?
check "libcurl leg: upstream down mirrored as a reset (curl exit $rc)" [ $rc = 56 ]
code=$(curl -s -o "$T/d502" -w '%{http_code}' "$(url down502)" -d "$(req 1 eth_chainId)" -H 'content-type: application/json')
check "upstream down answered 502 when configured ($code: $(head -c 80 "$T/d502"))" \
  [ "$code" = 502 ] && grep -q "upstream down502" "$T/d502"

# --- rules at run time: revert all, then the real values come back ---
kill -USR1 "$HP"
for _ in $(seq 30); do grep -q '^reverted' "$T/proxy.out" && break; sleep 0.1; done
bal=$("$CAST" balance "$ADDR" --rpc-url "$(url override)")
check "after revert: real balance ($bal)" [ "$bal" != 0 ]
s3=$("$CAST" block-number --rpc-url "$(url stale)")
check "after revert: block number moves again ($s1 -> $s3)" [ "$s3" -gt "$s1" ]
r1=$("$CAST" block latest -f number --rpc-url "$(url stblock)")
check "after revert: cast block latest fresh again ($b1 -> $r1)" [ "$r1" -gt "$b1" ]
code=$(curl -s -o /dev/null -w '%{http_code}' "$(url status)" -d "$(req 1 eth_chainId)" -H 'content-type: application/json')
check "after revert: status fault gone ($code)" [ "$code" = 200 ]
kill -USR2 "$HP"
for _ in $(seq 30); do grep -q '^applied' "$T/proxy.out" && break; sleep 0.1; done
bal=$("$CAST" balance "$ADDR" --rpc-url "$(url override)")
check "after re-apply: balance 0 again ($bal)" [ "$bal" = 0 ]
sleep 2
r2=$("$CAST" block latest -f number --rpc-url "$(url stblock)")
r3=$("$CAST" block latest -f number --rpc-url "$UP")
check "re-applied stale_head freezes at the newest head seen before it ($r1 -> $r2, chain at $r3)" \
  [ "$r2" = "$r1" -a "$r3" -ge $((r1 + 2)) ]

# --- the per-request log ---
check "log names rule and action" grep -q '"proxy":"rl","methods":"eth_chainId","rule":[0-9]*,"action":"rate_limit","status":429' "$T/proxy.log"

kill -TERM "$HP"; wait "$HP"; rc=$?
check "proxy exits 0 on SIGTERM" [ $rc = 0 ]

echo "rpc: $passes passed, $fails failed"
[ $fails -eq 0 ]
