#!/usr/bin/env bash
# Interleaved rounds of the bench project's load driver against several running servers, so a
# comparison is made in the same minutes (this machine's speed drifts 2-10x between minutes):
#   bench/load/interleave.sh ENDPOINT ROUNDS PORT... (ENDPOINT: ml or similar; servers on 127.0.0.1)
# Per run: port, req/s, measured p50/p99/p99.9 (us), and the server's CPU per request (us), from
# /proc/<pid>/stat of the process listening on the port. SECONDS_PER_RUN (5) and CONNECTIONS (4) apply.
set -euo pipefail
endpoint=$1; rounds=$2; shift 2
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
bench="$root/bench/RecSys.Bench/bin/Release/net10.0/RecSys.Bench.dll"
[ -f "$bench" ] || dotnet build "$root/bench/RecSys.Bench" -c Release -v q -nologo >/dev/null
seconds=${SECONDS_PER_RUN:-5}; connections=${CONNECTIONS:-4}
echo "endpoint round port req_per_s p50_us p99_us p99.9_us server_cpu_us_per_request"
for round in $(seq 1 "$rounds"); do
  for port in "$@"; do
    pid=$(ss -ltnpH "sport = :$port" | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2)
    [ -n "$pid" ] || { echo "nothing listens on port $port" >&2; exit 1; }
    dotnet "$bench" load --url "http://127.0.0.1:$port" --endpoint "$endpoint" --connections "$connections" --seconds 1 --warmup 1 >/dev/null
    before=$(awk '{print $14+$15}' "/proc/$pid/stat")
    result=$(dotnet "$bench" load --url "http://127.0.0.1:$port" --endpoint "$endpoint" --connections "$connections" --seconds "$seconds" --warmup 0)
    after=$(awk '{print $14+$15}' "/proc/$pid/stat")
    echo "$result" | python3 -c "
import json, sys
d = json.load(sys.stdin); l = d['latency_us']
cpu = ($after - $before) / $(getconf CLK_TCK) / max(1, d['requests']) * 1e6
print('$endpoint', $round, $port, d['requests_per_second'], l['p50'], l['p99'], l['p99.9'], round(cpu, 1))"
  done
done
