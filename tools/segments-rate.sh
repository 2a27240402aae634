#!/usr/bin/env bash
# Does a split open-loop test send the single-machine schedule? Runs one open-loop test
# twice against vayu-target --record-arrivals: once as one process, once as N local
# instances (--instances N --start-at T), and compares the requests the target received in
# each second of the window (its own receive clock, seconds counted from --start-at).
# Issue 14's bar: the combined per-second rate within 1 % of the single-machine run's.
#
# Usage: tools/segments-rate.sh [--instances 4] [--rps 2000] [--duration 10s] [--port 18320]
set -euo pipefail

INSTANCES=4
RPS=2000
DURATION=10s
PORT=18320

die() { echo "segments-rate.sh: $*" >&2; exit 2; }
while [[ $# -gt 0 ]]; do
    case "$1" in
        --instances) INSTANCES=${2:?}; shift 2 ;;
        --rps) RPS=${2:?}; shift 2 ;;
        --duration) DURATION=${2:?}; shift 2 ;;
        --port) PORT=${2:?}; shift 2 ;;
        *) die "unknown argument $1 (see the header of $0)" ;;
    esac
done

[[ "$DURATION" =~ ^([0-9]+)s$ ]] || die "--duration: want whole seconds, e.g. 10s"
seconds=${BASH_REMATCH[1]}

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
cargo build --release -q -p vayu-control --bin vayu -p vayu-bench --bin vayu-target

work=$(mktemp -d)
target_pid=""
cleanup() {
    [[ -n "$target_pid" ]] && kill "$target_pid" 2>/dev/null
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

url="http://127.0.0.1:$PORT/"
target/release/vayu-target --addr "127.0.0.1:$PORT" --record-arrivals >/dev/null 2>&1 &
target_pid=$!
for _ in $(seq 50); do
    curl -sf "$url" >/dev/null 2>&1 && break
    sleep 0.1
done

# run NAME PARTS: the test as PARTS processes; the target's arrivals go to $work/NAME.json.
run() {
    local name=$1 parts=$2 at pids=()
    curl -sf "http://127.0.0.1:$PORT/__reset" >/dev/null
    at=$(($(date +%s%3N) + 3000))
    echo "$at" >"$work/$name.start"
    for instance in $(seq 0 $((parts - 1))); do
        target/release/vayu run "$url" --rps "$RPS" -z "$DURATION" -c 4 --workers 1 \
            --instances "$parts" --instance "$instance" --start-at "$at" -q --json \
            >"$work/$name-$instance.json" &
        pids+=($!)
    done
    for pid in "${pids[@]}"; do
        wait "$pid"
    done
    curl -sf "http://127.0.0.1:$PORT/__arrivals" >"$work/$name.json"
}

run single 1
run split "$INSTANCES"
python3 - "$work" "$seconds" <<'EOF'
import json, sys
work, window = sys.argv[1], int(sys.argv[2])
def per_second(name):
    start_us = int(open(f"{work}/{name}.start").read()) * 1000
    counts = {}
    for at in json.load(open(f"{work}/{name}.json")):
        second = (at - start_us) // 1_000_000
        counts[second] = counts.get(second, 0) + 1
    return counts
single, split = per_second("single"), per_second("split")
# The whole seconds of the window (a slot due at its very end may arrive just after it).
seconds = range(window)
print("second single split diff%")
worst = 0.0
for s in seconds:
    one, many = single.get(s, 0), split.get(s, 0)
    diff = (many - one) * 100 / max(one, 1)
    worst = max(worst, abs(diff))
    print(s, one, many, f"{diff:+.2f}")
print(f"total: single {sum(single.values())}, split {sum(split.values())}; "
      f"largest per-second difference {worst:.2f} %")
EOF
