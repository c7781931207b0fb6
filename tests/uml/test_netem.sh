#!/usr/bin/env bash
# netem faults for real: this machine's kernel has no sch_netem, so the
# checks run inside a User-Mode Linux kernel (linux.uml from the
# user-mode-linux package) that loads sch_netem.ko. UML boots with the host
# file system as its root and tests/uml/netem_init.sh as init, which runs
# doorjam's netfault driver against two namespaces of its own and writes the
# results to a file in the build folder. Exit 0 pass, 1 fail, 77 skip.
set -u
B=$1
cd "$(dirname "$0")/../.."
root=$(pwd)
UML=${UML:-/usr/bin/linux.uml}
[ -x "$UML" ] || { echo "linux.uml missing: apt-get install user-mode-linux"; exit 77; }
MODS=$(ls -d /usr/lib/uml/modules/*/ 2>/dev/null | head -n 1)
[ -n "$MODS" ] && [ -f "$MODS/kernel/net/sched/sch_netem.ko" ] ||
  { echo "UML modules (sch_netem.ko) missing: apt-get install user-mode-linux"; exit 77; }
[ -x "$B/helpers/netfault" ] || { echo "missing $B/helpers/netfault: build first"; exit 77; }
for t in ip tc ping; do command -v $t >/dev/null || { echo "missing $t"; exit 77; }; done

out=$root/$B/uml-netem.result
rm -f "$out"; : > "$out"
log=$root/$B/uml-netem.console
# UML keeps its memory in a file under TMPDIR; give it a private one.
tmp=$(mktemp -d /tmp/djt-uml.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
TMPDIR=$tmp timeout 600 "$UML" mem=512M rootfstype=hostfs rootflags=/ rw \
  init="$root/tests/uml/netem_init.sh" con=null con0=fd:0,fd:1 \
  DJ_B="$root/$B" DJ_OUT="$out" < /dev/null > "$log" 2>&1
rc=$?
cat "$out"
if ! grep -q '^DONE' "$out"; then
  if [ ! -s "$out" ]; then
    echo "UML did not run the init script (exit $rc); console tail:"; tail -n 20 "$log"
    echo "UML could not boot here (exit $rc), see $log"
    exit 77
  fi
  echo "uml: the run ended early (exit $rc)"; exit 1
fi
grep -q '^FAIL' "$out" && exit 1
[ "$(grep -c '^PASS' "$out")" -ge 13 ] || { echo "uml: too few checks passed"; exit 1; }
echo "test_netem: all passed"
