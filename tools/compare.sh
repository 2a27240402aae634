#!/usr/bin/env bash
# Side-by-side benchmark of vayu vs wrk vs oha against vayu-target on 127.0.0.1.
#
# Usage: tools/compare.sh [--duration 10s] [--conns "64 256"] [--rounds 3] [--mode split|same]
#                         [--tools "vayu wrk oha"] [--port 18080]
#
#   --mode split  target on CPU 1, generator on CPU 0 (req/s is noisy on 2-vCPU VMs: the two
#                 vCPUs share hardware, cross-CPU wake-ups stall)
#   --mode same   target and generator both on CPU 0; generator CPU-us/request is then the
#                 steadiest figure to compare (see FIELD-NOTES.md)
#
# Every generator run is pinned with `taskset -c 0` and measured with `/usr/bin/time -f "%U %S"`
# (user+sys CPU of the generator process and its children). Runs alternate tools
# (A B C A B C ...); the tables show medians over rounds. Raw rows go to
# target/compare/results.csv, tool output to target/compare/raw/.
set -euo pipefail

DURATION=10s
CONNS="64 256"
ROUNDS=3
MODE="split"
TOOLS="vayu wrk oha"
PORT=18080

die() { echo "compare.sh: $*" >&2; exit 2; }
warn() { echo "compare.sh: warning: $*" >&2; }
usage() { sed -n '4,5p' "$0" | sed 's/^# \{0,1\}//'; }

while [[ $# -gt 0 ]]; do
    case "$1" in
        --duration) DURATION="${2:?--duration needs a value}"; shift 2 ;;
        --conns) CONNS="${2:?--conns needs a value}"; shift 2 ;;
        --rounds) ROUNDS="${2:?--rounds needs a value}"; shift 2 ;;
        --mode) MODE="${2:?--mode needs a value}"; shift 2 ;;
        --tools) TOOLS="${2:?--tools needs a value}"; shift 2 ;;
        --port) PORT="${2:?--port needs a value}"; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) usage >&2; die "unknown argument: $1" ;;
    esac
done

# Validate and normalise: every tool gets the duration as "<seconds>s".
if [[ "$DURATION" =~ ^([0-9]+)s?$ ]]; then
    DUR_S=${BASH_REMATCH[1]}
elif [[ "$DURATION" =~ ^([0-9]+)m$ ]]; then
    DUR_S=$((BASH_REMATCH[1] * 60))
else
    die "--duration: want e.g. 10s or 2m, got '$DURATION'"
fi
[[ $DUR_S -ge 1 ]] || die "--duration must be at least 1s"
DUR="${DUR_S}s"
[[ "$ROUNDS" =~ ^[1-9][0-9]*$ ]] || die "--rounds: want a positive integer, got '$ROUNDS'"
[[ "$PORT" =~ ^[1-9][0-9]*$ && $PORT -le 65535 ]] || die "--port: want 1..65535, got '$PORT'"
for c in $CONNS; do
    [[ "$c" =~ ^[1-9][0-9]*$ ]] || die "--conns: want positive integers, got '$c'"
done
[[ -n "${CONNS// /}" ]] || die "--conns is empty"
for t in $TOOLS; do
    case "$t" in vayu|wrk|oha) ;; *) die "--tools: unknown tool '$t' (vayu, wrk, oha)" ;; esac
done
case "$MODE" in
    split) TARGET_CPU=1
           [[ $(nproc --all) -ge 2 ]] || die "--mode split needs 2 CPUs; use --mode same" ;;
    same) TARGET_CPU=0 ;;
    *) die "--mode: want split or same, got '$MODE'" ;;
esac
GEN_CPU=0
URL="http://127.0.0.1:${PORT}/"   # only ever loopback

cd "$(dirname "$0")/.."
OUT=target/compare
RAW=$OUT/raw
CSV=$OUT/results.csv
mkdir -p "$RAW"

# ---------------------------------------------------------------- build and install peers
as_root() {
    if [[ $(id -u) -eq 0 ]]; then "$@"
    elif command -v sudo >/dev/null; then sudo -n "$@"
    else return 1; fi
}
APT_UPDATED=0
apt_install() {  # apt_install PACKAGE: true when installed
    local env=(env DEBIAN_FRONTEND=noninteractive)
    as_root "${env[@]}" apt-get install -y -q "$1" >/dev/null 2>&1 && return 0
    if [[ $APT_UPDATED -eq 0 ]]; then
        APT_UPDATED=1
        as_root apt-get update -q >/dev/null 2>&1 || true
        as_root "${env[@]}" apt-get install -y -q "$1" >/dev/null 2>&1 && return 0
    fi
    return 1
}

echo "== building (release)"
VAYU_BIN=target/release/vayu
if ! cargo build --release -p vayu-bench --bin vayu-target -p vayu-control --bin vayu; then
    warn "building vayu failed; building vayu-target alone, vayu results will be n/a"
    cargo build --release -p vayu-bench --bin vayu-target || die "cannot build vayu-target"
    VAYU_BIN=""
fi
TARGET_BIN=target/release/vayu-target

if [[ ! -x /usr/bin/time ]]; then
    apt_install time || die "/usr/bin/time is missing and 'apt-get install time' failed"
fi

ACTIVE=()
for t in $TOOLS; do
    case "$t" in
        vayu)
            if [[ -n "$VAYU_BIN" && -x "$VAYU_BIN" ]]; then ACTIVE+=(vayu)
            else warn "vayu binary not available; reporting n/a"; ACTIVE+=(vayu); VAYU_BIN=""; fi ;;
        wrk)
            if command -v wrk >/dev/null || { echo "== installing wrk"; apt_install wrk; }; then
                ACTIVE+=(wrk)
            else warn "wrk not installed and apt-get failed; skipping wrk"; fi ;;
        oha)
            OHA=$(command -v oha || true)
            if [[ -z "$OHA" && -x "$HOME/.cargo/bin/oha" ]]; then OHA="$HOME/.cargo/bin/oha"; fi
            if [[ -z "$OHA" ]] && pgrep -f "cargo install oha" >/dev/null; then
                echo "== waiting for a running 'cargo install oha' to finish"
                while pgrep -f "cargo install oha" >/dev/null; do sleep 5; done
                if [[ -x "$HOME/.cargo/bin/oha" ]]; then OHA="$HOME/.cargo/bin/oha"; fi
            fi
            if [[ -z "$OHA" ]]; then
                echo "== installing oha (cargo install oha --locked; a few minutes)"
                if cargo install oha --locked; then OHA="$HOME/.cargo/bin/oha"; fi
            fi
            if [[ -n "$OHA" && -x "$OHA" ]]; then ACTIVE+=(oha)
            else warn "oha not installed; skipping oha"; fi ;;
    esac
done
[[ ${#ACTIVE[@]} -gt 0 ]] || die "no tools to run"

OHA_FMT=()
if [[ -n "${OHA:-}" ]]; then
    if "$OHA" --help 2>&1 | grep -q -- '--output-format'; then OHA_FMT=(--output-format json)
    else OHA_FMT=(-j); fi   # oha < 1.5
fi

# ---------------------------------------------------------------- target server
TARGET_PID=""
GEN_PID=""   # the `timeout` wrapping the running generator; it leads its own process group
cleanup() {
    if [[ -n "$GEN_PID" ]] && kill -0 "$GEN_PID" 2>/dev/null; then
        kill -TERM "$GEN_PID" 2>/dev/null || true   # timeout forwards it to its group
        wait "$GEN_PID" 2>/dev/null || true
    fi
    if [[ -n "$TARGET_PID" ]] && kill -0 "$TARGET_PID" 2>/dev/null; then
        kill "$TARGET_PID" 2>/dev/null || true
        wait "$TARGET_PID" 2>/dev/null || true
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
    die "something already listens on 127.0.0.1:$PORT; stop it or pass --port"
fi
TARGET_CMD=(taskset -c "$TARGET_CPU" "$TARGET_BIN" --addr "127.0.0.1:$PORT" --threads 1)
"${TARGET_CMD[@]}" >"$OUT/target.log" 2>&1 &
TARGET_PID=$!
for _ in $(seq 100); do
    grep -q '^listening on' "$OUT/target.log" 2>/dev/null && break
    kill -0 "$TARGET_PID" 2>/dev/null || { cat "$OUT/target.log" >&2; die "vayu-target exited"; }
    sleep 0.1
done
grep -q '^listening on' "$OUT/target.log" || die "vayu-target did not start within 10 s"

# ---------------------------------------------------------------- commands
KILL_AFTER=$((DUR_S + 30))   # a hung generator is killed, its row marked failed
TIME_CMD=(timeout -k 5 "$KILL_AFTER" taskset -c "$GEN_CPU" /usr/bin/time -f "%U %S")
tool_cmd() {  # tool_cmd TOOL CONNS: prints the generator command, one word per line
    local c=$2
    case "$1" in
        wrk) printf '%s\n' wrk -t1 "-c$c" "-d$DUR" --latency "$URL" ;;
        oha) printf '%s\n' "$OHA" --no-tui -c "$c" -z "$DUR" "${OHA_FMT[@]}" "$URL" ;;
        vayu) printf '%s\n' "${VAYU_BIN:-target/release/vayu}" run "$URL" -c "$c" -z "$DUR" \
                  --workers 1 --json ;;
    esac
}

quote() { local w out=(); for w in "$@"; do out+=("$(printf '%q' "$w")"); done; echo "${out[*]}"; }
echo
echo "== commands (mode $MODE, duration $DUR, rounds $ROUNDS, order ${ACTIVE[*]} repeated)"
echo "target:    $(quote "${TARGET_CMD[@]}")"
for c in $CONNS; do
    for t in "${ACTIVE[@]}"; do
        mapfile -t cmd < <(tool_cmd "$t" "$c")
        printf '%-10s %s\n' "$t:" "$(quote "${TIME_CMD[@]}" -o "$RAW/c$c-rN-$t.time" \
            "${cmd[@]}")"
    done
done
echo "counter:   curl -s ${URL}__reset before and ${URL}__count after each run"
echo

# ---------------------------------------------------------------- parsing
# parse TOOL STDOUT_FILE: prints "requests rps p50_ms p99_ms errors" or fails.
parse() {
    python3 - "$1" "$2" <<'PY'
import json, re, sys

tool, path = sys.argv[1], sys.argv[2]
text = open(path, encoding="utf-8", errors="replace").read()

def ms(value, unit):
    return float(value) * {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}[unit]

def last_json(s):
    """The last top-level JSON object in s (tools may print other lines first)."""
    dec = json.JSONDecoder()
    found = None
    for i, ch in enumerate(s):
        if ch == "{" and (i == 0 or s[i - 1] == "\n"):
            try:
                found, _ = dec.raw_decode(s[i:])
            except ValueError:
                pass
    if found is None:
        raise ValueError("no JSON document in output")
    return found

def dig(doc, *paths):
    for p in paths:
        cur = doc
        for key in p.split("."):
            cur = cur.get(key) if isinstance(cur, dict) else None
        if isinstance(cur, (int, float)):
            return float(cur)
    raise KeyError(" or ".join(paths))

if tool == "wrk":
    reqs = int(re.search(r"^\s*(\d+) requests in", text, re.M).group(1))
    rps = float(re.search(r"^Requests/sec:\s*([\d.]+)", text, re.M).group(1))
    lat = {p: ms(v, u) for p, v, u in
           re.findall(r"^\s*(50|99)(?:\.0+)?%\s+([\d.]+)(us|ms|s|m)\s*$", text, re.M)}
    p50, p99 = lat["50"], lat["99"]
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", text))
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    errors += int(m.group(1)) if m else 0
elif tool == "oha":
    doc = last_json(text)
    # Completed = responses with a status. oha's own requestsPerSec also counts requests
    # still in flight at the deadline ("aborted due to deadline"); like wrk, we count
    # neither those as completed nor as errors.
    reqs = sum(doc.get("statusCodeDistribution", {}).values())
    rps = reqs / float(doc["summary"]["total"])
    p50 = float(doc["latencyPercentiles"]["p50"]) * 1e3   # seconds -> ms
    p99 = float(doc["latencyPercentiles"]["p99"]) * 1e3
    errors = sum(n for kind, n in doc.get("errorDistribution", {}).items()
                 if kind != "aborted due to deadline")
    errors += sum(n for code, n in doc.get("statusCodeDistribution", {}).items()
                  if not code.startswith(("2", "3")))
elif tool == "vayu":
    doc = last_json(text)
    reqs = int(dig(doc, "summary.totalRequests"))
    rps = dig(doc, "summary.avgRps")
    p50 = dig(doc, "latency.p50", "summary.latencyP50Ms")
    p99 = dig(doc, "latency.p99", "summary.latencyP99Ms")
    try:
        errors = int(dig(doc, "summary.totalErrors", "summary.errors", "errors.total"))
    except KeyError:
        errors = 0
else:
    raise SystemExit(f"unknown tool {tool}")
print(reqs, f"{rps:.1f}", f"{p50:.3f}", f"{p99:.3f}", errors)
PY
}

# ---------------------------------------------------------------- runs
echo "mode,conns,round,tool,duration_s,requests,rps,p50_ms,p99_ms,errors,user_s,sys_s,cpu_s,cpu_us_per_req,target_count,exit_code" >"$CSV"

run_one() {  # run_one TOOL CONNS ROUND
    local t=$1 c=$2 r=$3 base="$RAW/c$2-r$3-$1"
    local rc=0 parsed="" user="" sys="" cpu="" per="" count=""
    if [[ $t == vayu && -z "$VAYU_BIN" ]]; then
        echo "$MODE,$c,$r,$t,$DUR_S,,,,,,,,,,,missing" >>"$CSV"
        printf '  %-5s c=%-5s round %s: n/a (no vayu binary)\n' "$t" "$c" "$r"
        return
    fi
    mapfile -t cmd < <(tool_cmd "$t" "$c")
    curl -s --max-time 2 -o /dev/null "${URL}__reset" || true
    # In the background + `wait`, so Ctrl-C / TERM interrupt the run at once (see cleanup).
    "${TIME_CMD[@]}" -o "$base.time" "${cmd[@]}" >"$base.out" 2>"$base.err" </dev/null &
    GEN_PID=$!
    wait "$GEN_PID" || rc=$?
    GEN_PID=""
    count=$(curl -s --max-time 2 "${URL}__count" || true)
    kill -0 "$TARGET_PID" 2>/dev/null || { cat "$OUT/target.log" >&2; die "vayu-target died"; }
    # GNU time prints "Command exited with non-zero status N" before the figures on failure.
    read -r user sys < <(tail -n 1 "$base.time" 2>/dev/null || echo "")
    if parsed=$(parse "$t" "$base.out" 2>"$base.parse-err"); then
        read -r reqs rps p50 p99 errs <<<"$parsed"
        read -r cpu per < <(python3 - "$user" "$sys" "$reqs" <<'PY'
import sys
try:
    cpu = float(sys.argv[1]) + float(sys.argv[2])
except ValueError:
    print("- -"); raise SystemExit
reqs = int(sys.argv[3])
print(f"{cpu:.2f}", f"{cpu * 1e6 / reqs:.3f}" if reqs else "-")
PY
)
        if [[ $cpu == - ]]; then cpu=""; fi
        if [[ $per == - ]]; then per=""; fi
        echo "$MODE,$c,$r,$t,$DUR_S,$reqs,$rps,$p50,$p99,$errs,$user,$sys,$cpu,$per,$count,$rc" >>"$CSV"
        printf '  %-5s c=%-5s round %s: %10s req/s  p50 %8s ms  p99 %8s ms  cpu %6s s  %7s us/req  (target counted %s, exit %s)\n' \
            "$t" "$c" "$r" "$rps" "$p50" "$p99" "$cpu" "$per" "$count" "$rc"
    else
        echo "$MODE,$c,$r,$t,$DUR_S,,,,,,$user,$sys,,,$count,$rc" >>"$CSV"
        printf '  %-5s c=%-5s round %s: n/a (exit %s; see %s.{out,err,parse-err})\n' \
            "$t" "$c" "$r" "$rc" "$base"
    fi
}

for c in $CONNS; do
    echo "== $c connections"
    for r in $(seq "$ROUNDS"); do
        for t in "${ACTIVE[@]}"; do
            run_one "$t" "$c" "$r"
        done
    done
done

# ---------------------------------------------------------------- summary
echo
python3 - "$CSV" "${ACTIVE[*]}" <<'PY'
import csv, statistics, sys

path, tools = sys.argv[1], sys.argv[2].split()
rows = list(csv.DictReader(open(path)))

def med(conns, tool, field):
    vals = [float(r[field]) for r in rows
            if r["conns"] == conns and r["tool"] == tool and r[field] not in ("", None)]
    return statistics.median(vals) if vals else None

def fmt(v, digits):
    return "n/a" if v is None else f"{v:.{digits}f}"

def ratio(a, b):
    return "n/a" if a is None or not b else f"{a / b:.2f}"

for conns in dict.fromkeys(r["conns"] for r in rows):
    print(f"-- {conns} connections, mode {rows[0]['mode']}, medians over rounds")
    print(f"{'tool':<6} {'req/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'CPU s':>7} {'CPU us/req':>10} {'runs':>5}")
    m = {}
    for t in tools:
        m[t] = {f: med(conns, t, f) for f in ("rps", "p50_ms", "p99_ms", "cpu_s", "cpu_us_per_req")}
        ok = sum(1 for r in rows if r["conns"] == conns and r["tool"] == t and r["rps"])
        total = sum(1 for r in rows if r["conns"] == conns and r["tool"] == t)
        v = m[t]
        print(f"{t:<6} {fmt(v['rps'], 0):>10} {fmt(v['p50_ms'], 3):>8} {fmt(v['p99_ms'], 3):>8} "
              f"{fmt(v['cpu_s'], 2):>7} {fmt(v['cpu_us_per_req'], 2):>10} {ok:>2}/{total:<2}")
    if "vayu" in m:
        for peer in ("wrk", "oha"):
            if peer in m:
                print(f"vayu/{peer}: req/s {ratio(m['vayu']['rps'], m[peer]['rps'])}, "
                      f"CPU us/req {ratio(m['vayu']['cpu_us_per_req'], m[peer]['cpu_us_per_req'])}")
    print()
print(f"raw rows: {path}")
PY
