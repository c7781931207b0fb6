#!/usr/bin/env bash
# net.unreachable / net.blackhole / net.prohibit, IPv4 and IPv6, applied in
# the core namespace of client - core - server: the kernel state is read back
# with iproute2, a real TCP client sees the effect, other prefixes stay
# reachable, and after revert the state equals the one taken before.
B=$1; AREA=route
. "$(dirname "$0")/net_lib.sh"
lab_up
before=$(state)

# Baseline: a closed port answers with a reset, so "ECONNREFUSED" means the path works.
for a in 10.77.2.2 fd77:2::2 10.77.9.9; do
  r=$(connect_to $C $a 9 1000)
  [ "${r%% *}" = ECONNREFUSED ] || fail "baseline to $a: $r"
done
ok "baseline reaches 10.77.2.2, fd77:2::2, 10.77.9.9"

F='"prefixes":["10.77.2.0/24","fd77:2::/64"]'
for kind in unreachable blackhole prohibit; do
  start_fault $R "{\"kind\":\"net.$kind\",$F}" || fail "apply net.$kind"
  ip -n $R rule show | grep -q "lookup 1684668416 proto 215" || fail "$kind: no IPv4 rule"
  ip -n $R -6 rule show | grep -q "lookup 1684668416 proto 215" || fail "$kind: no IPv6 rule"
  ip -n $R route show table all | grep -q "^$kind 10.77.2.0/24 table 1684668416 proto 215" ||
    fail "$kind: no IPv4 route: $(ip -n $R route show table all)"
  ip -n $R -6 route show table all | grep -q "^$kind fd77:2::/64 .*table 1684668416 proto 215" ||
    fail "$kind: no IPv6 route"
  for a in 10.77.2.2 fd77:2::2; do
    # IPv4: the ICMP error ends the connect at once. IPv6: the client's TCP
    # takes the ICMPv6 error for the first SYN as a soft error and fails on
    # the one for the retransmitted SYN (about 1 s), so its bound is 1.5 s.
    case $a in *:*) want6=1; lim=1500 ;; *) want6=0; lim=100 ;; esac
    r=$(connect_to $C $a 9 3000); res=${r%% *}; ms=${r##* }
    case $kind.$want6 in
      unreachable.0) [ "$res" = EHOSTUNREACH ] || fail "$kind $a: $r (want EHOSTUNREACH)" ;;
      unreachable.1) [ "$res" = ENETUNREACH ] || fail "$kind $a: $r (want ENETUNREACH)" ;;
      prohibit.0)    [ "$res" = EHOSTUNREACH ] || fail "$kind $a: $r (want EHOSTUNREACH)" ;;
      prohibit.1)    [ "$res" = EACCES ] || fail "$kind $a: $r (want EACCES)" ;;
      blackhole.*)   [ "$res" = timeout ] || fail "$kind $a: $r (want a timeout)"; lim=100000 ;;
    esac
    awk -v m="$ms" -v l=$lim 'BEGIN{exit !(m < l)}' || fail "$kind $a: took $ms ms (limit $lim)"
    if [ $kind != blackhole ]; then
      # the router answers the very first packet: ping sees the ICMP error at once
      ip netns exec $C ping -c 1 -W 1 $a 2>&1 | grep -qE "Destination (Host |Net )?(Unreachable|unreachable|Prohibited)|Packet filtered|Administratively|No route" ||
        fail "$kind $a: ping got no ICMP error: $(ip netns exec $C ping -c 1 -W 1 $a 2>&1 | sed -n 2p)"
    fi
    ok "net.$kind $a: $res in $ms ms"
  done
  r=$(connect_to $C 10.77.9.9 9 1000)
  [ "${r%% *}" = ECONNREFUSED ] || fail "$kind: 10.77.9.9 outside the prefixes was touched: $r"
  ok "net.$kind leaves 10.77.9.9 reachable"
  stop_fault
  [ "$(state)" = "$before" ] || { diff <(echo "$before") <(state); fail "$kind: state differs after revert"; }
  r=$(connect_to $C 10.77.2.2 9 1000)
  [ "${r%% *}" = ECONNREFUSED ] || fail "$kind: after revert: $r"
  ok "net.$kind reverted: state identical, path back"
done

# A real HTTP exchange (curl against a one-line HTTP server in the server
# namespace) fails during net.unreachable and works again after it.
if command -v curl >/dev/null && command -v nc >/dev/null; then
  ip netns exec $S bash -c 'while :; do printf "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok" | nc -l -N 10.77.2.2 8080 >/dev/null 2>&1 || sleep 0.1; done' &
  PIDS="$PIDS $!"
  http() { ip netns exec $C curl -s -m 3 -o /dev/null -w '%{http_code}' http://10.77.2.2:8080/; echo " $?"; }
  for i in $(seq 50); do [ "$(http)" = "200 0" ] && break; sleep 0.1; done
  [ "$(http)" = "200 0" ] || fail "http baseline: $(http)"
  start_fault $R '{"kind":"net.unreachable","prefixes":["10.77.2.0/24"]}' || fail "apply for http"
  h=$(http); [ "$h" = "000 7" ] || fail "http during net.unreachable: '$h' (want curl exit 7, no HTTP status)"
  stop_fault
  h=$(http); [ "$h" = "200 0" ] || fail "http after revert: '$h'"
  ok "HTTP: 200 before, curl exit 7 (no route to host) during net.unreachable, 200 after"
  [ "$(state)" = "$before" ] || fail "state differs after the http check"
fi

# Two sets at once take two slots and come off independently.
start_fault $R '{"kind":"net.unreachable","prefixes":["10.77.2.0/24"]}' || fail "apply 1"
p1=$FAULT_PID
start_fault $R '{"kind":"net.blackhole","prefixes":["10.77.9.9/32"]}' || fail "apply 2"
[ "$(ip -n $R rule show | grep -c 'proto 215')" = 2 ] || fail "two faults: want two rules"
r=$(connect_to $C 10.77.9.9 9 800); [ "${r%% *}" = timeout ] || fail "second set: $r"
stop_fault
FAULT_PID=$p1
r=$(connect_to $C 10.77.2.2 9 800); [ "${r%% *}" = EHOSTUNREACH ] || fail "first set after the second went: $r"
stop_fault
[ "$(state)" = "$before" ] || fail "state differs after two faults"
ok "two sets in two slots, reverted independently"

# Invalid input is refused before anything is touched (exit 2).
"$NF" apply $R '{"kind":"net.unreachable","prefixes":["10.77.2.1/24"]}' 2>/dev/null
[ $? -eq 2 ] || fail "host bits set: want exit 2"
"$NF" apply $R '{"kind":"net.unreachable"}' 2>/dev/null
[ $? -eq 2 ] || fail "no prefixes: want exit 2"
[ "$(state)" = "$before" ] || fail "state changed by invalid input"
ok "invalid faults refused with exit 2, nothing touched"
echo "test_route: all passed"
