#!/usr/bin/env bash
# Does vayu scale across cores? vayu with 1 worker pinned to 1 CPU vs N workers pinned to N
# CPUs, closed loop against vayu-target, through tools/compare.sh (one call per step and round,
# steps alternating: 1 N 1 N ...).
#
# Usage: tools/scaling.sh [--workers N] [--conns 1000] [--duration 10s] [--rounds 3]
#                         [--path /delay/1] [--target-cpus LIST] [--target-threads N]
#                         [--port 18080] [--out DIR]
#
#   --workers N        the top step (default: every CPU this process may use, `nproc`); the
#                      generator runs on the first 1, then the first N, of those CPUs
#   --target-cpus      default: the CPUs the N-worker generator leaves free, or every CPU
#                      when it leaves none (always so with the default N)
#   --target-threads   default: one per target CPU
#   --out DIR          default target/scaling; each step's compare.sh output goes to
#                      DIR/wK-rR/, the per-step medians to DIR/scaling.csv
#
# Keeping the target from being the limit. `/delay/1` holds each answer 1 ms on a coroutine
# timer (no CPU), so C connections can carry at most ~C x 1,000 req/s: with 1,000 connections
# that ceiling (~1M req/s) is far above what any CPU here serves, so the connections never run
# dry and every io_uring round carries many requests, as against a remote server 1 ms away.
# What remains is CPU. On a host with at least 2N CPUs the target gets its own N and the req/s
# scaling factor is the generator's alone. When the generator takes every CPU (the default N,
# and the only choice on 2 cores) the target shares them, so req/s cannot grow N-fold however
# well the shards scale: the machine is the limit. The figure that still answers the question
# is requests per generator CPU-second (user+sys of vayu, from /usr/bin/time): if it holds from
# 1 to N workers, shards cost no more per request together than alone, and N workers on N free
# cores do N times the work ("CPU-normalised scaling"). The target's CPU% shows which case a run
# was in.
set -euo pipefail

WORKERS=""
CONNS=1000
DURATION=10s
ROUNDS=3
URL_PATH=/delay/1
TARGET_CPUS=""
TARGET_THREADS=""
PORT=18080
OUT=target/scaling

die() { echo "scaling.sh: $*" >&2; exit 2; }
usage() { sed -n '6,8p' "$0" | sed 's/^# \{0,1\}//'; }
value() {  # value FLAG ARGC NEXT: the flag's value, or exit 2 naming the flag
    [[ $2 -ge 2 && -n "$3" ]] || die "$1 needs a value"
    printf '%s' "$3"
}

while [[ $# -gt 0 ]]; do
    case "$1" in
        --workers) WORKERS=$(value "$1" $# "${2:-}"); shift 2 ;;
        --conns) CONNS=$(value "$1" $# "${2:-}"); shift 2 ;;
        --duration) DURATION=$(value "$1" $# "${2:-}"); shift 2 ;;
        --rounds) ROUNDS=$(value "$1" $# "${2:-}"); shift 2 ;;
        --path) URL_PATH=$(value "$1" $# "${2:-}"); shift 2 ;;
        --target-cpus) TARGET_CPUS=$(value "$1" $# "${2:-}"); shift 2 ;;
        --target-threads) TARGET_THREADS=$(value "$1" $# "${2:-}"); shift 2 ;;
        --port) PORT=$(value "$1" $# "${2:-}"); shift 2 ;;
        --out) OUT=$(value "$1" $# "${2:-}"); shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) usage >&2; die "unknown argument: $1" ;;
    esac
done

# The CPUs this process may use, ascending (what `nproc` counts).
ALLOWED_LIST=$(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' /proc/self/status)
mapfile -t ALLOWED < <(python3 - "$ALLOWED_LIST" <<'PY'
import sys
for part in sys.argv[1].split(","):
    a, _, b = part.partition("-")
    print(*range(int(a), int(b or a) + 1), sep="\n")
PY
)
[[ ${#ALLOWED[@]} -gt 0 ]] || die "cannot read this process's CPUs from /proc/self/status"
NCPU=${#ALLOWED[@]}
WORKERS=${WORKERS:-$NCPU}
[[ "$WORKERS" =~ ^[1-9][0-9]{0,3}$ ]] || die "--workers: want a positive integer, got '$WORKERS'"
[[ $WORKERS -ge 2 ]] || die "--workers: a scaling run needs at least 2, got $WORKERS"
[[ $WORKERS -le $NCPU ]] ||
    die "--workers $WORKERS: this process may use only $NCPU CPU(s) ($ALLOWED_LIST)"
[[ "$CONNS" =~ ^[1-9][0-9]{0,5}$ ]] || die "--conns: want one positive integer, got '$CONNS'"
[[ "$ROUNDS" =~ ^[1-9][0-9]{0,3}$ ]] || die "--rounds: want a positive integer, got '$ROUNDS'"
[[ "$OUT" != -* ]] || die "--out: want a directory, got '$OUT'"

cpu_list() { local IFS=,; echo "$*"; }   # cpu_list CPU...: a taskset list
GEN_1=${ALLOWED[0]}
GEN_N=$(cpu_list "${ALLOWED[@]:0:WORKERS}")
if [[ -z "$TARGET_CPUS" ]]; then
    if [[ $WORKERS -lt $NCPU ]]; then TARGET_CPUS=$(cpu_list "${ALLOWED[@]:WORKERS}")
    else TARGET_CPUS=$(cpu_list "${ALLOWED[@]}"); fi
fi
if [[ -z "$TARGET_THREADS" ]]; then
    TARGET_THREADS=$(python3 - "$TARGET_CPUS" <<'PY'
import re, sys
spec = sys.argv[1]
if not re.fullmatch(r"\d+(-\d+)?(,\d+(-\d+)?)*", spec):
    print(1)   # compare.sh names the bad --target-cpus
else:
    cpus = set()
    for part in spec.split(","):
        a, _, b = part.partition("-")
        cpus.update(range(int(a), int(b or a) + 1))
    print(max(1, min(len(cpus), 1024)))
PY
)
fi

cd "$(dirname "$0")/.."
mkdir -p "$OUT"
echo "== scaling: vayu 1 worker on CPU $GEN_1 vs $WORKERS workers on CPUs $GEN_N;" \
     "target on CPUs $TARGET_CPUS ($TARGET_THREADS threads); $CONNS connections, $URL_PATH," \
     "$DURATION x $ROUNDS rounds"
for r in $(seq "$ROUNDS"); do
    for k in 1 "$WORKERS"; do
        if [[ $k -eq 1 ]]; then gen=$GEN_1; else gen=$GEN_N; fi
        echo "== round $r, $k worker(s)"
        tools/compare.sh --tools vayu --conns "$CONNS" --duration "$DURATION" --rounds 1 \
            --workers "$k" --gen-cpus "$gen" --target-cpus "$TARGET_CPUS" \
            --target-threads "$TARGET_THREADS" --path "$URL_PATH" --port "$PORT" \
            --out "$OUT/w$k-r$r" | { grep -E '^  vayu' || true; }
    done
done

echo
python3 - "$OUT" "$WORKERS" <<'PY'
import csv, glob, statistics, sys

out, top = sys.argv[1], int(sys.argv[2])
rows = [r for path in sorted(glob.glob(f"{out}/w*-r*/results.csv"))
        for r in csv.DictReader(open(path)) if r["rps"]]

def med(workers, f):
    vals = [float(r[f]) for r in rows if int(r["workers"]) == workers and r[f]]
    return statistics.median(vals) if vals else None

steps = {}
for k in (1, top):
    dur = med(k, "duration_s")
    cpu, reqs = med(k, "cpu_s"), med(k, "requests")
    steps[k] = {
        "runs": sum(1 for r in rows if int(r["workers"]) == k),
        "rps": med(k, "rps"),
        "rps_per_gen_core": med(k, "rps_per_gen_core"),
        "p50_ms": med(k, "p50_ms"),
        "p99_ms": med(k, "p99_ms"),
        "gen_cpu_pct": None if cpu is None or dur is None else cpu * 100 / (dur * k),
        # Per run, then the median: requests and CPU of one run belong together.
        "req_per_gen_cpu_s": statistics.median(
            [float(r["requests"]) / float(r["cpu_s"]) for r in rows
             if int(r["workers"]) == k and r["cpu_s"] and float(r["cpu_s"]) > 0] or [0]) or None,
        "target_cpu_pct": med(k, "target_cpu_pct"),
    }

def fmt(v, digits=0):
    return "n/a" if v is None else f"{v:,.{digits}f}"

def ratio(a, b):
    return None if a is None or not b else a / b

first = rows[0] if rows else {}
print(f"-- scaling, {first.get('conns', '?')} connections, path {first.get('path', '?')}, "
      f"target CPUs {first.get('target_cpus', '?')} ({first.get('target_threads', '?')} threads), "
      "medians over rounds")
print(f"{'workers':>7} {'req/s':>10} {'req/s/core':>10} {'gen CPU %':>9} {'req/gen CPU-s':>13} "
      f"{'target CPU %':>12} {'p50 ms':>8} {'p99 ms':>8} {'runs':>4}")
with open(f"{out}/scaling.csv", "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["workers", "rps", "rps_per_gen_core", "gen_cpu_pct", "req_per_gen_cpu_s",
                "target_cpu_pct", "p50_ms", "p99_ms", "runs"])
    for k, s in steps.items():
        print(f"{k:>7} {fmt(s['rps']):>10} {fmt(s['rps_per_gen_core']):>10} "
              f"{fmt(s['gen_cpu_pct'], 1):>9} {fmt(s['req_per_gen_cpu_s']):>13} "
              f"{fmt(s['target_cpu_pct'], 1):>12} {fmt(s['p50_ms'], 3):>8} "
              f"{fmt(s['p99_ms'], 3):>8} {s['runs']:>4}")
        w.writerow([k] + ["" if s[c] is None else f"{s[c]:.3f}" for c in
                          ("rps", "rps_per_gen_core", "gen_cpu_pct", "req_per_gen_cpu_s",
                           "target_cpu_pct", "p50_ms", "p99_ms")] + [s["runs"]])
one, n = steps[1], steps[top]
factor = ratio(n["rps"], one["rps"])
per_core = ratio(n["rps_per_gen_core"], one["rps_per_gen_core"])
cpu_eff = ratio(n["req_per_gen_cpu_s"], one["req_per_gen_cpu_s"])
print(f"scaling factor (req/s, {top} vs 1 worker): {fmt(factor, 2)} of an ideal {top} "
      f"(per-core efficiency {fmt(per_core, 2)})")
print(f"CPU-normalised scaling (requests per generator CPU-second, {top} vs 1 worker): "
      f"{fmt(None if cpu_eff is None else cpu_eff * top, 2)} of an ideal {top} "
      f"(efficiency {fmt(cpu_eff, 2)})")
print(f"per-step medians: {out}/scaling.csv")
PY
