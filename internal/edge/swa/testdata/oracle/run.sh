#!/usr/bin/env bash
# Re-record the emulator oracle results for every conformance site.
#
# usage: testdata/oracle/run.sh [ORACLE_DIR]
#   ORACLE_DIR  a writable copy of tools/swa-oracle with `npm ci --ignore-scripts`
#               done (default: $SWA_ORACLE_DIR, else /tmp/oracle). To make one:
#               cp -r /work/shared/tools/swa-oracle /tmp/oracle && chmod -R u+w /tmp/oracle &&
#               (cd /tmp/oracle && npm ci --ignore-scripts)
# Writes testdata/oracle/<site>.jsonl from testdata/cases/<site>.json served
# from testdata/sites/<site>/. Needs node; TestOracle reads the results
# without node.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TD="$(dirname "$HERE")"
ORACLE="${1:-${SWA_ORACLE_DIR:-/tmp/oracle}}"
[[ -x "$ORACLE/probe.sh" ]] || { echo "no oracle at $ORACLE (see the header of $0)" >&2; exit 2; }
for cases in "$TD"/cases/*.json; do
  site="$(basename "$cases" .json)"
  echo "== $site" >&2
  "$ORACLE/probe.sh" "$TD/sites/$site" "$cases" "$HERE/$site.jsonl"
done
