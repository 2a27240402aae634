#!/usr/bin/env bash
# The project's gate, the same locally and in CI: formatting, lints, docs, and every test
# (unit, crate and end-to-end; the e2e tests start the real binaries on 127.0.0.1).
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

echo "== cargo fmt --check"
cargo fmt --all --check

echo "== cargo clippy (all targets, -D warnings)"
cargo clippy --workspace --all-targets --locked -- -D warnings

echo "== cargo doc (-D warnings)"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked --quiet

echo "== cargo test --workspace"
cargo test --workspace --locked
