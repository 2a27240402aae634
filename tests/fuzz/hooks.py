"""Schemathesis hooks of the API fuzz test (tests/tests/api/fuzz.rs).

- Every error answer must be JSON with a JSON content type, in its API's shape (the
  `error_envelope` check, run with `--checks all`): the native API's and maid-core's
  (`/api/goose`) envelope `{"error": {"code", "message", ...}}`, ATM's (`/api/v1`)
  `{"detail": "message"}` or `{"detail": [{"type", "loc", "msg"}, ...]}`.
- Well-formed bodies of the operations that send requests (`POST /run`, `POST /plans`, then
  `/plans/{id}/run`, `POST /request`, ATM's `POST /api/v1/runs`, maid-core's
  `POST /api/goose/run`) aim at the local test server (`VAYU_FUZZ_TARGET`), so their runs
  reach a server; the test runs in a network namespace of its own with only loopback up, so
  nothing else is reachable whatever the fuzzer writes. The compat runs are kept small (a
  few requests, a second), so the fuzzer's runs do not crowd the two cores.
- maid-core's stream (`GET /api/goose/stream`) is fuzzed without complete handshakes: it
  answers one with 101 and streams for as long as the client stays (across runs, by design),
  and an HTTP client reads the WebSocket frames after a 101 as the next status line. Its
  refusals (400, 426) are fuzzed; the stream itself is tested in tests/tests/api/goose.rs.
"""

import json
import os
import re

import schemathesis

TARGET = os.environ["VAYU_FUZZ_TARGET"]

# (method, path) of the operations whose body names a target URL.
SENDERS = {("POST", "/run"), ("POST", "/plans"), ("POST", "/request")}


@schemathesis.hook
def before_call(ctx, case, **kwargs):
    meta = case.meta
    positive = meta is not None and meta.generation.mode.is_positive
    if not positive or not isinstance(case.body, dict):
        return
    operation = (case.method.upper(), case.path)
    if operation in SENDERS and isinstance(case.body.get("url"), str):
        case.body["url"] = TARGET
    elif operation == ("POST", "/api/v1/runs"):
        aim_atm_spec(case.body.get("spec"))
    elif operation == ("POST", "/api/goose/run"):
        aim_goose_config(case.body.get("config"))
    elif operation == ("POST", "/api/v1/tests/run-all"):
        if isinstance(case.body.get("repetitions"), int):
            case.body["repetitions"] = min(case.body["repetitions"], 2)


def aim_atm_spec(spec):
    """An ATM `TestSpec` at the target: its URLs, at most 20 requests over 4 connections."""
    if not isinstance(spec, dict):
        return
    if isinstance(spec.get("url"), str):
        spec["url"] = TARGET
    for endpoint in spec.get("endpoints") or []:
        if isinstance(endpoint, dict) and isinstance(endpoint.get("url"), str):
            endpoint["url"] = TARGET
    if isinstance(spec.get("total_requests"), int):
        spec["total_requests"] = min(spec["total_requests"], 20)
    if isinstance(spec.get("concurrency"), int):
        spec["concurrency"] = min(spec["concurrency"], 4)
    if isinstance(spec.get("requests_per_second"), (int, float)):
        spec["requests_per_second"] = 100


def aim_goose_config(config):
    """A maid-core config at the target: one second, at most two users."""
    if not isinstance(config, dict):
        return
    if isinstance(config.get("target_base_url"), str):
        config["target_base_url"] = TARGET
    if isinstance(config.get("duration"), dict) and isinstance(config["duration"].get("seconds"), int):
        config["duration"]["seconds"] = 1
    if isinstance(config.get("users"), int):
        config["users"] = min(config["users"], 2)


@schemathesis.hook
def filter_case(ctx, case):
    """Drops a complete WebSocket handshake to `/api/goose/stream` (see above)."""
    if case.path != "/api/goose/stream":
        return True
    headers = {name.lower(): str(value) for name, value in (case.headers or {}).items()}
    handshake = (
        headers.get("connection", "").lower() == "upgrade"
        and headers.get("upgrade", "").lower() == "websocket"
        and headers.get("sec-websocket-version") == "13"
        and bool(re.fullmatch(r"[A-Za-z0-9+/]{21}[AQgw]==", headers.get("sec-websocket-key", "")))
    )
    return not handshake


@schemathesis.check
def error_envelope(ctx, response, case):
    """A 4xx or 5xx answer is the JSON error body of its API."""
    if response.status_code < 400:
        return None
    atm = case.path == "/api/v1" or case.path.startswith("/api/v1/")
    content_type = (response.headers.get("content-type") or [""])[0]
    if not content_type.startswith("application/json"):
        raise AssertionError(
            f"{response.status_code} with content type {content_type!r}, not the JSON envelope: "
            f"{response.content[:200]!r}"
        )
    try:
        doc = json.loads(response.content)
    except ValueError as err:
        raise AssertionError(f"{response.status_code}: the body is not JSON ({err})") from err
    if atm:
        detail = doc.get("detail") if isinstance(doc, dict) else None
        fields = isinstance(detail, list) and detail and all(
            isinstance(item, dict) and isinstance(item.get("loc"), list) and item.get("msg")
            for item in detail
        )
        if not (isinstance(detail, str) and detail) and not fields:
            raise AssertionError(f"{response.status_code}: not ATM's {{\"detail\": ...}}: {doc!r}")
        return None
    error = doc.get("error") if isinstance(doc, dict) else None
    if not isinstance(error, dict):
        raise AssertionError(f"{response.status_code}: no `error` object: {doc!r}")
    if not isinstance(error.get("code"), str) or not error.get("message"):
        raise AssertionError(f"{response.status_code}: `error` without code or message: {doc!r}")
    return None
