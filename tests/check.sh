#!/usr/bin/env bash
# make check: every test layer, in order, each run even when an earlier one
# failed, then one closing line. $1 is the build folder (build/std or
# build/san); FUZZ_SECONDS sets the fuzz budget per target (default 5).
set -u
B=$1
cd "$(dirname "$0")/.."
layers=(unit net uml e2e fuzz)
[ -n "${LAYERS:-}" ] && read -r -a layers <<< "$LAYERS"
pass=0 fail=0 failed=()
for l in "${layers[@]}"; do
  start=$(date +%s)
  echo "== $l"
  case $l in
    unit) make --no-print-directory unit ;;
    fuzz) tests/fuzz/run.sh "${FUZZ_SECONDS:-5}" ;;
    *)    "tests/$l/run.sh" "$B" ;;
  esac
  rc=$?
  echo "== $l: $([ $rc -eq 0 ] && echo passed || echo FAILED) in $(( $(date +%s) - start ))s"
  if [ $rc -eq 0 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); failed+=("$l"); fi
done
[ $fail -gt 0 ] && echo "failed layers: ${failed[*]}"
echo "check: $pass passed, $fail failed"
[ $fail -eq 0 ]
