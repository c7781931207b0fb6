#!/usr/bin/env bash
# DNS server benchmark: doorjam's server against dnsmasq (address=/.../ rules)
# and unbound (local-zone rules), same query files, same run.
#
#   bench/dns/run.sh BUILD_DIR [SECONDS]
#
# Each server runs alone inside namespace djt-dnsbench-$$ (lo only), pinned
# to CPU 0; dnsperf runs on CPU 1 with 100 queries outstanding. Two query
# files: (a) names of a 1000-name zone (A answers), (b) names under a suffix
# that a rule answers NXDOMAIN. Prints one table row per server and file:
# queries per second, average and maximum latency, lost queries and the
# server's peak resident memory. Needs root, dnsperf, dnsmasq and unbound
# (Debian packages dnsperf, dnsmasq-base, unbound).
set -u
B=${1:?usage: bench/dns/run.sh BUILD_DIR [SECONDS]}
secs=${2:-10}
cd "$(dirname "$0")/../.."
[ "$(id -u)" -eq 0 ] || { echo "needs root"; exit 77; }
for t in dnsperf dnsmasq unbound taskset; do
  command -v $t > /dev/null || { echo "$t is missing"; exit 77; }
done
DNSD=$B/helpers/dnsd
[ -x "$DNSD" ] || { echo "build $DNSD first"; exit 1; }

ns=djt-dnsbench-$$
dir=$(mktemp -d /tmp/djt-dnsbench.XXXXXX)
chmod 755 "$dir"
srv=
cleanup() {
  [ -n "$srv" ] && kill "$srv" 2> /dev/null && wait "$srv" 2> /dev/null
  ip netns del "$ns" 2> /dev/null
  rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
ip netns add "$ns"
ip -n "$ns" link set lo up
nx() { ip netns exec "$ns" "$@"; }

# The zone, the query files and each server's configuration.
n=1000
: > "$dir/zone.q"; : > "$dir/nx.q"; : > "$dir/dnsmasq.conf"; : > "$dir/unbound.zone"
zone_json=""
for i in $(seq 0 $((n - 1))); do
  a="10.77.$((i / 250)).$((i % 250 + 1))"
  echo "bench-$i.zone.example A" >> "$dir/zone.q"
  echo "q-$i.nx.example A" >> "$dir/nx.q"
  echo "address=/bench-$i.zone.example/$a" >> "$dir/dnsmasq.conf"
  echo "local-data: \"bench-$i.zone.example. 60 IN A $a\"" >> "$dir/unbound.zone"
  zone_json="$zone_json\"bench-$i.zone.example\": \"$a\","
done
echo "address=/nx.example/" >> "$dir/dnsmasq.conf"
cat > "$dir/doorjam.json" << EOF
{ "dns": { "listen": ["127.0.0.1:5301"], "zone": { ${zone_json%,} } },
  "faults": [ { "kind": "dns.nxdomain", "names": "*.nx.example", "ttl": 30 } ],
  "log": false }
EOF
cat > "$dir/unbound.conf" << EOF
server:
  interface: 127.0.0.1@5303
  port: 5303
  do-daemonize: no
  username: ""
  chroot: ""
  directory: "$dir"
  pidfile: ""
  use-syslog: no
  logfile: ""
  verbosity: 0
  num-threads: 1
  do-ip6: no
  access-control: 127.0.0.0/8 allow
  module-config: "iterator"
  local-zone: "nx.example." always_nxdomain
  local-zone: "zone.example." static
  include: "$dir/unbound.zone"
remote-control:
  control-enable: no
EOF

start() {  # start NAME PORT CMD...: run pinned to CPU 0, wait until it answers
  local name=$1 port=$2; shift 2
  # Not through nx(): in the background a function runs in a subshell, and
  # srv must be the server's own pid (ip netns exec and taskset exec into it).
  ip netns exec "$ns" taskset -c 0 "$@" > "$dir/$name.out" 2>&1 &
  srv=$!
  for _ in $(seq 100); do
    nx dig @127.0.0.1 -p "$port" +time=1 +tries=1 bench-1.zone.example > /dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "$name did not start:"; cat "$dir/$name.out"; exit 1
}
stop() { kill "$srv"; wait "$srv" 2> /dev/null; srv=; }
peak_kib() { awk '/VmHWM/ {print $2}' "/proc/$1/status" 2> /dev/null; }
run_set() {  # run_set NAME PORT
  local name=$1 port=$2 f pid
  pid=$srv
  for f in zone nx; do
    nx taskset -c 1 dnsperf -s 127.0.0.1 -p "$port" -d "$dir/$f.q" -l "$secs" -c 4 -q 100 \
      > "$dir/$name.$f.perf" 2>&1
    awk -v s="$name" -v f="$f" -v m="$(peak_kib "$pid")" '
      /Queries lost:/ {lost=$3}
      /Queries per second:/ {qps=$4}
      /Average Latency/ {avg=$4; max=$8; sub(/\)/, "", max); sub(/,/, "", avg)}
      /Response codes:/ {codes=$0; sub(/.*codes: */, "", codes)}
      END {printf "| %-8s | %-4s | %10.0f | %8.3f | %8.3f | %6s | %6.1f | %s |\n",
           s, f, qps, avg * 1000, max * 1000, lost, m / 1024, codes}' "$dir/$name.$f.perf"
  done
}

echo "| server   | set  |        qps | avg (ms) | max (ms) |   lost | peak RSS (MiB) | response codes |"
echo "|---|---|---:|---:|---:|---:|---:|---|"
start doorjam 5301 "$DNSD" "$dir/doorjam.json"
run_set doorjam 5301
stop
start dnsmasq 5302 dnsmasq -k --conf-file="$dir/dnsmasq.conf" --no-resolv --no-hosts \
  --port=5302 --listen-address=127.0.0.1 --bind-interfaces --pid-file= --user=root \
  --cache-size=0 --log-facility=-
run_set dnsmasq 5302
stop
start unbound 5303 unbound -d -c "$dir/unbound.conf"
run_set unbound 5303
stop
echo
echo "$(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')), ${secs}s per row," \
     "dnsperf $(dpkg-query -W -f '${Version}' dnsperf 2> /dev/null)," \
     "dnsmasq $(dnsmasq --version | head -1 | awk '{print $3}'), unbound $(unbound -V | head -1 | awk '{print $2}')"
