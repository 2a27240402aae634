"""Schemathesis hooks of the API fuzz test (tests/tests/api/fuzz.rs).

- Every error answer of the native API must be the JSON error envelope
  `{"error": {"code", "message", ...}}` with a JSON content type (the `error_envelope` check,
  run with `--checks all`).
- Well-formed bodies of the operations that send requests (`POST /run`, `POST /plans`, then
  `/plans/{id}/run`, `POST /request`) aim at the local test server (`VAYU_FUZZ_TARGET`), so
  their runs reach a server; the test runs in a network namespace of its own with only
  loopback up, so nothing else is reachable whatever the fuzzer writes.
"""

import json
import os

import schemathesis

TARGET = os.environ["VAYU_FUZZ_TARGET"]

# (method, path) of the operations whose body names a target URL.
SENDERS = {("POST", "/run"), ("POST", "/plans"), ("POST", "/request")}


@schemathesis.hook
def before_call(ctx, case, **kwargs):
    meta = case.meta
    positive = meta is not None and meta.generation.mode.is_positive
    if not positive or (case.method.upper(), case.path) not in SENDERS:
        return
    if isinstance(case.body, dict) and isinstance(case.body.get("url"), str):
        case.body["url"] = TARGET


@schemathesis.check
def error_envelope(ctx, response, case):
    """A 4xx or 5xx answer is the JSON error envelope."""
    if response.status_code < 400:
        return None
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
    error = doc.get("error") if isinstance(doc, dict) else None
    if not isinstance(error, dict):
        raise AssertionError(f"{response.status_code}: no `error` object: {doc!r}")
    if not isinstance(error.get("code"), str) or not error.get("message"):
        raise AssertionError(f"{response.status_code}: `error` without code or message: {doc!r}")
    return None
