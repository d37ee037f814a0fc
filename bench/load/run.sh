#!/usr/bin/env bash
# Load test of a running server over loopback with wrk (apt-get install wrk):
#   bench/load/run.sh [url] [connections] [seconds]
# Runs /ml and /similar, each after a warm-up pass, and prints wrk's latency distribution.
set -euo pipefail
url=${1:-http://127.0.0.1:8000}; connections=${2:-4}; seconds=${3:-10}
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
command -v wrk >/dev/null || { echo "wrk is not installed: apt-get install wrk" >&2; exit 1; }
for script in ml similar; do
  wrk -t1 -c"$connections" -d5s -s "$here/$script.lua" "$url" >/dev/null
  echo "== $script, $connections connections, ${seconds}s"
  wrk -t1 -c"$connections" -d"${seconds}s" --latency -s "$here/$script.lua" "$url" | grep -E "Latency|50%|90%|99%|Requests/sec|Non-2xx"
done
