#!/bin/bash
# Init script for the User-Mode Linux netem test (tests/uml/test_netem.sh).
# Runs as PID 1 of a UML kernel whose root file system is the host's (hostfs).
# Everything it changes lives inside the UML kernel: its own namespaces, a
# tmpfs over /run (its scratch files go to /run/djt-tmp: /tmp is left alone, because the
# checkout under test may live there). It writes one line per check to $DJ_OUT (a file
# in the build folder on the host) and powers the UML kernel off.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t tmpfs tmpfs /run
T=/run/djt-tmp
mkdir -p $T
export TMPDIR=$T
mkdir -p /run/netns
out=$DJ_OUT
NF=$DJ_B/helpers/netfault
M=/usr/lib/uml/modules/$(uname -r)/kernel
export DOORJAM_JOURNAL_DIR=/run/djt-journal

say() { echo "$*" >> "$out"; }
finish() { say "DONE"; sync; poweroff -f; }
trap finish EXIT

for m in net/sched/sch_netem net/sched/sch_htb net/sched/cls_u32 drivers/net/veth; do
  insmod $M/$m.ko 2>/dev/null || grep -q "^${m##*/} " /proc/modules ||
    { say "FAIL insmod $m.ko"; exit 1; }
done
say "INFO kernel $(uname -r): sch_netem, sch_htb, cls_u32, veth loaded"

A=djt-uml-a Z=djt-uml-b
ip netns add $A; ip netns add $Z
ip -n $A link set lo up; ip -n $Z link set lo up
ip -n $A link add va type veth peer name vb netns $Z
ip -n $A addr add 10.77.1.1/24 dev va; ip -n $Z addr add 10.77.1.2/24 dev vb
ip -n $A link set va up; ip -n $Z link set vb up
ip netns exec $A ping -c 1 -W 2 10.77.1.2 > /dev/null || { say "FAIL lab: no path"; exit 1; }

state() { tc -n $A qdisc show; tc -n $A class show dev va; tc -n $A filter show dev va; ip -n $A rule; }
before=$(state)
FAULT_PID=
start() {
  "$NF" apply $A "$1" > $T/drv.out 2>&1 &
  FAULT_PID=$!
  for i in $(seq 100); do
    grep -q '^applied' $T/drv.out && return 0
    kill -0 $FAULT_PID 2>/dev/null || break
    sleep 0.1
  done
  say "FAIL apply $1: $(tr '\n' ' ' < $T/drv.out)"; return 1
}
stop() {
  kill -TERM $FAULT_PID; wait $FAULT_PID
  local rc=$?
  [ $rc = 0 ] || say "FAIL revert exit $rc: $(tr '\n' ' ' < $T/drv.out)"
  if [ "$(state)" = "$before" ]; then say "PASS $1 reverted clean"; else say "FAIL $1 revert left: $(state | tr '\n' ' ')"; fi
}
pings() { ip netns exec $A ping -n -c $1 -i $2 -W 2 10.77.1.2 2>&1; }

# delay 100ms on the way out: the round trip grows by 100 ms
if start '{"kind":"net.delay","delay":"100ms","prefixes":["10.77.1.0/24"]}'; then
  tc -n $A qdisc show dev va | grep -q "netem .*delay 100ms" || say "FAIL delay: no netem qdisc: $(tc -n $A qdisc show dev va | tr '\n' ' ')"
  avg=$(pings 20 0.05 | sed -n 's/.* = [0-9.]*\/\([0-9.]*\)\/.*/\1/p')
  if awk -v a="$avg" 'BEGIN{exit !(a >= 90 && a <= 110)}'; then say "PASS delay 100ms: avg rtt $avg ms"
  else say "FAIL delay 100ms: avg rtt '$avg' ms (want 90-110)"; fi
  stop delay
fi

# loss 20%: 1000 pings lose 15-25%
if start '{"kind":"net.loss","loss":"20%"}'; then
  tc -n $A qdisc show dev va | grep -q "netem .*loss 20%" || say "FAIL loss: netem has no loss 20%"
  l=$(pings 1000 0.005 | sed -n 's/.* \([0-9.]*\)% packet loss.*/\1/p')
  if awk -v l="$l" 'BEGIN{exit !(l >= 15 && l <= 25)}'; then say "PASS loss 20% (netem): lost $l% of 1000"
  else say "FAIL loss 20%: lost '$l'%"; fi
  stop loss
fi

# duplicate 50%: ping sees DUP! replies
if start '{"kind":"net.duplicate","duplicate":"50%"}'; then
  d=$(pings 100 0.01 | grep -c 'DUP!')
  if [ "$d" -ge 25 ] && [ "$d" -le 75 ]; then say "PASS duplicate 50%: $d DUP! of 100"
  else say "FAIL duplicate 50%: $d DUP! of 100"; fi
  stop duplicate
fi

# corrupt 50%: corrupted echo requests fail their checksums and get no reply
if start '{"kind":"net.corrupt","corrupt":"50%"}'; then
  l=$(pings 200 0.01 | sed -n 's/.* \([0-9.]*\)% packet loss.*/\1/p')
  if awk -v l="$l" 'BEGIN{exit !(l >= 25 && l <= 75)}'; then say "PASS corrupt 50%: $l% of 200 pings unanswered"
  else say "FAIL corrupt 50%: '$l'% unanswered"; fi
  stop corrupt
fi

# reorder 50% with delay 50ms: half go at once and overtake the delayed ones
if start '{"kind":"net.reorder","reorder":"50%","delay":"50ms"}'; then
  p=$(pings 100 0.01)
  fast=$(echo "$p" | sed -n 's/.*time=\([0-9.]*\) ms/\1/p' | awk '$1 < 20' | wc -l)
  slow=$(echo "$p" | sed -n 's/.*time=\([0-9.]*\) ms/\1/p' | awk '$1 >= 45' | wc -l)
  seqs=$(echo "$p" | sed -n 's/.*icmp_seq=\([0-9]*\) .*/\1/p' | tr '\n' ' ')
  sorted=$(echo "$seqs" | tr ' ' '\n' | grep . | sort -n | tr '\n' ' ')
  if [ "$fast" -ge 25 ] && [ "$slow" -ge 25 ] && [ "$seqs" != "$sorted" ]; then
    say "PASS reorder 50%: $fast sent at once, $slow delayed, replies out of order"
  else say "FAIL reorder 50%: fast=$fast slow=$slow ordered=$([ "$seqs" = "$sorted" ] && echo yes || echo no)"; fi
  stop reorder
fi

# delay and loss on the same prefix, from one run: both apply (netem under netem)
"$DJ_B/helpers/faultstack" $A '{"kind":"net.delay","delay":"100ms","prefixes":["10.77.1.0/24"]}' \
  '{"kind":"net.loss","loss":"20%","prefixes":["10.77.1.0/24"]}' > $T/stack.out 2>&1 &
FAULT_PID=$!
for i in $(seq 100); do grep -q '^applied' $T/stack.out && break; kill -0 $FAULT_PID 2>/dev/null || break; sleep 0.1; done
if grep -q '^applied' $T/stack.out; then
  [ "$(tc -n $A qdisc show dev va | grep -c netem)" = 2 ] || say "FAIL delay+loss: want two chained netem qdiscs: $(tc -n $A qdisc show dev va | tr '\n' ' ')"
  p=$(pings 1000 0.005)
  l=$(echo "$p" | sed -n 's/.* \([0-9.]*\)% packet loss.*/\1/p')
  avg=$(echo "$p" | sed -n 's/.* = [0-9.]*\/\([0-9.]*\)\/.*/\1/p')
  if awk -v l="$l" -v a="$avg" 'BEGIN{exit !(l >= 15 && l <= 25 && a >= 90 && a <= 110)}'; then
    say "PASS delay 100ms + loss 20% on one prefix: avg rtt $avg ms, lost $l% of 1000"
  else say "FAIL delay+loss: avg rtt '$avg' ms (want 90-110), lost '$l'% (want 15-25)"; fi
  kill -USR2 $FAULT_PID
  for i in $(seq 100); do grep -q '^reverted 2' $T/stack.out && break; sleep 0.1; done
  p=$(pings 200 0.01)
  l=$(echo "$p" | sed -n 's/.* \([0-9.]*\)% packet loss.*/\1/p')
  avg=$(echo "$p" | sed -n 's/.* = [0-9.]*\/\([0-9.]*\)\/.*/\1/p')
  if awk -v l="$l" -v a="$avg" 'BEGIN{exit !(l == 0 && a >= 90 && a <= 110)}'; then
    say "PASS loss reverted, delay kept: avg rtt $avg ms, lost $l%"
  else say "FAIL after reverting the loss: avg rtt '$avg' ms, lost '$l'%"; fi
  stop "delay+loss"
else
  say "FAIL apply delay+loss: $(tr '\n' ' ' < $T/stack.out)"
fi

# jitter with a distribution table
if start '{"kind":"net.delay","delay":"50ms","jitter":"10ms","distribution":"normal"}'; then
  tc -n $A qdisc show dev va | grep -q "delay 50ms  10ms" && say "PASS delay 50ms jitter 10ms normal: netem set" ||
    say "FAIL jitter: $(tc -n $A qdisc show dev va | grep netem)"
  stop jitter
fi
