#!/usr/bin/env bash
# Packet evidence against tshark: capture points in namespaces this test
# makes, real traffic (curl, ping, dig) toward a blackholed address, an
# unreachable one and a DNS server that answers SERVFAIL, then:
#  - tshark -r reads every pcap file written, and the files carry nanosecond
#    timestamps;
#  - every evidence count in the report equals what tshark counts in the
#    same files with display filters over the same fault window.
# The capture points are driven by tests/helpers/pcapdrv, which makes the
# same reports/capture calls as `doorjam run --pcap DIR` but lets this test
# place traffic and fault windows exactly; tests/e2e/test_pcap_run.sh checks
# a real run in the wallet-demo lab.
#
# Lab (only inside namespaces djt-pcap-$$-*; nothing touches the root
# namespace): client c 10.77.1.2 -- core r -- server s 10.77.2.10, .11, .12
#                                        `-- dns d 10.77.3.53
# Faults, applied in the core: 0 blackhole 10.77.2.10/32 (its prefixes also
# name 10.77.2.12/32, which stays up, so something gets through);
# 1 unreachable 10.77.2.11/32; 2 SERVFAIL for *.use1.example (dnsd).
set -u
B=${1:?usage: test_pcap.sh BUILD_DIR}
cd "$(dirname "$0")/../.."
[ "$(id -u)" -eq 0 ] || { echo "needs root (network namespaces, packet capture)"; exit 77; }
command -v tshark > /dev/null || { echo "missing tshark (apt-get install tshark)"; exit 77; }
for t in ip curl dig ping jq python3; do
  command -v $t > /dev/null || { echo "missing $t"; exit 77; }
done
DRV=$B/helpers/pcapdrv DNSD=$B/helpers/dnsd
[ -x "$DRV" ] && [ -x "$DNSD" ] || { echo "missing $DRV or $DNSD: build the helpers first"; exit 77; }

C=djt-pcap-$$-c R=djt-pcap-$$-r S=djt-pcap-$$-s D=djt-pcap-$$-d
dir=$(mktemp -d /tmp/djt-pcap.XXXXXX)
pids=()
cleanup() {
  exec 3>&- 2> /dev/null
  for p in "${pids[@]}"; do kill "$p" 2> /dev/null; done
  for p in "${pids[@]}"; do wait "$p" 2> /dev/null; done
  for n in $C $R $S $D; do ip netns del "$n" 2> /dev/null; done
  rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fails=0 checks=0
ok()  { checks=$((checks + 1)); echo "ok   $*"; }
bad() { checks=$((checks + 1)); fails=$((fails + 1)); echo "FAIL $*"; }
# same DESCRIPTION OURS THEIRS
same() { if [ "$2" = "$3" ]; then ok "$1: $2"; else bad "$1: report $2, tshark $3"; fi; }
# atleast DESCRIPTION VALUE MIN: the traffic really happened
atleast() { if [ "$2" -ge "$3" ] 2> /dev/null; then ok "$1: $2 >= $3"; else bad "$1: $2 < $3"; fi; }

# --- the lab
for n in $C $R $S $D; do ip netns add $n || { echo "cannot create namespace $n"; exit 1; }; ip -n $n link set lo up; done
ip -n $C link add vc type veth peer name rc netns $R
ip -n $S link add vs type veth peer name rs netns $R
ip -n $D link add vd type veth peer name rd netns $R
ip -n $C addr add 10.77.1.2/24 dev vc
ip -n $R addr add 10.77.1.1/24 dev rc
ip -n $R addr add 10.77.2.1/24 dev rs
ip -n $R addr add 10.77.3.1/24 dev rd
for a in 10.77.2.10 10.77.2.11 10.77.2.12; do ip -n $S addr add $a/24 dev vs; done
ip -n $D addr add 10.77.3.53/24 dev vd
for l in "$C vc" "$R rc" "$R rs" "$R rd" "$S vs" "$D vd"; do set -- $l; ip -n $1 link set $2 up; done
ip -n $C route add 10.77.0.0/16 via 10.77.1.1
ip -n $S route add 10.77.0.0/16 via 10.77.2.1
ip -n $D route add 10.77.0.0/16 via 10.77.3.1
ip netns exec $R sysctl -qw net.ipv4.ip_forward=1 net.ipv4.icmp_ratelimit=0
# the peers: a web server on the provider's address, the DNS server
ip netns exec $S python3 -m http.server 8545 --bind 10.77.2.10 > "$dir/http.log" 2>&1 &
pids+=($!)
cat > "$dir/dns.json" << 'EOF'
{ "dns": { "listen": ["10.77.3.53:53"],
           "zone": { "ok.example": "10.77.2.10", "a.use1.example": "10.77.2.10" } },
  "faults": [ { "kind": "dns.servfail", "names": "*.use1.example" } ] }
EOF
ip netns exec $D "$DNSD" "$dir/dns.json" > "$dir/dnsd.log" 2> "$dir/dnsd.err" &
pids+=($!)
cx() { ip netns exec $C "$@"; }
for _ in $(seq 50); do
  grep -q '^ready' "$dir/dnsd.log" && cx curl -s -o /dev/null --max-time 1 http://10.77.2.10:8545/ && break
  sleep 0.1
done
cx curl -s -o /dev/null --max-time 2 http://10.77.2.10:8545/ || { echo "lab: the web server does not answer"; cat "$dir/http.log"; exit 1; }
cx ping -c 1 -W 2 10.77.2.12 > /dev/null || { echo "lab: 10.77.2.12 not reachable"; exit 1; }

# --- the capture points and the faults they are told about
mkfifo "$dir/cmd"
"$DRV" "$dir/report.json" \
  --point $C vc near "client vc" "$dir/client.pcap" \
  --point $R rs far "core rs (server)" "$dir/core-rs.pcap" \
  --point $D vd dns "dns vd" "$dir/dns.pcap" \
  --fault net.blackhole 10.77.2.10/32,10.77.2.12/32 - \
  --fault net.unreachable 10.77.2.11/32 - \
  --fault dns.servfail - '*.use1.example' \
  < "$dir/cmd" > "$dir/drv.log" 2> "$dir/drv.err" &
drv=$!
pids+=($drv)
exec 3> "$dir/cmd"
for _ in $(seq 50); do grep -q '^ready' "$dir/drv.log" && break; sleep 0.1; done
grep -q '^ready' "$dir/drv.log" || { echo "pcapdrv did not start:"; cat "$dir/drv.err"; exit 1; }

# baseline: works, and is outside every window
cx curl -s -o /dev/null --max-time 2 http://10.77.2.10:8545/
cx dig @10.77.3.53 +time=1 +tries=1 a.use1.example > /dev/null
sleep 0.3

# the outage
printf 'on 0\non 1\non 2\n' >&3
ip -n $R route add blackhole 10.77.2.10/32
ip -n $R route add unreachable 10.77.2.11/32
sleep 0.3
cx curl -s -o /dev/null --connect-timeout 3.5 http://10.77.2.10:8545/ &
c1=$!
cx curl -s -o /dev/null --connect-timeout 3.5 http://10.77.2.10:8545/x &
c2=$!
cx curl -s -o /dev/null --connect-timeout 2 http://10.77.2.11:8545/
cx curl -s -o /dev/null --connect-timeout 2 http://10.77.2.11:8545/
cx ping -c 3 -i 0.2 -W 1 10.77.2.10 > /dev/null
cx ping -c 4 -i 0.2 -W 1 10.77.2.12 > /dev/null
for n in a b c; do cx dig @10.77.3.53 +time=1 +tries=1 $n.use1.example > /dev/null; done
cx dig @10.77.3.53 +time=1 +tries=1 ok.example > /dev/null
cx dig @10.77.3.53 +tcp +time=1 +tries=1 tcp.use1.example > /dev/null
wait $c1 $c2
sleep 0.3
printf 'off 0\noff 1\noff 2\n' >&3
ip -n $R route del blackhole 10.77.2.10/32
ip -n $R route del unreachable 10.77.2.11/32
sleep 0.3

# recovery: outside every window again
cx curl -s -o /dev/null --max-time 2 http://10.77.2.10:8545/
cx dig @10.77.3.53 +time=1 +tries=1 b.use1.example > /dev/null
sleep 0.2
echo end >&3
exec 3>&-
for _ in $(seq 100); do grep -q '^origin_ns' "$dir/drv.log" && break; sleep 0.1; done
grep -q '^origin_ns' "$dir/drv.log" || { echo "pcapdrv did not finish:"; cat "$dir/drv.err"; exit 1; }
wait $drv
rc=$?
if [ $rc -eq 0 ]; then ok "pcapdrv exits 0"; else bad "pcapdrv exit $rc: $(cat "$dir/drv.err")"; fi
origin=$(sed -n 's/^origin_ns //p' "$dir/drv.log")
R_JSON="$dir/report.json"
[ -s "$R_JSON" ] || { echo "no report"; cat "$dir/drv.err"; exit 1; }

# --- every file is a pcap tshark reads, with nanosecond timestamps
for f in client core-rs dns; do
  p="$dir/$f.pcap"
  if tshark -r "$p" -c 1 > /dev/null 2> "$dir/tshark.err"; then ok "tshark -r $f.pcap"; else bad "tshark -r $f.pcap: $(cat "$dir/tshark.err")"; fi
  magic=$(od -An -tx1 -N4 "$p" | tr -d ' \n')
  same "$f.pcap magic (nanosecond pcap)" "$magic" "4d3cb2a1"
  n=$(tshark -r "$p" 2> /dev/null | wc -l)
  same "$f.pcap packets" "$(jq --arg p "$p" '.captures[] | select(.path == $p) | .packets' "$R_JSON")" "$n"
  same "$f.pcap undecoded" "$(jq --arg p "$p" '.captures[] | select(.path == $p) | .undecoded' "$R_JSON")" 0
done

# tshark count: FILE FAULT FILTER, over the fault's window from the report
sec() { local ns=$1; printf '%d.%09d' $((ns / 1000000000)) $((ns % 1000000000)); }
tcount() {
  local s e
  s=$(jq ".faults[$2].start_ms" "$R_JSON") e=$(jq ".faults[$2].end_ms" "$R_JSON")
  tshark -r "$dir/$1.pcap" -Y "frame.time_epoch >= $(sec $((origin + s * 1000000))) && \
frame.time_epoch < $(sec $((origin + e * 1000000))) && ($3)" 2> /dev/null | wc -l
}
# ev KIND SUBJECT KEY: the report's number
ev() { jq -r --arg k "$1" --arg s "$2" ".evidence[] | select(.kind == \$k and .subject == \$s) | .$3" "$R_JSON"; }

syn='tcp.flags.syn == 1 && tcp.flags.ack == 0 && !icmp'
# fault 0: blackhole 10.77.2.10
v=$(ev prefix 10.77.2.10/32 sent);        same "blackhole: packets toward 10.77.2.10" "$v" "$(tcount client 0 'ip.dst#1 == 10.77.2.10')"
atleast "blackhole: packets toward 10.77.2.10" "$v" 7
same "blackhole: got through to 10.77.2.10" "$(ev prefix 10.77.2.10/32 through)" "$(tcount core-rs 0 'ip.dst#1 == 10.77.2.10')"
same "blackhole: got through to 10.77.2.10 is none" "$(ev prefix 10.77.2.10/32 through)" 0
same "blackhole: answered by 10.77.2.10" "$(ev prefix 10.77.2.10/32 answered)" "$(tcount client 0 'ip.src#1 == 10.77.2.10')"
v=$(ev prefix 10.77.2.12/32 through);     same "blackhole: got through to 10.77.2.12" "$v" "$(tcount core-rs 0 'ip.dst#1 == 10.77.2.12')"
atleast "blackhole: got through to 10.77.2.12" "$v" 4
same "blackhole: packets toward 10.77.2.12" "$(ev prefix 10.77.2.12/32 sent)" "$(tcount client 0 'ip.dst#1 == 10.77.2.12')"
same "blackhole: answered by 10.77.2.12" "$(ev prefix 10.77.2.12/32 answered)" "$(tcount client 0 'ip.src#1 == 10.77.2.12')"
d=10.77.2.10:8545
a=$(ev connect $d attempts) r=$(ev connect $d retries)
same "blackhole: SYNs to $d" "$((a + r))" "$(tcount client 0 "$syn && ip.dst#1 == 10.77.2.10 && tcp.dstport == 8545")"
s=$(jq ".faults[0].start_ms" "$R_JSON") e=$(jq ".faults[0].end_ms" "$R_JSON")
distinct=$(tshark -r "$dir/client.pcap" -Y "frame.time_epoch >= $(sec $((origin + s * 1000000))) && \
frame.time_epoch < $(sec $((origin + e * 1000000))) && $syn && ip.dst#1 == 10.77.2.10 && tcp.dstport == 8545" \
  -T fields -e tcp.srcport -e tcp.seq_raw 2> /dev/null | sort -u | wc -l)
same "blackhole: connection attempts to $d (distinct port and sequence number)" "$a" "$distinct"
atleast "blackhole: connection attempts to $d" "$a" 2
atleast "blackhole: SYN retransmits to $d" "$r" 2
same "blackhole: SYN-ACKs from $d" "$(ev connect $d answered)" "$(tcount client 0 'tcp.flags.syn == 1 && tcp.flags.ack == 1 && ip.src#1 == 10.77.2.10')"

# fault 1: unreachable 10.77.2.11
v=$(ev prefix 10.77.2.11/32 unreachable)
same "unreachable: ICMP unreachable about 10.77.2.11" "$v" "$(tcount client 1 'icmp.type == 3 && ip.dst#2 == 10.77.2.11')"
atleast "unreachable: ICMP unreachable about 10.77.2.11" "$v" 2
same "unreachable: packets toward 10.77.2.11" "$(ev prefix 10.77.2.11/32 sent)" "$(tcount client 1 'ip.dst#1 == 10.77.2.11')"
same "unreachable: got through to 10.77.2.11" "$(ev prefix 10.77.2.11/32 through)" "$(tcount core-rs 1 'ip.dst#1 == 10.77.2.11')"
d=10.77.2.11:8545
a=$(ev connect $d attempts) r=$(ev connect $d retries)
same "unreachable: SYNs to $d" "$((a + r))" "$(tcount client 1 "$syn && ip.dst#1 == 10.77.2.11 && tcp.dstport == 8545")"
atleast "unreachable: connection attempts to $d" "$a" 2
same "unreachable: ICMP unreachable about $d" "$(ev connect $d unreachable)" "$(tcount client 1 'icmp.type == 3 && ip.dst#2 == 10.77.2.11 && tcp.dstport == 8545')"

# fault 2: SERVFAIL for *.use1.example, counted on the DNS server's link
name='dns.qry.name matches "\\.use1\\.example$"'
v=$(ev dns '*.use1.example' queries)
same "dns: queries for *.use1.example" "$v" "$(tcount dns 2 "dns.flags.response == 0 && $name")"
atleast "dns: queries for *.use1.example" "$v" 4
same "dns: answers for *.use1.example" "$(ev dns '*.use1.example' answers)" "$(tcount dns 2 "dns.flags.response == 1 && $name")"
same "dns: SERVFAIL answers" "$(ev dns '*.use1.example' rcodes.SERVFAIL)" "$(tcount dns 2 "dns.flags.response == 1 && dns.flags.rcode == 2 && $name")"
same "dns: only SERVFAIL" "$(jq -c '.evidence[] | select(.kind == "dns") | .rcodes | keys' "$R_JSON")" '["SERVFAIL"]'

echo "report evidence:"; jq -c '.evidence[]' "$R_JSON"
echo "$checks checks, $fails failed"
[ $fails -eq 0 ]
