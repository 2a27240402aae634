#!/usr/bin/env bash
# Re-records newman's results for the collection-run comparison tests.
#
# For every case in tests/fixtures/newman/cases.json, runs newman against a local
# postman-echo stand-in (`vayu-echo`, the tests' echo server as a process) and writes the
# normalized outcome (exit code, run.stats, per execution: item, status code, request
# error, assertions passed/failed/skipped, script errors) to
# tests/fixtures/newman/expected/<case>.json. `cargo test -p vayu-tests --test e2e
# collection` compares `vayu collection run` with these files, so CI needs no newman.
#
# With --recorded, runs only `vayu collection run` and compares it with the recorded files
# (no newman needed; VAYU names another vayu binary to measure).
#
# With --compare, also runs `vayu collection run` on every case and prints how many
# cases, executions (one request with its scripts; for the `sandbox-*` cases, one script
# each) and assertions agree, and the wall time of both tools per case.
#
# Needs node and npm (newman 6 is installed into target/newman unless NEWMAN names a
# newman.js or a `newman` command). PROFILE=dev uses debug builds (default: release, the
# build wall times should be quoted from).
#
#   tools/record-newman.sh [--compare | --recorded] [CASE...]
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
FIXTURES="$ROOT/tests/fixtures/newman"
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
COMPARE=0
case "${1:-}" in
    --compare) COMPARE=1; shift ;;
    --recorded) COMPARE=2; shift ;;
esac

if [[ $COMPARE == 2 ]]; then
    NEWMAN=none
elif [[ -z "${NEWMAN:-}" ]]; then
    if [[ ! -f "$TARGET/newman/node_modules/newman/bin/newman.js" ]]; then
        echo "installing newman 6 into $TARGET/newman" >&2
        npm install --silent --prefix "$TARGET/newman" newman@6 >&2
    fi
    NEWMAN="$TARGET/newman/node_modules/newman/bin/newman.js"
fi

BUILD=(-p vayu-tests --bin vayu-echo)
if [[ $COMPARE != 0 ]]; then BUILD+=(-p vayu-control --bin vayu); fi
PROFILE=${PROFILE:-release}
(cd "$ROOT" && cargo build --quiet --profile "$PROFILE" "${BUILD[@]}")
BIN="$TARGET/$([[ $PROFILE == dev ]] && echo debug || echo "$PROFILE")"
VAYU=${VAYU:-$BIN/vayu}

# The echo server serves until its stdin closes: hold a pipe open for the run.
WORK=$(mktemp -d)
trap 'exec 3>&- 2>/dev/null || true; rm -rf "$WORK"' EXIT
mkfifo "$WORK/stdin"
"$BIN/vayu-echo" <"$WORK/stdin" >"$WORK/addr" &
exec 3>"$WORK/stdin"
for _ in $(seq 50); do [[ -s "$WORK/addr" ]] && break; sleep 0.1; done
for _ in $(seq 50); do [[ $(wc -l <"$WORK/addr") -ge 2 ]] && break; sleep 0.1; done
ECHO=$(head -1 "$WORK/addr")
RAW_ECHO=$(sed -n 2p "$WORK/addr")
echo "echo server: $ECHO, raw echo server: $RAW_ECHO" >&2

node - "$FIXTURES" "$NEWMAN" "$ECHO" "$RAW_ECHO" "$COMPARE" "$VAYU" "$WORK" "$@" <<'JS'
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
const [fixtures, newman, echo, rawEcho, compare, vayu, work, ...only] = process.argv.slice(2);
const manifest = JSON.parse(fs.readFileSync(path.join(fixtures, 'cases.json'), 'utf8'));
const dir = path.join(fixtures, 'collections');
const expectedDir = path.join(fixtures, 'expected');
fs.mkdirSync(expectedDir, { recursive: true });
const recorded = compare === '2';
const version = recorded ? null
  : JSON.parse(fs.readFileSync(path.join(path.dirname(newman), '..', 'package.json'), 'utf8')).version;

// The shape both sides are compared in (the Rust test builds the same from vayu's report).
function normalize(report, exitCode) {
  const stats = {};
  for (const key of ['iterations', 'items', 'scripts', 'prerequests', 'requests', 'tests', 'assertions', 'testScripts', 'prerequestScripts']) {
    const stat = report.run.stats[key];
    stats[key] = { total: stat.total, failed: stat.failed };
  }
  const executions = report.run.executions.map((e) => ({
    iteration: e.cursor.iteration,
    item: e.item.name,
    code: e.response && e.response.code !== undefined ? e.response.code : null,
    requestError: Boolean(e.requestError),
    assertions: (e.assertions || []).map((a) => [a.assertion, a.skipped ? 'skipped' : (a.error ? 'failed' : 'passed')]),
    prerequestScriptErrors: (e.prerequestScript || []).length,
    testScriptErrors: (e.testScript || []).length,
  }));
  return { exitCode, stats, executions };
}

function run(tool, c) {
  const out = path.join(work, `${tool}-${c.name}.json`);
  const args = [...c.args, '--env-var', `${manifest.echoVariable}=${echo}`,
    '--env-var', `${manifest.rawEchoVariable}=${rawEcho}`, '-r', 'json', '--reporter-json-export', out];
  const command = tool === 'newman'
    ? (newman.endsWith('.js') ? ['node', newman, 'run', c.collection, ...args] : [newman, 'run', c.collection, ...args])
    : [vayu, 'collection', 'run', c.collection, ...args];
  const started = process.hrtime.bigint();
  const done = spawnSync(command[0], command.slice(1), { cwd: dir, encoding: 'utf8', timeout: 120000 });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (!fs.existsSync(out) && tool === 'vayu') {
    // Counted as a disagreement: no report at all.
    return { result: { exitCode: done.status, stats: null, executions: [], stderr: done.stderr }, ms };
  }
  if (!fs.existsSync(out)) {
    throw new Error(`${tool} wrote no report for ${c.name} (exit ${done.status}): ${done.stderr}`);
  }
  return { result: normalize(JSON.parse(fs.readFileSync(out, 'utf8')), done.status), ms };
}

const rows = [];
let agreeCases = 0, cases = 0, agreeAssertions = 0, assertions = 0, agreeExecutions = 0, executions = 0;
for (const c of manifest.cases) {
  if (only.length && !only.includes(c.name)) { continue; }
  let result, ms = 0;
  if (recorded) {
    const { case: _, newman: __, source: ___, ...kept } = JSON.parse(fs.readFileSync(path.join(expectedDir, `${c.name}.json`), 'utf8'));
    result = kept;
  } else {
    ({ result, ms } = run('newman', c));
    const expected = { case: c.name, newman: version, source: c.source, ...result };
    fs.writeFileSync(path.join(expectedDir, `${c.name}.json`), JSON.stringify(expected, null, 2) + '\n');
    if (compare !== '1') { console.error(`recorded ${c.name}`); continue; }
  }
  const mine = run('vayu', c);
  const same = JSON.stringify(mine.result) === JSON.stringify(result);
  // Assertions as a multiset of (iteration, item, name, outcome): a repeated name counts
  // each time, and each of newman's is matched at most once.
  const key = (e, a) => `${e.iteration}\u0000${e.item}\u0000${a[0]}\u0000${a[1]}`;
  const theirs = new Map();
  let theirCount = 0;
  result.executions.forEach((e) => e.assertions.forEach((a) => {
    theirs.set(key(e, a), (theirs.get(key(e, a)) || 0) + 1); theirCount += 1;
  }));
  let matched = 0;
  mine.result.executions.forEach((e) => e.assertions.forEach((a) => {
    const left = theirs.get(key(e, a)) || 0;
    if (left > 0) { theirs.set(key(e, a), left - 1); matched += 1; }
  }));
  // An execution (one request and its scripts) agrees when everything recorded for it does.
  const sameExecutions = result.executions
    .filter((e, i) => JSON.stringify(mine.result.executions[i]) === JSON.stringify(e)).length;
  executions += result.executions.length; agreeExecutions += sameExecutions;
  cases += 1; agreeCases += same ? 1 : 0;
  assertions += theirCount; agreeAssertions += matched;
  rows.push([c.name, same ? 'same' : 'DIFFERS', `${sameExecutions}/${result.executions.length}`, `${matched}/${theirCount}`, ms.toFixed(0), mine.ms.toFixed(0)]);
}
if (rows.length) {
  console.log(['case', 'result', 'executions', 'assertions', 'newman ms', 'vayu ms'].join('\t'));
  rows.forEach((row) => console.log(row.join('\t')));
  console.log(`cases agreeing: ${agreeCases}/${cases}; executions agreeing: ${agreeExecutions}/${executions}; assertions agreeing: ${agreeAssertions}/${assertions}`);
}
JS
