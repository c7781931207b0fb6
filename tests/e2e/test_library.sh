#!/usr/bin/env bash
# End to end, as root: every shipped scenario against the wallet-demo lab.
# For each, the exit code, each flow's verdict and the outcome classes seen in
# the fault phase must be those tests/e2e/data/library.json documents; after
# each run nothing of the lab remains (namespaces, /etc/netns folders, lock
# files, processes), and the machine's own routes, rules and qdiscs are as
# they were. SCENARIOS="a b" runs a subset.
B=${1:-build/std}
. "$(dirname "$0")/lib.sh"
cd "$ROOT"
DJ=./doorjam
[ -x "$B/doorjam" ] && DJ=$B/doorjam
if [ "$(id -u)" -ne 0 ]; then
  echo "test_library: needs root (the lab is built from network namespaces)"
  [ "${CI:-}" = true ] && exit 1
  exit 77
fi
if [ ! -d examples/wallet-demo/wallet/node_modules ] || [ ! -x "$ANVIL" ]; then
  echo "test_library: the demo's npm packages are missing; run make deps"
  exit 1
fi
EXP=tests/e2e/data/library.json
all=$(node -e 'console.log(Object.keys(require(process.argv[1]).scenarios).join(" "))' "$ROOT/$EXP")
netem=$($DJ doctor 2>/dev/null | awk '$1=="qdisc" && $2=="netem" {print $3}')

state() {  # the machine's own network state, and what doorjam might leave
  { ip rule; ip route show table all; ip -6 route show table all; tc qdisc show
    ip netns list | grep -E '^dj[0-9a-f]{4}-' ; ls /etc/netns 2>/dev/null | grep -E '^dj[0-9a-f]{4}-'
    ls /run/doorjam 2>/dev/null
    pgrep -af 'examples/wallet-demo|timestamp 1767225600' ; } 2>/dev/null | grep -v '^$'
}
before=$(state)

for s in ${SCENARIOS:-$all}; do
  echo "scenario $s"
  $DJ run "scenarios/$s.json" --quiet --seed 1 --logs "$TMP/logs" \
    --report json:"$TMP/$s.json" > "$TMP/$s.out" 2>&1
  rc=$?
  want_exit=$(jget "$EXP" "r.scenarios['$s'].exit")
  if [ "$want_exit" = undefined ]; then
    if [ "$netem" = yes ]; then
      want_exit=$(jget "$EXP" "r.scenarios['$s'].exit_with_netem")
      [ "$want_exit" = undefined ] && want_exit=0
    else
      want_exit=$(jget "$EXP" "r.scenarios['$s'].exit_without_netem")
      check_cmd "$s: the refusal names $(jget "$EXP" "r.scenarios['$s'].message_without_netem")" \
        grep -q "$(jget "$EXP" "r.scenarios['$s'].message_without_netem")" "$TMP/$s.out"
    fi
  fi
  check "$s: exit code" "$rc" "$want_exit"
  if [ "$rc" -ne "$want_exit" ]; then sed 's/^/    /' "$TMP/$s.out" | tail -40; fi
  for f in $(jget "$EXP" "Object.keys(r.scenarios['$s'].flows||{}).join(' ')"); do
    got=$(node -e '
      const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
      const e = JSON.parse(require("fs").readFileSync(process.argv[2], "utf8")).scenarios[process.argv[3]].flows[process.argv[4]];
      const f = r.flows.find(x => x.name === process.argv[4]);
      const p = f.phases.fault;
      const bad = [];
      if (f.verdict !== e.verdict) bad.push(`verdict ${f.verdict}`);
      for (const k of e.has || []) if (!(p[k] > 0)) bad.push(`no ${k} run in the fault phase`);
      for (const k of e.none || []) if (p[k] > 0) bad.push(`${p[k]} ${k} runs in the fault phase (first: ${f.first_error})`);
      console.log(bad.length ? bad.join("; ") : "as documented");
    ' "$TMP/$s.json" "$EXP" "$s" "$f" 2>&1)
    check "$s: $f" "$got" "as documented"
  done
  after=$(state)
  check "$s: nothing of doorjam remains, the machine's network is as before" \
    "$(diff <(echo "$before") <(echo "$after") | grep '^[<>]' | head -20)" ""
done
finish
