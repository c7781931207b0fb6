#!/usr/bin/env bash
# The uml test layer: every tests/uml/test_*.sh, each with the build folder as argument.
set -u
B=$1
cd "$(dirname "$0")/../.."
pass=0 fail=0
for t in tests/uml/test_*.sh; do
  [ -f "$t" ] || continue
  if timeout 900 bash "$t" "$B"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "uml: FAIL $t"; fi
done
echo "uml: $pass passed, $fail failed"
[ $fail -eq 0 ]
