#!/usr/bin/env bash
# make demo: the us-east-1 outage against the bundled wallet stack.
#
# Run by `make demo` after `make deps` and the build. Builds the wallet-demo
# lab (namespaces on this machine, nothing outside them), runs the scenario,
# and says what happened. Succeeds when the run completed, whatever the verdict.
set -u
cd "$(dirname "$0")/../.."
out=${DEMO_OUT:-demo-out}
mkdir -p "$out"

say() { printf '\n\033[1m%s\033[0m\n' "$*"; }
[ -t 1 ] || say() { printf '\n== %s\n' "$*"; }

if [ "$(id -u)" -ne 0 ]; then
  echo "doorjam demo: the lab is built from network namespaces; run it as root (or with sudo)." >&2
  exit 3
fi

say "1. The stack"
cat <<'TXT'
   A wallet service (Node, viem with a fallback transport) talks to two RPC providers:
   rpc-a in us-east-1 (primary) and rpc-b in eu-west-1 (backup), each a real anvil node
   behind doorjam's RPC proxy. A price service also lives in us-east-1. doorjam's own DNS
   server resolves the lab's names. Each host is a network namespace joined to a routing
   core; nothing leaves the lab.
TXT
say "2. The outage (scenarios/aws-us-east-1-outage.json)"
./doorjam plan scenarios/aws-us-east-1-outage.json | sed -n '/^ *[0-9]/p'
cat <<'TXT'
   For 20 seconds, us-east-1's addresses become unreachable at the core and its names
   answer SERVFAIL, as in AWS's us-east-1 outage of October 2025. The user's flows run
   every 2 seconds before, during and after.
TXT
say "3. Running it (about 45 seconds)"
./doorjam run scenarios/aws-us-east-1-outage.json --logs "$out/logs" \
  --report json:"$out/report.json" --report junit:"$out/junit.xml" \
  --report html:"$out/report.html" --report md:"$out/summary.md" \
  --quiet
rc=$?
say "4. What it means"
case $rc in
  0) echo "   Every flow held its expectation.";;
  1) echo "   Verdict: FAIL. Balance, chain head and sends survived through failover to eu-west-1;"
     echo "   prices failed cleanly (an honest error); the portfolio value showed 0.00 USD with"
     echo "   HTTP 200, a wrong answer the user would believe. That is the door that sticks.";;
  4) echo "   Verdict: INCONCLUSIVE: a flow failed before any fault; see the logs in $out/logs.";;
  *) echo "   The run could not complete (exit $rc); see the messages above.";;
esac
echo
echo "   Reports: $out/report.html (open it in a browser: the timeline of the outage),"
echo "            $out/report.json, $out/junit.xml, $out/summary.md; service logs in $out/logs/"
case $rc in 0|1|4) exit 0;; *) exit "$rc";; esac
