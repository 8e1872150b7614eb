#!/usr/bin/env bash
# Monitor benchmark (loopback only, bounded in time). Usage, from the repo root:
#   bench/monitor/run.sh            # 10,000 probes for 65 s, then alert latency twice
#   PROBES=20000 RUN=65s bench/monitor/run.sh
# The probed site runs as a child process so the figures are the monitor's own.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
bin=${BENCH_BIN:-/tmp/phoenix-monitor-bench}
(cd "$repo" && go build -o "$bin" ./bench/monitor)
echo "== $(date -u +%Y-%m-%dT%H:%MZ) $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
"$bin" -mode probes -probes "${PROBES:-10000}" -interval "${INTERVAL:-60s}" -run "${RUN:-65s}"
"$bin" -mode latency -window "${WINDOW:-5s}" -retries 0
"$bin" -mode latency -window "${WINDOW:-5s}" -retries 2
