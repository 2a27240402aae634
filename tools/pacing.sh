#!/usr/bin/env bash
# Open-loop pacing benchmark: vayu vs oha (--latency-correction) at constant rates against
# vayu-target on 127.0.0.1, alternating the tools round by round.
#
# Usage: tools/pacing.sh [--rates "10 1000 20000"] [--duration 5s] [--rounds 3] [--conns 16]
#                        [--port 18090] [--tools "vayu oha"]
#
# The target runs on CPU 1, each generator on CPU 0 with one worker/thread. Per run it records
# the generator's p50/p99 latency (from the intended send time for both tools), vayu's
# avgQueueWaitMs (how late requests left), the achieved rate (requests the target counted /
# duration), and the generator's CPU (user+sys from /usr/bin/time) as % of one core. Rows go
# to target/pacing/results.csv; the table shows medians over rounds. The tool `vayu-base` runs
# the binary BASE_VAYU (e.g. a copy of an older build) the same way, for before/after figures.
set -euo pipefail

RATES="10 1000 20000"
DURATION=5s
ROUNDS=3
CONNS=16
PORT=18090
TOOLS="vayu oha"

die() { echo "pacing.sh: $*" >&2; exit 2; }
while [[ $# -gt 0 ]]; do
    case "$1" in
        --rates) RATES="${2:?}"; shift 2 ;;
        --duration) DURATION="${2:?}"; shift 2 ;;
        --rounds) ROUNDS="${2:?}"; shift 2 ;;
        --conns) CONNS="${2:?}"; shift 2 ;;
        --port) PORT="${2:?}"; shift 2 ;;
        --tools) TOOLS="${2:?}"; shift 2 ;;
        -h|--help) sed -n '4,5p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown argument: $1" ;;
    esac
done
[[ "$DURATION" =~ ^([0-9]+)s$ ]] || die "--duration: want e.g. 5s, got '$DURATION'"
DUR_S=${BASH_REMATCH[1]}
[[ "$ROUNDS" =~ ^[1-9][0-9]*$ ]] || die "--rounds: want a positive integer"
[[ $(nproc --all) -ge 2 ]] || die "needs 2 CPUs (target and generator on separate cores)"

cd "$(dirname "$0")/.."
OUT=target/pacing
mkdir -p "$OUT/raw"
CSV=$OUT/results.csv
echo "round,rate,tool,p50_ms,p99_ms,queue_wait_ms,achieved_rps,cpu_pct" > "$CSV"

cargo build --release -q -p vayu-bench --bin vayu-target -p vayu-control --bin vayu
[[ -x /usr/bin/time ]] || die "/usr/bin/time is missing (apt-get install time)"
OHA=$(command -v oha || echo "$HOME/.cargo/bin/oha")
if [[ " $TOOLS " == *" oha "* && ! -x "$OHA" ]]; then
    echo "== installing oha (cargo install oha --locked; a few minutes)"
    cargo install oha --locked
fi

URL="http://127.0.0.1:${PORT}/"   # only ever loopback
taskset -c 1 target/release/vayu-target --addr "127.0.0.1:${PORT}" > "$OUT/raw/target.log" &
TARGET_PID=$!
trap 'kill $TARGET_PID 2>/dev/null || true' EXIT
for _ in $(seq 50); do curl -s -o /dev/null "$URL" && break; sleep 0.1; done

served() { curl -s "http://127.0.0.1:${PORT}/__count"; }

run_one() {  # run_one ROUND RATE TOOL
    local round=$1 rate=$2 tool=$3 raw="$OUT/raw/$1-$2-$3"
    curl -s -o /dev/null "http://127.0.0.1:${PORT}/__reset"
    case "$tool" in
        vayu|vayu-base)
            local bin=target/release/vayu
            [[ "$tool" == vayu-base ]] && bin=${BASE_VAYU:?vayu-base needs BASE_VAYU=PATH}
            taskset -c 0 /usr/bin/time -o "$raw.time" -f "%U %S" "$bin" run "$URL" \
                  --rps "$rate" -z "$DURATION" -c "$CONNS" --workers 1 --json > "$raw.json" 2> "$raw.err" ;;
        oha) taskset -c 0 /usr/bin/time -o "$raw.time" -f "%U %S" "$OHA" -z "$DURATION" -c "$CONNS" \
                 -q "$rate" --latency-correction --no-tui --output-format json "$URL" > "$raw.json" 2> "$raw.err" ;;
    esac
    local count; count=$(served)
    python3 - "$raw" "$tool" "$round" "$rate" "$count" "$DUR_S" >> "$CSV" <<'PY'
import json, sys
raw, tool, rnd, rate, count, dur = sys.argv[1:]
doc = json.load(open(raw + ".json"))
user, sys_ = (float(x) for x in open(raw + ".time").read().split()[-2:])
if tool.startswith("vayu"):
    p50, p99 = doc["latency"]["p50"], doc["latency"]["p99"]
    qwait = doc["summary"]["avgQueueWaitMs"]
else:
    p50 = doc["latencyPercentiles"]["p50"] * 1000
    p99 = doc["latencyPercentiles"]["p99"] * 1000
    qwait = ""
achieved = int(count) / float(dur)
cpu = (user + sys_) / float(dur) * 100
print(f"{rnd},{rate},{tool},{p50:.3f},{p99:.3f},{qwait},{achieved:.1f},{cpu:.1f}")
PY
}

for round in $(seq "$ROUNDS"); do
    for rate in $RATES; do
        for tool in $TOOLS; do
            echo "== round $round: $tool at $rate req/s"
            run_one "$round" "$rate" "$tool"
        done
    done
done

python3 - "$CSV" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
print("\n| rate | tool | p50 ms | p99 ms | avgQueueWaitMs | achieved req/s | CPU % of a core |")
print("| --- | --- | --- | --- | --- | --- | --- |")
keys = sorted({(int(r["rate"]), r["tool"]) for r in rows})
for rate, tool in keys:
    sel = [r for r in rows if int(r["rate"]) == rate and r["tool"] == tool]
    med = lambda k: statistics.median(float(r[k]) for r in sel) if sel[0][k] != "" else None
    fmt = lambda v, d=3: "" if v is None else f"{v:.{d}f}"
    print(f"| {rate} | {tool} | {fmt(med('p50_ms'))} | {fmt(med('p99_ms'))} | "
          f"{fmt(med('queue_wait_ms'))} | {fmt(med('achieved_rps'), 1)} | {fmt(med('cpu_pct'), 1)} |")
PY
