#!/usr/bin/env bash
# Run every cmocka unit test binary in the given folder and print one closing
# line "unit: N passed, N failed". VALGRIND=1 runs each under valgrind's
# memcheck: an invalid access, or memory definitely or indirectly lost, fails
# the binary (`make valgrind`).
set -u
dir=$1
run=()
[ "${VALGRIND:-}" = 1 ] && run=(valgrind -q --error-exitcode=9 --leak-check=full
  --errors-for-leak-kinds=definite,indirect)
pass=0 fail=0 failed=()
cd "$(dirname "$0")/.."
for t in "$dir"/test_*; do
  [ -x "$t" ] || continue
  if "${run[@]}" "$t" > "$t.out" 2>&1; then
    pass=$((pass + 1))
  else
    fail=$((fail + 1)); failed+=("$(basename "$t")")
    cat "$t.out"
  fi
  grep -E '^\[  (PASSED|FAILED)  \]' "$t.out" | sed "s|^|$(basename "$t"): |"
done
[ $fail -gt 0 ] && echo "failed: ${failed[*]}"
echo "unit: $pass passed, $fail failed"
[ $fail -eq 0 ]
