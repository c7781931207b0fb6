#!/usr/bin/env bash
# Load benchmark (issue 8, "Load"): a minute of load on the RPC proxy and on
# the DNS server, each beside the tool a user would pick instead, same run.
#
#   bench/load/run.sh BUILD_DIR [SECONDS]     (root; SECONDS defaults to 60)
#   environment: IDLE=10000 CONNS=20 QPS=50000 WARM=10, RAW=DIR keeps the raw
#   outputs (wrk, dnsperf, RSS samples, probes) in DIR
#
# 1. Proxy: a one-worker nginx answers a fixed JSON-RPC reply (the upstream,
#    as in bench/rpc). In front of it, in turn, doorjam's proxy
#    (tests/helpers/rpcproxy) and nginx as a reverse proxy. Each gets IDLE
#    silent client connections (tests/helpers/idlehold) held for the whole
#    leg, plus wrk with CONNS keep-alive connections for SECONDS. Afterwards
#    every idle connection still open sends one request that must be answered
#    200. The proxy's VmRSS is sampled every second.
# 2. DNS: doorjam's server (tests/helpers/dnsd), dnsmasq and unbound in turn,
#    dnsperf offering QPS queries per second for SECONDS (a mix of zone names
#    and names a dns.nxdomain rule answers), and once a second a dig probe
#    (UDP and TCP in turn, 1 s timeout) that must be answered. VmRSS sampled
#    every second.
# Memory is reported at WARM seconds into the load, at the end and at its
# maximum; growth = end or max minus the warm-up figure.
#
# Everything runs in namespace djt-load-$$ on its loopback only; the
# namespace, the processes and the temporary folder go on every exit path.
# CPU 0: upstream, load generators; CPU 1: the server under test (when there
# are two CPUs or more). Exit 77 when a tool is missing, 1 when a server
# crashed or a client stalled, 0 otherwise.
set -u
B=${1:?usage: bench/load/run.sh BUILD_DIR [SECONDS]}
SECS=${2:-60}
IDLE=${IDLE:-10000}
CONNS=${CONNS:-20}
QPS=${QPS:-50000}
WARM=${WARM:-10}
cd "$(dirname "$0")/../.." || exit 1
[ "$(id -u)" -eq 0 ] || { echo "needs root (namespaces)"; exit 77; }
for t in wrk nginx dnsperf dnsmasq unbound dig taskset ip; do
  command -v $t > /dev/null || { echo "$t is missing (Debian: wrk nginx-light dnsperf dnsmasq-base unbound dnsutils)"; exit 77; }
done
for h in rpcproxy dnsd idlehold; do
  [ -x "$B/helpers/$h" ] || { echo "build $B/helpers/$h first"; exit 77; }
done
[ "$SECS" -gt "$WARM" ] || { echo "SECONDS must be more than WARM ($WARM)"; exit 2; }
# Each of idlehold and the proxy under test holds IDLE sockets plus its own.
ulimit -n "$(ulimit -Hn)"
[ "$(ulimit -n)" -ge $((IDLE + 2000)) ] || { echo "descriptor limit $(ulimit -n) too low for IDLE=$IDLE"; exit 77; }

ns=djt-load-$$
T=$(mktemp -d /tmp/djt-load.XXXXXX)
chmod 755 "$T"
pids=()
cleanup() {
  local p
  [ -n "${RAW:-}" ] && mkdir -p "$RAW" && cp -r "$T"/. "$RAW"/
  for p in "${pids[@]}"; do kill "$p" 2> /dev/null; done
  # whatever still runs inside the namespace was started by this script
  sleep 0.2
  for p in $(ip netns pids "$ns" 2> /dev/null); do kill -KILL "$p" 2> /dev/null; done
  for p in "${pids[@]}"; do wait "$p" 2> /dev/null; done
  ip netns del "$ns" 2> /dev/null
  rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
ip netns add "$ns" || exit 1
ip -n "$ns" link set lo up
nx() { ip netns exec "$ns" "$@"; }
NCPU=$(nproc)
CPU_GEN=0; CPU_SRV=$((NCPU > 1 ? 1 : 0))
failed=0

# ---- shared: RSS sampling ----
rss_now() { awk '/^VmRSS/ {print $2}' "/proc/$1/status" 2> /dev/null; }
# cpu_ticks PID: user + system time so far, in clock ticks (fields 14 and 15
# of /proc/PID/stat, counted after the command name in parentheses)
cpu_ticks() { sed 's/.*) //' "/proc/$1/stat" 2> /dev/null | awk '{print $12 + $13}'; }
HZ=$(getconf CLK_TCK)
# rss_sampler PID OUT: "SECONDS KiB" lines, one a second, until killed
rss_sampler() {
  local pid=$1 out=$2 start=${EPOCHREALTIME/./} now v
  while v=$(rss_now "$pid") && [ -n "$v" ]; do
    now=${EPOCHREALTIME/./}
    echo "$(( (now - start) / 1000 )) $v" >> "$out"
    sleep 1
  done
}
# rss_summary FILE -> "warm end max" in KiB (warm: first sample at or after WARM s)
rss_summary() {
  awk -v w="$WARM" '$1 >= w * 1000 { if (!have) { warm = $2; have = 1 } if ($2 > max) max = $2; end = $2 }
    END { if (have) print warm, end, max; else print "- - -" }' "$1"
}
# UDP datagrams the namespace's kernel dropped for a full receive buffer
# (server or dnsperf side; /proc/net/snmp is per namespace)
udp_drops() { nx awk '$1 == "Udp:" && $2 ~ /^[0-9]/ {print $6}' /proc/net/snmp; }
wait_line() {  # wait_line FILE REGEX TENTHS
  local i
  for ((i = 0; i < $3; i++)); do grep -q "$2" "$1" 2> /dev/null && return 0; sleep 0.1; done
  return 1
}

# ---- part 1: the proxy ----
UP=8500; NG=8501; DJ=8502
BODY='{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}'
mkdir -p "$T/up" "$T/ng"
cat > "$T/up/nginx.conf" << EOF
worker_processes 1;
daemon off;
pid $T/up/nginx.pid;
error_log $T/up/error.log;
events { worker_connections 19000; }
http {
  access_log off;
  client_body_temp_path $T/up; proxy_temp_path $T/up; fastcgi_temp_path $T/up;
  uwsgi_temp_path $T/up; scgi_temp_path $T/up;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$UP backlog=4096;
    location / {
      default_type application/json;
      return 200 '{"jsonrpc":"2.0","id":1,"result":"0x7a69"}';
    }
  }
}
EOF
# Both proxies keep a silent connection for 10 minutes: doorjam's idle_timeout
# and nginx's client_header_timeout both default to 60 s, which would end the
# idle connections before the leg does.
HOLD=$((SECS * 2 + 120))
cat > "$T/ng/nginx.conf" << EOF
worker_processes 1;
daemon off;
pid $T/ng/nginx.pid;
error_log $T/ng/error.log;
events { worker_connections 19000; }
http {
  access_log off;
  client_body_temp_path $T/ng; proxy_temp_path $T/ng; fastcgi_temp_path $T/ng;
  uwsgi_temp_path $T/ng; scgi_temp_path $T/ng;
  keepalive_requests 1000000;
  client_header_timeout ${HOLD}s;
  keepalive_timeout ${HOLD}s;
  upstream up { server 127.0.0.1:$UP; keepalive 256; }
  server {
    listen 127.0.0.1:$NG backlog=4096;
    location / {
      proxy_pass http://up;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
EOF
cat > "$T/dj.json" << EOF
{"log": false, "rpc": {"load": {"listen": "127.0.0.1:$DJ", "upstream": "http://127.0.0.1:$UP",
                                "max_conns": 19000, "idle_timeout": "${HOLD}s"}}}
EOF
cat > "$T/post.lua" << EOF
wrk.method = "POST"
wrk.body = '$BODY'
wrk.headers["Content-Type"] = "application/json"
EOF
to_us() {  # "123.45us" / "1.23ms" / "1.2s" -> microseconds
  awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) print n; else if (v ~ /ms$/) print n * 1000;
    else if (v ~ /s$/) print n * 1000000; else print n }'
}

# Background servers through "ip netns exec" itself, never the nx function: a
# function in the background runs in a subshell, and $! must be the server's
# own pid (ip netns exec and taskset exec into it).
ip netns exec "$ns" taskset -c $CPU_GEN nginx -c "$T/up/nginx.conf" &
pids+=("$!")

# proxy_leg NAME PORT PID: idle connections + wrk + RSS; writes $T/NAME.row
proxy_leg() {
  local name=$1 port=$2 pid=$3 ih sp rss0 rss1 rss2 out cpu0 cpu1 load0 load1 reqs
  rss0=$(rss_now "$pid")
  ip netns exec "$ns" taskset -c $CPU_GEN "$B/helpers/idlehold" 127.0.0.1 "$port" "$IDLE" > "$T/$name.idle" 2>&1 &
  ih=$!
  pids+=("$ih")
  wait_line "$T/$name.idle" '^ready' 1200 || { echo "$name: idle connections not opened"; cat "$T/$name.idle"; exit 1; }
  sleep 1
  rss1=$(rss_now "$pid")
  rss_sampler "$pid" "$T/proxy-$name.rss" &
  sp=$!
  pids+=("$sp")
  cpu0=$(cpu_ticks "$pid")
  load0=$(cut -d' ' -f1 /proc/loadavg)
  nx taskset -c $CPU_GEN wrk -t1 -c"$CONNS" -d"${SECS}s" --timeout 2s --latency -s "$T/post.lua" \
    "http://127.0.0.1:$port/" > "$T/$name.wrk" 2>&1
  cpu1=$(cpu_ticks "$pid")
  load1=$(cut -d' ' -f1 /proc/loadavg)
  kill "$sp" 2> /dev/null; wait "$sp" 2> /dev/null
  kill -USR1 "$ih"
  wait "$ih"
  rss2=$(rss_now "$pid")
  out=$(cat "$T/$name.wrk")
  local rps p50 p99 max errs non2xx idle alive=yes
  rps=$(awk '/^Requests\/sec/ {printf "%.0f", $2}' <<< "$out")
  p50=$(to_us "$(awk '$1 == "50%" {print $2}' <<< "$out")")
  p99=$(to_us "$(awk '$1 == "99%" {print $2}' <<< "$out")")
  max=$(to_us "$(awk '$1 == "Latency" {print $4}' <<< "$out")")
  errs=$(awk '/Socket errors/ {gsub(",", ""); print $4 "/" $6 "/" $8 "/" $10}' <<< "$out")
  non2xx=$(awk '/Non-2xx/ {print $NF}' <<< "$out")
  idle=$(grep '^idle ' "$T/$name.idle")
  reqs=$(awk '/requests in/ {print $1}' <<< "$out")
  # the server's own CPU time per request: far less sensitive to other jobs on
  # the machine than requests per second
  echo "$name $(awk -v c=$((cpu1 - cpu0)) -v r="${reqs:-0}" -v hz="$HZ" 'BEGIN { printf "%.1f", r ? c / hz * 1e6 / r : 0 }') $load0 $load1" > "$T/$name.cpu"
  kill -0 "$pid" 2> /dev/null || alive=NO
  # doorjam's verdict: a crash, a dropped or unanswered idle connection, a wrk
  # error or timeout, or an error answer fails it (nginx's show in the table)
  if [ "$name" = doorjam ]; then
    [ "$alive" = yes ] || failed=1
    grep -q 'dropped=0 ' <<< "$idle" || failed=1
    awk '{ split($6, p, "="); split($7, a, "="); exit !(p[2] == a[2] && p[2] > 0) }' <<< "$idle" || failed=1
    [ -z "$errs" ] || failed=1
    [ -z "$non2xx" ] || failed=1
  fi
  echo "$name ${rps:-0} ${p50:-0} ${p99:-0} ${max:-0} ${errs:-0/0/0/0} ${non2xx:-0} $alive $rss0 $rss1 $rss2 $(rss_summary "$T/proxy-$name.rss") $idle" > "$T/$name.row"
}

ip netns exec "$ns" taskset -c $CPU_SRV "$B/helpers/rpcproxy" "$T/dj.json" > "$T/dj.out" 2> "$T/dj.err" &
djpid=$!
pids+=("$djpid")
wait_line "$T/dj.out" '^ready' 50 || { echo "the doorjam proxy did not start"; cat "$T/dj.err"; exit 1; }
ip netns exec "$ns" taskset -c $CPU_SRV nginx -c "$T/ng/nginx.conf" &
ngpid=$!
pids+=("$ngpid")
sleep 0.5
ngworker=$(pgrep -P "$ngpid" | head -1)
[ -n "$ngworker" ] || { echo "the nginx proxy did not start"; cat "$T/ng/error.log"; exit 1; }
# warm both paths (and the upstream) a little first
nx taskset -c $CPU_GEN wrk -t1 -c"$CONNS" -d2s -s "$T/post.lua" "http://127.0.0.1:$DJ/" > /dev/null
nx taskset -c $CPU_GEN wrk -t1 -c"$CONNS" -d2s -s "$T/post.lua" "http://127.0.0.1:$NG/" > /dev/null

echo "proxy: $IDLE idle connections + wrk -c $CONNS for ${SECS}s; server cpu $CPU_SRV, upstream/wrk/idlehold cpu $CPU_GEN"
proxy_leg doorjam $DJ $djpid
proxy_leg nginx $NG "$ngworker"
echo
echo "| proxy | req/s | p50 µs | p99 µs | max µs | wrk errors c/r/w/timeout | non-2xx | alive |"
echo "|---|---:|---:|---:|---:|---|---:|---|"
for n in doorjam nginx; do
  awk '{printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7, $8}' "$T/$n.row"
done
echo
echo "| proxy | idle opened | dropped while idle | probed at end | answered 200 | slowest answer ms | RSS before idle KiB | with idle | at ${WARM}s | end | max | growth end / max KiB | after probe |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for n in doorjam nginx; do
  awk '{ for (i = 15; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
    printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %+d / %+d | %s |\n", $1,
      v["opened"], v["dropped"], v["probed"], v["answered"], v["slowest_ms"], $9, $10, $12, $13, $14,
      $13 - $12, $14 - $12, $11 }' "$T/$n.row"
done
read -r _ djr _ dj99 _ < "$T/doorjam.row"
read -r _ ngr _ ng99 _ < "$T/nginx.row"
read -r _ djc djl0 djl1 < "$T/doorjam.cpu"
read -r _ ngc ngl0 ngl1 < "$T/nginx.cpu"
echo "server CPU per request: doorjam $djc µs, nginx $ngc µs; load average at start/end of each leg: doorjam $djl0/$djl1, nginx $ngl0/$ngl1"
awk -v a="$djr" -v b="$ngr" -v c="$dj99" -v d="$ng99" -v e="$djc" -v f="$ngc" 'BEGIN {
  printf "doorjam / nginx: throughput %.2fx, p99 %.2fx, CPU per request %.2fx (below 1 is better for the last two)\n", a / b, c / d, e / f }'
echo "(RSS: doorjam's proxy process; nginx's one worker)"
kill "$djpid" "$ngpid" 2> /dev/null
wait "$djpid" "$ngpid" 2> /dev/null

# ---- part 2: the DNS server ----
n=1000
: > "$T/mix.q"; : > "$T/dnsmasq.conf"; : > "$T/unbound.zone"
zone_json=""
for i in $(seq 0 $((n - 1))); do
  a="10.77.$((i / 250)).$((i % 250 + 1))"
  printf 'bench-%d.zone.example A\nq-%d.nx.example A\n' "$i" "$i" >> "$T/mix.q"
  echo "address=/bench-$i.zone.example/$a" >> "$T/dnsmasq.conf"
  echo "local-data: \"bench-$i.zone.example. 60 IN A $a\"" >> "$T/unbound.zone"
  zone_json="$zone_json\"bench-$i.zone.example\": \"$a\","
done
echo "address=/nx.example/" >> "$T/dnsmasq.conf"
cat > "$T/doorjam.json" << EOF
{ "dns": { "listen": ["127.0.0.1:5301"], "zone": { ${zone_json%,} } },
  "faults": [ { "kind": "dns.nxdomain", "names": "*.nx.example", "ttl": 30 } ],
  "log": false }
EOF
cat > "$T/unbound.conf" << EOF
server:
  interface: 127.0.0.1@5303
  port: 5303
  do-daemonize: no
  username: ""
  chroot: ""
  directory: "$T"
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
  include: "$T/unbound.zone"
remote-control:
  control-enable: no
EOF

# dns_leg NAME PORT CMD...: writes $T/NAME.dnsrow
dns_leg() {
  local name=$1 port=$2 srv sp perf k=0 t0 now r alive=yes rss0 drops0 srvdrops warmdrops cpu0 cpu1
  shift 2
  ip netns exec "$ns" taskset -c $CPU_SRV "$@" > "$T/$name.srv" 2>&1 &
  srv=$!
  pids+=("$srv")
  for _ in $(seq 100); do
    nx dig @127.0.0.1 -p "$port" +time=1 +tries=1 bench-1.zone.example > /dev/null 2>&1 && break
    sleep 0.1
  done
  kill -0 "$srv" 2> /dev/null || { echo "$name did not start:"; cat "$T/$name.srv"; exit 1; }
  rss0=$(rss_now "$srv")
  drops0=$(udp_drops)
  cpu0=$(cpu_ticks "$srv")
  rss_sampler "$srv" "$T/dns-$name.rss" &
  sp=$!
  pids+=("$sp")
  ip netns exec "$ns" taskset -c $CPU_GEN dnsperf -s 127.0.0.1 -p "$port" -d "$T/mix.q" -l "$SECS" -c 4 -q 2000 \
    -Q "$QPS" -S 1 -b 4096 > "$T/$name.perf" 2>&1 &
  perf=$!
  pids+=("$perf")
  : > "$T/$name.probe"
  t0=${EPOCHREALTIME/./}
  # one probe a second, UDP and TCP in turn, each must be answered within 1 s
  while kill -0 "$perf" 2> /dev/null; do
    k=$((k + 1))
    local tcp=
    ((k % 2)) || tcp=+tcp
    if r=$(nx taskset -c $CPU_GEN dig @127.0.0.1 -p "$port" +tries=1 +time=1 $tcp \
             "bench-$((k % n)).zone.example" A 2>&1) && grep -q 'status: NOERROR' <<< "$r" &&
       grep -q 'ANSWER: 1' <<< "$r"; then
      echo "ok ${tcp:-udp} $(awk '/Query time/ {print $4}' <<< "$r") $(udp_drops)" >> "$T/$name.probe"
    else
      echo "miss ${tcp:-udp} - $(udp_drops)" >> "$T/$name.probe"
    fi
    now=${EPOCHREALTIME/./}
    sleep "$(awk -v a="$t0" -v b="$now" -v k="$k" 'BEGIN { s = (a + k * 1000000 - b) / 1e6; printf "%.3f", (s > 0 ? s : 0) }')"
  done
  wait "$perf"
  cpu1=$(cpu_ticks "$srv")
  kill "$sp" 2> /dev/null; wait "$sp" 2> /dev/null
  # drops on the server's own sockets (the last column of /proc/net/udp)
  srvdrops=$(nx awk -v p="$(printf ':%04X' "$port")" 'substr($2, length($2) - 4) == p { d += $NF }
    END { print d + 0 }' /proc/net/udp)
  # drops counted since the probe WARM seconds in
  warmdrops=$(awk -v w="$WARM" 'NR == w { print $4 }' "$T/$name.probe")
  kill -0 "$srv" 2> /dev/null || alive=NO
  kill "$srv" 2> /dev/null; wait "$srv" 2> /dev/null
  local probes
  probes=$(awk '$1 == "ok" { ok++; if ($3 > slow) slow = $3 } { all++ }
    END { printf "%d %d %d", ok, all, slow }' "$T/$name.probe")
  set -- $probes
  # the verdict is doorjam's; the other servers' misses show in the table
  [ "$name" != doorjam ] || { [ "$1" -eq "$2" ] && [ "$alive" = yes ]; } || failed=1
  awk -v s="$name" -v alive="$alive" -v pok="$1" -v pall="$2" -v pslow="$3" -v rss="$rss0 $(rss_summary "$T/dns-$name.rss")" -v drops="$(( $(udp_drops) - drops0 ))" -v srvdrops="$srvdrops" \
      -v late="$(( $(udp_drops) - ${warmdrops:-$drops0} ))" -v ticks="$((${cpu1:-0} - cpu0))" -v hz="$HZ" '
    /Queries sent:/ {sent = $3}
    /Queries lost:/ {lost = $3}
    /Queries completed:/ {done = $3}
    /Queries per second:/ {qps = $4}
    /Average Latency/ {avg = $4; max = $8; sub(/\)/, "", max); sub(/,/, "", avg)}
    /Response codes:/ {codes = $0; sub(/.*codes: */, "", codes)}
    /^[0-9]+\.[0-9]+: [0-9.]+$/ { n++; v[n] = $2 }
    END { split(rss, r, " "); low = ""
      for (i = 2; i < n; i++) if (low == "" || v[i] < low) low = v[i]   # whole seconds only
      printf "| %s | %.0f | %.0f | %.1f | %s (%.3f%%) | %s / %s | %s | %.3f | %.1f | %d/%d | %d | %s | %s | %s | %s | %+d / %+d | %s | %s |\n",
        s, qps, low, done ? ticks / hz * 1e6 / done : 0, lost, sent ? 100 * lost / sent : 0, srvdrops, drops - srvdrops, late,
        avg * 1000, max * 1000, pok, pall, pslow,
        r[1], r[2], r[3], r[4], r[3] - r[2], r[4] - r[2], alive, codes }' "$T/$name.perf" > "$T/$name.dnsrow"
}

echo
echo "dns: dnsperf -Q $QPS -c 4 -q 2000 for ${SECS}s (zone and nxdomain-rule names, half each) + 1 dig probe/s; server cpu $CPU_SRV, dnsperf/dig cpu $CPU_GEN"
dns_leg doorjam 5301 "$B/helpers/dnsd" "$T/doorjam.json"
dns_leg dnsmasq 5302 dnsmasq -k --conf-file="$T/dnsmasq.conf" --no-resolv --no-hosts \
  --port=5302 --listen-address=127.0.0.1 --bind-interfaces --pid-file= --user=root \
  --cache-size=0 --log-facility=-
dns_leg unbound 5303 unbound -d -c "$T/unbound.conf"
echo
echo "| server | qps | lowest 1-s qps | CPU µs/query | lost | buffer drops server / client | drops after ${WARM}s | avg ms | max ms | probes answered | slowest probe ms | RSS idle KiB | at ${WARM}s | end | max | growth end / max KiB | alive | response codes |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|"
cat "$T/doorjam.dnsrow" "$T/dnsmasq.dnsrow" "$T/unbound.dnsrow"
echo
echo "$(date -u +%F), $NCPU CPUs ($(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')), kernel $(uname -r)," \
     "nginx $(nginx -v 2>&1 | sed 's/.*\///'), wrk $(dpkg-query -W -f '${Version}' wrk 2> /dev/null)," \
     "dnsperf $(dpkg-query -W -f '${Version}' dnsperf 2> /dev/null)," \
     "dnsmasq $(dnsmasq --version | head -1 | awk '{print $3}'), unbound $(unbound -V | head -1 | awk '{print $2}')"
[ "$failed" -eq 0 ] && echo "verdict: no crash, no dropped or stalled client" ||
  echo "verdict: FAILED (a server died, a client was dropped or stalled, or wrk saw errors): see above"
exit "$failed"
