#!/usr/bin/env python3
"""wakeups.py PERF_SCRIPT_OUTPUT SERVER_COMM — where the scheduler puts wrk's threads.

Reads `perf script -F comm,tid,cpu,time,event,trace` output of
`perf record -e sched:sched_wakeup,sched:sched_switch -a` taken while wrk loads a server,
and counts, for every wake-up of a wrk thread, whether it was queued on the CPU that was
running the server at that moment and whether the other CPU was idle then. Prints the
counts and the shares. On a 2-core machine a high "onto the server's CPU while the other
was idle" share means the wake-ups (sync wake-ups from the server's sends) queue wrk behind
the server while a core idles. See bench/edge/RESULTS-edge.md.
"""
import re
import sys

LINE = re.compile(r"\s*(\S+)\s+(\d+)\s+\[(\d+)\]\s+([\d.]+):\s+(\S+):\s+(.*)")


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    path, server = sys.argv[1], sys.argv[2]
    running = {}
    n = onto = onto_idle = 0
    with open(path) as f:
        for line in f:
            m = LINE.match(line)
            if not m:
                continue
            _, _, cpu, _, event, rest = m.groups()
            cpu = int(cpu)
            if event == "sched:sched_switch":
                running[cpu] = re.search(r"==> next_comm=(.*?) next_pid=", rest).group(1)
            elif event == "sched:sched_wakeup":
                w = re.search(r"comm=(.*?) pid=\d+ prio=\d+ target_cpu=(\d+)", rest)
                if w.group(1) != "wrk":
                    continue
                target = int(w.group(2))
                n += 1
                if running.get(target, "").startswith(server):
                    onto += 1
                    others = [c for c in running if c != target]
                    if others and all(running[c].startswith("swapper") for c in others):
                        onto_idle += 1
    if n == 0:
        sys.exit("wakeups: no wake-ups of wrk threads in the trace")
    print(f"wrk wake-ups={n} onto the {server} CPU={onto} ({100 * onto / n:.0f}%) "
          f"of which another CPU was idle={onto_idle} ({100 * onto_idle / n:.0f}%)")


if __name__ == "__main__":
    main()
