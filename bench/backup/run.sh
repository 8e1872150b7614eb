#!/usr/bin/env bash
# bench/backup/run.sh — phoenix backup against restic (the anchor) on the same data dir, in one run.
#
#   bench/backup/run.sh              (REPS=3; needs restic: apt-get install -y restic)
#
# Steps: generate site/large (1.1 GB, 20,003 files) with gen-site.sh, build phoenix, deploy the
# site into a fresh data dir (in-process server), then REPS times, alternating the tools:
#   full    first backup into a new repository
#   again   second backup, nothing changed
#   release third backup after deploying site/small (407 files, 34 MB: a new release)
#   restore restore the latest snapshot into a new folder
# phoenix: 'phoenix backup create' (in-process server; includes its restore test: every file read
#          back and checked, database and keys restored, integrity check, audit chain verified)
#          and 'phoenix backup restore'.
# restic:  'restic backup' of the same data dir (its lock and WAL side files excluded) followed by
#          'restic check --read-data' (the same read-back), and 'restic restore'. Compression off
#          (phoenix stores blobs that are mostly precompressed or random); REPO_COMP=auto to change.
# Everything lives on tmpfs (WORK=/dev/shm/...) so the disk's erratic writes stay out of it.
# Output: $OUT/results.txt (seconds per step, median of REPS, and the ratio phoenix/restic).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
SHARED=${SHARED:-/work/shared/bench}
WORK=${WORK:-/dev/shm/phoenix-backup-bench}
REPS=${REPS:-3}
REPO_COMP=${REPO_COMP:-off}
OUT=${OUT:-$WORK/results-$(date -u +%Y%m%d-%H%M%S)}
command -v restic >/dev/null || { echo "run.sh: restic missing (apt-get install -y restic)"; exit 1; }
mkdir -p "$WORK" "$OUT"
[ -f "$WORK/bench/gen-site.sh" ] || { mkdir -p "$WORK/bench" && cp -r "$SHARED/." "$WORK/bench/" && chmod -R u+w "$WORK/bench"; }
(cd "$WORK/bench" && ./gen-site.sh small >/dev/null && ./gen-site.sh large >/dev/null)
(cd "$repo" && go build -o "$WORK/phoenix" ./cmd/phoenix)
P=$WORK/phoenix
data=$WORK/data
rm -rf "$data" "$WORK/proj"
mkdir -p "$WORK/proj"
printf 'version: 1\nproject:\n  name: site\nenvironments:\n  production: {}\n' >"$WORK/proj/phoenix.yaml"
(cd "$WORK/proj" && PHOENIX_DATA=$data "$P" deploy "$WORK/bench/site/large" --env production >/dev/null)
rm -rf "$data.base" && cp -a "$data" "$data.base" # every repetition starts from this state
echo "backup-bench key $(date +%s%N)" >"$WORK/key"
chmod 600 "$WORK/key"
export RESTIC_PASSWORD_FILE=$WORK/key PHOENIX_BACKUP_KEY_FILE=$WORK/key
restic_excl=(--exclude "$data/phoenix.lock" --exclude "$data/server.json" --exclude "$data/state.db-wal"
  --exclude "$data/state.db-shm" --exclude "$data/tools")

secs() { local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null 2>>"$OUT/stderr.txt"; t1=$(date +%s.%N); echo "$t1 - $t0" | bc; }
phoenix_run() { # phoenix_run REPO STEP
  case $2 in
    init) "$P" backup init --repo "$1" ;;
    backup) PHOENIX_DATA=$data "$P" backup create --repo "$1" ;;
    restore) "$P" backup restore latest --repo "$1" --to "$1.restored" ;;
  esac
}
restic_run() {
  case $2 in
    init) restic init -q --repo "$1" ;;
    backup) restic backup -q --repo "$1" --compression "$REPO_COMP" "${restic_excl[@]}" "$data" && restic check -q --repo "$1" --read-data ;;
    restore) restic restore -q --repo "$1" latest --target "$1.restored" ;;
  esac
}

steps=(full again release restore)
declare -A t
for rep in $(seq "$REPS"); do
  rm -rf "$data" && cp -a "$data.base" "$data"
  for tool in phoenix restic; do
    r=$WORK/repo-$tool-$rep
    rm -rf "$r" "$r.restored"
    ${tool}_run "$r" init >/dev/null 2>&1
    t[$tool,full,$rep]=$(secs ${tool}_run "$r" backup)
    t[$tool,again,$rep]=$(secs ${tool}_run "$r" backup)
  done
  # A new release, the same for both tools' third backup.
  (cd "$WORK/proj" && PHOENIX_DATA=$data "$P" deploy "$WORK/bench/site/small" --env production >/dev/null)
  for tool in phoenix restic; do
    r=$WORK/repo-$tool-$rep
    t[$tool,release,$rep]=$(secs ${tool}_run "$r" backup)
    t[$tool,restore,$rep]=$(secs ${tool}_run "$r" restore)
    du -sb "$r" | cut -f1 >"$OUT/size-$tool-$rep"
    rm -rf "$r.restored"
  done
done

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
{
  echo "# bench/backup $(date -u +%Y-%m-%dT%H:%MZ) cpus=$(nproc) reps=$REPS $(restic version | head -1 | cut -d' ' -f1-2) compression=$REPO_COMP"
  echo "# data dir: site/large deployed ($(du -sb "$data.base" | cut -f1) bytes, $(find "$data.base" -type f | wc -l) files), on tmpfs; release = deploying site/small on top"
  printf "%-8s %10s %10s %8s   %s\n" step phoenix_s restic_s ratio "runs (phoenix | restic)"
  for s in "${steps[@]}"; do
    pr=""; rr=""
    for rep in $(seq "$REPS"); do pr+="${t[phoenix,$s,$rep]} "; rr+="${t[restic,$s,$rep]} "; done
    pm=$(echo "$pr" | median); rm_=$(echo "$rr" | median)
    printf "%-8s %10.2f %10.2f %7.2fx   %s| %s\n" "$s" "$pm" "$rm_" "$(echo "$pm / $rm_" | bc -l)" "$pr" "$rr"
  done
  echo "# repository bytes after 3 snapshots: phoenix $(cat "$OUT/size-phoenix-1"), restic $(cat "$OUT/size-restic-1")"
} | tee "$OUT/results.txt"
rm -rf "$WORK"/repo-* "$data" "$data.base"
echo "results in $OUT"
