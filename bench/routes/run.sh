#!/usr/bin/env bash
# Apply and revert 1,000 prefixes as unreachable routes in one throw-away
# namespace, three ways, several runs each, and print medians and ratios:
#   doorjam  - injector/route: one private table + one policy rule over one
#              netlink socket, journaled (fsync) in /run as in a real run
#   ip/rule  - `ip route add` once per prefix (how tools that shell out work)
#   ip-batch - `ip -batch` (one process, one netlink stream: the practical limit)
# Usage: bench/routes/run.sh [BUILD_DIR] [N] [RUNS]   (as root)
set -eu
cd "$(dirname "$0")/../.."
B=${1:-build/std}; N=${2:-1000}; RUNS=${3:-7}
[ "$(id -u)" -eq 0 ] || { echo "needs root"; exit 77; }
[ -f "$B/libdoorjam.a" ] || { echo "build first: make BUILD=... (missing $B/libdoorjam.a)"; exit 77; }
NS=djt-bench-$$
work=$(mktemp -d /tmp/djt-bench.XXXXXX)
export DOORJAM_JOURNAL_DIR=/run/doorjam-bench-$$
trap 'ip netns del $NS 2>/dev/null; rm -rf "$work" "$DOORJAM_JOURNAL_DIR"' EXIT
ip netns add $NS
ip -n $NS link set lo up

PKGS="libnl-3.0 libnl-route-3.0 libnl-nf-3.0 libpcap libcurl jansson"
cc -O2 -std=gnu11 -D_GNU_SOURCE -I. $(pkg-config --cflags $PKGS) -o "$work/bench_routes" \
  bench/routes/bench_routes.c "$B/libdoorjam.a" $(pkg-config --libs $PKGS) -lpthread -lm

T=1684700000
for i in $(seq 0 $((N - 1))); do
  echo "route add unreachable 10.$((64 + i / 256)).$((i % 256)).0/24 table $T proto 215"
done > "$work/add"
sed 's/^route add/route del/' "$work/add" > "$work/del"

ms() { awk -v a=$1 -v b=$(date +%s%N) 'BEGIN{printf "%.2f", (b - a) / 1e6}'; }
div() { awk -v a=$1 -v b=$2 'BEGIN{printf "%.4f", a / b}'; }
median() { sort -n | awk '{a[NR]=$1} END{if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }

dj_a=() dj_r=() one_a=() one_r=() bat_a=() bat_r=()
for r in $(seq $RUNS); do
  read -r a v < <("$work/bench_routes" $NS $N 1)
  dj_a+=($a); dj_r+=($v)

  t=$(date +%s%N)
  while read -r line; do ip -n $NS $line; done < "$work/add"
  one_a+=($(ms $t))
  t=$(date +%s%N)
  while read -r line; do ip -n $NS $line; done < "$work/del"
  one_r+=($(ms $t))

  t=$(date +%s%N); ip -n $NS -batch "$work/add"; bat_a+=($(ms $t))
  t=$(date +%s%N); ip -n $NS -batch "$work/del"; bat_r+=($(ms $t))
  [ -z "$(ip -n $NS route show table all proto 215)" ] || { echo "routes left over"; exit 1; }
done

m() { printf '%s\n' "$@" | median; }
da=$(m "${dj_a[@]}"); dr=$(m "${dj_r[@]}")
oa=$(m "${one_a[@]}"); or=$(m "${one_r[@]}")
ba=$(m "${bat_a[@]}"); br=$(m "${bat_r[@]}")
printf 'prefixes %d, runs %d, medians in ms (kernel %s)\n' $N $RUNS "$(uname -r)"
printf '%-10s %10s %10s\n' method apply revert
printf '%-10s %10.1f %10.1f\n' doorjam $da $dr ip/rule $oa $or ip-batch $ba $br
printf 'ip/rule / doorjam:  apply %.0fx, revert %.0fx\n' $(div $oa $da) $(div $or $dr)
printf 'doorjam / ip-batch: apply %.2fx, revert %.2fx\n' $(div $da $ba) $(div $dr $br)
