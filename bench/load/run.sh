#!/usr/bin/env bash
# Load test of a running server over loopback with wrk (apt-get install wrk):
#   bench/load/run.sh [url] [connections] [seconds]
# Runs /ml and /similar, each after a warm-up pass (WARMUP seconds, default 5), and prints wrk's
# latency distribution — which wrk corrects for coordinated omission before printing. The bench
# project's driver prints both what each request waited and the corrected distribution:
#   dotnet bench/RecSys.Bench/bin/Release/net10.0/RecSys.Bench.dll load --url http://127.0.0.1:8000 --ids 10000
# The baseline, what Kestrel and loopback do here with no work per request, is the bench project's
# floor server (same paths, a fixed answer of the same size), measured in the same session:
#   dotnet bench/RecSys.Bench/bin/Release/net10.0/RecSys.Bench.dll floor-server --inline --bytes 5514 &
#   bench/load/run.sh http://127.0.0.1:8001
set -euo pipefail
url=${1:-http://127.0.0.1:8000}; connections=${2:-4}; seconds=${3:-10}
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
command -v wrk >/dev/null || { echo "wrk is not installed: apt-get install wrk" >&2; exit 1; }
# PID=<server process id> also prints the server's CPU time per request over the run (from /proc).
cpu() { [ -n "${PID:-}" ] && awk '{print $14+$15}' "/proc/$PID/stat" || echo 0; }
for script in ml similar; do
  wrk -t1 -c"$connections" -d"${WARMUP:-5}s" -s "$here/$script.lua" "$url" >/dev/null
  echo "== $script, $connections connections, ${seconds}s"
  before=$(cpu)
  result=$(wrk -t1 -c"$connections" -d"${seconds}s" --latency -s "$here/$script.lua" "$url")
  after=$(cpu)
  echo "$result" | grep -E "Latency|50%|90%|99%|Requests/sec|Non-2xx"
  if [ -n "${PID:-}" ]; then
    echo "$result" | awk -v ticks=$((after - before)) -v hz="$(getconf CLK_TCK)" -v s="$seconds" \
      '/Requests\/sec/ { printf "server CPU per request: %.1f us\n", ticks / hz / ($2 * s) * 1e6 }'
  fi
done
