#!/bin/sh
# Runs the security-gate benchmarks (about a minute on 2 shared cores).
# Usage: bench/scan/run.sh [extra scanbench flags]
set -eu
cd "$(dirname "$0")"
go run . -real ../../../shared/data/osv-npm "$@"
