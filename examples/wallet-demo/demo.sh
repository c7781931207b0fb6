#!/usr/bin/env bash
# make demo: the us-east-1 outage against the bundled wallet stack.
set -euo pipefail
cd "$(dirname "$0")/../.."
echo "doorjam demo: the wallet-demo lab arrives with the lab builder; nothing to run yet."
echo "Meanwhile: ./doorjam plan examples/quickstart/scenario.json"
./doorjam plan examples/quickstart/scenario.json
