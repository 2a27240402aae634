#!/usr/bin/env bash
# Benchmarks of the control plane (release build, everything on 127.0.0.1):
#   tools/api-bench.sh runs-list   GET /runs latency with 1,000 stored runs (oha, p50/p99)
#   tools/api-bench.sh sse         req/s of a full-speed run alone vs with 10 SSE followers
#   tools/api-bench.sh soak [MIN] [RPS]  a constant_rps run of MIN minutes (default 10) at RPS
#                                  (default 5000); daemon RSS (anonymous and file-backed, i.e.
#                                  heap vs LMDB's mapped pages) sampled every 30 s
# The target is vayu-target on 127.0.0.1:$TARGET_PORT (default 18080); the daemon gets a
# fresh data dir.
set -euo pipefail
PORT=${TARGET_PORT:-18080}
cd "$(dirname "$0")/.."

cargo build --release --quiet -p vayu-control --bin vayu -p vayu-bench --bin vayu-target
VAYU=target/release/vayu
WORK=$(mktemp -d)
cleanup() { kill "${DAEMON_PID:-}" "${TARGET_PID:-}" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

start_target() {
    target/release/vayu-target --addr 127.0.0.1:$PORT > "$WORK/target.log" 2>&1 &
    TARGET_PID=$!
    for _ in $(seq 50); do grep -q listening "$WORK/target.log" 2>/dev/null && return; sleep 0.1; done
    echo "vayu-target did not start (port $PORT busy?)" >&2; exit 1
}

start_daemon() {
    "$VAYU" serve --port 0 --data-dir "$WORK/data" > "$WORK/daemon.log" 2>&1 &
    DAEMON_PID=$!
    for _ in $(seq 100); do
        API=$(grep -o 'http://127.0.0.1:[0-9]*' "$WORK/daemon.log" 2>/dev/null | head -1 || true)
        [[ -n "$API" ]] && return
        sleep 0.1
    done
    echo "vayu serve did not start" >&2; exit 1
}

post_run() { curl -sf -X POST "$API/run" -H 'Content-Type: application/json' -d "$1"; }

run_id_of() { python3 -c 'import json,sys; print(json.load(sys.stdin)["runId"])'; }

wait_done() {
    until curl -sf "$API/run/$1" | grep -q '"status":"\(completed\|stopped\|failed\)"'; do sleep 0.2; done
}

rss_kb() { awk '/RssAnon|RssFile/ {printf "%s %s KiB  ", $1, $2}' "/proc/$DAEMON_PID/status"; }

case "${1:-}" in
runs-list)
    command -v oha >/dev/null || cargo install oha --locked
    start_target; start_daemon
    echo "storing 1000 runs..."
    for i in $(seq 1000); do
        post_run "{\"url\":\"http://127.0.0.1:$PORT/\",\"mode\":\"iterations\",\"iterations\":1,\"concurrency\":1}" > /dev/null
    done
    last=$(curl -sf "$API/runs?limit=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
    wait_done "$last"
    echo "GET /runs (default page of 100), 2000 requests, 1 connection:"
    oha --no-tui -n 2000 -c 1 --output-format json "$API/runs" > "$WORK/oha.json"
    python3 - "$WORK/oha.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
p = d["latencyPercentiles"]
print(f"  p50 {p['p50']*1000:.3f} ms  p99 {p['p99']*1000:.3f} ms  max {d['summary']['slowest']*1000:.3f} ms  ({d['summary']['requestsPerSec']:.0f} req/s)")
PY
    ;;
sse)
    start_target; start_daemon
    body="{\"url\":\"http://127.0.0.1:$PORT/\",\"mode\":\"constant_concurrency\",\"concurrency\":64,\"duration\":\"8s\"}"
    for round in 1 2 3; do
        for followers in 0 10; do
            id=$(post_run "$body" | run_id_of)
            pids=()
            for _ in $(seq "$followers"); do
                curl -sN "$API/metrics/live/$id" > /dev/null & pids+=($!)
            done
            wait_done "$id"
            for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
            rps=$(curl -sf "$API/run/$id/report" | python3 -c 'import json,sys; print(json.load(sys.stdin)["summary"]["avgRps"])')
            echo "round $round, $followers SSE followers: $rps req/s"
        done
    done
    ;;
soak)
    minutes=${2:-10}
    rate=${3:-5000}
    start_target; start_daemon
    id=$(post_run "{\"url\":\"http://127.0.0.1:$PORT/\",\"mode\":\"constant_rps\",\"targetRps\":${rate},\"duration\":\"${minutes}m\",\"concurrency\":32}" | run_id_of)
    echo "run $id: constant_rps ${rate}/s for ${minutes} min; daemon RSS every 30 s:"
    while ! curl -sf "$API/run/$id" | grep -q '"status":"\(completed\|stopped\|failed\)"'; do
        echo "  $(date +%T) rss $(rss_kb)"
        sleep 30
    done
    echo "  end rss $(rss_kb)"
    curl -sf "$API/run/$id/report" | python3 -c 'import json,sys; s=json.load(sys.stdin)["summary"]; print("  requests", s["totalRequests"], "avgRps", s["avgRps"])'
    echo "  ticks stored: $(curl -sf "$API/stats/$id?format=json" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')"
    ;;
*)
    sed -n '2,8p' "$0"; exit 2 ;;
esac
