#!/usr/bin/env bash
# Deploy-side benchmark: artifact.Build over the bench's large site versus the
# physical floor (sha256 with 2 goroutines + one copy of the files) measured in
# the same run. Usage:
#   bench/deploy/run.sh [large|small]      (from the repo root)
# Env: BENCH_DIR (scratch, default /tmp/phoenix-deploy-bench; on the filesystem
# under test), NICE=-15 to run in its own autogroup at that nice level (see
# /work/shared/bench/README.md), BROTLI / GZIP levels.
set -euo pipefail
variant=${1:-large}
repo=$(cd "$(dirname "$0")/../.." && pwd)
dir=${BENCH_DIR:-/tmp/phoenix-deploy-bench}
src=${BENCH_SRC:-/work/shared/bench}
mkdir -p "$dir"
if [ ! -d "$dir/bench" ]; then
  cp -r "$src" "$dir/bench" && rm -rf "$dir/bench/site"
fi
if [ ! -d "$dir/bench/site/$variant" ]; then
  (cd "$dir/bench" && ./gen-site.sh "$variant")
fi
(cd "$repo" && go build -o "$dir/deploybench" ./bench/deploy)
# The levels default to the product's own (artifact.DefaultBrotliLevel and
# DefaultGzipLevel, what phoenix deploy uses): BROTLI / GZIP only override them.
cmd=("$dir/deploybench" -site "$dir/bench/site/$variant" -work "$dir/work" ${BROTLI:+-brotli "$BROTLI"} ${GZIP:+-gzip "$GZIP"})
if [ -n "${NICE:-}" ]; then
  setsid bash -c "echo ${NICE} >/proc/self/autogroup; exec nice -n ${NICE} \"\$@\"" _ "${cmd[@]}"
else
  "${cmd[@]}"
fi
