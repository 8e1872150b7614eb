#!/usr/bin/env bash
# bench/edge/run.sh — the Phoenix edge against the nginx anchor, in one run.
#
#   bench/edge/run.sh            (DUR=5 REPS=1 by default: the machine is shared)
#
# Steps: copy the shared bench folder to $WORK (it has its own go.mod), generate
# site/small and site/large with gen-site.sh, build bench/edge/cmd/edgeserve,
# start nginx (nginx/run-nginx.sh, 2 workers) and edgeserve, run serve-bench.sh
# for both (html, js-gz, 404 at 64 and 256 connections), then
#   - RSS of edgeserve serving site/large (20,003 files) under wrk over 3,000 of its paths;
#   - 100 activations flipping between two releases while wrk runs with a check of
#     every response (flipcheck.lua): 0 errors and 0 mixed responses expected; then the
#     same on a 60 KB file answered from the edge's file and answer pipes (flipcheck_big.lua);
#   - with STEPS including "idle": memory per idle keep-alive connection, nginx and the edge,
#     IDLE_CONNS connections each answered once and left open (cmd/idleconns; the default
#     6000 stays inside the bench nginx's 2 x 4096 worker_connections); with openssl also over
#     TLS (HTTP/1.1 and HTTP/2), nginx (nginx-tls.conf) against `phoenix serve --tls-cert`;
#   - with STEPS including "procs": two loops with GOMAXPROCS=2 forced against the edge's own
#     loops+1 Ps (h1.spareProc), js-gz under wrk: req/s and the runtime threads' CPU and
#     wake-ups (tools/threads.sh), REPS pairs;
#   - with STEPS including "tls": serve-bench over HTTPS (html and js-gz, HTTP/1.1 as wrk speaks it),
#     nginx with nginx-tls.conf against `phoenix serve --tls-cert` (no target; the lean loop is
#     plain HTTP only, HTTPS is net/http and crypto/tls). Needs openssl.
# Output: $OUT (default $WORK/results-<date>): serve.txt, rss.txt, flip.txt, and summary.txt:
#   the ratios against nginx per endpoint and connection count (tools/ratios.awk: req/s, the
#   lowest and highest ratio of runs taken side by side, p99, and req/s per server core).
#   - with STEPS including "ref": js-gz only, nginx and the edge next to three reference servers
#     that answer every request with the JS file (ref/sendfile1.c: one epoll thread in C;
#     ref/gobare: the same loop in Go; ref/h1bare: the edge's HTTP/1.1 loop, parser and writer
#     with a one-file handler): what any one-thread epoll+sendfile server gets here, and what
#     the Go runtime, the HTTP layer and the edge's handler each cost per request.
# Knobs: STEPS="serve rss flip" (add "ref" for the reference servers, "idle" for idle connections, "tls" for HTTPS, "procs" for runtime threads) IDLE_CONNS=6000 SHARED=/work/shared/bench WORK=/tmp/phoenix-edge-bench DUR=5 REPS=1 NICE=-15 PORT=18081
#        QUIET_WAIT=20 RETRIES=1 (serve-bench waits at most 20 s for a quiet machine per run)
#        EDGE_PROCS="": GOMAXPROCS of edgeserve ("" keeps Go's default, as phoenix runs).
#        EDGE_LOOPS=1: event loops (threads) of the edge's lean HTTP/1.1 loop on Linux.
#        PIN=1: servers (nginx and the edge alike) on core 0, wrk on core 1 (serve-bench's
#        WRK_CPUS=1), so the load generator does not share the servers' core.
# Needs: nginx-light wrk (apt-get install -y nginx-light wrk), go.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
SHARED=${SHARED:-/work/shared/bench}
WORK=${WORK:-/tmp/phoenix-edge-bench}
export DUR=${DUR:-5} REPS=${REPS:-1} NICE=${NICE:--15} QUIET_WAIT=${QUIET_WAIT:-20} RETRIES=${RETRIES:-1}
PORT=${PORT:-18081}
IDLE_CONNS=${IDLE_CONNS:-6000}
EDGE_PROCS=${EDGE_PROCS-}
EDGE_LOOPS=${EDGE_LOOPS:-1}
PIN=${PIN:-}
pin=()
if [ -n "$PIN" ]; then pin=(taskset -c 0); export WRK_CPUS=1; fi
OUT=${OUT:-$WORK/results-$(date -u +%Y%m%d-%H%M%S)}
for t in wrk nginx go; do command -v $t >/dev/null || { echo "run.sh: $t missing (apt-get install -y nginx-light wrk)"; exit 1; }; done
mkdir -p "$WORK" "$OUT"
[ -f "$WORK/bench/serve-bench.sh" ] || { mkdir -p "$WORK/bench" && cp -r "$SHARED/." "$WORK/bench/"; }
B=$WORK/bench
(cd "$B" && ./gen-site.sh && ./gen-site.sh large) >"$OUT/gen.txt"
(cd "$repo" && go build -o "$WORK/edgeserve" ./bench/edge/cmd/edgeserve)

pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  "$B/nginx/run-nginx.sh" stop >/dev/null 2>&1 || true
  [ -s "$WORK/tls/nginx.pid" ] && kill "$(cat "$WORK/tls/nginx.pid")" 2>/dev/null || true
}
trap cleanup EXIT

# "${own_group[@]}" CMD...: CMD in its own session, so its own scheduler autogroup, with the
# group's nice and its own at $NICE (plain nice only ranks tasks inside one autogroup). An
# array, not a function: started with &, $! is then the server itself (setsid, bash and nice
# exec into it), not a subshell.
own_group=(setsid bash -c 'echo "$0" >/proc/self/autogroup 2>/dev/null; exec nice -n "$0" "$@"' "$NICE")

# start_edge ARGS... : edgeserve in its own group (own_group).
start_edge() {
  "${own_group[@]}" env ${EDGE_PROCS:+GOMAXPROCS=$EDGE_PROCS} ${pin[@]+"${pin[@]}"} "$WORK/edgeserve" -listen "127.0.0.1:$PORT" -loops "$EDGE_LOOPS" "$@" >"$OUT/edgeserve.log" 2>&1 &
  edge_pid=$!
  pids+=("$edge_pid")
  for _ in $(seq 300); do curl -s -o /dev/null "http://127.0.0.1:$PORT/" && return 0; sleep 0.1; done
  echo "run.sh: edgeserve did not start"; cat "$OUT/edgeserve.log"; exit 1
}
stop_edge() { kill "$edge_pid"; wait "$edge_pid" 2>/dev/null || true; }
wrk_nice() { "${own_group[@]}" wrk "$@"; }

# TLS (steps idle and tls): a self-signed certificate for 127.0.0.1, nginx with nginx-tls.conf on
# 18443, and `phoenix serve --tls-cert` (the edge's HTTPS: net/http and crypto/tls) on PORT+5, each
# in its own session with autogroup nice $NICE like the plain servers.
tls=$WORK/tls
tls_setup() {
  mkdir -p "$tls"
  [ -f "$tls/cert.pem" ] || openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
    -keyout "$tls/key.pem" -out "$tls/cert.pem" -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 2>/dev/null
  sed "s|@TLS@|$tls|g; s|@SITE@|$B/site/small|g" "$here/nginx-tls.conf" >"$tls/nginx.conf"
  (cd "$repo" && go build -o "$WORK/phoenix" ./cmd/phoenix)
}
start_nginx_tls() {
  "${own_group[@]}" nginx -p "$tls/" -c "$tls/nginx.conf" -e "$tls/error.log"
  for _ in $(seq 50); do [ -s "$tls/nginx.pid" ] && break; sleep 0.1; done
  ngx=$(cat "$tls/nginx.pid"); ngx="$ngx,$(pgrep -d, -P "$ngx")"
}
stop_nginx_tls() {
  nginx -p "$tls/" -c "$tls/nginx.conf" -e "$tls/error.log" -s stop
  for _ in $(seq 50); do [ -s "$tls/nginx.pid" ] || break; sleep 0.1; done
}
start_phoenix_tls() {
  "${own_group[@]}" "$WORK/phoenix" serve "$B/site/small" --addr "127.0.0.1:$((PORT + 5))" --tls-cert "$tls/cert.pem" --tls-key "$tls/key.pem" \
    >"$OUT/phoenix-tls.log" 2>&1 &
  ph=$!
  pids+=("$ph")
  for _ in $(seq 100); do curl -s --cacert "$tls/cert.pem" -o /dev/null "https://127.0.0.1:$((PORT + 5))/" && return 0; sleep 0.1; done
  echo "run.sh: phoenix serve --tls-cert did not start"; cat "$OUT/phoenix-tls.log"; exit 1
}
stop_phoenix_tls() { kill "$ph"; wait "$ph" 2>/dev/null || true; }

STEPS=${STEPS:-"serve rss flip"}
has() { [[ " $STEPS " == *" $1 "* ]]; }

if has serve; then
echo "== serve-bench: nginx vs edge, site/small, DUR=$DUR REPS=$REPS NICE=$NICE EDGE_PROCS=${EDGE_PROCS:-default} EDGE_LOOPS=$EDGE_LOOPS PIN=${PIN:-0}"
${pin[@]+"${pin[@]}"} "$B/nginx/run-nginx.sh" start 2
start_edge -root "$B/site/small"
"$B/serve-bench.sh" nginx=http://127.0.0.1:18080 edge=http://127.0.0.1:$PORT | tee "$OUT/serve.txt"
awk -f "$here/tools/ratios.awk" "$OUT/serve.txt" | tee "$OUT/summary.txt"
"$B/nginx/run-nginx.sh" stop
stop_edge
fi

if has ref; then
echo "== reference servers: js-gz only, nginx / edge / h1bare / gobare / sendfile1 (C), DUR=$DUR REPS=$REPS PIN=${PIN:-0}"
command -v cc >/dev/null || { echo "run.sh: ref needs a C compiler (cc)"; exit 1; }
cc -O2 -o "$WORK/sendfile1" "$here/ref/sendfile1.c" -lpthread
(cd "$repo" && go build -o "$WORK/gobare" ./bench/edge/ref/gobare && go build -o "$WORK/h1bare" ./bench/edge/ref/h1bare)
js=$(sed -n 's/^js100k=//p' "$B/site/small/.bench-paths")
refs=()
start_ref() { # start_ref PORT CMD...: like start_edge, for a reference server
  local port=$1; shift
  "${own_group[@]}" ${pin[@]+"${pin[@]}"} "$@" >"$OUT/ref-$port.log" 2>&1 &
  pids+=($!); refs+=($!)
  for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/" && return 0; sleep 0.1; done
  echo "run.sh: reference server on $port did not start"; exit 1
}
${pin[@]+"${pin[@]}"} "$B/nginx/run-nginx.sh" start 2
start_edge -root "$B/site/small"
start_ref $((PORT + 1)) "$WORK/gobare" -port $((PORT + 1)) -file "$B/site/small$js.gz"
start_ref $((PORT + 2)) "$WORK/sendfile1" $((PORT + 2)) "$B/site/small$js.gz"
start_ref $((PORT + 3)) "$WORK/h1bare" -listen 127.0.0.1:$((PORT + 3)) -file "$B/site/small$js.gz"
ENDPOINTS=js-gz "$B/serve-bench.sh" nginx=http://127.0.0.1:18080 edge=http://127.0.0.1:$PORT \
  h1bare=http://127.0.0.1:$((PORT + 3)) gobare=http://127.0.0.1:$((PORT + 1)) \
  sendfile1-c=http://127.0.0.1:$((PORT + 2)) | tee "$OUT/ref.txt"
awk -f "$here/tools/ratios.awk" "$OUT/ref.txt" | tee -a "$OUT/summary.txt"
kill "${refs[@]}" 2>/dev/null || true
"$B/nginx/run-nginx.sh" stop
stop_edge
fi

if has rss; then
echo "== RSS: edge serving site/large"
start_edge -root "$B/site/large"
rss() { awk '/VmRSS/{print $2}' "/proc/$edge_pid/status"; }
idle=$(rss)
(cd "$B/site/large" && find . -type f ! -name '*.gz' | sed 's|^\.||' | sort >"$WORK/large-paths.all")
head -n 3000 "$WORK/large-paths.all" >"$WORK/large-paths.txt"
wrk_nice -t2 -c64 -d"${DUR}s" -s "$here/rsspaths.lua" "http://127.0.0.1:$PORT" -- "$WORK/large-paths.txt" >"$OUT/rss-wrk.txt" 2>&1 &
wrkp=$!
peak=0
while kill -0 $wrkp 2>/dev/null; do r=$(rss); [ "$r" -gt "$peak" ] && peak=$r; sleep 0.2; done
wait $wrkp || true
{ echo "files=$(find "$B/site/large" -type f | wc -l) rss_after_index_kb=$idle rss_peak_under_load_kb=$peak"; grep -E "Requests/sec|Non-2xx|Socket" "$OUT/rss-wrk.txt" || true; } | tee "$OUT/rss.txt"
stop_edge
fi

if has idle; then
echo "== idle keep-alive connections: memory per connection, nginx and the edge, $IDLE_CONNS each"
(cd "$repo" && go build -o "$WORK/idleconns" ./bench/edge/cmd/idleconns)
"$B/nginx/run-nginx.sh" start 2
ngx=$(cat /tmp/bench-nginx/nginx.pid); ngx="$ngx,$(pgrep -d, -P "$ngx")"
{ printf 'nginx '; "$WORK/idleconns" -addr 127.0.0.1:18080 -n "$IDLE_CONNS" -pids "$ngx"; } | tee "$OUT/idle.txt"
"$B/nginx/run-nginx.sh" stop
start_edge -root "$B/site/small"
{ printf 'edge  '; "$WORK/idleconns" -addr "127.0.0.1:$PORT" -n "$IDLE_CONNS" -pids "$edge_pid"; } | tee -a "$OUT/idle.txt"
stop_edge
if command -v openssl >/dev/null; then # over TLS: nginx against `phoenix serve --tls-cert` (net/http, crypto/tls)
  tls_setup
  for proto in http/1.1 h2; do
    start_nginx_tls
    { printf 'nginx '; "$WORK/idleconns" -addr 127.0.0.1:18443 -tls "$proto" -n "$IDLE_CONNS" -pids "$ngx"; } | tee -a "$OUT/idle.txt"
    stop_nginx_tls
    start_phoenix_tls
    { printf 'edge  '; "$WORK/idleconns" -addr "127.0.0.1:$((PORT + 5))" -tls "$proto" -n "$IDLE_CONNS" -pids "$ph"; } | tee -a "$OUT/idle.txt"
    stop_phoenix_tls
  done
fi
fi

if has tls; then
echo "== over TLS (HTTP/1.1): nginx (nginx-tls.conf) vs phoenix serve --tls-cert, html and js-gz, DUR=$DUR REPS=$REPS NICE=$NICE"
command -v openssl >/dev/null || { echo "run.sh: the tls step needs openssl"; exit 1; }
tls_setup
start_nginx_tls
start_phoenix_tls
CURL_CA_BUNDLE="$tls/cert.pem" ENDPOINTS="html js-gz" "$B/serve-bench.sh" nginx=https://127.0.0.1:18443 \
  edge=https://127.0.0.1:$((PORT + 5)) | tee "$OUT/tls.txt"
awk -f "$here/tools/ratios.awk" "$OUT/tls.txt" | tee -a "$OUT/summary.txt"
stop_nginx_tls
stop_phoenix_tls
fi

if has procs; then
# Two loops on two Ps: GOMAXPROCS=2 forced (the edge before h1.spareProc) against the edge's own
# choice (loops+1 Ps), interleaved; js-gz at 64 connections, the threads measured mid-run.
echo "== runtime threads with two loops: GOMAXPROCS=2 vs the edge's loops+1, js-gz, 64 conns, ${DUR}s x $REPS"
js=$(sed -n 's/^js100k=//p' "$B/site/small/.bench-paths")
for rep in $(seq "$REPS"); do
  for procs in 2 ""; do
    EDGE_PROCS=$procs EDGE_LOOPS=2 start_edge -root "$B/site/small"
    wrk_nice -t2 -c64 -d"$((DUR + 2))s" -H 'Accept-Encoding: gzip' "http://127.0.0.1:$PORT$js" >"$OUT/procs-wrk.txt" 2>&1 &
    wrkp=$!
    sleep 1
    t=$("$here/tools/threads.sh" "$edge_pid" 2 "$DUR")
    wait $wrkp || true
    echo "gomaxprocs=${procs:-3(auto)} req_per_s=$(awk '/Requests\/sec/{print int($2)}' "$OUT/procs-wrk.txt") $t" | tee -a "$OUT/procs.txt"
    stop_edge
  done
done
fi

if has flip; then
echo "== activations: 100 flips between two releases under wrk"
for r in A B; do
  mkdir -p "$WORK/flip/$r/assets"
  printf '<!doctype html><html data-release="%s"><script src="/assets/index-%s1x2y3z4.js"></script></html>\n' $r $r >"$WORK/flip/$r/index.html"
  printf 'window.release="%s";\n' $r >"$WORK/flip/$r/assets/index-${r}1x2y3z4.js"
  head -c 60000 /dev/zero | tr '\0' "$r" >"$WORK/flip/$r/big.bin" # 60 KB: answered from pipes once hot
done
etag() { printf '"%s"' "$(sha256sum "$WORK/flip/$1/${2:-index.html}" | cut -c1-32)"; }
start_edge -root "$WORK/flip/A" -alt "$WORK/flip/B" -flips 100 -every 30ms -flip-delay 1s
wrk_nice -t2 -c64 -d"$(( DUR > 5 ? DUR : 5 ))s" -s "$here/flipcheck.lua" "http://127.0.0.1:$PORT/" -- "$(etag A)" "$(etag B)" | tee "$OUT/flip.txt"
sleep 0.5
grep -h "activations done" "$OUT/edgeserve.log" | tee -a "$OUT/flip.txt" || echo "activations not finished" | tee -a "$OUT/flip.txt"
stop_edge
echo "== activations: 100 flips between two releases under wrk, a 60 KB file (file and answer pipes)"
start_edge -root "$WORK/flip/A" -alt "$WORK/flip/B" -flips 100 -every 30ms -flip-delay 1s
wrk_nice -t2 -c64 -d"$(( DUR > 5 ? DUR : 5 ))s" -s "$here/flipcheck_big.lua" "http://127.0.0.1:$PORT/big.bin" -- "$(etag A big.bin)" "$(etag B big.bin)" 60000 | tee -a "$OUT/flip.txt"
sleep 0.5
grep -h "activations done" "$OUT/edgeserve.log" | tail -1 | tee -a "$OUT/flip.txt" || echo "activations not finished" | tee -a "$OUT/flip.txt"
stop_edge
fi
echo "results in $OUT"
