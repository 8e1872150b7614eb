#!/usr/bin/env bash
# bench/backup/mirror.sh — pushing a backup repository to S3-compatible storage: phoenix's
# mirror against rclone (the anchor), same repository, same S3 server, same run.
#
#   bench/backup/mirror.sh           (REPS=2)
#
# Steps: generate site/large (1.1 GB, 20,003 files), deploy it into a fresh data dir, take one
# backup into a repository (43k objects), start versitygw (posix backend; a bucket is a folder)
# on 127.0.0.1, then REPS times, alternating the tools, each into its own new bucket:
#   first  push of the whole repository
#   again  push with nothing changed (list the bucket, send nothing)
# phoenix: bench/backup/cmd/mirrorpush (mirror.Push, 8 uploads at once).
# rclone:  rclone sync with --transfers 8 --checkers 8 and --s3-disable-checksum (phoenix sends no
#          MD5 either); size-only comparison as phoenix does (--size-only).
# AWS_CA_BUNDLE is unset for rclone (its SDK cannot load a custom bundle with its own transport).
# Everything on tmpfs (WORK=/dev/shm/...). Needs: rclone (apt-get install -y rclone) and
# versitygw (go install github.com/versity/versitygw/cmd/versitygw@v1.8.0; VERSITYGW=path).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo_root=$(cd "$here/../.." && pwd)
SHARED=${SHARED:-/work/shared/bench}
WORK=${WORK:-/dev/shm/phoenix-mirror-bench}
REPS=${REPS:-2}
VERSITYGW=${VERSITYGW:-$(command -v versitygw || echo "$HOME/go/bin/versitygw")}
PORT=${PORT:-17070}
OUT=${OUT:-$WORK/results-$(date -u +%Y%m%d-%H%M%S)}
command -v rclone >/dev/null || { echo "mirror.sh: rclone missing (apt-get install -y rclone)"; exit 1; }
[ -x "$VERSITYGW" ] || { echo "mirror.sh: versitygw missing (go install github.com/versity/versitygw/cmd/versitygw@v1.8.0)"; exit 1; }
mkdir -p "$WORK" "$OUT"
[ -f "$WORK/bench/gen-site.sh" ] || { mkdir -p "$WORK/bench" && cp -r "$SHARED/." "$WORK/bench/" && chmod -R u+w "$WORK/bench"; }
(cd "$WORK/bench" && ./gen-site.sh large >/dev/null)
(cd "$repo_root" && go build -o "$WORK/phoenix" ./cmd/phoenix && go build -o "$WORK/mirrorpush" ./bench/backup/cmd/mirrorpush)
P=$WORK/phoenix
data=$WORK/data repo=$WORK/repo s3dir=$WORK/s3
rm -rf "$data" "$repo" "$s3dir" "$WORK/proj"
mkdir -p "$WORK/proj" "$s3dir"
printf 'version: 1\nproject:\n  name: site\nenvironments:\n  production: {}\n' >"$WORK/proj/phoenix.yaml"
(cd "$WORK/proj" && PHOENIX_DATA=$data "$P" deploy "$WORK/bench/site/large" --env production >/dev/null)
echo "mirror-bench key $(date +%s%N)" >"$WORK/key" && chmod 600 "$WORK/key"
"$P" backup init --repo "$repo" --key-file "$WORK/key" >/dev/null 2>&1
PHOENIX_DATA=$data PHOENIX_BACKUP_KEY_FILE=$WORK/key "$P" backup create --repo "$repo" >/dev/null 2>&1

export AWS_ACCESS_KEY_ID=benchkey AWS_SECRET_ACCESS_KEY=benchsecret
"$VERSITYGW" --port "127.0.0.1:$PORT" --access "$AWS_ACCESS_KEY_ID" --secret "$AWS_SECRET_ACCESS_KEY" posix "$s3dir" >"$OUT/versitygw.log" 2>&1 &
gw=$!
trap 'kill $gw 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$PORT/" && break; sleep 0.1; done
endpoint=http://127.0.0.1:$PORT
rcl=(env -u AWS_CA_BUNDLE rclone --config /dev/null --s3-provider Other --s3-endpoint "$endpoint" --s3-access-key-id "$AWS_ACCESS_KEY_ID"
  --s3-secret-access-key "$AWS_SECRET_ACCESS_KEY" --s3-disable-checksum --transfers 8 --checkers 8 --size-only)

secs() { local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null 2>>"$OUT/stderr.txt"; t1=$(date +%s.%N); echo "$t1 - $t0" | bc; }
declare -A t
for rep in $(seq "$REPS"); do
  for tool in phoenix rclone; do
    bucket=bench-$tool-$rep
    mkdir -p "$s3dir/$bucket"
    case $tool in
      phoenix) run=("$WORK/mirrorpush" -repo "$repo" -url "s3://$bucket/repo" -endpoint "$endpoint") ;;
      rclone) run=("${rcl[@]}" sync --exclude lock --exclude '.tmp-*/**' "$repo" ":s3:$bucket/repo") ;;
    esac
    t[$tool,first,$rep]=$(secs "${run[@]}")
    t[$tool,again,$rep]=$(secs "${run[@]}")
    find "$s3dir/$bucket" -type f | wc -l >"$OUT/keys-$tool-$rep"
    rm -rf "${s3dir:?}/$bucket"
  done
done

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
{
  echo "# bench/backup/mirror $(date -u +%Y-%m-%dT%H:%MZ) cpus=$(nproc) reps=$REPS $(rclone version | head -1) versitygw v1.8.0 posix on tmpfs"
  echo "# repository: $(du -sb "$repo" | cut -f1) bytes, $(find "$repo" -type f | wc -l) files; keys after a push: phoenix $(cat "$OUT/keys-phoenix-1"), rclone $(cat "$OUT/keys-rclone-1")"
  printf "%-6s %10s %10s %8s   %s\n" step phoenix_s rclone_s ratio "runs (phoenix | rclone)"
  for s in first again; do
    pr=""; rr=""
    for rep in $(seq "$REPS"); do pr+="${t[phoenix,$s,$rep]} "; rr+="${t[rclone,$s,$rep]} "; done
    pm=$(echo "$pr" | median); rm_=$(echo "$rr" | median)
    printf "%-6s %10.2f %10.2f %7.2fx   %s| %s\n" "$s" "$pm" "$rm_" "$(echo "$pm / $rm_" | bc -l)" "$pr" "$rr"
  done
} | tee "$OUT/results.txt"
rm -rf "$data" "$repo" "$s3dir"
echo "results in $OUT"
