#!/usr/bin/env bash
# Benchmark the RPC proxy with no rule active: wrk straight to a fast static
# JSON upstream, through doorjam's proxy, and through nginx as a reverse
# proxy, in the same run. Then the proxy's memory with 10,000 idle client
# connections. Loopback only.
#
#   bench/rpc/run.sh BUILD_DIR [SECONDS] [CONNECTIONS]     (ROUNDS=3, IDLE=10000)
#
# Latency is measured with one connection (what one request pays for the
# extra hop), throughput with CONNECTIONS; each path is run ROUNDS times,
# interleaved so that background load hits all three alike, and the median
# is reported.
# Needs wrk and nginx (Debian: wrk, nginx-light). Pins the upstream and wrk
# to one CPU and the proxy under test to another when there are at least two.
set -u
B=${1:?usage: run.sh BUILD_DIR [SECONDS] [CONNECTIONS]}
SECS=${2:-10}
CONNS=${3:-50}
cd "$(dirname "$0")/../.."
HELPER=$B/helpers/rpcproxy
for x in wrk nginx taskset; do command -v $x >/dev/null || { echo "missing $x"; exit 77; }; done
[ -x "$HELPER" ] || { echo "missing $HELPER"; exit 77; }

T=$(mktemp -d /tmp/djt-bench.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
  rm -rf "$T"
}
trap cleanup EXIT
free_port() {
  local p
  for p in $(shuf -i 20000-60000 -n 50); do
    (exec 9<>/dev/tcp/127.0.0.1/$p) 2>/dev/null || { echo "$p"; return; }
  done
  return 1
}
NCPU=$(nproc)
CPU_UP=0; CPU_PROXY=$((NCPU > 1 ? 1 : 0)); CPU_WRK=$((NCPU > 2 ? 2 : 0))
UP=$(free_port); NG=$(free_port)
BODY='{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}'

# The upstream: nginx answering a fixed JSON-RPC reply from memory.
mkdir -p "$T/up" "$T/ng"
cat > "$T/up/nginx.conf" <<EOF2
worker_processes 1;
daemon off;
pid $T/up/nginx.pid;
error_log $T/up/error.log;
events { worker_connections 20000; }
http {
  access_log off;
  client_body_temp_path $T/up; proxy_temp_path $T/up; fastcgi_temp_path $T/up;
  uwsgi_temp_path $T/up; scgi_temp_path $T/up;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$UP;
    location / {
      default_type application/json;
      return 200 '{"jsonrpc":"2.0","id":1,"result":"0x7a69"}';
    }
  }
}
EOF2
# nginx as a reverse proxy, keep-alive to the upstream: the baseline doorjam is compared to.
cat > "$T/ng/nginx.conf" <<EOF2
worker_processes 1;
daemon off;
pid $T/ng/nginx.pid;
error_log $T/ng/error.log;
events { worker_connections 20000; }
http {
  access_log off;
  client_body_temp_path $T/ng; proxy_temp_path $T/ng; fastcgi_temp_path $T/ng;
  uwsgi_temp_path $T/ng; scgi_temp_path $T/ng;
  keepalive_requests 1000000;
  upstream up { server 127.0.0.1:$UP; keepalive 256; }
  server {
    listen 127.0.0.1:$NG;
    location / {
      proxy_pass http://up;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering on;
    }
  }
}
EOF2
cat > "$T/dj.json" <<EOF2
{"log": false, "rpc": {"bench": {"listen": "127.0.0.1:0", "upstream": "http://127.0.0.1:$UP",
                   "max_conns": 20000},
                  "benchcurl": {"listen": "127.0.0.1:0", "upstream": "http://127.0.0.1:$UP",
                   "max_conns": 20000, "upstream_client": "curl"}}}
EOF2
cat > "$T/post.lua" <<EOF2
wrk.method = "POST"
wrk.body = '$BODY'
wrk.headers["Content-Type"] = "application/json"
EOF2

taskset -c $CPU_UP nginx -c "$T/up/nginx.conf" &
pids+=($!)
taskset -c $CPU_PROXY nginx -c "$T/ng/nginx.conf" &
NGPID=$!
pids+=($NGPID)
taskset -c $CPU_PROXY "$HELPER" "$T/dj.json" > "$T/dj.out" 2> "${DJ_STDERR:-/dev/null}" &
DJPID=$!
pids+=($DJPID)
for _ in $(seq 50); do grep -q '^ready' "$T/dj.out" 2>/dev/null && break; sleep 0.1; done
grep -q '^ready' "$T/dj.out" || { echo "the proxy did not start"; exit 1; }
DJ=$(awk '$1 == "listening" && $2 == "bench" {print $3}' "$T/dj.out")
DJC=$(awk '$1 == "listening" && $2 == "benchcurl" {print $3}' "$T/dj.out")
sleep 0.5

# wrk's --latency table: requests/s, p50 and p99 in microseconds.
to_us() { # "123.45us" / "1.23ms" / "1.2s" -> microseconds
  awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) print n; else if (v ~ /ms$/) print n * 1000;
    else if (v ~ /s$/) print n * 1000000; else print n }'
}
wrk_run() { # conns secs url -> "rps p50 p99"
  local out
  out=$(taskset -c $CPU_WRK wrk -t1 -c"$1" -d"${2}s" --latency -s "$T/post.lua" "$3")
  if grep -q 'Non-2xx\|Socket errors' <<<"$out"; then echo "wrk reported errors: $out" >&2; fi
  echo "$(awk '/^Requests\/sec/ {print $2}' <<<"$out") $(to_us "$(awk '$1 == "50%" {print $2}' <<<"$out")") $(to_us "$(awk '$1 == "99%" {print $2}' <<<"$out")")"
}
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
# doorjam: the proxy's default upstream leg (native for this http:// upstream);
# dj-curl: the same proxy code with the libcurl leg ("upstream_client": "curl")
declare -A URL=([direct]="http://127.0.0.1:$UP/" [doorjam]="http://127.0.0.1:$DJ/"
                [dj-curl]="http://127.0.0.1:$DJC/" [nginx]="http://127.0.0.1:$NG/")
PATHS="direct doorjam dj-curl nginx"
ROUNDS=${ROUNDS:-3}
echo "cpus: $NCPU; latency (c=1): all on cpu $CPU_UP; throughput (c=$CONNS): upstream cpu $CPU_UP, proxy cpu $CPU_PROXY, wrk cpu $CPU_WRK"
echo "$ROUNDS rounds of ${SECS}s per path, interleaved; medians"
for p in $PATHS; do wrk_run "$CONNS" 2 "${URL[$p]}" > /dev/null; done   # warm up
# Move both proxies (nginx's worker included) to another CPU set.
pin_proxies() {
  taskset -a -p -c "$1" "$DJPID" > /dev/null
  taskset -p -c "$1" "$NGPID" > /dev/null
  for w in $(pgrep -P "$NGPID"); do taskset -p -c "$1" "$w" > /dev/null; done
}
for r in $(seq "$ROUNDS"); do
  # latency: everything on one CPU, so the figure is the hop's own cost and not
  # the price of waking another CPU (which a VM makes large and noisy)
  pin_proxies "$CPU_UP"
  for p in $PATHS; do
    wrk_run 1 "$SECS" "${URL[$p]}" >> "$T/lat.$p"
  done
  pin_proxies "$CPU_PROXY"
  for p in $PATHS; do
    wrk_run "$CONNS" "$SECS" "${URL[$p]}" >> "$T/thr.$p"
  done
done
declare -A RPS P50 P99
for p in $PATHS; do
  P50[$p]=$(awk '{print $2}' "$T/lat.$p" | median)
  P99[$p]=$(awk '{print $3}' "$T/lat.$p" | median)
  RPS[$p]=$(awk '{print $1}' "$T/thr.$p" | median)
done
printf '%-8s %14s %16s %16s\n' path "req/s (c=$CONNS)" "p50 us (c=1)" "p99 us (c=1)"
for p in $PATHS; do printf '%-8s %14s %16s %16s\n' $p "${RPS[$p]}" "${P50[$p]}" "${P99[$p]}"; done
awk -v dp="${P50[direct]}" -v jp="${P50[doorjam]}" -v cp="${P50[dj-curl]}" -v np="${P50[nginx]}" \
    -v d9="${P99[direct]}" -v j9="${P99[doorjam]}" -v c9="${P99[dj-curl]}" -v n9="${P99[nginx]}" \
    -v dr="${RPS[direct]}" -v jr="${RPS[doorjam]}" -v cr="${RPS[dj-curl]}" -v nr="${RPS[nginx]}" 'BEGIN {
  printf "added p50 (c=1): doorjam %.0f us, dj-curl %.0f us, nginx %.0f us\n", jp - dp, cp - dp, np - dp;
  printf "added p99 (c=1): doorjam %.0f us, dj-curl %.0f us, nginx %.0f us\n", j9 - d9, c9 - d9, n9 - d9;
  printf "throughput: doorjam/nginx %.2f, dj-curl/nginx %.2f, doorjam/direct %.2f, nginx/direct %.2f\n", jr / nr, cr / nr, jr / dr, nr / dr }'

# Memory with idle connections: open them, then read the proxy's RSS.
IDLE=${IDLE:-10000}
ulimit -n $((IDLE + 1000)) 2>/dev/null || { echo "cannot raise the fd limit for $IDLE connections"; exit 0; }
rss0=$(awk '/VmRSS/ {print $2}' /proc/$DJPID/status)
fds=()
for ((i = 0; i < IDLE; i++)); do
  exec {fd}<>/dev/tcp/127.0.0.1/$DJ || break
  fds+=($fd)
done
sleep 1
rss1=$(awk '/VmRSS/ {print $2}' /proc/$DJPID/status)
open=$(ls /proc/$DJPID/fd | wc -l)
echo "idle connections: ${#fds[@]} opened, proxy holds $open fds; RSS ${rss0} KiB -> ${rss1} KiB ($(( (rss1 - rss0) * 1024 / ${#fds[@]} )) bytes per connection)"
for fd in "${fds[@]}"; do exec {fd}>&-; done
