#!/usr/bin/env bash
# Build every libFuzzer target tests/fuzz/fuzz_*.c with clang (ASan + UBSan)
# against the library sources, then run each for the given number of seconds
# on its seed corpus in tests/fuzz/corpus/<target>/. Crashes are saved under
# tests/fuzz/artifacts/ and fail the run.
set -u
secs=${1:-5}
cd "$(dirname "$0")/../.."
out=build/fuzz
mkdir -p "$out" tests/fuzz/artifacts
pkgs="libnl-3.0 libnl-route-3.0 libnl-nf-3.0 libpcap libcurl jansson"
cflags="-g -O1 -std=gnu11 -I. -D_GNU_SOURCE $(pkg-config --cflags $pkgs) -fsanitize=fuzzer,address,undefined"
libs="$(pkg-config --libs $pkgs) -lpthread -lm"
src=$(ls common/*.c injector/*.c reports/*.c runner/*.c 2>/dev/null | grep -v '^runner/main.c$')
pass=0 fail=0
for f in tests/fuzz/fuzz_*.c; do
  [ -f "$f" ] || continue
  name=$(basename "$f" .c)
  if ! clang $cflags -o "$out/$name" "$f" $src $libs 2> "$out/$name.build.log"; then
    echo "fuzz: FAIL $name (build)"; cat "$out/$name.build.log"; fail=$((fail + 1)); continue
  fi
  corpus=tests/fuzz/corpus/$name
  mkdir -p "$corpus" "$out/$name.corpus"
  if "$out/$name" -max_total_time="$secs" -artifact_prefix=tests/fuzz/artifacts/ \
       -print_final_stats=1 "$out/$name.corpus" "$corpus" > "$out/$name.log" 2>&1; then
    runs=$(grep -ao 'stat::number_of_executed_units: *[0-9]*' "$out/$name.log" | grep -o '[0-9]*$')
    echo "fuzz: PASS $name (${runs:-?} executions in ${secs}s)"; pass=$((pass + 1))
  else
    echo "fuzz: FAIL $name"; tail -n 40 "$out/$name.log"; fail=$((fail + 1))
  fi
done
echo "fuzz: $pass passed, $fail failed"
[ $fail -eq 0 ]
