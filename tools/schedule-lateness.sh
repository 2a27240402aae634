#!/usr/bin/env bash
# How late schedules fire: a daemon on a scratch data dir, vayu-target on 127.0.0.1, a saved
# plan of one request, and a schedule firing it every second (`interval` or a `cron` of
# every second) `--fires` times. Lateness of a fire = the run's `startTime` (set once its
# body is checked and resolved, just before it launches) minus the fire time it was due at
# (the trigger's grid: for `interval` start + k × 1 s, for `cron` the whole seconds). Prints
# each fire's lateness and the min / median / p95 / max; the goal is every fire within 1 s.
#
# Usage: tools/schedule-lateness.sh [--fires 20] [--trigger interval|cron] [--profile debug|release]
set -euo pipefail

FIRES=20
TRIGGER=interval
PROFILE=debug
die() { echo "schedule-lateness.sh: $*" >&2; exit 2; }
while [[ $# -gt 0 ]]; do
    case "$1" in
        --fires) FIRES="${2:?}"; shift 2 ;;
        --trigger) TRIGGER="${2:?}"; shift 2 ;;
        --profile) PROFILE="${2:?}"; shift 2 ;;
        *) die "unknown option $1" ;;
    esac
done
case "$TRIGGER" in
    interval) TRIGGER_JSON='{"type": "interval", "seconds": 1}' ;;
    cron) TRIGGER_JSON='{"type": "cron", "second": "*"}' ;;
    *) die "--trigger is interval or cron" ;;
esac
PROFILE_FLAG=()
[[ "$PROFILE" == release ]] && PROFILE_FLAG=(--release)
cargo build -q "${PROFILE_FLAG[@]}" -p vayu-bench --bin vayu-target -p vayu-control --bin vayu
BIN="target/$PROFILE"

WORK=$(mktemp -d)
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

TARGET_PORT=18097
"$BIN/vayu-target" --addr "127.0.0.1:${TARGET_PORT}" > "$WORK/target.log" 2>&1 &
PIDS+=($!)
"$BIN/vayu" serve --port 0 --data-dir "$WORK/data" > "$WORK/daemon.out" 2> "$WORK/daemon.log" &
PIDS+=($!)
for _ in $(seq 100); do
    grep -q 'listening on' "$WORK/daemon.out" && break
    sleep 0.1
done
API=$(sed -n 's/.*listening on \(http:[^ ]*\).*/\1/p' "$WORK/daemon.out")
[[ -n "$API" ]] || die "the daemon did not start: $(cat "$WORK/daemon.log")"

curl -sf -X POST "$API/plans" -H 'Content-Type: application/json' -d "{\"name\": \"lateness\",
    \"url\": \"http://127.0.0.1:${TARGET_PORT}/\", \"mode\": \"iterations\", \"iterations\": 1,
    \"concurrency\": 1}" > "$WORK/plan.json"
PLAN=$(jq -r .id "$WORK/plan.json")
curl -sf -X POST "$API/schedules" -H 'Content-Type: application/json' -d "{\"name\": \"lateness\",
    \"plan_id\": \"$PLAN\", \"max_runs\": $FIRES, \"trigger\": $TRIGGER_JSON}" > "$WORK/schedule.json"
SCHEDULE=$(jq -r .id "$WORK/schedule.json")
FIRST=$(jq -r .nextRunTime "$WORK/schedule.json")

while [[ $(curl -sf "$API/schedules/$SCHEDULE" | jq .runCount) -lt $FIRES ]]; do sleep 0.5; done

# Each run's start against the whole second it was due at (fires are 1 s apart from FIRST).
curl -sf "$API/runs?limit=1000" | jq -r --arg s "$SCHEDULE" --argjson first "$FIRST" '
    [.[] | select(.scheduleId == $s) | .startTime] | sort
    | to_entries | map(.value - ($first + 1000 * .key)) | .[]' > "$WORK/late.txt"
echo "fires: $(wc -l < "$WORK/late.txt") ($TRIGGER, $PROFILE build); lateness in ms:"
tr '\n' ' ' < "$WORK/late.txt"; echo
sort -n "$WORK/late.txt" | awk '{ v[NR] = $1 } END {
    p95 = v[int(NR * 0.95 + 0.999)]; if (p95 == "") p95 = v[NR];
    printf "min %d  median %d  p95 %d  max %d ms\n", v[1], v[int((NR + 1) / 2)], p95, v[NR] }'
