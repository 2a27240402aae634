//! The metric families of `GET /metrics`: name (with the `vayu_` prefix, without the
//! `_total` of counters), type, base unit and help text.

use super::exposition::{Family, Kind};

const fn family(
    name: &'static str,
    kind: Kind,
    unit: Option<&'static str>,
    help: &'static str,
) -> Family {
    Family {
        name,
        kind,
        unit,
        help,
    }
}

pub const BUILD: Family = family(
    "vayu_build",
    Kind::Info,
    None,
    "Version of the vayu daemon.",
);
pub const ACTIVE_RUNS: Family = family(
    "vayu_active_runs",
    Kind::Gauge,
    None,
    "Load runs in progress.",
);
pub const SHARDS: Family = family(
    "vayu_shards",
    Kind::Gauge,
    None,
    "Shard threads running now (one pinned thread per worker of each active run).",
);
pub const SCHEDULES: Family = family(
    "vayu_schedules",
    Kind::Gauge,
    None,
    "Schedules stored (paused and finished ones included).",
);
pub const RUNS_STORED: Family = family(
    "vayu_runs_stored",
    Kind::Gauge,
    None,
    "Runs in the database (load and design).",
);
pub const STORAGE_FILE: Family = family(
    "vayu_storage_file_bytes",
    Kind::Gauge,
    Some("bytes"),
    "Size of the LMDB data file on disk.",
);
pub const STORAGE_USED: Family = family(
    "vayu_storage_used_bytes",
    Kind::Gauge,
    Some("bytes"),
    "Bytes of the LMDB pages holding data (free pages excluded).",
);
pub const STORAGE_MAP: Family = family(
    "vayu_storage_map_bytes",
    Kind::Gauge,
    Some("bytes"),
    "LMDB map size: the most the data file may grow to.",
);
pub const STORAGE_ENTRIES: Family = family(
    "vayu_storage_entries",
    Kind::Gauge,
    None,
    "Entries per LMDB table.",
);

pub const REQUESTS_SENT: Family = family(
    "vayu_run_requests_sent",
    Kind::Counter,
    None,
    "Requests written to a connection.",
);
pub const REQUESTS: Family = family(
    "vayu_run_requests",
    Kind::Counter,
    None,
    "Requests completed (a response or a transport error).",
);
pub const RESPONSES: Family = family(
    "vayu_run_responses",
    Kind::Counter,
    None,
    "Responses by status class.",
);
pub const ERRORS: Family = family(
    "vayu_run_errors",
    Kind::Counter,
    None,
    "Failed and dropped requests by type (unclassified: failures of a tick without a breakdown).",
);
pub const DROPPED: Family = family(
    "vayu_run_dropped_requests",
    Kind::Counter,
    None,
    "Open loop: requests due while maxInFlight were outstanding, never sent.",
);
pub const IN_FLIGHT: Family = family(
    "vayu_run_in_flight_requests",
    Kind::Gauge,
    None,
    "Requests sent and not yet completed.",
);
pub const SEND_RATE: Family = family(
    "vayu_run_sends_per_second",
    Kind::Gauge,
    None,
    "Requests sent per second over the last tick.",
);
pub const COMPLETION_RATE: Family = family(
    "vayu_run_completions_per_second",
    Kind::Gauge,
    None,
    "Requests completed per second over the last tick.",
);
pub const LATENCY: Family = family(
    "vayu_run_latency_seconds",
    Kind::Summary,
    Some("seconds"),
    "Latency since the run started, from the merged HdrHistograms.",
);
pub const QUEUE_WAIT: Family = family(
    "vayu_run_queue_wait_avg_seconds",
    Kind::Gauge,
    Some("seconds"),
    "Open loop: mean delay of a send after its intended time.",
);
pub const SENT_BYTES: Family = family(
    "vayu_run_sent_bytes",
    Kind::Counter,
    Some("bytes"),
    "Bytes written.",
);
pub const RECEIVED_BYTES: Family = family(
    "vayu_run_received_bytes",
    Kind::Counter,
    Some("bytes"),
    "Bytes read.",
);
pub const ELAPSED: Family = family(
    "vayu_run_elapsed_seconds",
    Kind::Gauge,
    Some("seconds"),
    "Run time so far.",
);
pub const ENDPOINT_REQUESTS: Family = family(
    "vayu_run_endpoint_requests",
    Kind::Counter,
    None,
    "Requests completed, per endpoint of a multi-endpoint run.",
);
pub const ENDPOINT_ERRORS: Family = family(
    "vayu_run_endpoint_errors",
    Kind::Counter,
    None,
    "Failed requests, per endpoint of a multi-endpoint run.",
);
pub const ENDPOINT_LATENCY: Family = family(
    "vayu_run_endpoint_latency_seconds",
    Kind::Summary,
    Some("seconds"),
    "Latency per endpoint of a multi-endpoint run, from its merged HdrHistograms.",
);
