#!/usr/bin/env bash
# Side-by-side benchmark of vayu vs wrk, oha, ab and h2load against vayu-target on 127.0.0.1.
#
# Usage: tools/compare.sh [--duration 10s] [--conns "64 256"] [--rounds 3] [--mode split|same]
#                         [--gen-cpus LIST] [--target-cpus LIST] [--workers N]
#                         [--target-threads N] [--path /PATH]
#                         [--tools "vayu wrk oha ab h2load"] [--port 18080] [--out DIR]
#
#   --mode split  preset: target on CPU 1, generator on CPU 0 (req/s is noisy on 2-vCPU VMs:
#                 the two vCPUs share hardware, cross-CPU wake-ups stall)
#   --mode same   preset: target and generator both on CPU 0; generator CPU-us/request is then
#                 the steadiest figure to compare (see FIELD-NOTES.md)
#   --gen-cpus, --target-cpus  taskset CPU lists (e.g. 0, 0-1, 2,3); they override the preset
#   --workers N   generator threads: vayu --workers N, wrk -tN, h2load -tN, oha --worker-threads
#                 N (when that oha has the option); ab is single-threaded. Default 1
#   --target-threads N  vayu-target --threads N. Default 1
#   --path /PATH  the path every tool requests (e.g. /delay/1). Default /
#   --out DIR     where results.csv, raw/ and target.log go. Default target/compare
#   tool vayu-base   the binary BASE_VAYU=PATH (e.g. a copy of an older build) run as vayu
#                    is, for before/after figures from the same minutes
#
# Every generator run is pinned with `taskset -c GEN_CPUS` and measured with
# `/usr/bin/time -f "%U %S %w"` (user+sys CPU and voluntary context switches of the generator
# process and its children); the target's CPU comes from /proc/PID/stat around each run. Runs
# alternate tools (A B C A B C ...); the tables show medians over rounds. Raw rows go to
# DIR/results.csv, tool output to DIR/raw/.
set -euo pipefail

DURATION=10s
CONNS="64 256"
ROUNDS=3
MODE="split"
TOOLS="vayu wrk oha ab h2load"
PORT=18080
GEN_CPUS_OPT=""
TARGET_CPUS_OPT=""
WORKERS=1
TARGET_THREADS=1
URL_PATH="/"
OUT=target/compare

die() { echo "compare.sh: $*" >&2; exit 2; }
warn() { echo "compare.sh: warning: $*" >&2; }
usage() { sed -n '4,7p' "$0" | sed 's/^# \{0,1\}//'; }
value() {  # value FLAG ARGC NEXT: the flag's value, or exit 2 naming the flag
    [[ $2 -ge 2 && -n "$3" ]] || die "$1 needs a value"
    printf '%s' "$3"
}

while [[ $# -gt 0 ]]; do
    case "$1" in
        --duration) DURATION=$(value "$1" $# "${2:-}"); shift 2 ;;
        --conns) CONNS=$(value "$1" $# "${2:-}"); shift 2 ;;
        --rounds) ROUNDS=$(value "$1" $# "${2:-}"); shift 2 ;;
        --mode) MODE=$(value "$1" $# "${2:-}"); shift 2 ;;
        --gen-cpus) GEN_CPUS_OPT=$(value "$1" $# "${2:-}"); shift 2 ;;
        --target-cpus) TARGET_CPUS_OPT=$(value "$1" $# "${2:-}"); shift 2 ;;
        --workers) WORKERS=$(value "$1" $# "${2:-}"); shift 2 ;;
        --target-threads) TARGET_THREADS=$(value "$1" $# "${2:-}"); shift 2 ;;
        --path) URL_PATH=$(value "$1" $# "${2:-}"); shift 2 ;;
        --tools) TOOLS=$(value "$1" $# "${2:-}"); shift 2 ;;
        --port) PORT=$(value "$1" $# "${2:-}"); shift 2 ;;
        --out) OUT=$(value "$1" $# "${2:-}"); shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) usage >&2; die "unknown argument: $1" ;;
    esac
done

# ---------------------------------------------------------------- validation
# Every tool gets the duration as "<seconds>s" (ab and h2load as plain seconds).
if [[ "$DURATION" =~ ^([0-9]+)s?$ ]]; then
    DUR_S=$((10#${BASH_REMATCH[1]}))
elif [[ "$DURATION" =~ ^([0-9]+)m$ ]]; then
    DUR_S=$((10#${BASH_REMATCH[1]} * 60))
else
    die "--duration: want e.g. 10s or 2m, got '$DURATION'"
fi
[[ $DUR_S -ge 1 && $DUR_S -le 86400 ]] || die "--duration: want 1s..24h, got '$DURATION'"
DUR="${DUR_S}s"
[[ "$ROUNDS" =~ ^[1-9][0-9]{0,3}$ ]] || die "--rounds: want a positive integer, got '$ROUNDS'"
[[ "$PORT" =~ ^[1-9][0-9]{0,4}$ && $PORT -le 65535 ]] || die "--port: want 1..65535, got '$PORT'"
[[ -n "${CONNS// /}" ]] || die "--conns is empty"
for c in $CONNS; do
    [[ "$c" =~ ^[1-9][0-9]{0,5}$ ]] || die "--conns: want positive integers, got '$c'"
done
[[ "$WORKERS" =~ ^[1-9][0-9]{0,3}$ ]] || die "--workers: want a positive integer, got '$WORKERS'"
[[ "$TARGET_THREADS" =~ ^[1-9][0-9]{0,3}$ && $TARGET_THREADS -le 1024 ]] ||
    die "--target-threads: want 1..1024, got '$TARGET_THREADS'"
for c in $CONNS; do
    [[ $WORKERS -le $c ]] ||
        die "--workers $WORKERS: more than --conns $c (wrk and h2load need a connection per thread)"
done
[[ -n "${TOOLS// /}" ]] || die "--tools is empty"
for t in $TOOLS; do
    case "$t" in
        vayu|wrk|oha|ab|h2load) ;;
        vayu-base) [[ -x "${BASE_VAYU:-}" ]] || die "--tools vayu-base needs BASE_VAYU=PATH" ;;
        *) die "--tools: unknown tool '$t' (vayu, vayu-base, wrk, oha, ab, h2load)" ;;
    esac
done
if [[ " $TOOLS " == *" ab "* ]]; then
    for c in $CONNS; do
        [[ $c -le 20000 ]] || die "--conns $c: ab allows at most 20000 concurrent requests"
    done
fi
# A path as a request target: no spaces, quotes, controls, fragments or non-ASCII.
PATH_RE='^/[A-Za-z0-9._~!$&()*+,;=:@%/?-]*$'
[[ "$URL_PATH" =~ $PATH_RE ]] ||
    die "--path: want an absolute path like /delay/1, got '$URL_PATH'"
[[ "$OUT" != -* ]] || die "--out: want a directory, got '$OUT'"

# expand_cpus LIST: each CPU of a taskset list (e.g. 0-2,5) once, ascending; fails on bad
# syntax, a descending range or a CPU number past 4095.
expand_cpus() {
    local part a b i parts=() cpus=()
    [[ "$1" =~ ^[0-9]+(-[0-9]+)?(,[0-9]+(-[0-9]+)?)*$ ]] || return 1
    IFS=, read -ra parts <<<"$1"
    for part in "${parts[@]}"; do
        a=${part%-*} b=${part#*-}
        [[ ${#a} -le 4 && ${#b} -le 4 ]] || return 1
        a=$((10#$a)) b=$((10#$b))
        [[ $a -le $b && $b -le 4095 ]] || return 1
        for ((i = a; i <= b; i++)); do cpus+=("$i"); done
    done
    printf '%s\n' "${cpus[@]}" | sort -nu
}
ALLOWED_LIST=$(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' /proc/self/status)
mapfile -t ALLOWED < <(expand_cpus "$ALLOWED_LIST" || true)
[[ ${#ALLOWED[@]} -gt 0 ]] || die "cannot read this process's CPUs from /proc/self/status"
# check_cpus NAME LIST: dies unless LIST is a valid taskset list of CPUs this process may use;
# prints the number of CPUs in it.
check_cpus() {
    local cpu cpus=()
    mapfile -t cpus < <(expand_cpus "$2" || true)
    [[ ${#cpus[@]} -gt 0 ]] || die "$1: want a CPU list like 0, 0-1 or 2,3, got '$2'"
    for cpu in "${cpus[@]}"; do
        [[ " ${ALLOWED[*]} " == *" $cpu "* ]] ||
            die "$1: CPU $cpu is not available (this process may use $ALLOWED_LIST)"
    done
    echo "${#cpus[@]}"
}

case "$MODE" in
    split) PRESET_GEN=0 PRESET_TARGET=1 ;;
    same) PRESET_GEN=0 PRESET_TARGET=0 ;;
    *) die "--mode: want split or same, got '$MODE'" ;;
esac
if [[ -n "$GEN_CPUS_OPT" ]]; then
    GEN_CPUS=$GEN_CPUS_OPT GEN_NCPU=$(check_cpus --gen-cpus "$GEN_CPUS")
else
    GEN_CPUS=$PRESET_GEN GEN_NCPU=$(check_cpus "--mode $MODE" "$GEN_CPUS")
fi
if [[ -n "$TARGET_CPUS_OPT" ]]; then
    TARGET_CPUS=$TARGET_CPUS_OPT TARGET_NCPU=$(check_cpus --target-cpus "$TARGET_CPUS")
else
    TARGET_CPUS=$PRESET_TARGET TARGET_NCPU=$(check_cpus "--mode $MODE (use --mode same)" "$TARGET_CPUS")
fi
# The label in the CSV and tables: the preset, or "custom" once a CPU set overrides it.
if [[ -n "$GEN_CPUS_OPT$TARGET_CPUS_OPT" ]]; then MODE=custom; fi
if [[ $WORKERS -gt $GEN_NCPU ]]; then
    warn "--workers $WORKERS on $GEN_NCPU generator CPU(s): threads will share CPUs"
fi
BASE_URL="http://127.0.0.1:${PORT}/"   # only ever loopback
URL="http://127.0.0.1:${PORT}${URL_PATH}"

cd "$(dirname "$0")/.."
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

# apt_tool COMMAND PACKAGE: true when COMMAND is there or PACKAGE installs it.
apt_tool() {
    command -v "$1" >/dev/null && return 0
    echo "== installing $2 (for $1)"
    apt_install "$2" && command -v "$1" >/dev/null
}

ACTIVE=()
for t in $TOOLS; do
    case "$t" in
        vayu)
            if [[ -z "$VAYU_BIN" || ! -x "$VAYU_BIN" ]]; then
                warn "vayu binary not available; reporting n/a"; VAYU_BIN=""
            fi
            ACTIVE+=(vayu) ;;
        vayu-base) ACTIVE+=(vayu-base) ;;
        wrk)
            if apt_tool wrk wrk; then ACTIVE+=(wrk)
            else warn "wrk not installed and apt-get failed; skipping wrk"; fi ;;
        ab)
            if apt_tool ab apache2-utils; then ACTIVE+=(ab)
            else warn "ab not installed and 'apt-get install apache2-utils' failed; skipping ab"; fi ;;
        h2load)
            if apt_tool h2load nghttp2-client; then ACTIVE+=(h2load)
            else warn "h2load not installed and 'apt-get install nghttp2-client' failed; skipping h2load"; fi ;;
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
OHA_THREADS=()
OHA_THREADS_NOTE="tokio default"
if [[ -n "${OHA:-}" ]]; then
    OHA_HELP=$("$OHA" --help 2>&1 || true)
    if grep -q -- '--output-format' <<<"$OHA_HELP"; then OHA_FMT=(--output-format json)
    else OHA_FMT=(-j); fi   # oha < 1.5
    if grep -q -- '--worker-threads' <<<"$OHA_HELP"; then
        OHA_THREADS=(--worker-threads "$WORKERS") OHA_THREADS_NOTE=$WORKERS
    fi
fi

# Threads each tool runs with, for the CSV and the table.
tool_threads() {
    case "$1" in
        ab) echo 1 ;;
        oha) echo "$OHA_THREADS_NOTE" ;;
        *) echo "$WORKERS" ;;
    esac
}

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
TARGET_CMD=(taskset -c "$TARGET_CPUS" "$TARGET_BIN" --addr "127.0.0.1:$PORT"
            --threads "$TARGET_THREADS")
"${TARGET_CMD[@]}" >"$OUT/target.log" 2>&1 &
TARGET_PID=$!   # taskset execs the target, so this is the target's own PID
for _ in $(seq 100); do
    grep -q '^listening on' "$OUT/target.log" 2>/dev/null && break
    kill -0 "$TARGET_PID" 2>/dev/null || { cat "$OUT/target.log" >&2; die "vayu-target exited"; }
    sleep 0.1
done
grep -q '^listening on' "$OUT/target.log" || die "vayu-target did not start within 10 s"
CLK_TCK=$(getconf CLK_TCK)
target_ticks() {  # user+sys clock ticks of the target so far (fields 14 and 15 of stat)
    local stat
    stat=$(<"/proc/$TARGET_PID/stat") || { echo 0; return; }
    stat=${stat##*) }   # the command name may hold spaces; fields restart after ") "
    read -ra f <<<"$stat"
    echo $((f[11] + f[12]))
}

# ---------------------------------------------------------------- commands
KILL_AFTER=$((DUR_S + 30))   # a hung generator is killed, its row marked failed
TIME_CMD=(timeout -k 5 "$KILL_AFTER" taskset -c "$GEN_CPUS" /usr/bin/time -f "%U %S %w")
# ab sizes its per-request table by -n up front (and -t alone implies -n 50000), so -n is
# duration x 1,000,000/s: far above a single-threaded ab's rate, and only the part used is
# ever touched. -n must follow -t, which resets it.
AB_MAX=$((DUR_S * 1000000))
tool_cmd() {  # tool_cmd TOOL CONNS BASE: prints the generator command, one word per line
    local c=$2
    case "$1" in
        wrk) printf '%s\n' wrk "-t$WORKERS" "-c$c" "-d$DUR" --latency "$URL" ;;
        oha) printf '%s\n' "$OHA" --no-tui -c "$c" -z "$DUR" "${OHA_THREADS[@]}" \
                 "${OHA_FMT[@]}" "$URL" ;;
        ab) printf '%s\n' ab -k -q -c "$c" -t "$DUR_S" -n "$AB_MAX" -e "$3.pct.csv" "$URL" ;;
        h2load) printf '%s\n' h2load --h1 -c "$c" -t "$WORKERS" -D "$DUR_S" "$URL" ;;
        vayu|vayu-base)
            local bin=${VAYU_BIN:-target/release/vayu}
            [[ $1 == vayu-base ]] && bin=$BASE_VAYU
            printf '%s\n' "$bin" run "$URL" -c "$c" -z "$DUR" --workers "$WORKERS" --json ;;
    esac
}

quote() { local w out=(); for w in "$@"; do out+=("$(printf '%q' "$w")"); done; echo "${out[*]}"; }
echo
echo "== commands (mode $MODE: generator CPUs $GEN_CPUS, target CPUs $TARGET_CPUS;" \
     "duration $DUR, rounds $ROUNDS, order ${ACTIVE[*]} repeated)"
echo "target:    $(quote "${TARGET_CMD[@]}")"
for c in $CONNS; do
    for t in "${ACTIVE[@]}"; do
        mapfile -t cmd < <(tool_cmd "$t" "$c" "$RAW/c$c-rN-$t")
        printf '%-10s %s\n' "$t:" "$(quote "${TIME_CMD[@]}" -o "$RAW/c$c-rN-$t.time" \
            "${cmd[@]}")"
    done
done
echo "counter:   curl -s ${BASE_URL}__reset before and ${BASE_URL}__count after each run"
echo

# ---------------------------------------------------------------- parsing
# parse TOOL BASE: reads BASE.out (and ab's BASE.pct.csv); prints
# "requests rps p50_ms p99_ms errors" (p50/p99 "-" when the tool does not report them) or fails.
parse() {
    python3 - "$1" "$2" <<'PY'
import json, re, sys

tool, base = sys.argv[1], sys.argv[2]
text = open(base + ".out", encoding="utf-8", errors="replace").read()

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

def field(pattern, cast=int):
    m = re.search(pattern, text, re.M)
    if m is None:
        raise ValueError(f"no match for {pattern!r} in {tool} output")
    return cast(m.group(1))

p50 = p99 = None
if tool == "wrk":
    reqs = field(r"^\s*(\d+) requests in")
    rps = field(r"^Requests/sec:\s*([\d.]+)", float)
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
elif tool == "ab":
    # Complete requests counts failed ones too; Failed (wrong length, exceptions) and
    # Non-2xx are the errors. Percentiles come from -e: ms with 3 decimals, where the
    # text table rounds to whole ms.
    reqs = field(r"^Complete requests:\s*(\d+)")
    rps = field(r"^Requests per second:\s*([\d.]+)", float)
    errors = field(r"^Failed requests:\s*(\d+)")
    m = re.search(r"^Non-2xx responses:\s*(\d+)", text, re.M)
    errors += int(m.group(1)) if m else 0
    pct = dict(line.split(",", 1) for line in open(base + ".pct.csv").read().splitlines()[1:])
    p50, p99 = float(pct["50"]), float(pct["99"])
elif tool == "h2load":
    # "requests: T total, S started, D done, OK succeeded, F failed, E errored, X timeout":
    # failed includes non-2xx/3xx answers and errored (no answer); h2load gives min/mean/max
    # latency but no percentiles.
    m = re.search(r"^requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, "
                  r"(\d+) failed, (\d+) errored, (\d+) timeout", text, re.M)
    if m is None:
        raise ValueError("no requests line in h2load output")
    done, failed, errored = int(m.group(3)), int(m.group(5)), int(m.group(6))
    reqs = done - errored   # requests that got an answer
    rps = field(r"^finished in [\d.]+\w+, ([\d.]+) req/s", float)
    errors = failed
elif tool in ("vayu", "vayu-base"):
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
pct = lambda v: "-" if v is None else f"{v:.3f}"
print(reqs, f"{rps:.1f}", pct(p50), pct(p99), errors)
PY
}

# derive USER SYS VCSW REQS RPS TARGET_TICKS: prints "cpu_s us_per_req vcsw_per_1k
# rps_per_gen_core target_cpu_s target_cpu_pct" ("-" for what cannot be computed).
derive() {
    python3 - "$@" "$GEN_NCPU" "$CLK_TCK" "$DUR_S" "$TARGET_THREADS" "$TARGET_NCPU" <<'PY'
import sys

user, sys_, vcsw, reqs, rps, ticks, ncpu, clk, dur, tthreads, tncpu = sys.argv[1:]
def num(s):
    try:
        return float(s)
    except ValueError:
        return None
user, sys_, vcsw, reqs, rps = map(num, (user, sys_, vcsw, reqs, rps))
cpu = user + sys_ if user is not None and sys_ is not None else None
out = [
    None if cpu is None else f"{cpu:.2f}",
    None if cpu is None or not reqs else f"{cpu * 1e6 / reqs:.3f}",
    None if vcsw is None or not reqs else f"{vcsw * 1e3 / reqs:.2f}",
    None if rps is None else f"{rps / int(ncpu):.1f}",
]
target_cpu = int(ticks) / int(clk)
# The target's ceiling: one core per thread, at most its CPU set.
ceiling = float(dur) * min(int(tthreads), int(tncpu))
out += [f"{target_cpu:.2f}", f"{target_cpu * 100 / ceiling:.1f}"]
print(" ".join("-" if v is None else v for v in out))
PY
}

# ---------------------------------------------------------------- runs
echo "mode,gen_cpus,target_cpus,gen_ncpu,target_threads,workers,tool_threads,path,conns,round,tool,duration_s,requests,rps,rps_per_gen_core,p50_ms,p99_ms,errors,user_s,sys_s,cpu_s,cpu_us_per_req,vol_switches,vol_switches_per_1k_req,target_cpu_s,target_cpu_pct,target_count,exit_code" >"$CSV"

csv_row() {  # csv_row TOOL CONNS ROUND FIELD...: one CSV row; "-" fields become empty
    local t=$1 c=$2 r=$3 v row
    shift 3
    row="$MODE,\"$GEN_CPUS\",\"$TARGET_CPUS\",$GEN_NCPU,$TARGET_THREADS,$WORKERS,$(tool_threads "$t"),\"$URL_PATH\",$c,$r,$t,$DUR_S"
    for v in "$@"; do [[ $v == - ]] && v=""; row+=",$v"; done
    echo "$row" >>"$CSV"
}

run_one() {  # run_one TOOL CONNS ROUND
    local t=$1 c=$2 r=$3 base="$RAW/c$2-r$3-$1"
    local rc=0 parsed="" user="" sys="" vcsw="" count="" before after
    if [[ $t == vayu && -z "$VAYU_BIN" ]]; then
        csv_row "$t" "$c" "$r" - - - - - - - - - - - - - - - missing
        printf '  %-6s c=%-5s round %s: n/a (no vayu binary)\n' "$t" "$c" "$r"
        return
    fi
    mapfile -t cmd < <(tool_cmd "$t" "$c" "$base")
    curl -s --max-time 2 -o /dev/null "${BASE_URL}__reset" || true
    before=$(target_ticks)
    # In the background + `wait`, so Ctrl-C / TERM interrupt the run at once (see cleanup).
    "${TIME_CMD[@]}" -o "$base.time" "${cmd[@]}" >"$base.out" 2>"$base.err" </dev/null &
    GEN_PID=$!
    wait "$GEN_PID" || rc=$?
    GEN_PID=""
    after=$(target_ticks)
    count=$(curl -s --max-time 2 "${BASE_URL}__count" || true)
    kill -0 "$TARGET_PID" 2>/dev/null || { cat "$OUT/target.log" >&2; die "vayu-target died"; }
    # GNU time prints "Command exited with non-zero status N" before the figures on failure.
    read -r user sys vcsw < <(tail -n 1 "$base.time" 2>/dev/null || echo "")
    if parsed=$(parse "$t" "$base" 2>"$base.parse-err"); then
        read -r reqs rps p50 p99 errs <<<"$parsed"
        read -r cpu per vk rpc tcpu tpct < <(derive "${user:--}" "${sys:--}" "${vcsw:--}" \
            "$reqs" "$rps" $((after - before)))
        csv_row "$t" "$c" "$r" "$reqs" "$rps" "$rpc" "$p50" "$p99" "$errs" "${user:--}" \
            "${sys:--}" "$cpu" "$per" "${vcsw:--}" "$vk" "$tcpu" "$tpct" "${count:--}" "$rc"
        printf '  %-6s c=%-5s round %s: %10s req/s  p50 %8s ms  p99 %8s ms  cpu %6s s  %7s us/req  %6s vcsw/1k  target %5s%% CPU  (target counted %s, errors %s, exit %s)\n' \
            "$t" "$c" "$r" "$rps" "$p50" "$p99" "$cpu" "$per" "$vk" "$tpct" "$count" "$errs" "$rc"
    else
        csv_row "$t" "$c" "$r" - - - - - - "${user:--}" "${sys:--}" - - "${vcsw:--}" - - - \
            "${count:--}" "$rc"
        printf '  %-6s c=%-5s round %s: n/a (exit %s; see %s.{out,err,parse-err})\n' \
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
FIELDS = ("rps", "rps_per_gen_core", "p50_ms", "p99_ms", "cpu_s", "cpu_us_per_req",
          "vol_switches_per_1k_req", "target_cpu_pct", "errors")

def med(conns, tool, field):
    vals = [float(r[field]) for r in rows
            if r["conns"] == conns and r["tool"] == tool and r[field] not in ("", None)]
    return statistics.median(vals) if vals else None

def fmt(v, digits):
    return "n/a" if v is None else f"{v:,.{digits}f}"

def ratio(a, b):
    return "n/a" if a is None or not b else f"{a / b:.2f}"

first = rows[0]
threads = {r["tool"]: r["tool_threads"] for r in rows}
for conns in dict.fromkeys(r["conns"] for r in rows):
    print(f"-- {conns} connections, mode {first['mode']} (generator CPUs {first['gen_cpus']}, "
          f"target CPUs {first['target_cpus']} with {first['target_threads']} thread(s)), "
          f"path {first['path']}, medians over rounds")
    print(f"{'tool':<9} {'threads':>13} {'req/s':>10} {'req/s/core':>10} {'p50 ms':>8} "
          f"{'p99 ms':>8} {'CPU s':>6} {'CPU us/req':>10} {'vcsw/1k':>8} {'target CPU%':>11} "
          f"{'errors':>7} {'runs':>5}")
    m = {}
    for t in tools:
        m[t] = v = {f: med(conns, t, f) for f in FIELDS}
        ok = sum(1 for r in rows if r["conns"] == conns and r["tool"] == t and r["rps"])
        total = sum(1 for r in rows if r["conns"] == conns and r["tool"] == t)
        print(f"{t:<9} {threads.get(t, ''):>13} {fmt(v['rps'], 0):>10} "
              f"{fmt(v['rps_per_gen_core'], 0):>10} {fmt(v['p50_ms'], 3):>8} "
              f"{fmt(v['p99_ms'], 3):>8} {fmt(v['cpu_s'], 2):>6} "
              f"{fmt(v['cpu_us_per_req'], 2):>10} {fmt(v['vol_switches_per_1k_req'], 1):>8} "
              f"{fmt(v['target_cpu_pct'], 1):>11} {fmt(v['errors'], 0):>7} {ok:>2}/{total:<2}")
    if "vayu" in m:
        for peer in tools:
            if peer != "vayu":
                print(f"vayu/{peer}: req/s {ratio(m['vayu']['rps'], m[peer]['rps'])}, "
                      f"CPU us/req {ratio(m['vayu']['cpu_us_per_req'], m[peer]['cpu_us_per_req'])}, "
                      f"vcsw/1k {ratio(m['vayu']['vol_switches_per_1k_req'], m[peer]['vol_switches_per_1k_req'])}")
    print()
notes = []
if "ab" in tools:
    notes.append("ab is single-threaded (--workers does not apply) and speaks HTTP/1.0 keep-alive")
if "oha" in tools and threads.get("oha") == "tokio default":
    notes.append("this oha has no --worker-threads: it runs tokio's default thread count")
if "h2load" in tools:
    notes.append("h2load reports no latency percentiles (n/a)")
notes.append("req/s/core = req/s / CPUs in --gen-cpus; vcsw/1k = the generator's voluntary "
             "context switches per 1,000 requests; target CPU% = the target's user+sys over "
             "min(target threads, target CPUs) x duration")
for n in notes:
    print(f"note: {n}")
print(f"raw rows: {path}")
PY
