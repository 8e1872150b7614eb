# across.awk — the serve targets over several runs of record: reads the summary.txt of each
# run (tools/ratios.awk's table) and prints, per endpoint and connection count, the number
# of runs, the geometric mean of the edge's req/s ratio against nginx with its lowest and
# highest, the same for the p99 ratio, and whether the means meet the issue's targets
# (req/s >= 1.0x nginx, p99 <= 1.5x). One run on a shared machine drifts by +-10 %; the
# mean over runs of the same machine type and code is the figure the targets are read on.
#
#   awk -f bench/edge/tools/across.awk /tmp/phoenix-edge-bench/results-*/summary.txt
$1 == "edge" && $4 ~ /x$/ {
	key = sprintf("%-6s %4s", $2, $3)
	if (!(key in n)) order[++cells] = key
	r = $4 + 0; p = $6 + 0
	n[key]++; lr[key] += log(r); lp[key] += log(p)
	if (!(key in rmin) || r < rmin[key]) rmin[key] = r
	if (!(key in rmax) || r > rmax[key]) rmax[key] = r
	if (!(key in pmax) || p > pmax[key]) pmax[key] = p
	if (r < 1.0) below[key]++
	if (p > 1.5) over[key]++
}
END {
	printf "%-11s %4s %9s %11s %6s %9s %8s %6s  %s\n", "cell", "runs", "req/s", "range", "<1.0", "p99", "p99 max", ">1.5", "targets on the means"
	for (i = 1; i <= cells; i++) {
		k = order[i]; gr = exp(lr[k] / n[k]); gp = exp(lp[k] / n[k])
		verdict = (gr >= 1.0 && gp <= 1.5) ? "met" : "not met"
		printf "%-11s %4d %8.2fx %5.2f-%-5.2f %6d %8.2fx %7.2fx %6d  %s\n", k, n[k], gr, rmin[k], rmax[k], below[k] + 0, gp, pmax[k], over[k] + 0, verdict
	}
}
