#!/usr/bin/env bash
# doorjam's DNS server against real clients, inside a namespace of its own.
#
# Starts two dnsd helpers in namespace djt-dns-$$ (lo only, lab addresses
# 10.77.0.53 and 10.77.0.54 on lo): an "upstream" with a small zone, and the
# server under test with a zone, the upstream, and one fault rule per action
# on names of its own. dig and kdig query over UDP and TCP; getaddrinfo()
# runs in a process whose resolv.conf (/etc/netns/<ns>/resolv.conf, which
# `ip netns exec` binds over /etc/resolv.conf) points at the server.
# Everything is deleted on every exit path.
set -u
B=${1:?usage: test_dns.sh BUILD_DIR}
cd "$(dirname "$0")/../.."
[ "$(id -u)" -eq 0 ] || { echo "needs root (network namespaces)"; exit 77; }
for t in dig kdig; do
  command -v $t > /dev/null || { echo "$t is missing (apt-get install dnsutils knot-dnsutils)"; exit 77; }
done
DNSD=$B/helpers/dnsd GAI=$B/helpers/dnsgai
[ -x "$DNSD" ] && [ -x "$GAI" ] || { echo "build $DNSD and $GAI first (make BUILD=... all)"; exit 1; }

ns=djt-dns-$$
dir=$(mktemp -d /tmp/djt-dns.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2> /dev/null; done
  for p in "${pids[@]}"; do wait "$p" 2> /dev/null; done
  ip netns del "$ns" 2> /dev/null
  rm -rf "/etc/netns/$ns" "$dir"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fails=0 checks=0
ok()   { checks=$((checks + 1)); echo "ok   $*"; }
bad()  { checks=$((checks + 1)); fails=$((fails + 1)); echo "FAIL $*"; }
# expect DESCRIPTION ACTUAL EXTENDED-REGEX
expect() { if [[ $2 =~ $3 ]]; then ok "$1"; else bad "$1: got [$2], want /$3/"; fi; }
nx() { ip netns exec "$ns" "$@"; }
q() { nx dig @10.77.0.53 +time=2 +tries=1 "$@" 2>&1; }
status() { q "$@" | sed -n 's/.*status: \([A-Z]*\),.*/\1/p'; }
ms() { echo $(( $(date +%s%N) / 1000000 )); }

ip netns add "$ns" || { echo "cannot create namespace $ns"; exit 1; }
ip -n "$ns" link set lo up
ip -n "$ns" addr add 10.77.0.53/32 dev lo
ip -n "$ns" addr add 10.77.0.54/32 dev lo
mkdir -p "/etc/netns/$ns"
printf 'nameserver 10.77.0.53\noptions timeout:1 attempts:1\n' > "/etc/netns/$ns/resolv.conf"

cat > "$dir/up.json" << 'EOF'
{ "dns": { "listen": ["10.77.0.54:53"],
           "zone": { "up.example": "10.77.5.5", "tcup.example": "10.77.5.6" } },
  "faults": [ { "kind": "dns.truncate", "names": "tcup.example" } ] }
EOF
cat > "$dir/main.json" << 'EOF'
{ "dns": { "listen": ["10.77.0.53:53", "127.0.0.1:53", "[::1]:53"],
           "upstreams": ["10.77.0.54"], "upstream_timeout": "500ms",
           "ttl": 60,
           "zone": { "rpc-a.example": "10.77.1.10",
                     "multi.example": ["10.77.1.1", "10.77.1.2", "fd00::1"],
                     "alias.example": "rpc-a.example",
                     "use1.example": "10.77.1.40",
                     "rpc.usw2.example": "10.77.1.41",
                     "baduse1.example": "10.77.1.42",
                     "rpc.use1.example": "10.77.1.43",
                     "rd.example": "10.77.1.20", "tc.example": "10.77.1.30",
                     "slow.example": "10.77.1.50", "flap.example": "10.77.1.60" } },
  "seed": 42,
  "faults": [
    { "kind": "dns.servfail", "names": "flap.example", "at": "1s", "for": "1500ms" },
    { "kind": "dns.nxdomain", "names": "*.use1.example", "ttl": 30 },
    { "kind": "dns.servfail", "names": "sf.example" },
    { "kind": "dns.refused", "names": "ref.example" },
    { "kind": "dns.timeout", "names": "to.example" },
    { "kind": "dns.sinkhole", "names": "sink.example" },
    { "kind": "dns.redirect", "names": "rd.example", "address": "10.77.9.9", "ttl": 5 },
    { "kind": "dns.delay", "names": "slow.example", "delay": "500ms" },
    { "kind": "dns.truncate", "names": "tc.example" },
    { "kind": "dns.nxdomain", "names": "typed.example", "types": ["AAAA"] } ] }
EOF

start() {  # start NAME CONFIG: run dnsd in the namespace, wait for "ready"
  # Not through nx(): in the background a function would run in a subshell,
  # and the pid to stop must be dnsd's own (ip netns exec execs into it).
  ip netns exec "$ns" "$DNSD" "$2" > "$dir/$1.log" 2> "$dir/$1.err" &
  pids+=($!)
  for _ in $(seq 50); do
    grep -q '^ready' "$dir/$1.log" && return 0
    kill -0 "${pids[-1]}" 2> /dev/null || break
    sleep 0.1
  done
  echo "dnsd $1 did not start:"; cat "$dir/$1.err"; exit 1
}
start up "$dir/up.json"
start main "$dir/main.json"
t0=$(ms)

# --- apply and revert on a timeline: servfail on flap.example from 1 s to 2.5 s
seq_out=""
while [ $(( $(ms) - t0 )) -lt 3300 ]; do
  r=$(nx "$GAI" flap.example inet | awk '{print ($1 == "ok") ? "ok" : $2}')
  [ "${seq_out##* }" = "$r" ] || seq_out="$seq_out $r"
  sleep 0.1
done
expect "getaddrinfo during a timed dns.servfail: ok, then EAI_AGAIN, then ok again" \
  "${seq_out# }" '^ok EAI_AGAIN ok$'

# --- the zone, over UDP and TCP, with dig and kdig
expect "zone A over UDP (dig)" "$(q +short rpc-a.example)" '^10\.77\.1\.10$'
expect "zone A over TCP (dig)" "$(q +tcp +short rpc-a.example)" '^10\.77\.1\.10$'
expect "zone A over TCP (kdig)" "$(nx kdig @10.77.0.53 +tcp +short rpc-a.example)" '^10\.77\.1\.10$'
expect "zone A over UDP on ::1 (kdig)" "$(nx kdig @::1 +notcp +short rpc-a.example)" '^10\.77\.1\.10$'
expect "several A records" "$(q +short multi.example | sort | tr '\n' ' ')" '^10\.77\.1\.1 10\.77\.1\.2 $'
expect "AAAA record" "$(q +short multi.example AAAA)" '^fd00::1$'
expect "name without data of the type: NOERROR and no answer" \
  "$(q rpc-a.example AAAA | grep -cE 'status: NOERROR|ANSWER: 0,')" '^2$'
expect "CNAME chain in the zone" "$(q +short alias.example | tr '\n' ' ')" '^rpc-a\.example\. 10\.77\.1\.10 $'
expect "answers are authoritative" "$(q rpc-a.example | grep -c 'flags: qr aa')" '^1$'

# --- never an open resolver; forwarding only to the configured upstream
expect "name outside the zone, no upstream: REFUSED" \
  "$(nx dig @10.77.0.54 +time=2 +tries=1 www.example.org | sed -n 's/.*status: \([A-Z]*\),.*/\1/p')" '^REFUSED$'
expect "name outside the zone is forwarded to the upstream" "$(q +short up.example)" '^10\.77\.5\.5$'
expect "upstream truncated over UDP: retried over TCP" "$(q +short tcup.example)" '^10\.77\.5\.6$'
expect "the upstream saw the TCP retry" \
  "$(grep -c '"transport":"tcp","client":"[^"]*","name":"tcup.example"' "$dir/up.log")" '^[1-9]'

# --- every action
expect "dns.nxdomain: NXDOMAIN for *.use1.example (UDP)" "$(status rpc.use1.example)" '^NXDOMAIN$'
expect "dns.nxdomain: NXDOMAIN over TCP" "$(status +tcp x.y.use1.example)" '^NXDOMAIN$'
expect "dns.nxdomain: SOA with the chosen negative TTL" \
  "$(q rpc.use1.example | awk '$4 == "SOA" {print $1, $2, $NF}')" '^use1\.example\. 30 30$'
expect "*.use1.example leaves use1.example itself alone" "$(q +short use1.example)" '^10\.77\.1\.40$'
expect "*.use1.example leaves baduse1.example alone" "$(q +short baduse1.example)" '^10\.77\.1\.42$'
expect "other names keep resolving" "$(q +short rpc.usw2.example)" '^10\.77\.1\.41$'
expect "dns.servfail (UDP)" "$(status sf.example)" '^SERVFAIL$'
expect "dns.servfail (TCP)" "$(status +tcp sf.example)" '^SERVFAIL$'
expect "dns.refused (UDP)" "$(status ref.example)" '^REFUSED$'
expect "dns.refused (TCP, kdig)" "$(nx kdig @10.77.0.53 +tcp ref.example | sed -n 's/.*status: \([A-Z]*\);.*/\1/p')" '^REFUSED$'
out=$(q +time=1 to.example); rc=$?
expect "dns.timeout: no answer over UDP" "$rc $(echo "$out" | grep -c 'timed out')" '^9 [1-9]'
out=$(q +tcp +time=1 to.example); rc=$?
expect "dns.timeout: no answer over TCP" "$rc" '^9$'
expect "dns.sinkhole: A 0.0.0.0" "$(q +short sink.example)" '^0\.0\.0\.0$'
expect "dns.sinkhole: AAAA ::" "$(q +tcp +short sink.example AAAA)" '^::$'
expect "dns.redirect: another address, with the rule's TTL" \
  "$(q rd.example | awk '$4 == "A" {print $2, $5}')" '^5 10\.77\.9\.9$'
expect "dns.nxdomain limited to AAAA: A still resolves" "$(status typed.example)" '^REFUSED$'
expect "dns.nxdomain limited to AAAA: AAAA is NXDOMAIN" "$(status typed.example AAAA)" '^NXDOMAIN$'
for proto in notcp tcp; do
  a=$(ms); r=$(q +$proto +short slow.example); b=$(ms)
  label=udp; [ $proto = tcp ] && label=tcp
  expect "dns.delay over $label: answer after 500ms (took $((b - a))ms)" \
    "$r $(( b - a >= 500 && b - a < 800 ))" '^10\.77\.1\.50 1$'
done
expect "dns.truncate: UDP answer has TC and no records" \
  "$(q +ignore +notcp tc.example | grep -c 'flags: qr aa tc.*ANSWER: 0,')" '^1$'
expect "dns.truncate: dig retries over TCP and gets the zone answer" "$(q +short tc.example)" '^10\.77\.1\.30$'
expect "dns.truncate: kdig retries over TCP too" "$(nx kdig @10.77.0.53 +short tc.example 2> /dev/null | grep .)" '^10\.77\.1\.30$'
expect "dns.truncate: the TCP retry reached the server" \
  "$(grep -c '"transport":"tcp","client":"[^"]*","name":"tc.example"' "$dir/main.log")" '^[1-9]'

# --- EDNS0: a small client buffer forces TC, a large one does not
cat > "$dir/big.json" << 'EOF'
{ "dns": { "listen": ["10.77.0.54:5300"],
           "zone": { "big.example": ["10.77.2.1","10.77.2.2","10.77.2.3","10.77.2.4","10.77.2.5",
             "10.77.2.6","10.77.2.7","10.77.2.8","10.77.2.9","10.77.2.10","10.77.2.11",
             "10.77.2.12","10.77.2.13","10.77.2.14","10.77.2.15","10.77.2.16","10.77.2.17",
             "10.77.2.18","10.77.2.19","10.77.2.20","10.77.2.21","10.77.2.22","10.77.2.23",
             "10.77.2.24","10.77.2.25","10.77.2.26","10.77.2.27","10.77.2.28","10.77.2.29",
             "10.77.2.30","10.77.2.31","10.77.2.32","10.77.2.33","10.77.2.34","10.77.2.35"] } } }
EOF
start big "$dir/big.json"
expect "no EDNS0: 35 records do not fit in 512 bytes, TC set" \
  "$(nx dig @10.77.0.54 -p 5300 +noedns +ignore big.example | grep -c 'flags: qr aa tc')" '^1$'
expect "EDNS0 size 1232: all 35 records over UDP" \
  "$(nx dig @10.77.0.54 -p 5300 +bufsize=1232 +ignore +short big.example | wc -l)" '^35$'

# --- what applications see through getaddrinfo()
expect "getaddrinfo: zone name" "$(nx "$GAI" rpc-a.example)" '^ok 10\.77\.1\.10$'
expect "getaddrinfo: NXDOMAIN is EAI_NONAME" "$(nx "$GAI" rpc.use1.example)" '^error EAI_NONAME$'
expect "getaddrinfo: SERVFAIL is EAI_AGAIN" "$(nx "$GAI" sf.example)" '^error EAI_AGAIN$'
expect "getaddrinfo: sinkhole gives 0.0.0.0 and ::" "$(nx "$GAI" sink.example | tr ' ' '\n' | sort | tr '\n' ' ')" '^0\.0\.0\.0 :: ok $'
expect "getaddrinfo: redirect" "$(nx "$GAI" rd.example inet)" '^ok 10\.77\.9\.9$'

# --- the query log
expect "query log lines name the rule and action" \
  "$(grep -c '"name":"sf.example","type":"A","rule":[1-9][0-9]*,"action":"servfail","answer":"SERVFAIL"' "$dir/main.log")" '^[1-9]'
expect "query log marks forwarded answers" \
  "$(grep -c '"name":"up.example","type":"A","rule":0,"action":"upstream","answer":"NOERROR A 10.77.5.5"' "$dir/main.log")" '^[1-9]'
expect "the server kept running" "$(kill -0 "${pids[1]}" && echo alive)" '^alive$'
[ -s "$dir/main.err" ] && { echo "dnsd stderr:"; cat "$dir/main.err"; }

echo "dns: $((checks - fails)) of $checks checks passed"
[ $fails -eq 0 ]
