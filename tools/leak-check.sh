#!/usr/bin/env bash
# Leak check: N short load runs through one daemon, RSS after run 10 and after run N.
#
# Usage: tools/leak-check.sh [N]        (N defaults to 200; N >= 10)
#
# Builds the release `vayu` and `vayu-target`, starts the target and `vayu serve --workers 1`
# on a fresh data dir, then starts N runs of 100 requests (concurrency 2) one after another,
# waiting for each to end. Prints the daemon's VmRSS every 10 runs, after run 10, after run N
# and the difference. Issue 9's bar: 1,000 runs, RSS after run 1,000 within +20 MB of run 10.
# VmRSS includes RssFile, the pages of the LMDB data file mapped in as it grows with the stored
# runs (~32 kB a run); RssAnon is the heap. DELETE=1 deletes each run once it has ended, so the
# data file reuses its free pages and VmRSS should stay flat too.
# Environment: DELETE=1, VAYU_PORT (default 19876), TARGET_PORT (default 18300), SKIP_BUILD=1 (use the
# binaries as built), VAYU_BIN (default target/release/vayu: e.g. a copy of an older build).
set -euo pipefail

runs=${1:-200}
if ((runs < 10)); then
    echo "N must be at least 10" >&2
    exit 2
fi
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

target/release/vayu-target --addr "127.0.0.1:$target_port" >/dev/null 2>&1 &
pids+=($!)
"${VAYU_BIN:-target/release/vayu}" serve --port "$vayu_port" --data-dir "$data_dir" --workers 1 \
    >"$data_dir/serve.log" 2>&1 &
daemon=$!
pids+=("$daemon")

api="http://127.0.0.1:$vayu_port"
for _ in $(seq 100); do
    curl -sf "$api/runs" >/dev/null 2>&1 && break
    sleep 0.1
done

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$daemon/status"; }
anon_kb() { awk '/^RssAnon:/ { print $2 }' "/proc/$daemon/status"; }

body="{\"method\":\"GET\",\"url\":\"http://127.0.0.1:$target_port/\",\"mode\":\"iterations\",\"iterations\":100,\"concurrency\":2}"
rss_10=0
for i in $(seq "$runs"); do
    id=$(curl -sf -X POST "$api/run" -H 'Content-Type: application/json' -d "$body" |
        sed -n 's/.*"runId":"\([^"]*\)".*/\1/p')
    if [[ -z "$id" ]]; then
        echo "run $i: POST /run gave no runId" >&2
        exit 1
    fi
    until curl -sf "$api/run/$id" | grep -q '"status":"\(completed\|stopped\|failed\)"'; do
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
