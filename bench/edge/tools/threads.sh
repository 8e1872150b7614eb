#!/usr/bin/env bash
# tools/threads.sh PID LOOPS SECONDS — what the threads of process PID did over SECONDS:
# the LOOPS threads that used the most CPU are taken as the event loops, the rest as the Go
# runtime's (sysmon, idle Ms, GC workers). Prints one line:
#   loops_core=C other_core=C other_wakeups_per_s=N
# (CPU in cores from /proc/PID/task/*/stat utime+stime; wake-ups = voluntary + involuntary
# context switches from .../status).
set -euo pipefail
pid=$1 loops=$2 secs=$3
snap() {
  for t in /proc/"$pid"/task/*; do
    printf '%s %s %s\n' "${t##*/}" \
      "$(awk '/^voluntary_ctxt_switches|^nonvoluntary_ctxt_switches/{s+=$2} END{print s}' "$t/status")" \
      "$(awk '{print $14+$15}' "$t/stat")"
  done | sort
}
hz=$(getconf CLK_TCK)
a=$(snap); sleep "$secs"; b=$(snap)
join <(echo "$a") <(echo "$b") | awk -v l="$loops" -v s="$secs" -v hz="$hz" '
  { cpu[$1] = $5 - $3; sw[$1] = $4 - $2 }
  END {
    for (k = 1; k <= l; k++) { m = -1; for (t in cpu) if (cpu[t] > m) { m = cpu[t]; mt = t }
      lc += cpu[mt]; delete cpu[mt]; delete sw[mt] }
    for (t in cpu) { oc += cpu[t]; ow += sw[t] }
    printf "loops_core=%.2f other_core=%.3f other_wakeups_per_s=%d\n", lc / hz / s, oc / hz / s, ow / s }'
