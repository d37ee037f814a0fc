#!/usr/bin/env python3
"""Per-request latency of a load generator from its own system calls, to check what it prints.

    USERS=100000 perf record -e syscalls:sys_enter_write -e syscalls:sys_enter_read \
        -e syscalls:sys_exit_read -o wrk.data -- wrk -t1 -c4 -d2s --latency -s bench/load/ml.lua URL
    perf script -i wrk.data | bench/load/syscall-latency.py

Each request is timed from its write to the first read that returns data on the same socket (one
request in flight per connection, and a response arrives in one read at these sizes).
"""
import sys

written, reading, latencies = {}, None, []
for line in sys.stdin:
    parts = line.split()
    if len(parts) < 6:
        continue
    at, event = float(parts[3].rstrip(':')), parts[4]
    if event.startswith('syscalls:sys_enter_write'):
        fd = int(parts[6].rstrip(','), 16)
        if fd > 2:
            written[fd] = at
    elif event.startswith('syscalls:sys_enter_read'):
        reading = int(parts[6].rstrip(','), 16)
    elif event.startswith('syscalls:sys_exit_read'):
        got = int(parts[5], 16)
        if 0 < got < 1 << 63 and reading in written:
            latencies.append((at - written.pop(reading)) * 1e6)
if not latencies:
    sys.exit('no write/read pairs found: record the three syscall events shown in this file')
latencies.sort()
n = len(latencies)
print(f'{n} requests: ' + ' '.join(f'p{p}={latencies[min(n - 1, int(n * p / 100))]:.0f}us' for p in (50, 90, 99, 99.9))
      + f' max={latencies[-1]:.0f}us')
