#!/usr/bin/env bash
# Crash test: kill -9 the fault driver while a route fault, a tc fault and an
# ingress (ifb) fault are on; the journal is stale (a run would refuse to start, exit 3); recover
# restores the exact prior state; a second recover is a no-op. Then objects
# that carry doorjam's marks but no journal record (made by hand here) are
# swept by recover when it is pointed at the namespace.
B=$1; AREA=recover
. "$(dirname "$0")/net_lib.sh"
lab_up
before=$(state)

start_fault $R '{"kind":"net.unreachable","prefixes":["10.77.2.0/24","fd77:2::/64"]}' || fail "apply route"
p1=$FAULT_PID
start_fault $R '{"kind":"net.loss","loss":"30%","prefixes":["10.77.9.9/32"],"ports":[80,443]}' || fail "apply tc"
p2=$FAULT_PID
start_fault $S '{"kind":"net.bandwidth","rate":"5mbit","direction":"ingress","device":"vs"}' || fail "apply ingress"
p3=$FAULT_PID
during=$(state)
kill -KILL $p1 $p2 $p3; wait $p1 $p2 $p3 2>/dev/null
[ "$(state)" = "$during" ] || fail "state changed by the kill itself"
[ "$(state)" != "$before" ] || fail "faults were not on"
r=$(connect_to $C 10.77.2.2 9 500); [ "${r%% *}" = EHOSTUNREACH ] || fail "after kill -9 the fault should still be on: $r"
ok "kill -9 left the faults on (as a crash would)"

"$NF" stale > $DOORJAM_JOURNAL_DIR/stale.out; rc=$?
[ $rc = 3 ] || fail "stale: exit $rc, want 3"
[ "$(grep -c '^stale ' $DOORJAM_JOURNAL_DIR/stale.out)" = 3 ] || fail "want three stale journals"
ok "three stale journals found; a run would refuse to start (exit 3)"

out=$("$NF" recover) || fail "recover: $out"
echo "$out"
echo "$out" | grep -q "journals=3 " || fail "recover: want 3 journals"
echo "$out" | grep -q "undone=0 " && fail "recover undid nothing"
[ "$(state)" = "$before" ] || { diff <(echo "$before") <(state); fail "state differs after recover"; }
r=$(connect_to $C 10.77.2.2 9 1000); [ "${r%% *}" = ECONNREFUSED ] || fail "path not back: $r"
ok "recover restored the exact prior state"

out=$("$NF" recover $R) || fail "second recover: $out"
echo "$out"
[ "$out" = "recover: journals=0 records=0 undone=0 absent=0 swept=0 ns_gone=0" ] || fail "second recover was not a no-op"
[ "$(state)" = "$before" ] || fail "state changed by the second recover"
"$NF" stale >/dev/null || fail "journals still stale after recover"
ok "second recover is a no-op"

# Marked objects without a journal record.
ip -n $R route add unreachable 10.77.5.0/24 table 1684668420 proto 215
ip -n $R rule add pref 11504 lookup 1684668420 proto 215
tc -n $R qdisc add dev rs root handle d0a0: htb default 1
ip -n $R link add djifb7 type ifb
tc -n $R qdisc add dev rc ingress
tc -n $R filter add dev rc parent ffff: protocol all prio 3338 u32 match u32 0 0 action mirred egress redirect dev djifb7
out=$("$NF" recover $R) || fail "sweep: $out"
echo "$out"
echo "$out" | grep -q "swept=5 " || fail "sweep: want 5 marked objects removed"
[ "$(state)" = "$before" ] || { diff <(echo "$before") <(state); fail "state differs after the sweep"; }
ok "recover swept unjournaled objects by doorjam's marks (route protocol, rule priority, handle major, ifb name, redirect filter prio)"

# A journal of a namespace that has gone away: nothing to do, journal removed.
N=djt-$AREA-$$-gone; ip netns add $N
start_fault $N '{"kind":"net.blackhole","prefixes":["10.77.7.0/24"]}' || fail "apply in $N"
kill -KILL $FAULT_PID; wait $FAULT_PID 2>/dev/null
ip netns del $N
out=$("$NF" recover) || fail "recover gone ns: $out"
echo "$out" | grep -q "ns_gone=2" || fail "want 2 records of a gone namespace: $out"
"$NF" stale >/dev/null || fail "journal of a gone namespace left behind"
ok "journal of a deleted namespace: recorded objects went with it, journal removed"
echo "test_recover: all passed"
