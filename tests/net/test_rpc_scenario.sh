#!/usr/bin/env bash
# A whole doorjam run with rpc.* faults against a real anvil: the scenario's
# own "rpc" block starts the proxy; rpc.override makes the balance flow
# "wrong" and rpc.rate_limit makes the chain flow "error" while they are on,
# and both flows are ok again after. Read back from the JSON report.
#
#   tests/net/test_rpc_scenario.sh BUILD_DIR  (exit 0 pass, 1 fail, 77 skip)
set -u
B=${1:?usage: test_rpc_scenario.sh BUILD_DIR}
cd "$(dirname "$0")/../.."
ROOT=$PWD
ANVIL=tests/peers/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil
DJ=$B/doorjam
[ -x "$DJ" ] || DJ=./doorjam
for x in "$ANVIL" "$DJ"; do [ -x "$x" ] || { echo "missing $x (make)"; exit 77; }; done
command -v node >/dev/null || { echo "node not installed (make deps)"; exit 77; }

T=$(mktemp -d /tmp/djt-rpcscn.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
  rm -rf "$T"
}
trap cleanup EXIT
free_port() {
  local p
  for p in $(shuf -i 20000-60000 -n 50); do
    (exec 9<>/dev/tcp/127.0.0.1/$p) 2>/dev/null || { echo "$p"; return; }
  done
  return 1
}
AP=$(free_port) && PP=$(free_port) || { echo "no free port"; exit 77; }
"$ANVIL" --host 127.0.0.1 --port "$AP" > "$T/anvil.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
  curl -s -m 1 "http://127.0.0.1:$AP" -H 'content-type: application/json' \
    -d '{"jsonrpc":"2.0","id":1,"method":"eth_chainId"}' 2>/dev/null | grep -q result && break
  sleep 0.1
done

cat > "$T/scn.json" <<EOF2
{
  "doorjam": 1,
  "name": "rpc-override-then-rate-limit",
  "rpc": {"rpc-a": {"listen": "127.0.0.1:$PP", "upstream": "http://127.0.0.1:$AP"}},
  "schedule": {"baseline": "2s", "fault": "6s", "recovery": "4s", "every": "1s"},
  "seed": 1,
  "flows": [
    {"name": "view-balance", "steps": [
      {"jsonrpc": {"url": "http://127.0.0.1:$PP", "method": "eth_getBalance",
                   "params": ["0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266", "latest"]},
       "expect": [{"result": "", "gt": 0}]}]},
    {"name": "chain-check", "steps": [
      {"jsonrpc": {"url": "http://127.0.0.1:$PP", "method": "eth_chainId"},
       "expect": [{"result": "", "equals": "0x7a69"}]}]}
  ],
  "faults": [
    {"kind": "rpc.override", "upstream": "rpc-a", "method": "eth_getBalance",
     "set": {"": "0x0"}, "for": "3s"},
    {"kind": "rpc.rate_limit", "upstream": "rpc-a", "method": "eth_chainId",
     "rps": 0.1, "burst": 1, "at": "3s"}
  ],
  "expect": {"view-balance": {"expect": "recover", "within": "3s"}, "chain-check": "degrade"}
}
EOF2
"$DJ" run "$T/scn.json" --quiet --report json:"$T/r.json" > "$T/out" 2>&1
rc=$?
cat "$T/out"
[ -f "$T/r.json" ] || { echo "FAIL no report (exit $rc)"; exit 1; }
node - "$T/r.json" "$rc" <<'JS'
const r = require(process.argv[2]);
const rc = Number(process.argv[3]);
let fails = 0;
const check = (what, cond) => { console.log((cond ? "ok   " : "FAIL ") + what); if (!cond) fails++; };
const flow = n => r.flows.find(f => f.name === n);
const vb = flow("view-balance"), cc = flow("chain-check");
check(`exit code 0 (${rc})`, rc === 0);
check("baseline clean", ["view-balance", "chain-check"].every(n =>
  flow(n).phases.baseline.error === 0 && flow(n).phases.baseline.wrong === 0 && flow(n).phases.baseline.ok > 0));
check(`override: balance flow wrong during the fault (${vb.phases.fault.wrong})`, vb.phases.fault.wrong >= 2);
check(`override: never an error (${vb.phases.fault.error})`, vb.phases.fault.error === 0);
check(`rate limit: chain flow error during the fault (${cc.phases.fault.error})`, cc.phases.fault.error >= 1);
check("rate limit: never wrong", cc.phases.fault.wrong === 0);
check("both recovered", vb.recovered && cc.recovered);
const ev = r.events.filter(e => e.source === "rpc:rpc-a");
check(`proxy log: override events (${ev.filter(e => e.action === "override").length})`,
  ev.some(e => e.action === "override" && e.what === "eth_getBalance"));
check("proxy log: a rate-limited request with status 429",
  ev.some(e => e.action === "rate_limit" && /status 429/.test(e.detail)));
process.exit(fails ? 1 : 0);
JS
