#!/usr/bin/env bash
# bench/waf/run.sh — what the edge's web application firewall (internal/edge/waf) costs.
#
#   bench/waf/run.sh            (COUNT=5 runs of each benchmark by default)
#
# Steps:
#   1. BenchmarkInspect and BenchmarkInspectGeo (COUNT runs, -benchmem): µs and allocations per
#      inspection for a clean page load (Chrome's and Firefox's headers and cookies, curl), a JSON
#      POST, two attacks, and the cheap rule sets alone (bad-bots + scanners, geo_deny);
#   2. TestColdCompile three times, each in a fresh process: the first Firewall with owasp-core
#      compiles the Core Rule Set (time, heap kept, allocated while compiling), then one with
#      an edge.waf.exclude set compiles a second one (the cost of each distinct exclusion set);
#      BenchmarkCustomRules in step 1 is ten edge.waf.custom_rules alone;
#   3. summary.txt: per case the median µs (wall and CPU), B and allocs per inspection, the ratio to the edge's
#      own cost per request (EDGE_US, default 12 µs of CPU: bench/edge/RESULTS-edge.md; and
#      HANDLER_US, default 0.442 µs: BenchmarkServeFast/js-gz, the handler alone, warm), and what
#      one core serves with the WAF on: 1e6 / (EDGE_US + µs) requests/s, and the share lost.
# Output: $OUT (default $TMPDIR/phoenix-waf-bench/results-<date>): load.txt, bench.txt, compile.txt, summary.txt.
# Knobs: COUNT=5 BENCHTIME=1s EDGE_US=12 HANDLER_US=0.442 OUT=...
# Needs: go. The machine is shared: load.txt records the load average before and after.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
COUNT=${COUNT:-5}
BENCHTIME=${BENCHTIME:-1s}
EDGE_US=${EDGE_US:-12}
HANDLER_US=${HANDLER_US:-0.442}
OUT=${OUT:-${TMPDIR:-/tmp}/phoenix-waf-bench/results-$(date -u +%Y%m%d-%H%M)}
mkdir -p "$OUT"
cd "$repo"

{ date -u; uptime; } >"$OUT/load.txt"
go test -count=1 -run '^$' -bench '^Benchmark(Inspect|CustomRules)' -benchmem -benchtime "$BENCHTIME" -count "$COUNT" \
	./internal/edge/waf/ | tee "$OUT/bench.txt"
for _ in 1 2 3; do
	WAF_COLD_COMPILE=1 go test -count=1 -run '^TestColdCompile$' -v ./internal/edge/waf/ | grep 'compile:'
done | sed 's/^ *cold_test.go:[0-9]*: //' | tee "$OUT/compile.txt"
uptime >>"$OUT/load.txt"

awk -v edge="$EDGE_US" -v handler="$HANDLER_US" '
/^Benchmark(Inspect|CustomRules)/ {
	name = $1; sub(/-[0-9]+$/, "", name); sub(/^Benchmark/, "", name)
	cpu = ""
	for (i = 3; i < NF; i++) {
		if ($(i+1) == "ns/op") ns = $i
		if ($(i+1) == "cpu-ns/op") cpu = $i
		if ($(i+1) == "B/op") b[name] = $i
		if ($(i+1) == "allocs/op") allocs[name] = $i
	}
	n[name]++; wall[name, n[name]] = ns; used[name, n[name]] = (cpu == "" ? ns : cpu)
	if (!(name in seen)) { seen[name] = 1; order[++k] = name }
}
function median(arr, name,   i, j, t, m, v) {
	m = n[name]
	for (i = 1; i <= m; i++) v[i] = arr[name, i] + 0
	for (i = 2; i <= m; i++) for (j = i; j > 1 && v[j-1] > v[j]; j--) { t = v[j]; v[j] = v[j-1]; v[j-1] = t }
	return (m % 2) ? v[(m+1)/2] : (v[m/2] + v[m/2+1]) / 2
}
END {
	print "medians of " n[order[1]] " runs; cpu µs = the process'"'"'s CPU time per inspection (GC included), which a busy machine inflates less than wall µs"
	printf "%-30s %9s %9s %8s %7s %8s %9s %11s %6s\n", "case", "wall µs", "cpu µs", "B", "allocs", "×edge", "×handler", "req/s/core", "lost"
	printf "%-30s %9s %9s %8s %7s %8s %9s %11.0f %6s\n", "(edge alone)", "-", edge, "-", "-", "1", "-", 1e6 / edge, "0 %"
	for (i = 1; i <= k; i++) {
		name = order[i]; us = median(used, name) / 1000
		printf "%-30s %9.2f %9.2f %8d %7d %8.2f %9.1f %11.0f %5.1f %%\n", name, median(wall, name) / 1000, us,
			b[name], allocs[name], us / edge, us / handler, 1e6 / (edge + us), 100 * us / (edge + us)
	}
}' "$OUT/bench.txt" | tee "$OUT/summary.txt"
