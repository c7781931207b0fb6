#!/usr/bin/env bash
# The e2e test layer: every tests/e2e/test_*.sh, each with the build folder as
# argument. Exit 77 means skipped (the reason is on its last line); in CI
# (CI=true) a skip is a failure.
set -u
B=$1
cd "$(dirname "$0")/../.."
pass=0 fail=0 skip=0 failed=()
for t in tests/e2e/test_*.sh; do
  [ -f "$t" ] || continue
  name=$(basename "$t" .sh)
  start=$(date +%s)
  out=$(mktemp)
  timeout 900 bash "$t" "$B" > "$out" 2>&1
  rc=$?
  secs=$(( $(date +%s) - start ))
  if [ $rc -eq 0 ]; then
    pass=$((pass + 1)); echo "e2e: PASS $name (${secs}s)"
  elif [ $rc -eq 77 ] && [ "${CI:-}" != true ]; then
    skip=$((skip + 1)); echo "e2e: SKIP $name: $(tail -n 1 "$out")"
  else
    fail=$((fail + 1)); failed+=("$name"); echo "e2e: FAIL $name (exit $rc, ${secs}s)"
    grep -E 'FAIL' "$out" | head -n 40 | sed 's/^/    /'
    echo "    --- last lines:"
    tail -n 30 "$out" | sed 's/^/    /'
  fi
  rm -f "$out"
done
[ $fail -gt 0 ] && echo "failed: ${failed[*]}"
echo "e2e: $pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
