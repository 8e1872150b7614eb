#!/usr/bin/env python3
"""cpusplit.py PORT PATH [wrk header args...] — where the two cores go during one wrk run.

Runs wrk (-t2 -c$C -d$D, in its own session with autogroup nice $NICE, as serve-bench.sh
does with NICE) against http://127.0.0.1:PORT/PATH and prints requests/s, wrk's p99, the
cores used by the server (the processes holding PORT's listening socket), by wrk, left
idle, and spent in softirq, and the server's and wrk's CPU microseconds per request.

  bench/edge/tools/cpusplit.py 18081 /assets/app.1e4f7ff4d6.js -H 'Accept-Encoding: gzip'

Knobs (environment): C=64 D=3 NICE=-15. Linux only (reads /proc).
"""
import os
import re
import resource
import subprocess
import sys
import time


def server_pids(port):
    out = subprocess.run(["ss", "-ltnpH", f"sport = :{port}"], capture_output=True, text=True).stdout
    return sorted(set(re.findall(r"pid=(\d+)", out)))


def cpu_seconds(pids):
    hz = os.sysconf("SC_CLK_TCK")
    total = 0
    for p in pids:
        with open(f"/proc/{p}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime + stime
    return total / hz


def cpu_line():
    with open("/proc/stat") as f:
        return [int(x) for x in f.readline().split()[1:9]]  # user nice system idle iowait irq softirq steal


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    port, path, extra = sys.argv[1], sys.argv[2], sys.argv[3:]
    conns, dur, nice = os.environ.get("C", "64"), os.environ.get("D", "3"), os.environ.get("NICE", "-15")
    pids = server_pids(port)
    if not pids:
        sys.exit(f"cpusplit: nothing listens on port {port}")
    ncpu = os.cpu_count()
    s0, st0, r0, t0 = cpu_seconds(pids), cpu_line(), resource.getrusage(resource.RUSAGE_CHILDREN), time.time()
    cmd = ["setsid", "bash", "-c", 'echo "$0" >/proc/self/autogroup 2>/dev/null; exec nice -n "$0" "$@"', nice,
           "wrk", "-t2", f"-c{conns}", f"-d{dur}s", "--latency", *extra, f"http://127.0.0.1:{port}{path}"]
    out = subprocess.run(cmd, capture_output=True, text=True).stdout
    el = time.time() - t0
    s1, st1, r1 = cpu_seconds(pids), cpu_line(), resource.getrusage(resource.RUSAGE_CHILDREN)
    rps = float(re.search(r"Requests/sec:\s+(\S+)", out).group(1))
    p99 = re.search(r"\s99%\s+(\S+)", out).group(1)
    srv = (s1 - s0) / el
    wrk = ((r1.ru_utime + r1.ru_stime) - (r0.ru_utime + r0.ru_stime)) / el
    d = [b - a for a, b in zip(st0, st1)]
    tot = sum(d)
    idle, softirq = ncpu * (d[3] + d[4]) / tot, ncpu * d[6] / tot
    print(f"port={port} req/s={rps:.0f} p99={p99} cores: server={srv:.2f} wrk={wrk:.2f} idle={idle:.2f} "
          f"softirq={softirq:.2f} | us/request: server={srv / rps * 1e6:.1f} wrk={wrk / rps * 1e6:.1f}")


if __name__ == "__main__":
    main()
