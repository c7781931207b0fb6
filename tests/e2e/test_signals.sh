#!/usr/bin/env bash
# Signal safety, as root: run tests/e2e/data/signal-faults.json (the
# wallet-demo lab with four faults of three kinds on at once: routes and a tc
# loss filter in the lab core, a DNS rule, an RPC rule) and interrupt it
#  * with SIGINT, and with SIGTERM, while every fault is on: the kernel
#    objects of the faults must be gone from the lab core within 500 ms of
#    the signal (polled from outside), every fault must have its fault_off
#    event within 500 ms of the signal event (doorjam's own clock), the JSON
#    report must be written and marked interrupted, and the run must leave
#    nothing behind without help;
#  * with SIGINT twice (the second 20 ms after doorjam logged the first):
#    doorjam must exit at once (exit 130, within 1 s of the second signal)
#    with every fault already lifted, say that `doorjam recover` removes the
#    rest, and recover must then leave nothing;
#  * with SIGINT while the lab is being built: the build stops, the report
#    says interrupted, nothing remains.
# The machine's own network state must be byte for byte as before throughout.
B=${1:-build/std}
. "$(dirname "$0")/lib.sh"
cd "$ROOT"
DJ=./doorjam
[ -x "$B/doorjam" ] && DJ=$B/doorjam
cp "$DJ" "$TMP/doorjam" && DJ=$TMP/doorjam
SC=tests/e2e/data/signal-faults.json
NFAULTS=4
if [ "$(id -u)" -ne 0 ]; then
  echo "test_signals: needs root (the lab is built from network namespaces)"
  [ "${CI:-}" = true ] && exit 1
  exit 77
fi
if [ ! -d examples/wallet-demo/wallet/node_modules ] || [ ! -x "$ANVIL" ]; then
  echo "test_signals: the demo's npm packages are missing; run make deps"
  exit 1
fi

# What the faults put into a lab core: policy rules (net.unreachable) and
# qdiscs with their filters (net.loss). Cheap enough to poll every few ms.
faultstate() {  # NS
  { ip -n "$1" rule && ip -n "$1" -6 rule && tc -n "$1" qdisc show; } 2>&1
}
# Everything of the core's network state, compared before and after.
corestate() {  # NS
  local dev
  {
    ip -n "$1" rule; ip -n "$1" -6 rule
    ip -n "$1" route show table all; ip -n "$1" -6 route show table all
    for dev in $(ip -n "$1" -o link show | awk -F': ' '{print $2}' | cut -d@ -f1); do
      echo "dev $dev"
      tc -n "$1" qdisc show dev "$dev"; tc -n "$1" class show dev "$dev"
      tc -n "$1" filter show dev "$dev"; tc -n "$1" filter show dev "$dev" ingress
    done
  } 2>&1
}
# The fault objects alone: policy rules beyond the three standard ones,
# unreachable/blackhole/prohibit routes, qdiscs other than the default.
faultobjs() {  # NS
  {
    ip -n "$1" rule; ip -n "$1" -6 rule
  } | grep -vE '^(0|32766|32767):[[:space:]]+from all lookup (local|main|default) *$'
  ip -n "$1" route show table all | grep -E '^(unreachable|blackhole|prohibit)'
  ip -n "$1" -6 route show table all | grep -E '^(unreachable|blackhole|prohibit)'
  tc -n "$1" qdisc show | grep -v '^qdisc noqueue 0: '
}
cores() { ip netns list 2>/dev/null | grep -oE '^dj[0-9a-f]{4}-core' | sort; }
evcount() { grep -c "\"type\":\"$2\"" "$1" 2>/dev/null; }

# start NAME: a run in the background; sets pid and core (the new lab's core
# namespace), waits for the baseline and takes the core's clean state, then
# waits until every fault is on. Returns 1 if the run did not get there.
start() {
  local name=$1 old i
  old=$(cores)
  EV=$TMP/$name.events
  "$DJ" run "$SC" --quiet --seed 7 --logs "$TMP/logs" --events "$EV" \
    --report json:"$TMP/$name.json" > "$TMP/$name.out" 2>&1 &
  pid=$!
  core=
  for i in $(seq 1 600); do
    grep -q '"phase":"baseline"' "$EV" 2>/dev/null && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  core=$(comm -13 <(echo "$old") <(cores) | head -1)
  if [ -z "$core" ] || ! grep -q '"phase":"baseline"' "$EV" 2>/dev/null; then
    echo "  $name: the run did not reach its baseline:"; tail -n 15 "$TMP/$name.out" | sed 's/^/    /'
    return 1
  fi
  clean=$(faultstate "$core") cleanfull=$(corestate "$core")
  for i in $(seq 1 300); do
    [ "$(evcount "$EV" fault_on)" -ge "$NFAULTS" ] && return 0
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "  $name: not every fault came on:"; tail -n 15 "$TMP/$name.out" | sed 's/^/    /'
  return 1
}

# lift_ms: poll the core until its fault state is the clean one again (or the
# core is gone: teardown got there first); prints the ms since $t0.
lift_ms() {
  local now
  while :; do
    now=$(ms_now)
    if ! ip netns list | grep -q "^$core"; then echo "$((now - t0)) gone"; return; fi
    [ "$(faultstate "$core")" = "$clean" ] && { echo "$((now - t0))"; return; }
    [ $((now - t0)) -gt 10000 ] && { echo "$((now - t0)) never"; return; }
  done
}

# the largest fault_off t_ms minus the signal's t_ms, from the events file
inproc_ms() {  # EVENTS
  node -e '
    const ev = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map(JSON.parse);
    const sig = ev.find(e => e.type === "signal");
    const offs = ev.filter(e => e.type === "fault_off");
    if (!sig || !offs.length) { console.log("none"); process.exit(0); }
    console.log(Math.max(...offs.map(e => e.t_ms)) - sig.t_ms);' "$1"
}

before=$(netstate)
check "no leftovers before the first run" "$(leftovers)" ""

for sig in INT TERM; do
  echo "== SIG$sig while every fault is on"
  start "$sig" || { check "SIG$sig: the run reached its fault phase" no yes; continue; }
  faulted=$(faultstate "$core")
  check "SIG$sig: the faults are in the lab core" \
    "$([ "$faulted" != "$clean" ] && [ -n "$(faultobjs "$core")" ] && echo yes)" yes
  t0=$(ms_now)
  kill -"$sig" "$pid"
  lifted=$(lift_ms)
  wait "$pid"; rc=$?
  exit_ms=$(( $(ms_now) - t0 ))
  inproc=$(inproc_ms "$EV")
  echo "  kernel objects gone ${lifted} ms after SIG$sig; last fault_off ${inproc} ms after the signal event; exited after ${exit_ms} ms (exit $rc)"
  # "N gone": teardown removed the core before a poll saw it lifted: gone all the same
  check "SIG$sig: the faults left the lab core within 500 ms" \
    "$(set -- $lifted; [ "${2:-gone}" = gone ] && [ "$1" -le 500 ] && echo yes)" yes
  check "SIG$sig: $NFAULTS fault_off events" "$(evcount "$EV" fault_off)" "$NFAULTS"
  check "SIG$sig: every fault_off within 500 ms of the signal" \
    "$([ "$inproc" != none ] && [ "$inproc" -le 500 ] && echo yes)" yes
  check "SIG$sig: the core is as it was before the faults" \
    "$(ip netns list | grep -q "^$core" && corestate "$core" || echo "$cleanfull")" "$cleanfull"
  check "SIG$sig: exit 1 (interrupted)" "$rc" 1
  check "SIG$sig: the report is marked interrupted" "$(jget "$TMP/$sig.json" r.interrupted)" true
  check "SIG$sig: the report has every fault's window closed" \
    "$(jget "$TMP/$sig.json" "r.faults.filter(f => f.end_ms != null).length")" "$NFAULTS"
  check "SIG$sig: nothing of doorjam remains, without recover" "$(leftovers)" ""
  check "SIG$sig: the machine's network is as before" "$(netstate)" "$before"
done

echo "== SIGINT twice, 20 ms apart"
if start twice; then
  t0=$(ms_now)
  kill -INT "$pid"
  # the second only once the first was read (two unread SIGINTs are one signal)
  for _ in $(seq 200); do grep -q '"type":"signal"' "$EV" && break; sleep 0.005; done
  sleep 0.02
  t1=$(ms_now)
  kill -INT "$pid"
  wait "$pid"; rc=$?
  gone_ms=$(( $(ms_now) - t1 ))
  echo "  exited ${gone_ms} ms after the second SIGINT (exit $rc)"
  check "second SIGINT: exit 130" "$rc" 130
  check "second SIGINT: exited within 1 s" "$([ "$gone_ms" -le 1000 ] && echo yes)" yes
  check_cmd "second SIGINT: it says to run doorjam recover" grep -q 'doorjam recover' "$TMP/twice.out"
  if ip netns list | grep -q "^$core"; then
    check "second SIGINT: every fault was lifted before the exit" "$(faultobjs "$core")" ""
  else
    echo "  (the core was already torn down when doorjam exited)"
  fi
  check "second SIGINT: $NFAULTS fault_off events" "$(evcount "$EV" fault_off)" "$NFAULTS"
  "$DJ" recover > "$TMP/recover.out" 2>&1
  check "second SIGINT: recover exits 0" "$?" 0
  check "second SIGINT: nothing remains after recover" "$(leftovers)" ""
  check "second SIGINT: the machine's network is as before" "$(netstate)" "$before"
else
  check "second SIGINT: the run reached its fault phase" no yes
  "$DJ" recover > /dev/null 2>&1
fi

echo "== SIGINT while the lab is being built"
EV=$TMP/early.events
old=$(cores)
"$DJ" run "$SC" --quiet --seed 7 --logs "$TMP/logs" --events "$EV" \
  --report json:"$TMP/early.json" > "$TMP/early.out" 2>&1 &
pid=$!
# once the lab's core namespace exists doorjam reads its signals (they are set up first)
for _ in $(seq 300); do
  [ -n "$(comm -13 <(echo "$old") <(cores))" ] && break
  sleep 0.01
done
sleep 0.2
early_phase=$(grep -c '"type":"phase"' "$EV" 2>/dev/null)
t0=$(ms_now)
kill -INT "$pid"
wait "$pid"; rc=$?
echo "  exited $(( $(ms_now) - t0 )) ms after SIGINT (exit $rc), phases started before it: ${early_phase:-0}"
check "lab up: the signal came before the first phase" "${early_phase:-0}" 0
check "lab up: exit 1" "$rc" 1
check "lab up: the report is marked interrupted" "$(jget "$TMP/early.json" r.interrupted)" true
check "lab up: nothing of doorjam remains, without recover" "$(leftovers)" ""
check "lab up: the machine's network is as before" "$(netstate)" "$before"
finish
