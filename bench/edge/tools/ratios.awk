#!/usr/bin/awk -f
# ratios.awk — the edge against nginx from a serve-bench table (serve.txt or ref.txt).
#
#   awk -f bench/edge/tools/ratios.awk results/serve.txt
#
# For every endpoint and connection count, against the "nginx" row of the same cell:
#   req/s     ratio of the medians (the issue's figure: at least 1.0x)
#   paired    lowest and highest ratio of the runs taken side by side (serve-bench interleaves
#             the targets, so run i of each target met the same machine)
#   p99       ratio of the p99 latencies (at most 1.5x)
#   per-core  ratio of req/s per server core (req_per_s / srv_cores): the efficiency figure
#             ../shared/bench/README.md asks to compare when wrk shares the cores
/^target/ { for (i = 1; i <= NF; i++) col[$i] = i; next }
/^#/ || NF < 12 { next }
{
	key = $col["endpoint"] SUBSEP $col["conns"]
	t = $col["target"]
	if (!(key in seen)) { seen[key] = 1; order[++n] = key }
	if (!((key, t) in rps)) { tg[key] = tg[key] " " t }
	rps[key, t] = $col["req_per_s"]; p99[key, t] = $col["p99_ms"]; cores[key, t] = $col["srv_cores"]
	runs[key, t] = $NF
}
END {
	printf "%-12s %-8s %6s %8s %16s %7s %9s\n", "target", "endpoint", "conns", "req/s", "paired(min-max)", "p99", "per-core"
	for (i = 1; i <= n; i++) {
		key = order[i]; split(key, kc, SUBSEP)
		if (!((key, "nginx") in rps)) continue
		m = split(tg[key], ts, " ")
		for (j = 1; j <= m; j++) {
			t = ts[j]; if (t == "nginx") continue
			a = split(runs[key, t], r1, "/"); b = split(runs[key, "nginx"], r0, "/")
			lo = 1e9; hi = 0
			for (k = 1; k <= a && k <= b; k++) if (r0[k] > 0) { q = r1[k] / r0[k]; if (q < lo) lo = q; if (q > hi) hi = q }
			eff = (cores[key, t] > 0 && cores[key, "nginx"] > 0) ? (rps[key, t] / cores[key, t]) / (rps[key, "nginx"] / cores[key, "nginx"]) : 0
			printf "%-12s %-8s %6s %7.2fx %7.2f-%-7.2f %6.2fx %8.2fx\n", t, kc[1], kc[2], rps[key, t] / rps[key, "nginx"], lo, hi, p99[key, t] / p99[key, "nginx"], eff
		}
	}
}
