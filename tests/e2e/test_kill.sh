#!/usr/bin/env bash
# Crash safety, as root: run a fast variant of the us-east-1 outage
# (tests/e2e/data/kill-us-east-1.json: the wallet-demo lab, its flows, a 2 s
# baseline, 4 s of faults, 4 s of recovery) KILLS times (default 10) and send
# SIGKILL to doorjam at a moment drawn uniformly from [0, length of a whole
# run]: during lab up, baseline, faults on, recovery or teardown. After each
# kill `doorjam recover` must leave nothing of doorjam behind (no dj<id>-*
# namespace, /etc/netns folder or netns mount, no lab lock or journal, no lab
# process) and the machine's own network state (rules, routes of every
# table, links, qdiscs, classes and filters of every device) byte for byte as
# before; a second recover must find nothing to do. Prints the leftovers
# (must be 0), where the kills landed and the slowest recover. Labs of other
# live doorjam runs on the machine are left out of the count (they are not
# leftovers), but the test is best run alone.
# Every TEARDOWN_EVERY-th kill (default 10) is aimed at teardown instead,
# which is short: a random moment after the run's end event, within the
# teardown time measured on a whole run. KILLS, SEED (for the random
# moments) and TEARDOWN_EVERY may be set.
B=${1:-build/std}
. "$(dirname "$0")/lib.sh"
cd "$ROOT"
DJ=./doorjam
[ -x "$B/doorjam" ] && DJ=$B/doorjam
KILLS=${KILLS:-10}
TEARDOWN_EVERY=${TEARDOWN_EVERY:-10}
# a private copy: a rebuild of the shared binary while the test runs must not
# turn into an exec failure here
cp "$DJ" "$TMP/doorjam" && DJ=$TMP/doorjam
SC=tests/e2e/data/kill-us-east-1.json
if [ "$(id -u)" -ne 0 ]; then
  echo "test_kill: needs root (the lab is built from network namespaces)"
  [ "${CI:-}" = true ] && exit 1
  exit 77
fi
if [ ! -d examples/wallet-demo/wallet/node_modules ] || [ ! -x "$ANVIL" ]; then
  echo "test_kill: the demo's npm packages are missing; run make deps"
  exit 1
fi
RANDOM=${SEED:-$$}


before=$(netstate)
check "no leftovers before the first run" "$(leftovers)" ""

# A run killed right after it made its lab's lock file, before any namespace:
# the lock file alone, held by nobody, must go with recover.
id=$(printf '%04x' $((RANDOM % 65536)))
while [ -e "/run/doorjam/lab-$id.lock" ]; do id=$(printf '%04x' $((RANDOM % 65536))); done
mkdir -p /run/doorjam && : > "/run/doorjam/lab-$id.lock"
touch -d '1 minute ago' "/run/doorjam/lab-$id.lock"  # younger ones may be in the making
"$DJ" recover > "$TMP/recover0.out" 2>&1
check "recover removes a dead lab's lock file that has no namespace" \
  "$([ -e "/run/doorjam/lab-$id.lock" ] && echo kept || echo removed)" removed

# the length of a whole run, lab up to teardown (a run that fails part-way,
# e.g. while another test loads the machine, is shown and tried again)
for try in 1 2 3; do
  rm -f "$TMP/full.events"
  t0=$(ms_now) tend=
  "$DJ" run "$SC" --quiet --seed 1 --logs "$TMP/logs" --events "$TMP/full.events" \
    --report json:"$TMP/full.json" > "$TMP/full.out" 2>&1 &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do  # when the end event shows, teardown begins
    [ -z "$tend" ] && grep -q '"type":"end"' "$TMP/full.events" 2>/dev/null && tend=$(ms_now)
    sleep 0.01
  done
  wait "$pid"
  rc=$?
  len=$(( $(ms_now) - t0 ))
  td=$(( $(ms_now) - ${tend:-$(ms_now)} ))
  echo "a whole run takes ${len} ms, of which ${td} ms after its end event (exit $rc)"
  grep -q '"phase":"recovery"' "$TMP/full.events" && break
  echo "  the run did not reach its recovery phase:"; tail -n 15 "$TMP/full.out" | sed 's/^/    /'
done
check_cmd "the whole run ran its phases" grep -q '"phase":"recovery"' "$TMP/full.events"
check "the whole run leaves nothing" "$(leftovers)" ""
check "the whole run leaves the machine's network as it was" "$(netstate)" "$before"

total_left=0 slowest=0 slowest_at=
declare -A where
for k in $(seq 1 "$KILLS"); do
  at=$(( (RANDOM * 32768 + RANDOM) % (len + 1) ))
  rm -f "$TMP/k.events"
  "$DJ" run "$SC" --quiet --seed "$k" --logs "$TMP/logs" --events "$TMP/k.events" \
    > "$TMP/k.out" 2>&1 &
  pid=$!
  if [ $((k % TEARDOWN_EVERY)) -eq 0 ]; then
    # aimed at teardown, which a uniform draw rarely hits: a random moment
    # of the measured teardown after the end event shows
    t1=$(ms_now)
    until grep -q '"type":"end"' "$TMP/k.events" 2>/dev/null || ! kill -0 "$pid" 2>/dev/null; do
      sleep 0.01
    done
    d=$(( RANDOM % (td + 1) ))
    sleep "$(printf '%d.%03d' $((d / 1000)) $((d % 1000)))"
    at=$(( $(ms_now) - t1 ))
  else
    sleep "$(printf '%d.%03d' $((at / 1000)) $((at % 1000)))"
  fi
  if kill -0 "$pid" 2>/dev/null; then
    { kill -KILL "$pid"; wait "$pid"; } 2>/dev/null
    last=$(grep -oE '"phase":"[a-z]+"' "$TMP/k.events" 2>/dev/null | tail -1 | cut -d'"' -f4)
    if grep -q '"type":"end"' "$TMP/k.events" 2>/dev/null; then phase=teardown
    elif [ -z "$last" ]; then phase="lab up"
    else phase=$last
    fi
  else
    phase="after the end"
    grep -q '"type":"end"' "$TMP/k.events" 2>/dev/null ||
      { echo "  run $k ended on its own before ${at} ms without an end event:"; tail -n 5 "$TMP/k.out" | sed 's/^/    /'; }
  fi
  { wait "$pid"; } 2>/dev/null
  where[$phase]=$(( ${where[$phase]:-0} + 1 ))

  r0=$(ms_now)
  "$DJ" recover > "$TMP/recover.out" 2>&1
  rrc=$?
  rms=$(( $(ms_now) - r0 ))
  if [ "$rms" -gt "$slowest" ]; then slowest=$rms; slowest_at="kill $k ($phase)"; fi
  left=$(leftovers)
  n=0; [ -n "$left" ] && n=$(echo "$left" | wc -l)
  total_left=$((total_left + n))
  "$DJ" recover > "$TMP/recover2.out" 2>&1
  rrc2=$?
  echo "kill $k at ${at} ms ($phase): recover ${rms} ms, exit $rrc; $(grep -E '^(journals|labs):' "$TMP/recover.out" | tr '\n' ' ')"
  check "kill $k: recover exits 0" "$rrc" 0
  check "kill $k: nothing of doorjam remains" "$left" ""
  check "kill $k: the machine's network is as before" "$(netstate)" "$before"
  check "kill $k: a second recover is a no-op (exit $rrc2)" \
    "$(grep -E '^(journals|labs):' "$TMP/recover2.out" | tr '\n' ' ')" \
    "journals: 0 stale, 0 records, 0 objects removed, 0 already gone, 0 marked objects swept labs: 0 leftover namespaces removed "
  [ "$rrc" -ne 0 ] && sed 's/^/    /' "$TMP/recover.out"
done
echo "kills: $KILLS; where they landed: $(for p in "lab up" baseline fault recovery teardown "after the end"; do
  [ -n "${where[$p]:-}" ] && printf '%s %s, ' "$p" "${where[$p]}"; done)"
echo "leftovers after recover: $total_left"
echo "slowest recover: ${slowest} ms (${slowest_at})"
check "leftovers over $KILLS kills" "$total_left" 0
finish
