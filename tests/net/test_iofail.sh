#!/usr/bin/env bash
# doorjam's own I/O failing, as root: `doorjam run` against a three-namespace
# path (net_lib.sh) with a route fault and a tc fault, while the LD_PRELOAD
# shim tests/shim/iofail.c breaks one of its own calls:
#  * the journal's disk is full when the first record is appended: nothing is
#    applied, the run stops and names the journal and ENOSPC;
#  * the journal's fsync fails (EIO) before the first object is made: same;
#  * the second route of a fault fails in netlink (ENOBUFS), half-way through
#    its apply: the first route is undone, the run stops and says which
#    request failed; no journal is left;
#  * the tc fault's filter fails in netlink after its qdisc was made: same;
#  * every route delete fails while the fault is lifted: the run says so,
#    keeps its journal and points at `doorjam recover`, which (without the
#    shim) removes what is left;
#  * the JSON report's disk is full: the faults are lifted all the same, the
#    report is not left half-written (neither the file nor its temporary),
#    the other report is written, and the exit code is not 0;
#  * a real full tmpfs (no shim) for the journal folder: the run is refused
#    (exit 3) and nothing is applied.
# After every case the namespaces are byte for byte as before.
B=$1; AREA=iof
. "$(dirname "$0")/net_lib.sh"
DJ=$B/doorjam
[ -x "$DJ" ] || DJ=./doorjam
SHIM=$(cd "$B" && pwd)/shim/iofail.so
[ -x "$DJ" ] || fail "no doorjam binary in $B or ."
[ -f "$SHIM" ] || fail "missing $SHIM: build it with make"
command -v jq > /dev/null || { echo "jq is missing (apt-get install jq)"; exit 77; }
# an instrumented doorjam wants its sanitizer runtime first; the shim comes
# before it and forwards every call, which is fine for these tests
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0
lab_up
# the full tmpfs of the last case must not outlive the test, whatever ends it
trap 'umount "$DOORJAM_JOURNAL_DIR/work/full" 2> /dev/null; cleanup' EXIT
before=$(state)
W=$DOORJAM_JOURNAL_DIR/work
mkdir -p "$W"
fails=0

check() {  # DESCRIPTION GOT WANT [FILE to show on failure]
  if [ "$2" = "$3" ]; then echo "ok: $1"; else
    echo "FAIL: $1: got [$2], want [$3]"; fails=$((fails + 1))
    [ -n "${4:-}" ] && sed 's/^/    /' "$4" | head -n 20
  fi
}
has() {  # DESCRIPTION FILE REGEX
  if grep -qE "$3" "$2"; then echo "ok: $1"; else
    echo "FAIL: $1: /$3/ not in $2:"; sed 's/^/    /' "$2" | tail -n 20; fails=$((fails + 1)); fi
}

cat > "$W/scenario.json" << 'EOF'
{
  "doorjam": 1,
  "name": "iofail",
  "description": "A route fault and a tc fault in the core of a test path, for tests/net/test_iofail.sh.",
  "schedule": { "baseline": "300ms", "fault": "1500ms", "recovery": "300ms", "every": "250ms" },
  "flows": [ { "name": "tick", "steps": [ { "exec": { "argv": ["true"] } } ] } ],
  "faults": [
    { "kind": "net.unreachable", "prefixes": ["10.77.2.0/24", "fd77:2::/64", "10.77.9.9/32"] },
    { "kind": "net.loss", "loss": "30%", "prefixes": ["10.77.9.9/32"], "device": "rs", "at": "200ms" }
  ]
}
EOF

# run NAME SHIMRULES [doorjam options]: one run; sets rc; output in $W/NAME.out
run() {
  local name=$1 rules=$2; shift 2
  if [ -n "$rules" ]; then
    DJ_IOFAIL=$rules LD_PRELOAD=$SHIM "$DJ" run "$W/scenario.json" --target "$R" --quiet \
      --seed 3 "$@" > "$W/$name.out" 2>&1
  else
    "$DJ" run "$W/scenario.json" --target "$R" --quiet --seed 3 "$@" > "$W/$name.out" 2>&1
  fi
  rc=$?
  # what doorjam said, for the log
  grep -E '^(iofail:|[0-9:.]+ (error|warn))' "$W/$name.out" | cut -c1-240 | sed 's/^/    | /'
}
journals() { ls "$DOORJAM_JOURNAL_DIR" | grep -c '\.journal$'; }

echo "== a clean run first (the shim loaded, no rule)"
LD_PRELOAD=$SHIM "$DJ" run "$W/scenario.json" --target "$R" --quiet --seed 3 \
  --report json:"$W/clean.json" > "$W/clean.out" 2>&1
rc=$?
check "clean run: exit 0" "$rc" 0
[ "$rc" -eq 0 ] || sed 's/^/    /' "$W/clean.out"
check "clean run: both faults were applied" \
  "$(jq '[.faults[] | select(.start_ms != null and .error == null)] | length' "$W/clean.json")" 2
check "clean run: state as before" "$(state)" "$before"

echo "== journal: disk full on the first record"
run jfull "write:.journal:2" --report json:"$W/jfull.json"
has "jfull: the shim fired" "$W/jfull.out" '^iofail: write on a file matching'
check "jfull: exit 1" "$rc" 1 "$W/jfull.out"
has "jfull: names the journal and the error" "$W/jfull.out" 'journal: write .*\.journal: No space left on device'
check "jfull: the report names it too" "$(jq -r '.error' "$W/jfull.json" | grep -c 'No space left on device')" 1
check "jfull: no fault was applied" "$(jq '[.faults[] | select(.start_ms != null and .error == null)] | length' "$W/jfull.json")" 0
check "jfull: no journal left" "$(journals)" 0
check "jfull: state as before" "$(state)" "$before"

echo "== journal: fsync fails before the first object"
run jsync "fsync:.journal:2"
has "jsync: the shim fired" "$W/jsync.out" '^iofail: f(data)?sync'
check "jsync: exit 1" "$rc" 1 "$W/jsync.out"
has "jsync: names the journal and EIO" "$W/jsync.out" 'journal: fsync .*: Input/output error'
check "jsync: no journal left" "$(journals)" 0
check "jsync: state as before" "$(state)" "$before"

echo "== netlink: the second route fails half-way through the apply"
run nlroute "nl:newroute:2" --report json:"$W/nlroute.json"
has "nlroute: the shim fired" "$W/nlroute.out" '^iofail: netlink message type 24'
check "nlroute: exit 1" "$rc" 1 "$W/nlroute.out"
has "nlroute: says which request failed" "$W/nlroute.out" 'applying net\.unreachable.* failed: .*add unreachable route fd77:2::/64.*(No buffer space|ENOBUFS|buffer)'
check "nlroute: the fault window records the error" \
  "$(jq '[.faults[] | select(.error != null)] | length' "$W/nlroute.json")" 1
check "nlroute: no journal left" "$(journals)" 0
check "nlroute: the first route was undone (state as before)" "$(state)" "$before"

echo "== netlink: the tc filter fails after its qdisc was made"
run nltc "nl:newtfilter:1"
has "nltc: the shim fired" "$W/nltc.out" '^iofail: netlink message type 44'
check "nltc: exit 1" "$rc" 1 "$W/nltc.out"
has "nltc: says applying net.loss failed" "$W/nltc.out" 'applying net\.loss.* failed'
check "nltc: no journal left" "$(journals)" 0
check "nltc: the qdisc and the route fault were removed (state as before)" "$(state)" "$before"

echo "== netlink: every route delete fails while lifting"
run nldel "nl:delroute:1+" --report json:"$W/nldel.json"
has "nldel: the shim fired" "$W/nldel.out" '^iofail: netlink message type 25'
check "nldel: exit is not 0" "$([ "$rc" -ne 0 ] && echo nonzero)" nonzero
has "nldel: says lifting failed" "$W/nldel.out" 'lifting net\.unreachable.* failed'
has "nldel: points at doorjam recover" "$W/nldel.out" 'doorjam recover'
check "nldel: the journal stays" "$(journals)" 1
check "nldel: the routes are still there (the state differs)" "$([ "$(state)" != "$before" ] && echo differs)" differs
"$DJ" recover > "$W/recover.out" 2>&1
check "nldel: recover exits 0" "$?" 0
check "nldel: after recover no journal" "$(journals)" 0
check "nldel: after recover state as before" "$(state)" "$before"

echo "== report: disk full while the JSON report is written"
run rfull "write:rfull.json:1" --report json:"$W/rfull.json" --report junit:"$W/rfull.xml"
has "rfull: the shim fired" "$W/rfull.out" '^iofail: (write|fflush) on a file matching "rfull.json"'
check "rfull: exit is not 0" "$([ "$rc" -ne 0 ] && echo nonzero)" nonzero
has "rfull: names the report and ENOSPC" "$W/rfull.out" 'rfull\.json.*No space left on device'
check "rfull: no half-written report" "$(ls "$W" | grep -c '^rfull\.json')" 0
check "rfull: the JUnit report was written" "$(grep -c '<testsuite ' "$W/rfull.xml")" 1
check "rfull: no journal left" "$(journals)" 0
check "rfull: state as before" "$(state)" "$before"

echo "== a real full tmpfs as the journal folder (no shim)"
FULL=$W/full
mkdir -p "$FULL"
if mount -t tmpfs -o size=16k,mode=0700 djt-iof "$FULL"; then
  dd if=/dev/zero of="$FULL/filler" bs=1k count=64 2> /dev/null
  DOORJAM_JOURNAL_DIR=$FULL "$DJ" run "$W/scenario.json" --target "$R" --quiet --seed 3 \
    > "$W/tmpfs.out" 2>&1
  rc=$?
  check "tmpfs: refused (exit 3)" "$rc" 3
  has "tmpfs: names the journal and ENOSPC" "$W/tmpfs.out" 'journal.*No space left on device'
  check "tmpfs: state as before" "$(state)" "$before"
  umount "$FULL"
else
  echo "FAIL: cannot mount a tmpfs at $FULL"; fails=$((fails + 1))
fi

[ "$fails" -eq 0 ] || { echo "test_iofail: $fails failed"; exit 1; }
echo "test_iofail: all passed"
