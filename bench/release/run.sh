#!/usr/bin/env bash
# Deploy-path benchmark: full deploy and 1 % re-deploy against the physical
# floor (sha256 + one copy, measured in the same run), and rollback latency,
# for a 100-file and the 20,000-file (~1 GB) site of shared/bench/gen-site.sh.
# Usage: bench/release/run.sh [results-file]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
shared=${SHARED:-$root/../shared/bench}
work=${WORK:-/tmp/bench-release}
out=${1:-$root/bench/release/last-run.txt}
mkdir -p "$work"
# gen-site builds into its own folder: use a writable copy of shared/bench.
if [ ! -d "$work/genbench" ]; then cp -r "$shared" "$work/genbench"; chmod -R u+w "$work/genbench"; fi
(cd "$work/genbench" && ./gen-site.sh small "$work/site-small" >/dev/null && ./gen-site.sh large "$work/site-large" >/dev/null)
# The 100-file site: the first 100 files of the small one, plus its index.html.
if [ ! -d "$work/site-100" ]; then
  mkdir -p "$work/site-100"
  (cd "$work/site-small" && { echo index.html; find . -type f ! -name index.html | sort | head -99; } | tar -cf - -T - | tar -xf - -C "$work/site-100")
fi
(cd "$root" && go build -o "$work/phoenix" ./cmd/phoenix && go build -o "$work/release-bench" ./bench/release)
{
  echo "# bench/release run $(date -u +%Y-%m-%dT%H:%MZ) on $(nproc) cores"
  "$work/release-bench" -phoenix "$work/phoenix" -site "$work/site-100" -label site-100 -work "$work/run100"
  "$work/release-bench" -phoenix "$work/phoenix" -site "$work/site-large" -label site-large -work "$work/runlarge"
  rm -rf "$work/runlarge"
  "$work/release-bench" -phoenix "$work/phoenix" -site "$work/site-large" -label site-large -work "$work/runlarge" -link
} | tee "$out"
rm -rf "$work/run100" "$work/runlarge"
