#!/usr/bin/env bash
# Cost of `vayu merge` on a real split test: N local instances of one open-loop test (the
# stand-ins for N pods) run together against vayu-target, each writing `--out part-I.json`,
# then `vayu merge` of the N files is timed (wall time and peak RSS from /usr/bin/time).
# Issue 14's bar: 100 instances of a 10-minute test merged in < 1 s and < 100 MB.
#
# Usage: tools/merge-bench.sh [--instances 100] [--duration 10m] [--rps 2000] [--port 18310]
#                             [--out DIR]
#
#   --rps       the whole test's rate; instance I sends slots I, I+N, I+2N, ... of it
#   --out DIR   keeps the parts and the merged report there (default: a temporary directory)
#
# Every instance gets `--start-at` 30 s ahead (time to start N processes and connect), one
# worker, one connection and at most 4 in flight (so that a stall of the machine, which runs
# all N processes, cannot make each of them open hundreds of connections). The script checks that the merged request count is the sum of
# the parts' and prints the sizes of the inputs.
set -euo pipefail

INSTANCES=100
DURATION=10m
RPS=2000
PORT=18310
OUT=""

die() { echo "merge-bench.sh: $*" >&2; exit 2; }
while [[ $# -gt 0 ]]; do
    case "$1" in
        --instances) INSTANCES=${2:?}; shift 2 ;;
        --duration) DURATION=${2:?}; shift 2 ;;
        --rps) RPS=${2:?}; shift 2 ;;
        --port) PORT=${2:?}; shift 2 ;;
        --out) OUT=${2:?}; shift 2 ;;
        *) die "unknown argument $1 (see the header of $0)" ;;
    esac
done

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
cargo build --release -q -p vayu-control --bin vayu -p vayu-bench --bin vayu-target

work=${OUT:-$(mktemp -d)}
mkdir -p "$work"
target_pid=""
cleanup() {
    [[ -n "$target_pid" ]] && kill "$target_pid" 2>/dev/null
    wait 2>/dev/null || true
    if [[ -z "$OUT" ]]; then rm -rf "$work"; fi
}
trap cleanup EXIT

target/release/vayu-target --addr "127.0.0.1:$PORT" >/dev/null 2>&1 &
target_pid=$!
for _ in $(seq 50); do
    curl -sf "http://127.0.0.1:$PORT/" >/dev/null 2>&1 && break
    sleep 0.1
done

start_at=$(($(date +%s%3N) + ${START_DELAY_MS:-30000}))
echo "$INSTANCES instances of a $DURATION open-loop test at $RPS req/s, starting at $start_at (Unix ms)"
parts=()
for instance in $(seq 0 $((INSTANCES - 1))); do
    target/release/vayu run "http://127.0.0.1:$PORT/" --rps "$RPS" -z "$DURATION" -c "$INSTANCES" \
        --max-in-flight $((INSTANCES * 4)) --workers 1 --instances "$INSTANCES" --instance "$instance" --start-at "$start_at" \
        --out "$work/part-$instance.json" -q >/dev/null 2>"$work/part-$instance.log" &
    parts+=($!)
done
failed=0
for pid in "${parts[@]}"; do
    wait "$pid" || failed=$((failed + 1))
done
((failed == 0)) || die "$failed instances failed (see $work/part-*.log)"

echo "inputs: $(du -ch "$work"/part-*.json | tail -1 | cut -f1) in $INSTANCES files"
/usr/bin/time -o "$work/merge.time" -f "%e %M" target/release/vayu merge "$work"/part-*.json \
    --json >"$work/merged.json"
read -r seconds max_kb <"$work/merge.time"
python3 - "$work" "$INSTANCES" <<'EOF'
import json, sys
work, n = sys.argv[1], int(sys.argv[2])
parts = sum(json.load(open(f"{work}/part-{i}.json"))["summary"]["totalRequests"] for i in range(n))
merged = json.load(open(f"{work}/merged.json"))["summary"]
p99 = json.load(open(f"{work}/merged.json"))["latency"]["p99"]
print(f"requests: parts {parts}, merged {merged['totalRequests']}, p99 {p99} ms")
if parts != merged["totalRequests"]:
    sys.exit("the merged count is not the sum of the parts")
EOF
echo "merge: ${seconds} s wall, peak RSS $((max_kb / 1024)) MB"
