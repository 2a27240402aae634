#!/usr/bin/env bash
# The project's gate, the same locally and in CI: formatting, lints, docs, and every test
# (unit, crate and end-to-end; the e2e tests start the real binaries on 127.0.0.1).
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

# The HTML report is checked in headless Chromium (tests/tests/e2e/browser.rs).
if ! command -v chromium >/dev/null 2>&1; then
    echo "== installing chromium (Debian package) for the browser test"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi

# GET /metrics is checked with a real Prometheus parser (tests/tests/api/metrics.rs): Python's
# prometheus_client, text format 0.0.4 and OpenMetrics. Under CI a missing parser fails it.
if ! python3 -c 'import prometheus_client' >/dev/null 2>&1; then
    echo "== installing prometheus-client (PyPI) for the /metrics parser test"
    python3 -m pip install --quiet prometheus-client \
        || python3 -m pip install --quiet --break-system-packages prometheus-client
fi

# `vayu k8s render`'s manifests are checked against the Kubernetes schemas offline
# (tests/tests/e2e/k8s.rs and the last step here). Under CI a missing validator fails the test.
if ! python3 -c 'import kubernetes_validate' >/dev/null 2>&1; then
    echo "== installing kubernetes-validate (PyPI) for the manifest schema check"
    python3 -m pip install --quiet kubernetes-validate==1.37.0 \
        || python3 -m pip install --quiet --break-system-packages kubernetes-validate==1.37.0
fi

# The API fuzz test (tests/tests/api/fuzz.rs, the last step but one) runs schemathesis, pinned,
# from a venv under target/, in a network namespace of its own (`ip` brings its loopback up).
# Under CI a missing schemathesis fails the test.
SCHEMATHESIS_VERSION=4.32.5
if ! target/schemathesis-venv/bin/schemathesis --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then
    echo "== installing schemathesis $SCHEMATHESIS_VERSION (PyPI) in target/schemathesis-venv for the API fuzz test"
    # Debian's system python makes venvs only with its python3-venv package.
    python3 -m venv target/schemathesis-venv \
        || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null \
            && rm -rf target/schemathesis-venv && python3 -m venv target/schemathesis-venv; }
    target/schemathesis-venv/bin/pip install --quiet "schemathesis==$SCHEMATHESIS_VERSION"
fi
if ! command -v ip >/dev/null 2>&1; then
    echo "== installing iproute2 (Debian package) for the API fuzz test's network namespace"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq iproute2 >/dev/null; } \
        || echo "== iproute2 not installed: the API fuzz test will say SKIPPED"
fi

echo "== cargo fmt --check"
cargo fmt --all --check

echo "== cargo clippy (all targets, -D warnings)"
cargo clippy --workspace --all-targets --locked -- -D warnings

echo "== cargo doc (-D warnings)"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked --quiet

echo "== cargo test --workspace"
cargo test --workspace --locked

# Every operation of GET /openapi.json fuzzed against the live daemon: no 5xx, every answer as
# documented (ignored by plain `cargo test`; about a minute).
echo "== schemathesis $SCHEMATHESIS_VERSION against the live daemon (tests/tests/api/fuzz.rs)"
cargo test -p vayu-tests --test api --locked fuzz:: -- --ignored --nocapture

# The oldest Kubernetes whose Job has `backoffLimitPerIndex` on by default (1.29), strict:
# an unknown field fails.
echo "== kubernetes-validate --strict (1.29.0): vayu k8s render deploy/kubernetes/plan.json"
target/debug/vayu k8s render deploy/kubernetes/plan.json --instances 4 --image vayu:ci \
    | python3 -m kubernetes_validate --strict -k 1.29.0 -
