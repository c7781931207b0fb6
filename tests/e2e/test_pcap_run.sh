#!/usr/bin/env bash
# `doorjam run --pcap DIR` in the wallet-demo lab, as root: the us-east-1
# outage (tests/e2e/data/kill-us-east-1.json: net.unreachable on the region,
# dns.servfail on its names) with packet capture on. Checked against tshark
# reading the same files:
#  - every capture point of the report has its pcap file, and tshark reads
#    as many packets from it as the report says were written;
#  - the core link toward rpc-a (a "far" point, past the fault) carried
#    traffic toward 10.77.1.0/24 before and after the fault and none while
#    it was on, and the report's `through` for that prefix is 0;
#  - the report's `sent` toward 10.77.1.0/24 (near points) and its SERVFAIL
#    count for *.use1.example (the DNS point) equal tshark's counts over the
#    fault's window. The window is placed with the report's started_at (whole
#    ms), so tshark is counted over the window shrunk and grown by 2 ms and
#    the report's figure must lie between the two.
# tests/e2e/test_pcap.sh checks the evidence arithmetic in detail on a
# smaller lab; this one checks the wiring of the real run.
B=${1:-build/std}
. "$(dirname "$0")/lib.sh"
cd "$ROOT"
DJ=./doorjam
[ -x "$B/doorjam" ] && DJ=$B/doorjam
SC=tests/e2e/data/kill-us-east-1.json
if [ "$(id -u)" -ne 0 ]; then
  echo "test_pcap_run: needs root (the lab is built from network namespaces)"
  [ "${CI:-}" = true ] && exit 1
  exit 77
fi
command -v tshark > /dev/null || { echo "test_pcap_run: tshark is missing (make deps)"; exit 1; }
if [ ! -d examples/wallet-demo/wallet/node_modules ] || [ ! -x "$ANVIL" ]; then
  echo "test_pcap_run: the demo's npm packages are missing; run make deps"
  exit 1
fi

P=$TMP/pcap
mkdir -p "$P"
"$DJ" run "$SC" --quiet --seed 11 --logs "$TMP/logs" --pcap "$P" \
  --report json:"$TMP/r.json" > "$TMP/out" 2>&1
rc=$?
check "the run completed (exit 0 or 1, no run error)" \
  "$([ "$rc" -le 1 ] && [ "$(jget "$TMP/r.json" r.error)" = null ] && echo yes)" yes
[ "$rc" -le 1 ] || tail -n 20 "$TMP/out"

n=$(jget "$TMP/r.json" "r.captures.length")
check "capture points in the report (near, far and dns)" \
  "$(jget "$TMP/r.json" "[...new Set(r.captures.map(c => c.role))].sort().join(',')")" "dns,far,near"
for i in $(seq 0 $((n - 1))); do
  path=$(jget "$TMP/r.json" "r.captures[$i].path")
  label=$(jget "$TMP/r.json" "r.captures[$i].label")
  want=$(jget "$TMP/r.json" "r.captures[$i].packets")
  got=$(tshark -r "$path" 2> /dev/null | wc -l)
  check "$label: tshark reads the $want packets the report wrote" "$got" "$want"
  check "$label: no capture error" "$(jget "$TMP/r.json" "r.captures[$i].error")" null
done

origin=$(date -d "$(jget "$TMP/r.json" r.started_at)" +%s%3N)
s=$(jget "$TMP/r.json" "r.faults[0].start_ms") e=$(jget "$TMP/r.json" "r.faults[0].end_ms")
ds=$(jget "$TMP/r.json" "r.faults[1].start_ms") de=$(jget "$TMP/r.json" "r.faults[1].end_ms")
echo "fault windows: net ${s}-${e} ms, dns ${ds}-${de} ms"

# times FILTER FILE...: packet times in ms since started_at, one per line
times() {
  local f=$1 x; shift
  for x in "$@"; do
    tshark -r "$x" -Y "$f" -T fields -e frame.time_epoch 2> /dev/null
  done | awk -v o="$origin" '{ printf "%.3f\n", $1 * 1000 - o }'
}
# count LO HI < times: how many lie in [LO, HI)
count() { awk -v lo="$1" -v hi="$2" '$1 >= lo && $1 < hi { n++ } END { print n + 0 }'; }
between() {  # DESCRIPTION VALUE MIN MAX
  check "$1 ($2 within [$3, $4])" "$([ "$2" -ge "$3" ] && [ "$2" -le "$4" ] && echo yes)" yes
}

far=$(jget "$TMP/r.json" "r.captures.find(c => c.label === 'far core-rpc-a').path")
near=$(jget "$TMP/r.json" "r.captures.filter(c => c.role === 'near').map(c => c.path).join(' ')")
ev() { jget "$TMP/r.json" "r.evidence.find(v => v.fault === $1 && v.subject === '$2').$3"; }

t=$(times 'ip.dst == 10.77.1.0/24' "$far")
check "far core-rpc-a: traffic toward rpc-a's /24 before the fault" \
  "$([ "$(count -1e9 "$((s - 2))" <<< "$t")" -gt 0 ] && echo yes)" yes
check "far core-rpc-a: traffic toward rpc-a's /24 after the fault" \
  "$([ "$(count "$((e + 2))" 1e12 <<< "$t")" -gt 0 ] && echo yes)" yes
check "far core-rpc-a: nothing toward rpc-a's /24 while the fault was on" \
  "$(count "$((s + 2))" "$((e - 2))" <<< "$t")" 0
check "report: through 10.77.1.0/24 is 0" "$(ev 0 10.77.1.0/24 through)" 0

t=$(times 'ip.dst == 10.77.1.0/24 && !icmp' $near)
sent=$(ev 0 10.77.1.0/24 sent)
between "report: sent toward 10.77.1.0/24 equals tshark's count at the near points" "$sent" \
  "$(count "$((s + 2))" "$((e - 2))" <<< "$t")" "$(count "$((s - 2))" "$((e + 2))" <<< "$t")"
check "report: something was sent toward 10.77.1.0/24 during the fault" \
  "$([ "$sent" -gt 0 ] && echo yes)" yes

dnsf=$(jget "$TMP/r.json" "r.captures.find(c => c.role === 'dns').path")
t=$(times 'dns.flags.response == 1 && dns.flags.rcode == 2 && dns.qry.name matches "\\.use1\\.example$"' "$dnsf")
sf=$(ev 1 '*.use1.example' rcodes.SERVFAIL)
between "report: SERVFAIL answers for *.use1.example equal tshark's count" "$sf" \
  "$(count "$((ds + 2))" "$((de - 2))" <<< "$t")" "$(count "$((ds - 2))" "$((de + 2))" <<< "$t")"
check "report: there were SERVFAIL answers" "$([ "${sf:-0}" -gt 0 ] 2> /dev/null && echo yes)" yes
check "no SERVFAIL for *.use1.example outside the fault" \
  "$(( $(count -1e9 "$((ds - 2))" <<< "$t") + $(count "$((de + 2))" 1e12 <<< "$t") ))" 0
check "nothing of doorjam remains" "$(leftovers)" ""
finish
