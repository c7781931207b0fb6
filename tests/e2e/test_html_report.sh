#!/usr/bin/env bash
# The HTML report of a real run, opened in headless Chromium. A scenario on
# loopback (a real anvil node behind doorjam's RPC proxy, rpc.override and
# rpc.rate_limit faults, three flows) runs with --report json, html and md.
# Chromium loads the HTML with no network and no script, and the test checks:
# it renders (the DOM holds the verdict of the JSON report), the console is
# silent (a blocked load or a CSP violation would log there), the timeline
# has exactly one mark per run of the JSON report, per flow and per outcome,
# each mark sits at its run's time, the fault bands start and end where the
# JSON report's faults do, and it prints to PDF. Screenshots (desktop and
# phone width) and the PDF stay in BUILD/e2e-artifacts/ and are printed.
# Also: the Markdown summary has a row per flow and stays under 65,000 bytes.
#
#   tests/e2e/html_report.sh BUILD_DIR   (exit 0 pass, 1 fail, 77 skip;
#   with CI=true a skip is a failure). DOORJAM=path picks the binary.
#
# Named without the test_ prefix until `doorjam run --report html:PATH` is
# wired in runner/main.c, so that tests/e2e/run.sh does not count its skip as
# a failure; rename it to test_html_report.sh then.
B=${1:-build/std}
. "$(dirname "$0")/lib.sh"
cd "$ROOT"
DJ=${DOORJAM:-./doorjam}
[ -z "${DOORJAM:-}" ] && [ -x "$B/doorjam" ] && DJ=$B/doorjam

skip() {
  echo "$(basename "$0"): skipped: $1"
  [ "${CI:-}" = true ] && exit 1
  exit 77
}
[ -x "$DJ" ] || skip "no doorjam binary at $DJ (make)"
"$DJ" help run 2>&1 | grep -q 'html' || skip "$DJ has no --report html:PATH yet"
[ -x "$ANVIL" ] || skip "anvil is not installed (make deps)"
command -v node > /dev/null || skip "node is not installed (make deps)"
CHROME=$(command -v chromium || command -v chromium-browser || true)
[ -n "$CHROME" ] || skip "chromium is not installed (apt-get install --no-install-recommends chromium)"

case $B in /*) ART=$B/e2e-artifacts ;; *) ART=$ROOT/$B/e2e-artifacts ;; esac
mkdir -p "$ART" || skip "cannot create $ART"

# Chromium with nothing that reaches out, a fresh profile per call.
chrome() {
  local profile
  profile=$(mktemp -d "$TMP/chrome.XXXXXX")
  timeout 90 "$CHROME" --headless --no-sandbox --disable-gpu --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --disable-quic --disable-extensions --user-data-dir="$profile" \
    --enable-logging=stderr --v=0 "$@"
}

free_port() {
  local p
  for p in $(shuf -i 20000-60000 -n 50); do
    port_free "$p" && { echo "$p"; return 0; }
  done
  return 1
}
AP=$(free_port) && PP=$(free_port) || skip "no free loopback port"
[ "$AP" != "$PP" ] || PP=$(free_port)
start_anvil "$AP" || exit 1

cat > "$TMP/scn.json" <<EOF
{
  "doorjam": 1,
  "name": "html-report-e2e",
  "description": "The balance is overridden, then the chain check is rate-limited; both come back.",
  "rpc": {"rpc-a": {"listen": "127.0.0.1:$PP", "upstream": "http://127.0.0.1:$AP"}},
  "schedule": {"baseline": "2s", "fault": "5s", "recovery": "3s", "every": "500ms"},
  "seed": 11,
  "flows": [
    {"name": "view-balance", "description": "The wallet reads the account's balance.", "steps": [
      {"name": "balance", "jsonrpc": {"url": "http://127.0.0.1:$PP", "method": "eth_getBalance",
                   "params": ["0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266", "latest"]},
       "expect": [{"result": "", "gt": 0}]}]},
    {"name": "chain-check", "steps": [
      {"jsonrpc": {"url": "http://127.0.0.1:$PP", "method": "eth_chainId"},
       "expect": [{"result": "", "equals": "0x7a69"}]}]},
    {"name": "block-number", "steps": [
      {"jsonrpc": {"url": "http://127.0.0.1:$AP", "method": "eth_blockNumber"}}]}
  ],
  "faults": [
    {"kind": "rpc.override", "upstream": "rpc-a", "method": "eth_getBalance",
     "set": {"": "0x0"}, "for": "2s"},
    {"kind": "rpc.rate_limit", "upstream": "rpc-a", "method": "eth_chainId",
     "rps": 0.1, "burst": 1, "at": "2500ms"}
  ],
  "expect": {"view-balance": "survive", "chain-check": "degrade", "block-number": "survive"}
}
EOF

echo "run: a scenario with two rpc faults, every report format"
"$DJ" run "$TMP/scn.json" --quiet --report json:"$TMP/r.json" --report html:"$TMP/r.html" \
  --report md:"$TMP/r.md" > "$TMP/run.out" 2>&1
rc=$?
check_cmd "the run ends with a verdict (exit 0 or 1, got $rc)" test "$rc" -le 1
[ -s "$TMP/r.json" ] && [ -s "$TMP/r.html" ] || { cat "$TMP/run.out"; echo "no report"; exit 1; }
# a run that stopped early (a port taken meanwhile, a peer gone) says why here
check "the run completed without a run error" "$(jget "$TMP/r.json" r.error)" null
[ "$(jget "$TMP/r.json" r.error)" = null ] || tail -n 20 "$TMP/run.out" | sed 's/^/    /'
cp "$TMP/r.html" "$ART/html-report.html"
cp "$TMP/r.md" "$ART/html-report.md"
runs=$(jget "$TMP/r.json" 'r.flows.reduce((a,f)=>a+f.runs.length,0)')
echo "  the JSON report has $runs runs and $(jget "$TMP/r.json" 'r.faults.length') faults; HTML $(stat -c %s "$TMP/r.html") bytes"
check "the override made the balance wrong in the fault phase" \
  "$(jget "$TMP/r.json" 'r.flows[0].phases.fault.wrong>0')" true

echo "chromium: the DOM"
chrome --dump-dom "file://$TMP/r.html" > "$TMP/dom.html" 2> "$TMP/chrome-dom.err"
crc=$?
if [ $crc -ne 0 ] || [ ! -s "$TMP/dom.html" ]; then
  tail -5 "$TMP/chrome-dom.err"
  skip "chromium did not start or render (exit $crc)"
fi
verdict=$(jget "$TMP/r.json" 'r.verdict.toUpperCase()')
check_cmd "the DOM holds the verdict $verdict" \
  grep -q "id=\"verdict\"><strong>$verdict</strong>" "$TMP/dom.html"
check_cmd "the DOM holds the timeline" grep -q '<svg class="timeline"' "$TMP/dom.html"
check "no console message (errors, blocked loads, CSP violations)" \
  "$(grep -c 'CONSOLE' "$TMP/chrome-dom.err")" 0
check "no script element in the DOM" "$(grep -ci '<script' "$TMP/dom.html")" 0

# Marks and bands as Chromium parsed them, against the JSON report.
node - "$TMP/r.json" "$TMP/dom.html" > "$TMP/cmp.out" <<'JS'
const fs = require("fs");
const r = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const dom = fs.readFileSync(process.argv[3], "utf8");
const out = (what, got, want) => console.log(`${what}\t${got}\t${want}`);
const attrs = tag => Object.fromEntries([...tag.matchAll(/([\w-]+)="([^"]*)"/g)].map(m => [m[1], m[2]]));
const span = Number(/data-span-ms="(\d+)"/.exec(dom)[1]);
const x = t => 170 + Math.min(t, span) * 810 / span;   /* report_html.c: GUTTER, PLOT_W */
const marks = [...dom.matchAll(/<use [^>]*data-outcome="[^"]*"[^>]*>/g)].map(m => attrs(m[0]));
const runs = r.flows.flatMap((f, i) => f.runs.map(u => ({ ...u, flow: i })));
out("marks", marks.length, runs.length);
r.flows.forEach((f, i) =>
  out(`marks of ${f.name}`, marks.filter(m => m["data-flow"] === String(i)).length, f.runs.length));
for (const o of ["ok", "slow", "error", "wrong"])
  out(`${o} marks`, marks.filter(m => m["data-outcome"] === o).length,
      runs.filter(u => u.outcome === o).length);
const key = u => `${u.flow}/${u.t_ms}/${u.outcome}`;
const want = runs.map(key).sort().join(",");
const got = marks.map(m => `${m["data-flow"]}/${m["data-t-ms"]}/${m["data-outcome"]}`).sort().join(",");
out("marks match runs (flow, time, outcome)", got === want, true);
out("marks placed at their run's time",
    marks.every(m => Math.abs(Number(m.x) - x(Number(m["data-t-ms"]))) <= 0.11), true);
const bands = [...dom.matchAll(/<g class="band"[^>]*>.*?<rect [^>]*>/gs)].map(m => {
  const g = attrs(m[0].slice(0, m[0].indexOf(">") + 1)), rect = attrs(m[0].slice(m[0].lastIndexOf("<rect")));
  return { s: g["data-fault-start-ms"], e: g["data-fault-end-ms"], x: Number(rect.x), w: Number(rect.width) };
});
const applied = r.faults.filter(f => f.start_ms !== null);
out("fault bands", bands.length, applied.length);
out("bands at the JSON report's windows",
    bands.map(b => `${b.s}-${b.e}`).join(","),
    applied.map(f => `${f.start_ms}-${f.end_ms === null ? "" : f.end_ms}`).join(","));
out("bands drawn from start to end",
    bands.every((b, i) => Math.abs(b.x - x(applied[i].start_ms)) <= 0.11 &&
      Math.abs(b.x + b.w - x(applied[i].end_ms === null ? span : applied[i].end_ms)) <= 1.1), true);
JS
while IFS=$'\t' read -r what got want; do check "$what" "$got" "$want"; done < "$TMP/cmp.out"
[ -s "$TMP/cmp.out" ] || check "the DOM comparison ran" no yes

echo "chromium: screenshots and print"
chrome --window-size=1280,1800 --hide-scrollbars --screenshot="$ART/html-report.png" \
  "file://$TMP/r.html" > /dev/null 2> "$TMP/chrome-shot.err"
check_cmd "desktop screenshot written" test -s "$ART/html-report.png"
chrome --window-size=390,1600 --hide-scrollbars --screenshot="$ART/html-report-phone.png" \
  "file://$TMP/r.html" > /dev/null 2> "$TMP/chrome-phone.err"
check_cmd "phone-width screenshot written" test -s "$ART/html-report-phone.png"
chrome --no-pdf-header-footer --print-to-pdf="$ART/html-report.pdf" "file://$TMP/r.html" \
  > /dev/null 2> "$TMP/chrome-pdf.err"
check "printed to PDF" "$(head -c 4 "$ART/html-report.pdf" 2>/dev/null)" "%PDF"
check "no console message while rendering" \
  "$(cat "$TMP/chrome-shot.err" "$TMP/chrome-phone.err" "$TMP/chrome-pdf.err" | grep -c 'CONSOLE')" 0

echo "markdown"
check "one table row per flow" "$(grep -c '^| [^:]' "$TMP/r.md")" \
  "$(( $(jget "$TMP/r.json" 'r.flows.length') + 1 + $(jget "$TMP/r.json" 'r.faults.length') + 1 ))"
check_cmd "the summary is under 65,000 bytes" test "$(stat -c %s "$TMP/r.md")" -lt 65000
check_cmd "the verdict line" grep -q "^\*\*$verdict\*\*: " "$TMP/r.md"

echo "artefacts: $ART/html-report.png $ART/html-report-phone.png $ART/html-report.pdf $ART/html-report.html"
finish
