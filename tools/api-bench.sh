#!/usr/bin/env bash
# Benchmarks of the control plane (release build, everything on 127.0.0.1):
#   tools/api-bench.sh runs-list   GET /runs latency with 1,000 stored runs (oha, p50/p99)
#   tools/api-bench.sh sse         req/s of a full-speed run alone vs with 10 SSE followers
#   tools/api-bench.sh dashboard   req/s of a full-speed run alone vs with the dashboard open on
#                                  it (headless Chromium, loaded before the run, following it),
#                                  alternating, $ROUNDS rounds (default 3) of $SECONDS_PER_RUN s
#                                  (default 8); also the browser's CPU time in each run
#   tools/api-bench.sh design      POST /request with a 20-line test script, 300 times: the
#                                  overhead (totalMs - wireMs) p50/p99
#   tools/api-bench.sh tests       req/s of a full-speed run alone vs with a test script on
#                                  10% of responses (alternating, 3 rounds)
#   tools/api-bench.sh endpoints   req/s of a single-endpoint run vs a 3-endpoint weighted run
#                                  on the same target (alternating, 3 rounds)
#   tools/api-bench.sh soak [MIN] [RPS]  a constant_rps run of MIN minutes (default 10) at RPS
#                                  (default 5000); daemon RSS (anonymous and file-backed, i.e.
#                                  heap vs LMDB's mapped pages) sampled every 30 s
#   tools/api-bench.sh atm-run     GET /api/v1/runs/{id} latency (oha, p50/p99) with 1,000 stored
#                                  runs, for an ATM run of 100 requests whose 100 samples keep
#                                  headers and bodies
#   tools/api-bench.sh metrics     GET /metrics latency (oha, p50/p99) with 1,000 stored runs,
#                                  idle and while a full-speed run goes; GET /storage/status too
# The target is vayu-target on 127.0.0.1:$TARGET_PORT (default 18080); the daemon gets a
# fresh data dir. PROFILE=debug uses (and builds) the debug binaries instead of release ones
# (BUILD_FLAGS are passed to that build); DAEMON_WORKERS=N passes --workers N to the daemon
# (default: one shard per core).
set -euo pipefail
PORT=${TARGET_PORT:-18080}
cd "$(dirname "$0")/.."

PROFILE=${PROFILE:-release}
TARGET_DIR=${CARGO_TARGET_DIR:-target}
if [[ $PROFILE == release ]]; then
    cargo build --release --quiet -p vayu-control --bin vayu -p vayu-bench --bin vayu-target
else
    # BUILD_FLAGS: e.g. --config profile.dev.package.vayu-control.opt-level=2 (dependencies are
    # already optimised in dev builds: this makes the whole daemon optimised, without LTO).
    # shellcheck disable=SC2086
    cargo build --quiet ${BUILD_FLAGS:-} -p vayu-control --bin vayu -p vayu-bench --bin vayu-target
fi
VAYU=$TARGET_DIR/$PROFILE/vayu
WORK=$(mktemp -d)
cleanup() { kill "${DAEMON_PID:-}" "${TARGET_PID:-}" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

start_target() {
    "$TARGET_DIR/$PROFILE/vayu-target" --addr 127.0.0.1:$PORT > "$WORK/target.log" 2>&1 &
    TARGET_PID=$!
    for _ in $(seq 50); do grep -q listening "$WORK/target.log" 2>/dev/null && return; sleep 0.1; done
    echo "vayu-target did not start (port $PORT busy?)" >&2; exit 1
}

start_daemon() {
    "$VAYU" serve --port 0 --data-dir "$WORK/data" ${DAEMON_WORKERS:+--workers "$DAEMON_WORKERS"} > "$WORK/daemon.log" 2>&1 &
    DAEMON_PID=$!
    for _ in $(seq 100); do
        API=$(grep -o 'http://127.0.0.1:[0-9]*' "$WORK/daemon.log" 2>/dev/null | head -1 || true)
        [[ -n "$API" ]] && return
        sleep 0.1
    done
    echo "vayu serve did not start" >&2; exit 1
}

post_run() { curl -sf -X POST "$API/run" -H 'Content-Type: application/json' -d "$1"; }

run_id_of() { python3 -c 'import json,sys; print(json.load(sys.stdin)["runId"])'; }

wait_done() {
    until curl -sf "$API/run/$1" | grep -q '"status":"\(completed\|stopped\|failed\)"'; do sleep 0.2; done
}

# Stores N one-request runs and waits for the last to end.
store_runs() {
    echo "storing $1 runs..."
    for _ in $(seq "$1"); do
        post_run "{\"url\":\"http://127.0.0.1:$PORT/\",\"mode\":\"iterations\",\"iterations\":1,\"concurrency\":1}" > /dev/null
    done
    last=$(curl -sf "$API/runs?limit=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
    wait_done "$last"
}
# `latency N URL LABEL`: N sequential GETs of URL with oha (1 connection); p50/p99/max.
latency() {
    oha --no-tui -n "$1" -c 1 --output-format json "$2" > "$WORK/oha.json"
    python3 - "$WORK/oha.json" "$3" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
p = d["latencyPercentiles"]
print(f"  {sys.argv[2]}: p50 {p['p50']*1000:.3f} ms  p99 {p['p99']*1000:.3f} ms  max {d['summary']['slowest']*1000:.3f} ms  ({d['summary']['requestsPerSec']:.0f} req/s)")
PY
}
rss_kb() { awk '/RssAnon|RssFile/ {printf "%s %s KiB  ", $1, $2}' "/proc/$DAEMON_PID/status"; }

case "${1:-}" in
runs-list)
    command -v oha >/dev/null || cargo install oha --locked
    start_target; start_daemon
    store_runs 1000
    echo "GET /runs (default page of 100), 2000 requests, 1 connection:"
    latency 2000 "$API/runs" "1000 runs stored"
    ;;
atm-run)
    command -v oha >/dev/null || cargo install oha --locked
    start_target; start_daemon
    store_runs 999
    id=$(curl -sf -X POST "$API/api/v1/runs" -H 'Content-Type: application/json' \
        -d "{\"spec\":{\"name\":\"bench\",\"url\":\"http://127.0.0.1:$PORT/\",\"total_requests\":100,\"concurrency\":10}}" \
        | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
    wait_done "$id"
    samples=$(curl -sf "$API/api/v1/runs/$id" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["sampled_requests"]))')
    detailed=$(curl -sf "$API/api/v1/runs/$id/requests/100" | python3 -c 'import json,sys; print(json.load(sys.stdin)["response_headers"] is not None)')
    echo "GET /api/v1/runs/$id ($samples sampled requests, the 100th with headers: $detailed), 2000 requests, 1 connection:"
    latency 2000 "$API/api/v1/runs/$id" "1000 runs stored"
    ;;
sse)
    start_target; start_daemon
    body="{\"url\":\"http://127.0.0.1:$PORT/\",\"mode\":\"constant_concurrency\",\"concurrency\":64,\"duration\":\"8s\"}"
    for round in 1 2 3; do
        for followers in 0 10; do
            id=$(post_run "$body" | run_id_of)
            pids=()
            for _ in $(seq "$followers"); do
                curl -sN "$API/metrics/live/$id" > /dev/null & pids+=($!)
            done
            wait_done "$id"
            for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
            rps=$(curl -sf "$API/run/$id/report" | python3 -c 'import json,sys; print(json.load(sys.stdin)["summary"]["avgRps"])')
            echo "round $round, $followers SSE followers: $rps req/s"
        done
    done
    ;;
dashboard)
    python3 -c 'import websocket' 2>/dev/null \
        || python3 -m pip install --quiet websocket-client \
        || python3 -m pip install --quiet --break-system-packages websocket-client
    start_target; start_daemon
    # One browser for every round, idle on about:blank. In the "open" rounds the dashboard is
    # loaded in a new tab before the run starts (its load cost is reported apart: it is the
    # cost of opening a page, not of watching a run), then follows the run as a click on it
    # would (`location.hash = '#run=ID'`, over the DevTools protocol), and is closed after it.
    browser=$(command -v chromium || command -v chromium-browser || command -v google-chrome)
    "$browser" --headless --no-sandbox --disable-gpu --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --user-data-dir="$WORK/chromium" --remote-debugging-port=0 about:blank > /dev/null 2>&1 &
    BROWSER_PID=$!
    for _ in $(seq 300); do [[ -s $WORK/chromium/DevToolsActivePort ]] && break; sleep 0.1; done
    devtools="http://127.0.0.1:$(head -1 "$WORK/chromium/DevToolsActivePort")"
    sleep 2
    # CPU seconds (user+sys) of every process of this browser, to show what a run lost to it.
    browser_cpu() {
        local total=0 pid ticks
        for pid in $(pgrep -f -- "--user-data-dir=$WORK/chromium"); do
            ticks=$(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || echo 0)
            total=$((total + ticks))
        done
        python3 -c "import os,sys; print(f'{int(sys.argv[1]) / os.sysconf(\"SC_CLK_TCK\"):.2f}')" "$total"
    }
    # in_page WEBSOCKET_URL EXPRESSION: evaluates EXPRESSION in the tab, prints its value.
    in_page() {
        python3 - "$1" "$2" <<'PY'
import json, sys, websocket
ws = websocket.create_connection(sys.argv[1], suppress_origin=True, timeout=10)
ws.send(json.dumps({"id": 1, "method": "Runtime.evaluate",
                    "params": {"expression": sys.argv[2], "returnByValue": True}}))
while (reply := json.loads(ws.recv())).get("id") != 1:
    pass
print(reply.get("result", {}).get("result", {}).get("value"))
ws.close()
PY
    }
    seconds=${SECONDS_PER_RUN:-8}
    body="{\"url\":\"http://127.0.0.1:$PORT/\",\"mode\":\"constant_concurrency\",\"concurrency\":64,\"duration\":\"${seconds}s\"}"
    for round in $(seq "${ROUNDS:-3}"); do
        for open in no yes; do
            tab=
            if [[ $open == yes ]]; then
                before_load=$(browser_cpu)
                tab=$(curl -sf -X PUT "$devtools/json/new?$API/")
                sleep 3
                load=$(python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.2f}')" "$before_load" "$(browser_cpu)")
            fi
            cpu_before=$(browser_cpu)
            id=$(post_run "$body" | run_id_of)
            if [[ -n $tab ]]; then
                page=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["webSocketDebuggerUrl"])' "$tab")
                in_page "$page" "location.hash = '#run=$id'" > /dev/null
            fi
            wait_done "$id"
            cpu_after=$(browser_cpu)
            if [[ -n $tab ]]; then
                sleep 1
                drawn=$(in_page "$page" "document.getElementById('run-panel').dataset.ticks")
                [[ $drawn =~ ^[0-9]+$ && $drawn -gt 0 ]] || { echo "the dashboard did not follow run $id" >&2; exit 1; }
                curl -sf "$devtools/json/close/$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["id"])' "$tab")" > /dev/null
            fi
            rps=$(curl -sf "$API/run/$id/report" | python3 -c 'import json,sys; print(json.load(sys.stdin)["summary"]["avgRps"])')
            share=$(python3 -c "import os,sys; print(f'{(float(sys.argv[2]) - float(sys.argv[1])) / (int(sys.argv[3]) * os.cpu_count()) * 100:.1f}')" "$cpu_before" "$cpu_after" "$seconds")
            echo "round $round, dashboard open: $open: $rps req/s (browser CPU during the run: ${share}% of the machine${tab:+; page load before it: $load s; $drawn ticks drawn})"
            sleep 1
        done
    done
    kill "$BROWSER_PID"
    ;;
design)
    start_target; start_daemon
    python3 - "$API" "$PORT" <<'PY'
import json, statistics, sys, urllib.request
api, port = sys.argv[1], sys.argv[2]
script = "\n".join([
    "const body = pm.response.text();",
    "pm.test('status is 200', () => pm.response.to.have.status(200));",
    "pm.test('body says hello', () => pm.expect(body).to.include('Hello'));",
    "pm.test('has content type', () => pm.response.to.have.header('Content-Type'));",
    "pm.test('fast', () => pm.expect(pm.response.responseTime).to.be.below(1000));",
    "const size = body.length;",
    "pm.test('size', () => { pm.expect(size).to.be.above(5); pm.expect(size).to.be.below(100); });",
    "pm.environment.set('lastSize', String(size));",
    "pm.variables.set('seen', 'yes');",
    "pm.test('variable round trip', () => pm.expect(pm.variables.get('seen')).to.equal('yes'));",
    "const words = body.split(' ');",
    "pm.test('two words', () => pm.expect(words).to.have.length(2));",
    "pm.test('first word', () => pm.expect(words[0]).to.match(/^Hello/));",
    "pm.test('code is a number', () => pm.expect(pm.response.code).to.be.a('number'));",
    "pm.test('ok', () => pm.response.to.be.ok);",
    "console.log('checked', size);",
    "pm.test('not an error', () => pm.expect(pm.response.code).to.be.below(400));",
    "const headers = pm.response.headers;",
    "pm.test('header get', () => pm.expect(headers.get('content-type')).to.be.a('string'));",
    "pm.test('done', () => pm.expect(true).to.be.true);",
])
body = json.dumps({"method": "GET", "url": f"http://127.0.0.1:{port}/", "postRequestScript": script}).encode()
overheads, totals = [], []
for i in range(300):
    req = urllib.request.Request(f"{api}/request", data=body, headers={"Content-Type": "application/json"})
    answer = json.load(urllib.request.urlopen(req))
    t = answer["timing"]
    if i >= 20:
        overheads.append(t["totalMs"] - t["wireMs"])
        totals.append(t["totalMs"])
    assert all(r["passed"] for r in answer["testResults"]), answer["testResults"]
overheads.sort()
print(f"  20-line post script, {len(overheads)} requests: overhead (totalMs - wireMs) "
      f"p50 {statistics.median(overheads):.3f} ms, p99 {overheads[int(len(overheads)*0.99)-1]:.3f} ms; "
      f"totalMs p50 {statistics.median(totals):.3f} ms")
PY
    ;;
tests)
    start_target; start_daemon
    plain="{\"url\":\"http://127.0.0.1:$PORT/\",\"mode\":\"constant_concurrency\",\"concurrency\":64,\"duration\":\"8s\",\"success_sample_rate\":10}"
    tested="{\"url\":\"http://127.0.0.1:$PORT/\",\"mode\":\"constant_concurrency\",\"concurrency\":64,\"duration\":\"8s\",\"success_sample_rate\":10,\"testTimeBudgetPercent\":5,\"tests\":\"pm.test('status', () => pm.response.to.have.status(200)); pm.test('body', () => pm.expect(pm.response.text()).to.include('Hello'));\"}"
    for round in 1 2 3; do
        for kind in plain tested; do
            body=$plain; [[ $kind == tested ]] && body=$tested
            id=$(post_run "$body" | run_id_of)
            wait_done "$id"
            curl -sf "$API/run/$id/report" | python3 -c "import json,sys; r=json.load(sys.stdin); v=r.get('testValidation') or {}; print('round $round', '$kind', r['summary']['avgRps'], 'req/s', 'tested', v.get('samplesTested', 0), 'skippedForTime', v.get('skippedForTime', 0))"
        done
    done
    ;;
endpoints)
    start_target; start_daemon
    base="http://127.0.0.1:$PORT"
    single="{\"url\":\"$base/\",\"mode\":\"constant_concurrency\",\"concurrency\":64,\"duration\":\"8s\"}"
    three="{\"mode\":\"constant_concurrency\",\"concurrency\":64,\"duration\":\"8s\",\"distribution_strategy\":\"weighted\",\"endpoints\":[{\"name\":\"root\",\"url\":\"$base/\",\"weight\":5},{\"name\":\"status\",\"url\":\"$base/status/200\",\"weight\":3},{\"name\":\"bytes\",\"url\":\"$base/bytes/13\",\"weight\":2}]}"
    for round in 1 2 3; do
        for kind in single three; do
            body=$single; [[ $kind == three ]] && body=$three
            id=$(post_run "$body" | run_id_of)
            wait_done "$id"
            curl -sf "$API/run/$id/report" | python3 -c "import json,sys; r=json.load(sys.stdin); print('round $round', '$kind', r['summary']['avgRps'], 'req/s', {k: v['summary']['totalRequests'] for k, v in r.get('endpoints', {}).items()})"
        done
    done
    ;;
soak)
    minutes=${2:-10}
    rate=${3:-5000}
    start_target; start_daemon
    id=$(post_run "{\"url\":\"http://127.0.0.1:$PORT/\",\"mode\":\"constant_rps\",\"targetRps\":${rate},\"duration\":\"${minutes}m\",\"concurrency\":32}" | run_id_of)
    echo "run $id: constant_rps ${rate}/s for ${minutes} min; daemon RSS every 30 s:"
    while ! curl -sf "$API/run/$id" | grep -q '"status":"\(completed\|stopped\|failed\)"'; do
        echo "  $(date +%T) rss $(rss_kb)"
        sleep 30
    done
    echo "  end rss $(rss_kb)"
    curl -sf "$API/run/$id/report" | python3 -c 'import json,sys; s=json.load(sys.stdin)["summary"]; print("  requests", s["totalRequests"], "avgRps", s["avgRps"])'
    echo "  ticks stored: $(curl -sf "$API/stats/$id?format=json" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')"
    ;;
metrics)
    command -v oha >/dev/null || cargo install oha --locked
    start_target; start_daemon
    store_runs 1000
    echo "GET /metrics, 2000 requests, 1 connection:"
    latency 2000 "$API/metrics" "idle, 1000 runs stored"
    id=$(post_run "{\"url\":\"http://127.0.0.1:$PORT/\",\"mode\":\"constant_concurrency\",\"concurrency\":64,\"duration\":\"60s\"}" | run_id_of)
    until curl -sf "$API/metrics" | grep -q "^vayu_run_requests_total{run_id=\"$id\"} [1-9]"; do sleep 0.1; done
    latency 2000 "$API/metrics" "during a full-speed run (c 64), 1001 runs stored"
    curl -sf "$API/metrics" | grep -E "^vayu_(active_runs|shards|runs_stored) |^vayu_run_completions_per_second"
    curl -sf -X POST "$API/run/$id/stop" > /dev/null
    wait_done "$id"
    rps=$(curl -sf "$API/run/$id/report" | python3 -c 'import json,sys; print(json.load(sys.stdin)["summary"]["avgRps"])')
    echo "  (that run: $rps req/s)"
    echo "GET /storage/status, 200 requests, 1 connection:"
    latency 200 "$API/storage/status" "1001 runs stored"
    ;;
*)
    sed -n '2,21p' "$0"; exit 2 ;;
esac
