#!/usr/bin/env bash
# Leak and soak check of the daemon: N short load runs (RSS after run 10 and after run N), then
# optionally one long run (the RSS slope).
#
# Usage: tools/leak-check.sh [N] [LONG_MINUTES]
#   N             short runs (default 200; N >= 10, or 0 for none)
#   LONG_MINUTES  then one constant_rps run of this many minutes (default: none), RSS sampled
#                 every SAMPLE_SECONDS; prints the least-squares slope in kB/min after the first
#                 minute (issue 9's bar: <= 50 kB/min at 5,000 req/s). Its maxInFlight is
#                 MAX_IN_FLIGHT (default 1000): an open-loop run opens a connection whenever
#                 none is idle, and keeps it, so a stall of the shared machine shows as a step
#                 of ~4 kB per connection opened, not as growth over time
#
# Builds the release `vayu` and `vayu-target`, starts the target and `vayu serve --workers 1`
# on a fresh data dir, then starts N runs of 100 requests (concurrency 2) one after another,
# waiting for each to end. Prints the daemon's VmRSS every 10 runs, after run 10, after run N
# and the difference. Issue 9's bar: 1,000 runs, RSS after run 1,000 within +20 MB of run 10.
# VmRSS = RssAnon (the heap) + RssFile (the binary and the pages of the LMDB data file the
# daemon has touched; the writer thread unmaps the data file's pages every 10 s, so RssFile
# saw-tooths instead of growing with the stored history, DECISIONS §69). DELETE=1 deletes each
# run once it has ended. The long run stores its ticks (~10 a second) in the same file.
# Environment: DELETE=1, VAYU_PORT (default 19876), TARGET_PORT (default 18300), SKIP_BUILD=1 (use the
# binaries as built), VAYU_BIN (default target/release/vayu: e.g. a copy of an older build), TARGET_BIN
# (default target/release/vayu-target),
# RPS (the long run's rate, default 5000), MAX_IN_FLIGHT (default 1000), SAMPLE_SECONDS (default 10), SERVE_ARGS (more
# `vayu serve` arguments, e.g. `--live-window 100`).
set -euo pipefail

runs=${1:-200}
long_minutes=${2:-0}
if ((runs != 0 && runs < 10)); then
    echo "N must be at least 10 (or 0)" >&2
    exit 2
fi
rate=${RPS:-5000}
max_in_flight=${MAX_IN_FLIGHT:-1000}
sample_seconds=${SAMPLE_SECONDS:-10}
vayu_port=${VAYU_PORT:-19876}
target_port=${TARGET_PORT:-18300}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

if [[ -z "${SKIP_BUILD:-}" ]]; then
    cargo build --release -q -p vayu-control --bin vayu -p vayu-bench --bin vayu-target
fi

data_dir=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    wait 2>/dev/null || true
    rm -rf "$data_dir"
}
trap cleanup EXIT

"${TARGET_BIN:-target/release/vayu-target}" --addr "127.0.0.1:$target_port" >/dev/null 2>&1 &
pids+=($!)
# shellcheck disable=SC2086 # SERVE_ARGS is a list of arguments
"${VAYU_BIN:-target/release/vayu}" serve --port "$vayu_port" --data-dir "$data_dir" --workers 1 \
    ${SERVE_ARGS:-} >"$data_dir/serve.log" 2>&1 &
daemon=$!
pids+=("$daemon")

api="http://127.0.0.1:$vayu_port"
for _ in $(seq 100); do
    curl -sf "$api/runs" >/dev/null 2>&1 && break
    sleep 0.1
done

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$daemon/status"; }
anon_kb() { awk '/^RssAnon:/ { print $2 }' "/proc/$daemon/status"; }
ended() { curl -sf "$api/run/$1" | grep -q '"status":"\(completed\|stopped\|failed\)"'; }

# Least-squares slope in kB/min of "seconds kB" lines on stdin, over those after the first minute.
slope() {
    awk '$1 >= 60 { n++; x = $1 / 60; sx += x; sy += $2; sxx += x * x; sxy += x * $2 }
        END { if (n < 2 || n * sxx == sx * sx) print "n/a"; else printf "%.1f", (n * sxy - sx * sy) / (n * sxx - sx * sx) }'
}

# One constant_rps run of $1 minutes at $rate req/s; RSS every $sample_seconds s, then slopes.
long_run() {
    local minutes=$1 body id started now samples
    body="{\"method\":\"GET\",\"url\":\"http://127.0.0.1:$target_port/\",\"mode\":\"constant_rps\",\"targetRps\":$rate,\"duration\":\"${minutes}m\",\"concurrency\":32,\"maxInFlight\":$max_in_flight}"
    id=$(curl -sf -X POST "$api/run" -H 'Content-Type: application/json' -d "$body" |
        sed -n 's/.*"runId":"\([^"]*\)".*/\1/p')
    if [[ -z "$id" ]]; then
        echo "long run: POST /run gave no runId" >&2
        exit 1
    fi
    echo "long run $id: constant_rps $rate/s for $minutes min; RSS every $sample_seconds s:"
    samples="$data_dir/long.rss"
    started=$(date +%s)
    until ended "$id"; do
        now=$(($(date +%s) - started))
        awk -v t="$now" '/^(VmRSS|RssAnon|RssFile):/ { kb[$1] = $2 }
            END { print t, kb["VmRSS:"], kb["RssAnon:"], kb["RssFile:"] }' "/proc/$daemon/status" >>"$samples"
        echo "  ${now}s: $(tail -1 "$samples" | awk '{ printf "VmRSS %s kB, RssAnon %s kB, RssFile %s kB", $2, $3, $4 }')"
        sleep "$sample_seconds"
    done
    curl -sf "$api/run/$id/report?format=json" | python3 -c 'import json, sys
s = json.load(sys.stdin)["summary"]
print("  requests", s["totalRequests"], "avgRps", s["avgRps"], "failed", s["failedRequests"],
      "dropped", s["droppedRequests"], "peak in flight", s["peakConcurrency"])'
    echo "RSS slope after the first minute: VmRSS $(awk '{ print $1, $2 }' "$samples" | slope) kB/min," \
        "RssAnon $(awk '{ print $1, $3 }' "$samples" | slope) kB/min, RssFile $(awk '{ print $1, $4 }' "$samples" | slope) kB/min"
}

short_runs() {
    local body="{\"method\":\"GET\",\"url\":\"http://127.0.0.1:$target_port/\",\"mode\":\"iterations\",\"iterations\":100,\"concurrency\":2}"
    local rss_10=0 anon_10=0 rss_n anon_n id
    for i in $(seq "$runs"); do
        id=$(curl -sf -X POST "$api/run" -H 'Content-Type: application/json' -d "$body" |
            sed -n 's/.*"runId":"\([^"]*\)".*/\1/p')
        if [[ -z "$id" ]]; then
            echo "run $i: POST /run gave no runId" >&2
            exit 1
        fi
        until ended "$id"; do
            sleep 0.02
        done
        if [[ -n "${DELETE:-}" ]]; then
            curl -sf -X DELETE "$api/run/$id" >/dev/null
        fi
        if ((i % 10 == 0)); then
            echo "run $i: VmRSS $(rss_kb) kB ($(awk '/^Rss(Anon|File):/ { printf "%s %s kB ", $1, $2 }' "/proc/$daemon/status"))"
        fi
        if ((i == 10)); then
            rss_10=$(rss_kb)
            anon_10=$(anon_kb)
        fi
    done
    rss_n=$(rss_kb)
    anon_n=$(anon_kb)
    echo "RSS after run 10: $rss_10 kB (RssAnon $anon_10 kB)"
    echo "RSS after run $runs: $rss_n kB (RssAnon $anon_n kB)"
    echo "difference: $((rss_n - rss_10)) kB (RssAnon $((anon_n - anon_10)) kB)"
}

if ((runs > 0)); then
    short_runs
fi
if ((long_minutes > 0)); then
    long_run "$long_minutes"
fi
