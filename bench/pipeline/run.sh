#!/bin/sh
# Pipeline engine benchmark: per-step overhead and DAG concurrency.
# Usage: bench/pipeline/run.sh [-steps N] [-sleep 200ms]
set -eu
cd "$(dirname "$0")/../.."
echo "# bench/pipeline run $(date -u +%Y-%m-%dT%H:%MZ) on $(nproc) cores"
go run ./bench/pipeline -confine=false "$@"
go run ./bench/pipeline -confine=true "$@"
