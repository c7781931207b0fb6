#!/usr/bin/env bash
# Install what doorjam's build, tests and demo need, and nothing that is
# already there: Debian packages (checked with dpkg -s first, so a second run
# installs nothing) and the npm test peers (anvil, cast) into tests/peers.
set -euo pipefail
cd "$(dirname "$0")/.."

pkgs=(
  # build
  gcc make pkg-config libnl-3-dev libnl-route-3-dev libnl-nf-3-dev libpcap-dev
  libcurl4-openssl-dev libjansson-dev libcmocka-dev
  # tests: real peers and tools
  iproute2 curl procps psmisc dnsutils knot-dnsutils jq clang libclang-rt-14-dev
  user-mode-linux kmod iputils-ping netcat-openbsd chromium tshark valgrind
)
command -v node >/dev/null 2>&1 || pkgs+=(nodejs)
command -v npm >/dev/null 2>&1 || pkgs+=(npm)

missing=()
for p in "${pkgs[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "deps: missing Debian packages: ${missing[*]}" >&2
    echo "deps: run as root (or with sudo) to install them" >&2
    exit 3
  fi
  echo "deps: installing ${missing[*]}"
  apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi

install_npm() {  # dir: npm ci when node_modules is missing or older than the lock file
  local dir=$1
  if [ ! -d "$dir/node_modules" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules" ]; then
    echo "deps: npm ci in $dir"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
    touch "$dir/node_modules"
  fi
}
install_npm tests/peers
for lock in examples/*/package-lock.json examples/*/*/package-lock.json; do
  [ -f "$lock" ] && install_npm "$(dirname "$lock")"
done
exit 0
