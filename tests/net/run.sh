#!/usr/bin/env bash
# Run the namespace tests: every tests/net/test_*.sh, each with the build
# folder as its argument. Each test makes its own namespaces (named djt-*)
# and deletes them on every path. Needs root; as non-root every test is
# reported skipped, with the reason. In CI (CI=true) a skip is a failure.
set -u
B=$1
cd "$(dirname "$0")/../.."
pass=0 fail=0 skip=0 failed=()
if [ "$(id -u)" -ne 0 ]; then
  echo "net: SKIP all: needs root (network namespaces, netlink)"
  [ "${CI:-}" = true ] && { echo "net: 0 passed, 1 failed"; exit 1; }
  echo "net: 0 passed, 0 failed, 1 skipped"; exit 0
fi
for t in tests/net/test_*.sh; do
  [ -f "$t" ] || continue
  name=$(basename "$t" .sh)
  out=$(mktemp)
  timeout 300 bash "$t" "$B" > "$out" 2>&1
  rc=$?
  if [ $rc -eq 0 ]; then
    pass=$((pass + 1)); echo "net: PASS $name"
  elif [ $rc -eq 77 ]; then
    skip=$((skip + 1)); echo "net: SKIP $name: $(tail -n 1 "$out")"
    if [ "${CI:-}" = true ]; then fail=$((fail + 1)); failed+=("$name(skipped in CI)"); fi
  else
    fail=$((fail + 1)); failed+=("$name"); echo "net: FAIL $name (exit $rc)"; sed 's/^/    /' "$out"
  fi
  rm -f "$out"
done
left=$(ip netns list 2>/dev/null | awk '$1 ~ /^djt-/ {print $1}')
if [ -n "$left" ]; then
  echo "net: FAIL leftovers: namespaces $left"; fail=$((fail + 1))
  for n in $left; do ip netns del "$n" 2>/dev/null; done
fi
[ $fail -gt 0 ] && echo "failed: ${failed[*]}"
echo "net: $pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
