#!/usr/bin/env bash
# A whole scenario against doorjam's DNS server: a flow resolves a name with
# getaddrinfo() (getent), dns.servfail on the region's names makes it error
# during the fault and ok after it, while a name outside the region keeps
# resolving throughout. doorjam runs inside namespace djt-dnss-$$ (lo only),
# whose /etc/netns/<ns>/resolv.conf points at the scenario's DNS server on
# 127.0.0.1:53. Everything is deleted on every exit path.
set -u
B=${1:?usage: test_dns_scenario.sh BUILD_DIR}
cd "$(dirname "$0")/../.."
[ "$(id -u)" -eq 0 ] || { echo "needs root (network namespaces)"; exit 77; }
command -v jq > /dev/null || { echo "jq is missing (apt-get install jq)"; exit 77; }
DJ=$B/doorjam
[ -x "$DJ" ] || DJ=./doorjam
[ -x "$DJ" ] || { echo "no doorjam binary in $B or ."; exit 1; }

ns=djt-dnss-$$
dir=$(mktemp -d /tmp/djt-dnss.XXXXXX)
cleanup() {
  ip netns del "$ns" 2> /dev/null
  rm -rf "/etc/netns/$ns" "$dir"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fails=0 checks=0
expect() {
  checks=$((checks + 1))
  if [[ $2 =~ $3 ]]; then echo "ok   $1"; else fails=$((fails + 1)); echo "FAIL $1: got [$2], want /$3/"; fi
}

ip netns add "$ns" || { echo "cannot create namespace $ns"; exit 1; }
ip -n "$ns" link set lo up
mkdir -p "/etc/netns/$ns"
printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n' > "/etc/netns/$ns/resolv.conf"

cat > "$dir/scenario.json" << 'EOF'
{
  "doorjam": 1,
  "name": "dns-servfail-region",
  "description": "us-east-1's names fail to resolve; us-west-2's keep resolving.",
  "regions": { "us-east-1": { "names": ["*.use1.example"] } },
  "schedule": { "baseline": "1s", "fault": "3s", "recovery": "2s", "every": "250ms" },
  "dns": { "listen": ["127.0.0.1:53"], "ttl": 0,
           "zone": { "rpc.use1.example": "10.77.1.10", "rpc.usw2.example": "10.77.2.10" } },
  "flows": [
    { "name": "resolve-use1",
      "steps": [ { "exec": { "argv": ["getent", "hosts", "rpc.use1.example"] }, "timeout": "3s",
                   "expect": [ { "exit": 0 }, { "stdout": "^10\\.77\\.1\\.10 " } ] } ] },
    { "name": "resolve-usw2",
      "steps": [ { "exec": { "argv": ["getent", "hosts", "rpc.usw2.example"] }, "timeout": "3s",
                   "expect": [ { "exit": 0 }, { "stdout": "^10\\.77\\.2\\.10 " } ] } ] }
  ],
  "faults": [ { "kind": "dns.servfail", "region": "us-east-1", "at": "500ms", "for": "1500ms" } ],
  "expect": { "resolve-use1": "degrade", "resolve-usw2": "survive" }
}
EOF

ip netns exec "$ns" "$DJ" run "$dir/scenario.json" --quiet --seed 5 \
  --report json:"$dir/report.json" > "$dir/out.txt" 2>&1
rc=$?
expect "doorjam run exits 0 (every expectation held)" "$rc" '^0$'
[ -s "$dir/report.json" ] || { echo "no report; doorjam said:"; cat "$dir/out.txt"; exit 1; }
flow() { jq -r --arg f "$1" ".flows[] | select(.name == \$f) | $2" "$dir/report.json"; }
expect "resolve-use1: ok in the baseline" "$(flow resolve-use1 '.phases.baseline | "\(.ok) \(.error)"')" '^[1-9][0-9]* 0$'
expect "resolve-use1: errors while dns.servfail is on" "$(flow resolve-use1 '.phases.fault.error')" '^[1-9]'
expect "resolve-use1: ok again after the fault" "$(flow resolve-use1 '.phases.fault.ok + .phases.recovery.ok')" '^[1-9]'
expect "resolve-use1: never wrong" "$(flow resolve-use1 '[.phases[].wrong] | add')" '^0$'
expect "resolve-usw2: never fails" "$(flow resolve-usw2 '[.phases[] | .error + .wrong] | add')" '^0$'
expect "scenario verdict" "$(jq -r .verdict "$dir/report.json")" '^pass$'
for f in resolve-use1 resolve-usw2; do
  echo "     $f: $(flow $f '[.phases | to_entries[] | "\(.key) ok \(.value.ok) error \(.value.error)"] | join(", ")')"
done
if [ $fails -gt 0 ]; then echo "doorjam said:"; cat "$dir/out.txt"; fi
echo "dns scenario: $((checks - fails)) of $checks checks passed"
[ $fails -eq 0 ]
