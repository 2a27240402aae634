#!/usr/bin/env bash
# Cost of a second origin: round robin over two endpoints of one vayu-target process, once
# with both on one origin (http://127.0.0.1:PORT) and once with the second on another origin
# of the same process (http://localhost:PORT, which resolves to 127.0.0.1), so the target's
# work is identical and only the generator's differs. Issue 13's bar: two origins reach
# >= 95 % of one origin's req/s.
#
# Usage: tools/origins.sh [--duration 4s] [--conns 64] [--rounds 3] [--port 18090]
#                         [--gen-cpus 0] [--target-cpus 1]
#
# Alternates the two plans (A B A B ...), each run `vayu run PLAN --workers 1 --json` (the
# plan holds CONNS and DURATION), pinned with taskset and measured with /usr/bin/time (user+sys CPU of the
# generator); prints per-round rows and the medians: req/s, generator CPU-us/request, and the
# two-origin/one-origin ratios. With BASE_VAYU=PATH (e.g. a copy of an older build) each round
# also runs both plans with that binary, for before/after figures from the same minutes.
set -euo pipefail

DURATION=4s
CONNS=64
ROUNDS=3
PORT=18090
GEN_CPUS=0
TARGET_CPUS=1

die() { echo "origins.sh: $*" >&2; exit 2; }
while [[ $# -gt 0 ]]; do
    case "$1" in
        --duration) DURATION=${2:?}; shift 2 ;;
        --conns) CONNS=${2:?}; shift 2 ;;
        --rounds) ROUNDS=${2:?}; shift 2 ;;
        --port) PORT=${2:?}; shift 2 ;;
        --gen-cpus) GEN_CPUS=${2:?}; shift 2 ;;
        --target-cpus) TARGET_CPUS=${2:?}; shift 2 ;;
        *) die "unknown argument $1 (see the header of $0)" ;;
    esac
done
[[ -z "${BASE_VAYU:-}" || -x "$BASE_VAYU" ]] || die "BASE_VAYU=$BASE_VAYU is not an executable"
[[ "$(getent ahosts localhost | awk 'NR == 1 { print $1 }')" == 127.0.0.1 ]] ||
    die "localhost must resolve to 127.0.0.1 first (it is the second origin)"

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

taskset -c "$TARGET_CPUS" target/release/vayu-target --addr "127.0.0.1:$PORT" >/dev/null 2>&1 &
target_pid=$!
for _ in $(seq 50); do
    curl -sf "http://127.0.0.1:$PORT/" >/dev/null 2>&1 && break
    sleep 0.1
done

plan() {  # plan FILE SECOND_HOST
    printf '{"mode":"constant_concurrency","concurrency":%s,"duration":"%s",
  "distribution_strategy":"round_robin","endpoints":[
  {"name":"a","url":"http://127.0.0.1:%s/?e=a"},
  {"name":"b","url":"http://%s:%s/?e=b"}]}\n' "$CONNS" "$DURATION" "$PORT" "$2" "$PORT" >"$1"
}
plan "$work/one.json" 127.0.0.1
plan "$work/two.json" localhost

echo "round origins req/s cpu_us_per_req"
runs="one:target/release/vayu two:target/release/vayu"
[[ -n "${BASE_VAYU:-}" ]] && runs="$runs one-base:$BASE_VAYU two-base:$BASE_VAYU"
for round in $(seq "$ROUNDS"); do
    for run in $runs; do
        origins=${run%%:*}
        /usr/bin/time -o "$work/time" -f "%U %S" taskset -c "$GEN_CPUS" "${run#*:}" run \
            "$work/${origins%-base}.json" --workers 1 --json -q >"$work/report.json"
        python3 - "$work/report.json" "$work/time" "$round" "$origins" <<'EOF' | tee -a "$work/rows"
import json, sys
report = json.load(open(sys.argv[1]))["summary"]
user, sys_ = map(float, open(sys.argv[2]).read().split()[-2:])
total = report["totalRequests"]
if report["failedRequests"]:
    sys.exit(f"{sys.argv[4]}: {report['failedRequests']} failed requests")
print(sys.argv[3], sys.argv[4], round(report["avgRps"]), round((user + sys_) * 1e6 / total, 2))
EOF
    done
done
python3 - "$work/rows" <<'EOF'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1])]
med = {o: (statistics.median(float(r[2]) for r in rows if r[1] == o),
           statistics.median(float(r[3]) for r in rows if r[1] == o))
       for o in dict.fromkeys(r[1] for r in rows)}
for o, (rps, cpu) in med.items():
    print(f"median {o} origin(s): {rps:.0f} req/s, {cpu:.2f} CPU-us/request")
for suffix in ("", "-base"):
    if "two" + suffix in med:
        two, one = med["two" + suffix], med["one" + suffix]
        print(f"two/one{suffix}: req/s {two[0] / one[0]:.3f}, CPU-us/request {two[1] / one[1]:.3f}")
if "one-base" in med:
    print(f"one/one-base: req/s {med['one'][0] / med['one-base'][0]:.3f}, "
          f"CPU-us/request {med['one'][1] / med['one-base'][1]:.3f}")
EOF
