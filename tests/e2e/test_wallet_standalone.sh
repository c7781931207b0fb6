#!/usr/bin/env bash
# The demo wallet stack on loopback, without doorjam and without root: two
# real anvil nodes with identical genesis (rpc-a primary, rpc-b backup), the
# price service and the wallet service. Checks every wallet endpoint, then
# failover behind a hung primary (SIGSTOP) and a dead one (SIGKILL), then the
# deliberate flaw: with the price service gone, /prices fails honestly while
# /portfolio answers 200 with "usd":"0.00". Prints the measured npm ci time,
# wallet start time and failover latencies.
B=${1:-build/std}
. "$(dirname "$0")/lib.sh"
cd "$ROOT"
: "$B"  # the build folder is not needed: this test runs no doorjam binary

WALLET_DIR=examples/wallet-demo/wallet
PRICES_JS=examples/wallet-demo/prices/server.js
MNEMONIC="test test test test test test test test test test test junk"
GENESIS_TS=1767225600
KEY0=0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80
ACCT0=0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266
ACCT1=0x70997970C51812dc3A010C7d01b50e0d17dc79C8

# A stopped process ignores SIGTERM until continued: continue everything
# before lib.sh's cleanup kills and waits.
trap 'for p in "${PIDS[@]}"; do kill -CONT "$p" 2>/dev/null; done; cleanup' EXIT

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
secs() { awk -v ms="$1" 'BEGIN { printf "%.3f", ms / 1000 }'; }

# next_port FROM: the first free loopback port at or above FROM (39000-39999)
next_port() {
  local p=$1
  while [ "$p" -le 39999 ]; do
    port_free "$p" && { echo "$p"; return 0; }
    p=$((p + 1))
  done
  echo "no free port in 39000-39999" >&2
  exit 1
}

# The closing line names the test without ".sh", as the e2e layer expects.
done_line() {
  echo "test_wallet_standalone: $((CHECKS - FAILS)) passed, $FAILS failed"
  [ "$FAILS" -eq 0 ]
}
fail_now() { echo "  FAIL $1"; FAILS=$((FAILS + 1)); CHECKS=$((CHECKS + 1)); done_line; exit 1; }

# req METHOD URL [BODY]: sets STATUS and MS; the body is in $TMP/body.
req() {
  local t0 out
  t0=$(now_ms)
  if [ $# -ge 3 ]; then
    out=$(curl -sS --max-time 30 -o "$TMP/body" -w '%{http_code}' -X "$1" \
      -H 'content-type: application/json' --data-binary "$3" "$2" 2>"$TMP/curl.err")
  else
    out=$(curl -sS --max-time 30 -o "$TMP/body" -w '%{http_code}' -X "$1" "$2" 2>"$TMP/curl.err")
  fi
  STATUS=${out:-000}
  MS=$(( $(now_ms) - t0 ))
  [ -s "$TMP/body" ] || echo '{}' > "$TMP/body"
}
jb() { jget "$TMP/body" "$1" 2>/dev/null || echo "(not JSON)"; }

# rpc PORT METHOD PARAMS: the node's JSON-RPC result, straight from anvil
rpc() {
  curl -sS --max-time 5 -H 'content-type: application/json' \
    -d "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"$2\",\"params\":$3}" "http://127.0.0.1:$1" \
    | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const r=JSON.parse(s).result;console.log(typeof r==="object"?JSON.stringify(r):r)})'
}
head_num() { printf '%d' "$(rpc "$1" eth_blockNumber '[]')"; }

start_node() {  # PORT: an anvil with the lab's genesis and one block a second
  "$ANVIL" --host 127.0.0.1 --port "$1" --chain-id 31337 --mnemonic "$MNEMONIC" \
    --timestamp "$GENESIS_TS" --block-time 1 --silent > "$TMP/anvil-$1.log" 2>&1 &
  PIDS+=($!)
  LAST_PID=$!
  wait_port 127.0.0.1 "$1" || fail_now "anvil on port $1 did not start"
}

# wait_tx HASH SECONDS: poll /tx/HASH until it is no longer pending
wait_tx() {
  local end=$(( $(now_ms) + $2 * 1000 ))
  while [ "$(now_ms)" -lt "$end" ]; do
    req GET "$W/tx/$1"
    [ "$STATUS" = 200 ] && [ "$(jb r.status)" != pending ] && return 0
    sleep 0.3
  done
  return 1
}

# between LO X HI: LO <= X <= HI
between() { [ "$1" -le "$2" ] && [ "$2" -le "$3" ]; }

[ -x "$ANVIL" ] || fail_now "anvil is missing: run tests/deps.sh (or cd tests/peers && npm ci)"

echo "install"
if [ ! -d "$WALLET_DIR/node_modules/viem" ] || [ "$WALLET_DIR/package-lock.json" -nt "$WALLET_DIR/node_modules" ]; then
  t0=$(now_ms)
  (cd "$WALLET_DIR" && npm ci --no-audit --no-fund --loglevel=error > "$TMP/npm.log" 2>&1) \
    || { cat "$TMP/npm.log"; fail_now "npm ci in $WALLET_DIR failed"; }
  touch "$WALLET_DIR/node_modules"
  echo "  measured: npm ci took $(secs $(( $(now_ms) - t0 ))) s"
else
  echo "  node_modules up to date (npm ci not needed)"
fi

PA=$(next_port 39545)
PB=$(next_port $((PA + 1)))
PP=$(next_port $((PB + 1)))
PW=$(next_port $((PP + 1)))
W=http://127.0.0.1:$PW

echo "start: rpc-a :$PA, rpc-b :$PB, prices :$PP, wallet :$PW"
start_node "$PA"; PID_A=$LAST_PID
start_node "$PB"; PID_B=$LAST_PID
PRICES_LISTEN=127.0.0.1:$PP node "$PRICES_JS" > "$TMP/prices.log" 2>&1 &
PIDS+=($!); PID_P=$!
wait_port 127.0.0.1 "$PP" || fail_now "price service did not start"

t0=$(now_ms)
WALLET_LISTEN=127.0.0.1:$PW \
WALLET_RPC_URLS=http://127.0.0.1:$PA,http://127.0.0.1:$PB \
WALLET_PRICES_URL=http://127.0.0.1:$PP \
WALLET_ACCOUNT_KEY=$KEY0 \
  node "$WALLET_DIR/server.js" > "$TMP/wallet.log" 2>&1 &
PIDS+=($!); PID_W=$!
started=0
for _ in $(seq 1 200); do
  req GET "$W/health"
  [ "$STATUS" = 200 ] && { started=1; break; }
  sleep 0.05
done
[ $started = 1 ] || { cat "$TMP/wallet.log"; fail_now "wallet did not answer /health within 10 s"; }
echo "  measured: wallet start (spawn to first /health 200) $(secs $(( $(now_ms) - t0 ))) s"
trap 'r=$?; if [ "$FAILS" -gt 0 ] || [ $r -ne 0 ]; then echo "--- wallet log (tail)"; tail -n 40 "$TMP/wallet.log"; fi; for p in "${PIDS[@]}"; do kill -CONT "$p" 2>/dev/null; done; cleanup' EXIT

echo "genesis"
check "rpc-a and rpc-b share the genesis block" \
  "$(rpc "$PA" eth_getBlockByNumber '["0x0",false]' | node -pe 'JSON.parse(require("fs").readFileSync(0)).hash')" \
  "$(rpc "$PB" eth_getBlockByNumber '["0x0",false]' | node -pe 'JSON.parse(require("fs").readFileSync(0)).hash')"
check "chain id 31337 on rpc-b" "$(rpc "$PB" eth_chainId '[]')" 0x7a69

echo "endpoints, both providers healthy"
check "/health body" "$(jb 'r.ok')" true
req GET "$W/balance?address=$ACCT0"
check "/balance status" "$STATUS" 200
ok_balance_ms=$MS
check "/balance wei of account 0" "$(jb r.wei)" 0x21e19e0c9bab2400000
check "/balance eth of account 0" "$(jb r.eth)" 10000.0
check "/balance echoes the address" "$(jb r.address)" "$ACCT0"
req GET "$W/balance?address=$(echo "$ACCT1" | tr 'A-F' 'a-f')"
check "/balance accepts a lower-case address, answers checksummed" "$(jb r.address)" "$ACCT1"

req GET "$W/head"
check "/head status" "$STATUS" 200
ok_head_ms=$MS
h1=$(jb 'parseInt(r.number,16)')
check_cmd "/head hash is a block hash" grep -Eq '"hash":"0x[0-9a-f]{64}"' "$TMP/body"
check_cmd "/head is rpc-a's head (queried directly)" between "$h1" "$(head_num "$PA")" "$((h1 + 1))"
sleep 2.2
req GET "$W/head"
h2=$(jb 'parseInt(r.number,16)')
check_cmd "head advances ($h1 -> $h2)" test "$h2" -gt "$h1"

req POST "$W/send" "{\"to\":\"$ACCT1\",\"wei\":\"1000000000000000000\"}"
check "/send status" "$STATUS" 200
ok_send_ms=$MS
tx=$(jb r.hash)
check_cmd "/send returns a tx hash" grep -Eq '^0x[0-9a-f]{64}$' <<< "$tx"
check_cmd "/tx reaches a final status within 10 s" wait_tx "$tx" 10
check "/tx status" "$(jb r.status)" success
check "/tx echoes the hash" "$(jb r.hash)" "$tx"
check_cmd "/tx block is a block number" grep -Eq '"block":"0x[0-9a-f]+"' "$TMP/body"
req GET "$W/balance?address=$ACCT1"
check "account 1 received 1 ETH" "$(jb r.eth)" 10001.0
req GET "$W/balance?address=$ACCT0"
bal0=$(jb r.eth)
check_cmd "account 0 paid 1 ETH plus gas ($bal0)" node -e \
  'const [w,f="0"]=process.argv[1].split(".");const v=BigInt(w+f.padEnd(18,"0"));process.exit(v<9999n*10n**18n&&v>9998n*10n**18n?0:1)' "$bal0"

req GET "$W/prices"
check "/prices status" "$STATUS" 200
check "/prices ETH in USD" "$(jb r.ETH.usd)" 3150.25

req GET "$W/portfolio?address=$ACCT0"
check "/portfolio status" "$STATUS" 200
check "/portfolio eth matches /balance" "$(jb r.eth)" "$bal0"
want=$(node -e '
  const [w,f="0"]=process.argv[1].split(".");
  const wei=BigInt(w+f.padEnd(18,"0"));
  const cents=wei*315025n/10n**18n;              // price 3150.25 = 315025 cents
  console.log(`${cents/100n}.${(cents%100n).toString().padStart(2,"0")}`)' "$bal0")
check "/portfolio usd = eth x 3150.25, exact to the cent" "$(jb r.usd)" "$want"

echo "  measured: healthy primary costs balance ${ok_balance_ms} ms, head ${ok_head_ms} ms, send ${ok_send_ms} ms"

echo "bad requests"
req POST "$W/send" "{\"to\":\"$ACCT1\",\"wei\":\"1000000000000000000000000\"}"
check "send beyond the balance: 422" "$STATUS" 422
check_cmd "send beyond the balance: says insufficient funds" grep -qi 'insufficient funds' "$TMP/body"
req GET "$W/balance?address=0x1234"
check "bad address: 400" "$STATUS" 400
check_cmd "bad address: error field" grep -q '"error":' "$TMP/body"
req GET "$W/balance"
check "missing address: 400" "$STATUS" 400
req POST "$W/send" '{"to":"0x70997970C51812dc3A010C7d01b50e0d17dc79C8","wei":1}'
check "wei as a JSON number: 400" "$STATUS" 400
req POST "$W/send" 'not json'
check "send body not JSON: 400" "$STATUS" 400
req POST "$W/send" "{\"to\":\"$ACCT1\",\"wei\":\"$(printf '9%.0s' $(seq 1 20000))\"}"
check "send body over 16 KiB: 413" "$STATUS" 413
req GET "$W/send"
check "GET /send: 405" "$STATUS" 405
req GET "$W/tx/0x1234"
check "malformed tx hash: 400" "$STATUS" 400
req GET "$W/tx/0x$(printf '%064d' 7)"
check "unknown tx: 404" "$STATUS" 404
req GET "$W/nope"
check "unknown path: 404" "$STATUS" 404

echo "hung primary (rpc-a SIGSTOP)"
kill -STOP "$PID_A"
b0=$(head_num "$PB")
req GET "$W/balance?address=$ACCT1"
check "balance through rpc-b: status" "$STATUS" 200
check "balance through rpc-b: 10000 ETH (rpc-b never saw the rpc-a transfer)" "$(jb r.eth)" 10000.0
hung_balance_ms=$MS
req GET "$W/head"
check "head through rpc-b: status" "$STATUS" 200
hung_head_ms=$MS
check_cmd "head is rpc-b's head" between "$b0" "$(jb 'parseInt(r.number,16)')" "$(head_num "$PB")"
req POST "$W/send" "{\"to\":\"$ACCT1\",\"wei\":\"1\"}"
check "send through rpc-b: status" "$STATUS" 200
hung_send_ms=$MS
tx=$(jb r.hash)
check_cmd "send through rpc-b confirms" wait_tx "$tx" 20
check "send through rpc-b: /tx status" "$(jb r.status)" success
check_cmd "every request answered within its deadline (10 s)" \
  test "$hung_balance_ms" -lt 10000 -a "$hung_head_ms" -lt 10000 -a "$hung_send_ms" -lt 20000
echo "  measured: hung primary costs balance ${hung_balance_ms} ms, head ${hung_head_ms} ms, send ${hung_send_ms} ms"
grep -q "via http://127.0.0.1:$PA failed: The request took too long" "$TMP/wallet.log"
check "wallet log names the timed-out provider" "$?" 0

kill -CONT "$PID_A"
sleep 0.3
a0=$(head_num "$PA")
req GET "$W/head"
a1=$(head_num "$PA")
check_cmd "rpc-a resumed: the wallet reads from it again" between "$a0" "$(jb 'parseInt(r.number,16)')" "$a1"
echo "  measured: after the stop rpc-a is at block $a1, rpc-b at $(head_num "$PB")"

echo "dead primary (rpc-a SIGKILL)"
kill -KILL "$PID_A"
wait "$PID_A" 2>/dev/null
b0=$(head_num "$PB")
req GET "$W/balance?address=$ACCT1"
check "balance through rpc-b: status" "$STATUS" 200
dead_balance_ms=$MS
check "balance through rpc-b: value" "$(jb r.wei)" 0x21e19e0c9bab2400001
req GET "$W/head"
check "head through rpc-b: status" "$STATUS" 200
dead_head_ms=$MS
check_cmd "head is rpc-b's head" between "$b0" "$(jb 'parseInt(r.number,16)')" "$(head_num "$PB")"
req POST "$W/send" "{\"to\":\"$ACCT1\",\"wei\":\"2\"}"
check "send through rpc-b: status" "$STATUS" 200
dead_send_ms=$MS
tx=$(jb r.hash)
check_cmd "send through rpc-b confirms" wait_tx "$tx" 10
check "send through rpc-b: /tx status" "$(jb r.status)" success
grep -q "via http://127.0.0.1:$PA failed: .*ECONNREFUSED" "$TMP/wallet.log"
check "wallet log shows the refused connection" "$?" 0
echo "  measured: dead primary costs balance ${dead_balance_ms} ms, head ${dead_head_ms} ms, send ${dead_send_ms} ms"

echo "price service hung (SIGSTOP): the flaw"
req GET "$W/balance?address=$ACCT0"
bal0=$(jb r.eth)
kill -STOP "$PID_P"
req GET "$W/prices"
check "/prices: 504" "$STATUS" 504
check_cmd "/prices: error says timeout" grep -q '"error":"price service timed out' "$TMP/body"
req GET "$W/portfolio?address=$ACCT0"
check "/portfolio: 200 anyway (the flaw)" "$STATUS" 200
check "/portfolio: usd 0.00 (the flaw)" "$(jb r.usd)" 0.00
check_cmd "/portfolio: while the balance is not zero" test "$(jb 'r.eth!=="0.0"')" = true
check_cmd "/portfolio answered within the deadline" test "$MS" -lt 10000

echo "price service dead (SIGKILL): the flaw"
kill -CONT "$PID_P"; kill -KILL "$PID_P"
wait "$PID_P" 2>/dev/null
req GET "$W/prices"
check "/prices: 502" "$STATUS" 502
check_cmd "/prices: error says unreachable" grep -q '"error":"price service unreachable' "$TMP/body"
req GET "$W/portfolio?address=$ACCT0"
check "/portfolio: 200 anyway (the flaw)" "$STATUS" 200
check "/portfolio: usd 0.00 (the flaw)" "$(jb r.usd)" 0.00
check "/portfolio: eth still right" "$(jb r.eth)" "$bal0"

# A stand-in on the price service's port that answers like a broken
# deployment: MODE 503 (an HTML error page) or junk (HTTP 200, not a quote).
stub_prices() {  # MODE
  node -e '
    const mode = process.argv[2];
    require("node:http").createServer((q, s) => {
      if (mode === "503") { s.writeHead(503, {"content-type": "text/html"}); s.end("<html>503 Service Unavailable</html>"); }
      else { s.writeHead(200, {"content-type": "application/json"}); s.end("{\"symbol\":\"ETH\",\"usd\":\"n/a\"}"); }
    }).listen(Number(process.argv[1]), "127.0.0.1");' "$PP" "$1" > "$TMP/stub.log" 2>&1 &
  PIDS+=($!)
  STUB_PID=$!
  wait_port 127.0.0.1 "$PP" || fail_now "price stub did not start"
}
for mode in 503 junk; do
  echo "price service answering $mode: the flaw"
  stub_prices "$mode"
  req GET "$W/prices"
  check "/prices: 502" "$STATUS" 502
  req GET "$W/portfolio?address=$ACCT0"
  check "/portfolio: 200 anyway (the flaw)" "$STATUS" 200
  check "/portfolio: usd 0.00 (the flaw)" "$(jb r.usd)" 0.00
  kill "$STUB_PID"; wait "$STUB_PID" 2>/dev/null
done

echo "both providers dead: errors, not lies"
kill -KILL "$PID_B"
wait "$PID_B" 2>/dev/null
req GET "$W/balance?address=$ACCT0"
check "/balance: 502" "$STATUS" 502
check_cmd "/balance: error field" grep -q '"error":"balance: providers failed' "$TMP/body"
req GET "$W/portfolio?address=$ACCT0"
check "/portfolio: 502 when the balance is unknown" "$STATUS" 502
req GET "$W/health"
check "/health still answers" "$STATUS" 200
check_cmd "wallet process still alive" kill -0 "$PID_W"

done_line
