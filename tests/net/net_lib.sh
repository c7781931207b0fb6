# Shared by tests/net/test_{route,tc,recover}.sh (sourced, not run).
# Builds a three-namespace path client - core - server, with a private lab
# subnet that exists only inside these namespaces, and deletes everything on
# exit. Needs $B (the build folder, e.g. build/std) and $AREA (a short name).
set -u
NF=$B/helpers/netfault
[ "$(id -u)" -eq 0 ] || { echo "needs root"; exit 77; }
[ -x "$NF" ] || { echo "missing $NF: build the helpers first"; exit 77; }
for t in ip tc; do command -v $t >/dev/null || { echo "missing $t (iproute2)"; exit 77; }; done

C=djt-$AREA-$$-c R=djt-$AREA-$$-r S=djt-$AREA-$$-s
export DOORJAM_JOURNAL_DIR=$(mktemp -d /tmp/djt-$AREA-journal.XXXXXX)
PIDS=""
cleanup() {
  for p in $PIDS; do kill -TERM "$p" 2>/dev/null; done
  sleep 0.2
  for p in $PIDS; do kill -KILL "$p" 2>/dev/null; done
  for n in $C $R $S; do ip netns del "$n" 2>/dev/null; done
  rm -rf "$DOORJAM_JOURNAL_DIR"
}
trap cleanup EXIT

fail() { echo "FAIL: $*"; exit 1; }
ok() { echo "ok: $*"; }

lab_up() {
  local n
  for n in $C $R $S; do
    ip netns add $n; ip -n $n link set lo up
    ip netns exec $n sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
  done
  ip -n $C link add vc type veth peer name rc netns $R
  ip -n $S link add vs type veth peer name rs netns $R
  ip -n $C addr add 10.77.1.2/24 dev vc
  ip -n $C addr add fd77:1::2/64 dev vc nodad
  ip -n $R addr add 10.77.1.1/24 dev rc
  ip -n $R addr add fd77:1::1/64 dev rc nodad
  ip -n $R addr add 10.77.2.1/24 dev rs
  ip -n $R addr add fd77:2::1/64 dev rs nodad
  ip -n $S addr add 10.77.2.2/24 dev vs
  ip -n $S addr add fd77:2::2/64 dev vs nodad
  ip -n $S addr add 10.77.9.9/32 dev lo
  for l in "$C vc" "$R rc" "$R rs" "$S vs"; do set -- $l; ip -n $1 link set $2 up; done
  ip -n $C route add 10.77.0.0/16 via 10.77.1.1
  ip -n $C -6 route add fd77::/16 via fd77:1::1
  ip -n $S route add 10.77.0.0/16 via 10.77.2.1
  ip -n $S -6 route add fd77::/16 via fd77:2::1
  ip -n $R route add 10.77.9.9/32 via 10.77.2.2
  ip netns exec $R sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
  # the core answers every rejected packet: no per-host ICMP rate limit in the lab
  ip netns exec $R sysctl -qw net.ipv4.icmp_ratelimit=0 net.ipv6.icmp.ratelimit=0
  # resolve neighbours now, so that the first measured packet is not the one that waits
  local a
  for a in 10.77.2.2 fd77:2::2 10.77.9.9; do
    ip netns exec $C ping -c 1 -W 2 $a > /dev/null 2>&1 || ip netns exec $C ping -c 1 -W 2 $a > /dev/null 2>&1 ||
      { echo "lab: $a not reachable from the client"; exit 1; }
  done
}

# Everything a fault could change, in every namespace (no counters).
state() {
  local n d
  for n in $C $R $S; do
    echo "== $n"
    ip -n $n route show table all
    ip -n $n -6 route show table all
    ip -n $n rule show
    ip -n $n -6 rule show
    ip -n $n -o link show | sed 's/^[0-9]*: //; s/ qlen.*//'
    tc -n $n qdisc show
    for d in $(ip -n $n -o link show | awk -F': ' '{print $2}' | cut -d@ -f1); do
      tc -n $n class show dev $d
      tc -n $n filter show dev $d
    done
  done
}

# start_fault NS JSON [args]: run the driver in the background until "applied".
start_fault() {
  local ns=$1 json=$2; shift 2
  local out=$DOORJAM_JOURNAL_DIR/driver.$RANDOM
  "$NF" apply "$ns" "$json" "$@" > "$out" 2>&1 &
  FAULT_PID=$!
  PIDS="$PIDS $FAULT_PID"
  local i
  for i in $(seq 100); do
    grep -q '^applied' "$out" 2>/dev/null && return 0
    kill -0 $FAULT_PID 2>/dev/null || { cat "$out"; wait $FAULT_PID; return $?; }
    sleep 0.05
  done
  cat "$out"; return 1
}

# stop_fault: SIGTERM the driver, expect "reverted" and exit 0.
stop_fault() {
  kill -TERM $FAULT_PID
  wait $FAULT_PID || fail "driver exited $? on revert"
}

# connect NS ADDR PORT MS -> "RESULT MS"
connect_to() { "$NF" connect "$@" | awk '{print $2, $3}'; }

# start_stack NS JSON [JSON...] [--force]: apply several faults from one
# process (tests/helpers/faultstack) in the background until "applied".
start_stack() {
  local ns=$1; shift
  STACK_OUT=$DOORJAM_JOURNAL_DIR/stack.$RANDOM
  "$B/helpers/faultstack" "$ns" "$@" > "$STACK_OUT" 2>&1 &
  FAULT_PID=$!
  PIDS="$PIDS $FAULT_PID"
  local i
  for i in $(seq 100); do
    grep -q '^applied' "$STACK_OUT" 2>/dev/null && return 0
    kill -0 $FAULT_PID 2>/dev/null || { cat "$STACK_OUT"; wait $FAULT_PID; return $?; }
    sleep 0.05
  done
  cat "$STACK_OUT"; return 1
}

# revert_one first|last N: revert the first (or last) fault of the stack
# still on, which must be fault N (counting from 1 in the order given).
revert_one() {
  local sig=USR1 i
  [ "$1" = last ] && sig=USR2
  kill -$sig $FAULT_PID
  for i in $(seq 100); do
    grep -q "^reverted $2\$" "$STACK_OUT" && return 0
    kill -0 $FAULT_PID 2>/dev/null || break
    sleep 0.05
  done
  cat "$STACK_OUT"; fail "revert of fault $2 did not finish"
}
