#!/usr/bin/env bash
# The e2e test layer: every tests/e2e/test_*.sh, each with the build folder as argument.
set -u
B=$1
cd "$(dirname "$0")/../.."
pass=0 fail=0
for t in tests/e2e/test_*.sh; do
  [ -f "$t" ] || continue
  if timeout 900 bash "$t" "$B"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "e2e: FAIL $t"; fi
done
echo "e2e: $pass passed, $fail failed"
[ $fail -eq 0 ]
