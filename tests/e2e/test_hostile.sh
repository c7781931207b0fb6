#!/usr/bin/env bash
# Hostile and broken input: `doorjam run FILE` on every tests/data/invalid/
# file, and on inputs made here (a 100 MB file, a million errors, JSON
# nested 100,000 deep, symlink loops, a FIFO, a device, a folder, a missing
# lab file, a lab file with errors, a flows file that is a FIFO). Each must
# exit 2, print its diagnostics (for the corpus: exactly the reviewed .expect
# lines, each with file:line:col where the error has a place), and apply
# nothing: no journal file, no lab (lock or namespace) of its own, and the
# machine's own network state (rules, routes of every table, links, qdiscs,
# classes and filters of every device) byte for byte as before. Needs no
# root; as root it also proves that nothing is applied when doorjam could
# have. Labs that other tests run meanwhile are told apart by the pid in
# their lock.
B=${1:-build/std}
. "$(dirname "$0")/lib.sh"
cd "$ROOT"
DJ=./doorjam
[ -x "$B/doorjam" ] && DJ=$B/doorjam
[ -x "$DJ" ] || { echo "test_hostile: no doorjam binary (run make)"; exit 1; }
# a private copy: a rebuild of the shared binary while the test runs must not
# turn into an exec failure here
cp "$DJ" "$TMP/doorjam" && DJ=$TMP/doorjam
export DOORJAM_JOURNAL_DIR=$TMP/journal
mkdir -p "$DOORJAM_JOURNAL_DIR"

# What the doorjam process PID left: its journal (the journal folder is this
# test's own), and any lab it started. A lab's lock file, made before its
# first namespace, carries its maker's pid; the lab's namespaces and netns
# folders carry the id in the lock's name. Other tests on this machine may
# run labs of their own meanwhile: those are told apart by the pid.
ours() {
  local f id
  ls -A "$DOORJAM_JOURNAL_DIR" | sed 's/^/journal /'
  for f in /run/doorjam/lab-*.lock; do
    [ -e "$f" ] || continue
    [ "$(awk '{print $1; exit}' "$f" 2>/dev/null)" = "$1" ] || continue
    id=${f##*/lab-}; id=${id%.lock}
    echo "lock $f"
    ip netns list 2>/dev/null | grep -oE "^dj$id-[^ ]+" | sed 's/^/namespace /'
    ls /etc/netns 2>/dev/null | grep -E "^dj$id-" | sed 's/^/etc\/netns /'
  done
}

# dj_run FILE...: doorjam run, at most 60 s; sets rc and pid
dj_run() {
  local w
  "$DJ" run --quiet "$@" > "$TMP/out" 2> "$TMP/err" &
  pid=$!
  ( sleep 60; kill -KILL "$pid" ) 2>/dev/null &
  w=$!
  wait "$pid"
  rc=$?
  kill "$w" 2>/dev/null; wait "$w" 2>/dev/null
}

# run_bad NAME FILE [WANT_FILE]: exit 2, diagnostics, nothing applied.
# WANT_FILE: the exact diagnostics expected; otherwise every line must be
# "<file>:<line>:<col>: ..." or "<file>: ..." (a file that cannot be read).
run_bad() {
  local name=$1 file=$2 want=${3:-} before after bad left
  before=$(netstate)
  dj_run "$file"
  after=$(netstate)
  left=$(ours "$pid")
  check "$name: exit code" "$rc" 2
  if [ -n "$want" ]; then
    if cmp -s "$want" "$TMP/err"; then check "$name: diagnostics" same same
    else check "$name: diagnostics" "$(diff "$want" "$TMP/err" | head -5)" "as in $want"; fi
  else
    bad=$(grep -cvE '^[^:]+(:[0-9]+:[0-9]+)?: ' "$TMP/err")
    check "$name: every line is a diagnostic" "$bad" 0
    check_cmd "$name: says something" test -s "$TMP/err"
  fi
  if [ "$after" = "$before" ]; then check "$name: the machine's network unchanged" same same
  else check "$name: the machine's network unchanged" "$(diff <(echo "$before") <(echo "$after") | head -8)" "no change"; fi
  check "$name: no journal, lab lock or lab namespace" "$left" ""
  [ -s "$TMP/out" ] && { echo "    unexpected standard output:"; head -3 "$TMP/out"; }
}

n=0
for f in tests/data/invalid/*.json; do
  run_bad "$(basename "$f" .json)" "$f" "${f%.json}.expect"
  n=$((n + 1))
done
check_cmd "the invalid corpus has at least 40 files ($n)" test "$n" -ge 40

# positions: every corpus diagnostic about a place has a line and column
nopos=$(cat tests/data/invalid/*.expect | grep -vE '^[^:]+:[0-9]+:[0-9]+: ' |
        grep -vE ': cannot open: |: more than 100 errors; the rest are not listed$' | wc -l)
check "corpus diagnostics without file:line:col (other than unopenable files)" "$nopos" 0

# a 100 MB file is refused by its size, without being read
big=$TMP/big.json
{ printf '{"doorjam": 1, "name": "big", "description": "'
  head -c 104857600 /dev/zero | tr '\0' a
  printf '", "flows": []}\n'; } > "$big"
run_bad "100 MB scenario" "$big"
check_cmd "100 MB scenario: refused by its size" grep -q "$big: file is 1048576[0-9]* bytes, more than" "$TMP/err"

# nearly 16 MB of unknown keys (a million errors): the list stops at 100, in seconds
python3 - "$TMP/many.json" <<'PY'
import sys
parts = ['{"doorjam": 1, "name": "x", "flows": [{"name": "f", "steps": [{"http": {"url": "http://127.0.0.1:1/"}}]}]']
total, n = len(parts[0]), 0
while total < 16000000:
    p = ',"k%d":%d' % (n, n)
    parts.append(p); total += len(p); n += 1
open(sys.argv[1], 'w').write(''.join(parts) + '}')
PY
run_bad "a million errors" "$TMP/many.json"
check "a million errors: 100 listed, then one line that says so" "$(wc -l < "$TMP/err")" 101
check_cmd "a million errors: says the rest are not listed" \
  grep -q "many.json: more than 100 errors; the rest are not listed" "$TMP/err"

# JSON nested 100,000 deep: the parser's depth limit, with a position
python3 -c "import sys; sys.stdout.write('['*100000 + ']'*100000)" > "$TMP/deep-array.json"
run_bad "deeply nested arrays" "$TMP/deep-array.json"
check_cmd "deeply nested arrays: depth limit at 1:2049" \
  grep -q "deep-array.json:1:2049: invalid JSON: maximum parsing depth" "$TMP/err"
python3 -c "import sys; sys.stdout.write('{\"a\":'*100000 + '1' + '}'*100000)" > "$TMP/deep-object.json"
run_bad "deeply nested objects" "$TMP/deep-object.json"
check_cmd "deeply nested objects: depth limit" grep -q "maximum parsing depth" "$TMP/err"
# nested deep inside a valid scenario, where the loader walks values
python3 - "$TMP/deep-params.json" <<'PY'
import sys
deep = '[' * 2000 + ']' * 2000
open(sys.argv[1], 'w').write('{"doorjam": 1, "name": "x", "flows": [{"name": "f", "steps": [{"jsonrpc": {"url": "http://127.0.0.1:1/", "method": "m", "params": %s}}]}], "expect": {"f": %s}}' % (deep, deep))
PY
run_bad "deep values in a scenario" "$TMP/deep-params.json"

# symlink loops, as the scenario and as a referenced file
ln -s "$TMP/loop2.json" "$TMP/loop1.json"
ln -s "$TMP/loop1.json" "$TMP/loop2.json"
run_bad "symlink loop" "$TMP/loop1.json"
check_cmd "symlink loop: named" grep -q "loop1.json: cannot open: Too many levels of symbolic links" "$TMP/err"
printf '{\n  "doorjam": 1,\n  "name": "x",\n  "flows": "loop1.json"\n}\n' > "$TMP/ref-loop.json"
run_bad "flows file is a symlink loop" "$TMP/ref-loop.json"
check_cmd "flows file is a symlink loop: at /flows" grep -q "ref-loop.json:4:12: /flows: " "$TMP/err"
printf '{\n  "doorjam": 1,\n  "name": "x",\n  "lab": "loop1.json",\n  "flows": []\n}\n' > "$TMP/lab-loop.json"
run_bad "lab file is a symlink loop" "$TMP/lab-loop.json"
check_cmd "lab file is a symlink loop: at /lab" grep -q "lab-loop.json:4:10: /lab: " "$TMP/err"

# a FIFO, a device and a folder must be refused, not waited on or read
mkfifo "$TMP/fifo.json"
run_bad "FIFO as the scenario" "$TMP/fifo.json"
check_cmd "FIFO: not a regular file" grep -q "fifo.json: not a regular file" "$TMP/err"
printf '{\n  "doorjam": 1,\n  "name": "x",\n  "flows": "fifo.json"\n}\n' > "$TMP/ref-fifo.json"
run_bad "FIFO as the flows file" "$TMP/ref-fifo.json"
printf '{\n  "doorjam": 1,\n  "name": "x",\n  "lab": "/dev/zero",\n  "flows": []\n}\n' > "$TMP/ref-dev.json"
run_bad "device as the lab file" "$TMP/ref-dev.json"
check_cmd "device: not a regular file" grep -q "/dev/zero: not a regular file" "$TMP/err"
mkdir "$TMP/folder.json"
run_bad "folder as the scenario" "$TMP/folder.json"

# a missing lab file, and a lab file with errors (made here, outside the corpus)
printf '{\n  "doorjam": 1,\n  "name": "x",\n  "lab": "labs/nope.json",\n  "flows": []\n}\n' > "$TMP/no-lab.json"
run_bad "missing lab file" "$TMP/no-lab.json"
check_cmd "missing lab file: at /lab" grep -q "no-lab.json:4:10: /lab: lab file \"$TMP/labs/nope.json\": No such file or directory" "$TMP/err"
sed -e 's/"10.77.2.10"/"10.77.1.99"/' -e 's/"host": "dns"/"host": "resolver"/' \
  scenarios/labs/wallet-demo.json > "$TMP/bad-lab.json"
sed -e 's#"labs/wallet-demo.json"#"bad-lab.json"#' -e "s#\"flows/wallet.json\"#\"$ROOT/scenarios/flows/wallet.json\"#" \
  scenarios/aws-us-east-1-outage.json > "$TMP/bad-lab-scenario.json"
run_bad "lab file with errors" "$TMP/bad-lab-scenario.json"
check_cmd "lab file with errors: shared /24 named" grep -q "bad-lab.json:[0-9]*:[0-9]*: /hosts/rpc-b/address: hosts rpc-a and rpc-b share a /24" "$TMP/err"
check_cmd "lab file with errors: unknown DNS host named" grep -q "bad-lab.json:[0-9]*:[0-9]*: /dns/host: no host is called \"resolver\"" "$TMP/err"

# one invalid scenario among valid ones: nothing runs at all
svc_before=$(pgrep -f '[t]imestamp 1767225600|[e]xamples/wallet-demo/(wallet|prices)' | wc -l)
before=$(netstate)
dj_run scenarios/aws-us-east-1-outage.json tests/data/invalid/lab-overlap.json
check "valid + invalid scenario: exit code" "$rc" 2
check "valid + invalid scenario: the machine's network unchanged" "$(netstate)" "$before"
check "valid + invalid scenario: no journal, lab lock or lab namespace" "$(ours "$pid")" ""
check "valid + invalid scenario: no lab service started" \
  "$(pgrep -f '[t]imestamp 1767225600|[e]xamples/wallet-demo/(wallet|prices)' | wc -l)" "$svc_before"
finish
