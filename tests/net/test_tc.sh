#!/usr/bin/env bash
# tc faults applied in the core namespace of client - core - server, on the
# device the core picks by route (rs): bandwidth 1 Mbit/s measured by a real
# TCP transfer (±20%; with loss on as well, by paced UDP), random loss 20% without netem (classic-BPF drop; 1,000
# pings lose 15-25%), scoping by IPv4/IPv6 prefix and port (other traffic
# untouched), faults that compose on one device (bandwidth AND loss on one
# prefix in both orders, each reverted alone; nested scopes; a bandwidth
# limit over two classes; crossing bandwidth limits refused; a crash
# recovered), netem kinds refused with a message naming sch_netem (exit 3),
# a foreign root qdisc left alone without --force, the root namespace
# refused. After every revert the state dump equals the one taken before.
B=$1; AREA=tc
. "$(dirname "$0")/net_lib.sh"
lab_up
before=$(state)
same() { [ "$(state)" = "$before" ] || { diff <(echo "$before") <(state); fail "$1: state differs"; }; }

loss_of() {  # NS ADDR COUNT -> percent lost
  ip netns exec $1 ping -q -c $3 -i 0.002 -W 1 $2 2>/dev/null |
    sed -n 's/.* \([0-9.]*\)% packet loss.*/\1/p'
}

out=$DOORJAM_JOURNAL_DIR/sink
measure_bw() {  # one TCP transfer client -> server of 400 kB; prints the steady bit/s
  "$NF" sink $S 10.77.2.2 5001 > $out & PIDS="$PIDS $!"; local sink=$! i
  for i in $(seq 50); do grep -q listening $out && break; sleep 0.05; done
  "$NF" send $C 10.77.2.2 5001 400000 || fail "send"
  wait $sink
  awk '/^received/{print $4}' $out
}

udp_rate() {  # [ADDR [PORT]]: 2 Mbit/s of paced UDP for 3 s client -> server; prints the delivered bit/s
  local a=${1:-10.77.2.2} port=${2:-5003} i
  ip netns exec $S "$B/helpers/udprate" sink $a $port > $out.$port & PIDS="$PIDS $!"; local sink=$!
  for i in $(seq 50); do grep -q listening $out.$port && break; sleep 0.05; done
  ip netns exec $C "$B/helpers/udprate" send $a $port 2000000 3 || fail "udp send"
  wait $sink
  awk '/^received/{print $5}' $out.$port
}

# ---- bandwidth ----
start_fault $R '{"kind":"net.bandwidth","rate":"1mbit","prefixes":["10.77.2.0/24"]}' || fail "apply bandwidth"
tc -n $R qdisc show dev rs | grep -q "qdisc htb d0a0: root" || fail "bandwidth: no htb root on rs"
tc -n $R class show dev rs | grep -q "class htb d0a0:10 root .*rate 1Mbit ceil 1Mbit" ||
  fail "bandwidth: no 1Mbit class: $(tc -n $R class show dev rs)"
tc -n $R filter show dev rs | grep -q "match 0a4d0200/ffffff00 at 16" || fail "bandwidth: no u32 match on 10.77.2.0/24"
tc -n $R qdisc show dev rc | grep -q d0a0 && fail "bandwidth: put on rc, which has no route to the prefix"
bps=$(measure_bw)
awk -v b="$bps" 'BEGIN{exit !(b >= 800000 && b <= 1200000)}' || fail "bandwidth: measured $bps bit/s, want 1 Mbit/s ±20%"
ok "net.bandwidth 1mbit: measured $bps bit/s ($(awk '/^received/{print $2" bytes, steady part in "$3" s"}' $out))"
tc -n $R -s class show dev rs | grep -A2 "d0a0:10" | grep -q "Sent [1-9]" || fail "bandwidth: class counters show no traffic"
stop_fault; same "bandwidth"
ok "net.bandwidth reverted"

# ---- loss without netem (BPF random drop), with scope ----
start_fault $R '{"kind":"net.loss","loss":"20%","prefixes":["10.77.2.0/24"]}' || fail "apply loss"
tc -n $R filter show dev rs parent d0a1: | grep -q "bpf .*flowid d0a1:2" || fail "loss: no bpf filter"
tc -n $R qdisc show dev rs | grep -q "qdisc blackhole .* parent d0a1:2" || fail "loss: no dropping class"
l=$(loss_of $C 10.77.2.2 1000)
awk -v l="$l" 'BEGIN{exit !(l >= 15 && l <= 25)}' || fail "loss 20%: 1000 pings lost $l%"
ok "net.loss 20% (BPF): 1000 pings lost $l%"
l2=$(loss_of $C 10.77.9.9 300)
[ "$l2" = 0 ] || fail "loss: 10.77.9.9 (outside the prefix, same device) lost $l2%"
l3=$(loss_of $C fd77:2::2 300)
[ "$l3" = 0 ] || fail "loss: IPv6 traffic lost $l3%"
ok "net.loss scope: 10.77.9.9 and fd77:2::2 on the same device lost 0%"
stop_fault; same "loss"
ok "net.loss reverted"

# ---- IPv6 prefix scope ----
start_fault $R '{"kind":"net.loss","loss":1,"prefixes":["fd77:2::/64"]}' || fail "apply v6 loss"
tc -n $R filter show dev rs | grep -q "protocol ipv6" || fail "v6: no ipv6 filter"
l=$(loss_of $C fd77:2::2 100); [ "$l" = 100 ] || fail "v6 loss 100%: lost $l%"
l=$(loss_of $C 10.77.2.2 100); [ "$l" = 0 ] || fail "v6 scope: IPv4 lost $l%"
stop_fault; same "v6 loss"
ok "IPv6 prefix scope: fd77:2::2 lost 100%, 10.77.2.2 lost 0%"

# ---- port scope ----
start_fault $R '{"kind":"net.loss","loss":1,"prefixes":["10.77.2.0/24"],"ports":[5001]}' || fail "apply port loss"
r=$(connect_to $C 10.77.2.2 5001 800); [ "${r%% *}" = timeout ] || fail "port 5001: $r"
r=$(connect_to $C 10.77.2.2 5002 800); [ "${r%% *}" = ECONNREFUSED ] || fail "port 5002 touched: $r"
stop_fault; same "port loss"
ok "port scope: port 5001 dropped, port 5002 untouched"

# ---- two faults on one device (disjoint scopes), reverted one at a time ----
start_stack $R '{"kind":"net.loss","loss":1,"prefixes":["10.77.9.9/32"]}' \
  '{"kind":"net.bandwidth","rate":"2mbit","prefixes":["10.77.2.0/24"]}' || fail "apply A+B"
[ "$(tc -n $R class show dev rs | grep -c 'd0a0:1[0-9a-f] ')" = 2 ] || fail "two faults: want two fault classes"
msg=$("$NF" apply $R '{"kind":"net.loss","loss":"10%","device":"rs"}' 2>&1); rc=$?
[ $rc = 3 ] && echo "$msg" | grep -q "another run" || fail "second run on rs: exit $rc: $msg"
revert_one last 2
l=$(loss_of $C 10.77.9.9 50); [ "$l" = 100 ] || fail "fault A gone with fault B: lost $l%"
tc -n $R class show dev rs | grep -q "rate 2Mbit" && fail "fault B's class is still there"
stop_fault; same "two faults"
ok "two faults share the root; each reverts alone; a second run on the device is refused (exit 3)"

# ---- composition: bandwidth 1 Mbit/s and BPF loss 20% on the same prefix ----
BW='{"kind":"net.bandwidth","rate":"1mbit","prefixes":["10.77.2.0/24"]}'
LS='{"kind":"net.loss","loss":"20%","prefixes":["10.77.2.0/24"]}'
for order in bw-loss loss-bw; do
  if [ $order = bw-loss ]; then start_stack $R "$BW" "$LS" || fail "apply $order"; which=last n=2
  else start_stack $R "$LS" "$BW" || fail "apply $order"; which=first n=1; fi
  [ "$(tc -n $R class show dev rs | grep -c 'd0a0:1[0-9a-f] ')" = 1 ] || fail "$order: want one class for the shared scope"
  tc -n $R class show dev rs | grep -q "class htb d0a0:1[0-9a-f] root .*rate 1Mbit ceil 1Mbit" ||
    fail "$order: no 1Mbit class: $(tc -n $R class show dev rs)"
  drop=$(tc -n $R qdisc show dev rs | sed -n 's/^qdisc htb \(d0a[0-9a-f]*:\) parent d0a0:1[0-9a-f] .*/\1/p')
  [ -n "$drop" ] && tc -n $R filter show dev rs parent $drop | grep -q "bpf .*flowid ${drop}2" ||
    fail "$order: no bpf drop tree under the 1Mbit class: $(tc -n $R qdisc show dev rs)"
  # the rate is measured with UDP: TCP under 20% loss would measure its own back-off
  bps=$(udp_rate)
  awk -v b="$bps" 'BEGIN{exit !(b >= 800000 && b <= 1200000)}' || fail "$order: measured $bps bit/s, want 1 Mbit/s ±20%"
  l=$(loss_of $C 10.77.2.2 1000)
  awk -v l="$l" 'BEGIN{exit !(l >= 15 && l <= 25)}' || fail "$order: 1000 pings lost $l%, want 15-25%"
  ok "$order: bandwidth AND loss: 2 Mbit/s of UDP delivered at $bps bit/s, 1000 pings lost $l%"
  revert_one $which $n
  tc -n $R qdisc show dev rs | grep -q blackhole && fail "$order: drop tree still there after the loss was reverted"
  tc -n $R class show dev rs | grep -q "class htb d0a0:1[0-9a-f] root .*rate 1Mbit ceil 1Mbit" ||
    fail "$order: the 1Mbit class went with the loss: $(tc -n $R class show dev rs)"
  l=$(loss_of $C 10.77.2.2 300); [ "$l" = 0 ] || fail "$order: loss reverted, still lost $l%"
  bps=$(udp_rate)
  awk -v b="$bps" 'BEGIN{exit !(b >= 800000 && b <= 1200000)}' || fail "$order: loss reverted: measured $bps bit/s"
  ok "$order: loss reverted: 300 pings lost 0%, rate still limited ($bps bit/s)"
  stop_fault; same "composition $order"
  ok "$order: bandwidth reverted; state as before"
done

# ---- a crash while composed faults are on: recover restores the prior state ----
start_stack $R "$BW" "$LS" || fail "apply before the crash"
kill -KILL $FAULT_PID; wait $FAULT_PID 2>/dev/null
tc -n $R qdisc show dev rs | grep -q "qdisc blackhole" || fail "crash: the faults went with the process"
r=$("$NF" recover) || fail "recover: $r"
same "crash with bandwidth + loss on"
ok "kill -9 with bandwidth + loss on: recover restored the prior state ($r)"

# ---- nested scopes: loss 100% on a /32 inside loss 20% on the /16 ----
start_stack $R '{"kind":"net.loss","loss":1,"prefixes":["10.77.9.9/32"]}' \
  '{"kind":"net.loss","loss":"20%","prefixes":["10.77.0.0/16"],"device":"rs"}' || fail "apply nested"
l=$(loss_of $C 10.77.9.9 50); [ "$l" = 100 ] || fail "nested: /32 lost $l%, want 100%"
l=$(loss_of $C 10.77.2.2 1000)
awk -v l="$l" 'BEGIN{exit !(l >= 15 && l <= 25)}' || fail "nested: 10.77.2.2 (only the /16) lost $l%"
revert_one first 1
l=$(loss_of $C 10.77.9.9 1000)
awk -v l="$l" 'BEGIN{exit !(l >= 15 && l <= 25)}' || fail "nested: /32 after its own fault left lost $l%"
stop_fault; same "nested"
ok "nested scopes: /32 lost 100% (both faults), /16 lost $l%; each reverts alone"

# ---- a bandwidth limit on the /16 with loss on a /24 inside it: a rate class above both ----
start_stack $R '{"kind":"net.loss","loss":"20%","prefixes":["10.77.2.0/24"]}' \
  '{"kind":"net.bandwidth","rate":"1mbit","prefixes":["10.77.0.0/16"],"device":"rs"}' || fail "apply loss /24 + bandwidth /16"
tc -n $R class show dev rs | grep -q "class htb d0a0:1[0-9a-f] root rate 1Mbit ceil 1Mbit" ||
  fail "no 1Mbit rate class at the root: $(tc -n $R class show dev rs)"
[ "$(tc -n $R class show dev rs | grep -c 'class htb d0a0:1[0-9a-f] parent d0a0:1[0-9a-f] .*ceil 1Mbit')" = 2 ] ||
  fail "want two leaves under the rate class: $(tc -n $R class show dev rs)"
l=$(loss_of $C 10.77.2.2 1000)
awk -v l="$l" 'BEGIN{exit !(l >= 15 && l <= 25)}' || fail "loss /24 in bandwidth /16: 10.77.2.2 lost $l%"
l2=$(loss_of $C 10.77.9.9 300); [ "$l2" = 0 ] || fail "loss /24 in bandwidth /16: 10.77.9.9 lost $l2%"
b1=$(udp_rate 10.77.2.2 5003)
( udp_rate 10.77.9.9 5004 > $out.both ) & both=$!
b2=$(udp_rate 10.77.2.2 5003); wait $both; b3=$(cat $out.both)
awk -v a="$b1" -v b="$b2" -v c="$b3" 'BEGIN{exit !(a >= 800000 && a <= 1200000 && b + c >= 800000 && b + c <= 1200000)}' ||
  fail "bandwidth /16 over two classes: alone $b1 bit/s; together $b2 + $b3 bit/s, want 1 Mbit/s ±20% each time"
stop_fault; same "loss /24 + bandwidth /16"
ok "loss 20% on a /24 inside bandwidth 1mbit on the /16: 10.77.2.2 lost $l%, 10.77.9.9 lost 0%; one flow $b1 bit/s, two flows $b2 + $b3 bit/s (the limit holds for both together)"
msg=$("$B/helpers/faultstack" $R '{"kind":"net.bandwidth","rate":"1mbit","prefixes":["10.77.2.0/24","10.77.9.9/32"]}' \
  '{"kind":"net.bandwidth","rate":"2mbit","prefixes":["10.77.9.9/32","10.77.7.0/24"],"device":"rs"}' 2>&1); rc=$?
[ $rc != 0 ] && echo "$msg" | grep -q "overlap in part" || fail "crossing bandwidth faults: exit $rc: $msg"
same "crossing bandwidth faults refused"
ok "two bandwidth faults that overlap in part, neither inside the other, are refused: $(echo "$msg" | tail -n 1 | cut -c1-100)..."

# ---- ingress through an ifb device, scoped by source prefix ----
start_fault $S '{"kind":"net.loss","loss":1,"direction":"ingress","prefixes":["10.77.1.0/24"]}' || fail "apply ingress"
ifb=$(ip -n $S -o link show type ifb | awk -F': ' '{print $2}')
[ "$ifb" = djifb0 ] || fail "ingress: want ifb device djifb0, have '$ifb'"
tc -n $S qdisc show dev vs | grep -q "qdisc ingress ffff:" || fail "ingress: no ingress qdisc on vs"
tc -n $S filter show dev vs ingress | grep -q "Egress Redirect to device djifb0" || fail "ingress: no mirred redirect"
tc -n $S filter show dev djifb0 | grep -q "match 0a4d0100/ffffff00 at 12" || fail "ingress: no source match on djifb0"
l=$(loss_of $C 10.77.2.2 100); [ "$l" = 100 ] || fail "ingress: from the client lost $l%, want 100%"
l=$(loss_of $R 10.77.2.2 100); [ "$l" = 0 ] || fail "ingress scope: from the core (10.77.2.1) lost $l%"
stop_fault; same "ingress"
ok "ingress via ifb: traffic from 10.77.1.0/24 dropped, from 10.77.2.1 untouched; ifb and ingress qdisc removed"

start_fault $S '{"kind":"net.bandwidth","rate":"1mbit","direction":"ingress","device":"vs"}' || fail "apply ingress bw"
"$NF" sink $S 10.77.2.2 5001 > $out & PIDS="$PIDS $!"; sink=$!
for i in $(seq 50); do grep -q listening $out && break; sleep 0.05; done
"$NF" send $C 10.77.2.2 5001 400000 || fail "send"
wait $sink
bps=$(awk '/^received/{print $4}' $out)
awk -v b="$bps" 'BEGIN{exit !(b >= 800000 && b <= 1200000)}' || fail "ingress bandwidth: measured $bps bit/s"
stop_fault; same "ingress bandwidth"
ok "ingress bandwidth 1mbit: measured $bps bit/s"

# ---- two ingress faults on one device share one ifb and one redirect ----
start_stack $S '{"kind":"net.loss","loss":1,"direction":"ingress","prefixes":["10.77.1.0/24"]}' \
  '{"kind":"net.bandwidth","rate":"1mbit","direction":"ingress","prefixes":["10.77.1.0/24"],"device":"vs"}' ||
  fail "apply two ingress faults"
[ "$(ip -n $S -o link show type ifb | wc -l)" = 1 ] || fail "two ingress faults: want one ifb: $(ip -n $S -o link show type ifb)"
tc -n $S class show dev djifb0 | grep -q "rate 1Mbit" || fail "two ingress faults: no 1Mbit class on djifb0"
l=$(loss_of $C 10.77.2.2 100); [ "$l" = 100 ] || fail "two ingress faults: lost $l%, want 100%"
revert_one first 1
l=$(loss_of $C 10.77.2.2 100); [ "$l" = 0 ] || fail "ingress loss reverted: still lost $l%"
tc -n $S filter show dev vs ingress | grep -q "Egress Redirect to device djifb0" || fail "the redirect went with the first fault"
tc -n $S class show dev djifb0 | grep -q "rate 1Mbit" || fail "the ingress bandwidth went with the loss"
stop_fault; same "two ingress faults"
ok "two ingress faults share djifb0 and one redirect; the loss reverts alone (0% lost after), the limit stays; the last takes the ifb"

# ---- netem kinds on a kernel without sch_netem ----
if "$NF" probe | grep -q "^qdisc netem no"; then
  for f in '{"kind":"net.delay","delay":"100ms"}' '{"kind":"net.duplicate","duplicate":"10%"}' \
           '{"kind":"net.corrupt","corrupt":"10%"}' '{"kind":"net.reorder","reorder":"25%","delay":"10ms"}'; do
    msg=$("$NF" apply $R "$f" 2>&1); rc=$?
    [ $rc = 3 ] || fail "$f: exit $rc, want 3: $msg"
    echo "$msg" | grep -q "sch_netem" || fail "$f: message does not name sch_netem: $msg"
    same "$f refused"
  done
  ok "netem kinds refused with exit 3 naming sch_netem; nothing left behind"
else
  echo "note: this kernel has netem; the refusal path is not exercised here"
fi

# ---- a foreign root qdisc is never replaced without --force ----
tc -n $R qdisc add dev rs root handle 1: tbf rate 100mbit burst 32k latency 50ms
msg=$("$NF" apply $R '{"kind":"net.loss","loss":"10%","device":"rs"}' 2>&1); rc=$?
[ $rc = 3 ] || fail "foreign root: exit $rc, want 3: $msg"
tc -n $R qdisc show dev rs | grep -q "qdisc tbf 1: root" || fail "foreign root was touched"
start_fault $R '{"kind":"net.loss","loss":"10%","device":"rs"}' --force || fail "apply --force"
tc -n $R qdisc show dev rs | grep -q "qdisc htb d0a0: root" || fail "--force did not replace"
stop_fault
tc -n $R qdisc del dev rs root 2>/dev/null
same "foreign root"
ok "foreign root qdisc: refused (exit 3) and left intact; replaced with --force"

# ---- the machine's root namespace is refused (nothing is touched there) ----
msg=$(timeout 5 "$NF" apply - '{"kind":"net.loss","loss":"10%","device":"djt-none"}' 2>&1); rc=$?
[ $rc = 3 ] && echo "$msg" | grep -q "root network namespace" || fail "root namespace: exit $rc: $msg"
ok "root namespace refused without --allow-root-netns"
echo "test_tc: all passed"
