#!/usr/bin/env bash
# End to end, without root: doorjam validate / plan / run against a real
# anvil node and a small HTTP service on loopback. Checks the exit codes, the
# JSON report's counts and verdicts, the JUnit file, wrong-vs-error
# classification, the inconclusive baseline, and SIGINT handling.
B=${1:-build/std}
. "$(dirname "$0")/lib.sh"
cd "$ROOT"
DJ=./doorjam
[ -x "$B/doorjam" ] && DJ=$B/doorjam

start_anvil 28545
start_testsrv 28080

echo "validate"
$DJ validate tests/e2e/data/basic.json > "$TMP/v.out" 2>&1
check "a valid scenario validates (exit 0)" "$?" 0
$DJ validate tests/data/invalid/many-errors.json > "$TMP/v.out" 2>&1
check "an invalid scenario exits 2" "$?" 2
check "every error is listed" "$(grep -c '^tests/data/invalid/many-errors.json:[0-9]*:[0-9]*: /' "$TMP/v.out")" 7
check_cmd "errors carry file:line:col and pointer" grep -q '^tests/data/invalid/many-errors.json:5:47: /schedule/recovery: ' "$TMP/v.out"
$DJ plan tests/e2e/data/basic.json > "$TMP/plan.out" 2>&1
check "plan exits 0" "$?" 0
check_cmd "plan shows the phases" grep -q 'recovery' "$TMP/plan.out"

echo "run: all flows pass"
$DJ run tests/e2e/data/basic.json --quiet --seed 7 --events "$TMP/ok.events" \
  --report json:"$TMP/ok.json" --report junit:"$TMP/ok.xml" > "$TMP/ok.out" 2>&1
check "exit code 0 when every expectation holds" "$?" 0
check "report verdict" "$(jget "$TMP/ok.json" 'r.verdict')" pass
check "report format version" "$(jget "$TMP/ok.json" 'r.doorjam_report')" 1
check "seed recorded" "$(jget "$TMP/ok.json" 'r.seed')" 7
check "three flows" "$(jget "$TMP/ok.json" 'r.flows.length')" 3
check "no error or wrong run anywhere" \
  "$(jget "$TMP/ok.json" 'r.flows.map(f=>["baseline","fault","recovery"].map(p=>f.phases[p].error+f.phases[p].wrong).reduce((a,b)=>a+b,0)).reduce((a,b)=>a+b,0)')" 0
check "chain-head ran in the fault phase" \
  "$(jget "$TMP/ok.json" 'r.flows.find(f=>f.name==="chain-head").phases.fault.ok>3')" true
check_cmd "JUnit has one testcase per flow" test "$(grep -c '<testcase ' "$TMP/ok.xml")" -eq 3
check_cmd "JUnit has no failure" test "$(grep -c '<failure' "$TMP/ok.xml")" -eq 0
check_cmd "terminal summary printed" grep -q 'view-balance' "$TMP/ok.out"
check "events: one flow_run line per run in the report" \
  "$(grep -c '"type":"flow_run"' "$TMP/ok.events")" \
  "$(jget "$TMP/ok.json" 'r.flows.map(f=>f.runs.length).reduce((a,b)=>a+b,0)')"
check "events: three phases, a start and an end" \
  "$(grep -c '"type":"phase"' "$TMP/ok.events")/$(grep -c '"type":"start"' "$TMP/ok.events")/$(grep -c '"type":"end"' "$TMP/ok.events")" "3/1/1"

echo "run: the balance turns wrong and the price errors during the fault phase"
$DJ run tests/e2e/data/flip.json --quiet --report json:"$TMP/flip.json" \
  --report junit:"$TMP/flip.xml" > "$TMP/flip.out" 2>&1 &
djpid=$!
sleep 2.5   # baseline (1.5 s) is over and drained: the fault phase is on
set_mode 28080 /balance wrong
set_mode 28080 /price error
sleep 2.5
set_mode 28080 /balance ok
set_mode 28080 /price ok
wait $djpid
check "exit code 1 when an expectation fails" "$?" 1
check "scenario verdict" "$(jget "$TMP/flip.json" 'r.verdict')" fail
check "view-balance verdict" "$(jget "$TMP/flip.json" 'r.flows.find(f=>f.name==="view-balance").verdict')" fail
check "view-balance was wrong in the fault phase, not error" \
  "$(jget "$TMP/flip.json" 'let p=r.flows.find(f=>f.name==="view-balance").phases.fault; p.wrong>0 && p.error===0')" true
check "view-balance clean in the baseline" \
  "$(jget "$TMP/flip.json" 'let p=r.flows.find(f=>f.name==="view-balance").phases.baseline; p.wrong+p.error')" 0
check "view-balance first error names the value" \
  "$(jget "$TMP/flip.json" '/0x0/.test(r.flows.find(f=>f.name==="view-balance").first_error)')" true
check "token-price errored (not wrong) and fail-clean holds" \
  "$(jget "$TMP/flip.json" 'let f=r.flows.find(f=>f.name==="token-price"); f.phases.fault.error>0 && f.phases.fault.wrong===0 && f.verdict')" pass
check "view-balance recovered" "$(jget "$TMP/flip.json" 'r.flows.find(f=>f.name==="view-balance").recovered')" true
check "chain-head unaffected" "$(jget "$TMP/flip.json" 'r.flows.find(f=>f.name==="chain-head").verdict')" pass
check_cmd "JUnit names the broken flow" grep -q '<failure' "$TMP/flip.xml"

echo "run: a flow broken before any fault makes the scenario inconclusive"
set_mode 28080 /price error
$DJ run tests/e2e/data/basic.json --quiet --report json:"$TMP/inc.json" > "$TMP/inc.out" 2>&1
check "exit code 4" "$?" 4
check "verdict inconclusive" "$(jget "$TMP/inc.json" 'r.verdict')" inconclusive
check "no fault phase ran" "$(jget "$TMP/inc.json" 'r.flows[0].phases.fault.runs')" 0
set_mode 28080 /price ok

echo "run: SIGINT stops the run and still writes the report"
$DJ run tests/e2e/data/basic.json --quiet --report json:"$TMP/int.json" > "$TMP/int.out" 2>&1 &
djpid=$!
sleep 3
kill -INT $djpid
wait $djpid
check "interrupted run exits 1" "$?" 1
check "report marked interrupted" "$(jget "$TMP/int.json" 'r.interrupted')" true

if [ "$(id -u)" -eq 0 ]; then
  echo "run: exec steps (as root: they run as nobody unless they say otherwise)"
  $DJ run tests/e2e/data/exec.json --quiet --report json:"$TMP/exec.json" > "$TMP/exec.out" 2>&1
  check "exec scenario passes" "$?" 0
  check "every exec flow passed" "$(jget "$TMP/exec.json" 'r.flows.map(f=>f.verdict).join(",")')" "pass,pass,pass"
fi

echo "run: invalid input runs nothing"
$DJ run tests/data/invalid/bad-duration.json > "$TMP/bad.out" 2>&1
check "exit code 2" "$?" 2
$DJ run --report xml:x tests/e2e/data/basic.json > "$TMP/bad.out" 2>&1
check "unknown report format exits 2" "$?" 2

finish
