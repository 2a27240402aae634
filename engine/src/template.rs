//! `{{name}}` templates: text compiled once into literal, variable and dynamic parts, then
//! rendered per request into a reused buffer without allocating beyond its growth.
//!
//! Dynamic values (Postman spelling, then the ATM one):
//! `{{$uuid}}` (also `$guid`, `$randomUUID`) / `{{uuid}}`: a random UUID v4;
//! `{{$timestamp}}` / `{{timestamp_unix}}`: Unix seconds;
//! `{{$isoTimestamp}}`: ISO 8601 UTC with milliseconds (`2024-01-28T14:30:45.123Z`);
//! `{{timestamp}}`: as ATM (Python's `utcnow().isoformat()`) writes it, with microseconds and
//! no zone (`2024-01-28T14:30:45.123456`);
//! `{{$randomInt}}`: 0–1000, `{{random_int}}`: 0–999999;
//! `{{$requestNumber}}` / `{{request_number}}`: the number the caller passes (1-based);
//! Postman's faker variables (`{{$randomFirstName}}`, `{{$randomEmail}}`, ...: [`crate::faker`]);
//! `{{env:NAME}}`: the process environment variable, read once at compile time (ATM's
//! `{{target:NAME}}`: the `TARGET_NAME` variable);
//!
//! A variable defined under an ATM spelling (`timestamp`, `uuid`, ...) wins over the dynamic
//! value, since those names are plain words a user may have chosen. Unknown names, unset
//! environment variables and unterminated `{{` stay exactly as written.

use std::cell::Cell;
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;
use std::ops::Range;
use std::time::SystemTime;

/// Where variable values come from while rendering.
pub trait Lookup {
    /// The value of variable `name`, if defined.
    fn get(&self, name: &str) -> Option<&str>;
}

/// No variables at all.
impl Lookup for () {
    fn get(&self, _name: &str) -> Option<&str> {
        None
    }
}

impl Lookup for HashMap<String, String> {
    fn get(&self, name: &str) -> Option<&str> {
        HashMap::get(self, name).map(String::as_str)
    }
}

impl Lookup for BTreeMap<String, String> {
    fn get(&self, name: &str) -> Option<&str> {
        BTreeMap::get(self, name).map(String::as_str)
    }
}

/// A value computed at render time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dynamic {
    Uuid,
    UnixSeconds,
    IsoTimestamp,
    /// ATM's: microseconds, no zone.
    AtmTimestamp,
    /// A uniformly random integer in `0..=max`.
    RandomInt {
        max: u64,
    },
    RequestNumber,
    /// One of Postman's faker variables (`$randomFirstName`, ...).
    Fake(crate::faker::Kind),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    /// A slice of the source.
    Literal(Range<usize>),
    /// Text that is not in the source (an environment variable's value).
    Text(Box<str>),
    /// `{{name}}`: the variable, or the raw text when it is undefined.
    Variable {
        name: Range<usize>,
        raw: Range<usize>,
    },
    /// A dynamic value; `name` is set for ATM spellings, which a variable may override.
    Dynamic {
        kind: Dynamic,
        name: Option<Range<usize>>,
        raw: Range<usize>,
    },
}

/// A compiled template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    source: Box<str>,
    parts: Vec<Part>,
}

impl Template {
    /// Compiles `source`. Never fails: anything that is not a known placeholder is text.
    pub fn compile(source: &str) -> Template {
        let mut parts = Vec::new();
        let mut pos = 0;
        let mut literal_start = 0;
        while let Some(found) = source[pos..].find("{{") {
            let Some(close) = source[pos + found + 2..]
                .find("}}")
                .map(|at| pos + found + 2 + at)
            else {
                break;
            };
            // The innermost placeholder: in `{{a.{{b}}}}` that is `{{b}}` (Postman renders
            // the inner one first; the caller renders the result again).
            let open = pos + source[pos..close].rfind("{{").unwrap_or(found);
            let inner = &source[open + 2..close];
            let lead = inner.len() - inner.trim_start().len();
            let name = open + 2 + lead..open + 2 + lead + inner.trim().len();
            let raw = open..close + 2;
            let part = match classify(&source[name.clone()]) {
                Placeholder::Variable => Some(Part::Variable { name, raw }),
                Placeholder::Dynamic(kind) => Some(Part::Dynamic {
                    kind,
                    name: None,
                    raw,
                }),
                Placeholder::Atm(kind) => Some(Part::Dynamic {
                    kind,
                    name: Some(name),
                    raw,
                }),
                Placeholder::Env(value) => value.map(|value| Part::Text(value.into())),
            };
            if let Some(part) = part {
                if literal_start < open {
                    parts.push(Part::Literal(literal_start..open));
                }
                parts.push(part);
                literal_start = close + 2;
            }
            pos = close + 2;
        }
        if literal_start < source.len() {
            parts.push(Part::Literal(literal_start..source.len()));
        }
        Template {
            source: source.into(),
            parts,
        }
    }

    /// True when the template renders the same text for every request (for a given set of
    /// variables): it has no dynamic parts, so a request built from it can be encoded once.
    pub fn is_static(&self) -> bool {
        !self
            .parts
            .iter()
            .any(|part| matches!(part, Part::Dynamic { .. }))
    }

    /// True when the template names variables (resolved at render time when the caller
    /// passes them, e.g. a virtual user's extracted values).
    pub fn has_variables(&self) -> bool {
        self.parts
            .iter()
            .any(|part| matches!(part, Part::Variable { .. }))
    }

    /// Appends the rendered text to `out`. `request_number` is what `{{$requestNumber}}`
    /// shows (1 for the first request). Allocates nothing beyond the growth of `out`.
    pub fn render_into(&self, variables: &dyn Lookup, request_number: u64, out: &mut String) {
        self.walk(variables, out, |kind, _raw, out| {
            render_dynamic(kind, request_number, out)
        });
    }

    /// Substitutes variables only: dynamic values stay as written, to be rendered per
    /// request later (a load run compiles the result again on the shards).
    pub fn resolve_variables(&self, variables: &dyn Lookup) -> String {
        let mut out = String::with_capacity(self.source.len());
        self.walk(variables, &mut out, |_kind, raw, out| out.push_str(raw));
        out
    }

    /// Writes every part; `dynamic` writes the dynamic values no variable overrides.
    fn walk(
        &self,
        variables: &dyn Lookup,
        out: &mut String,
        mut dynamic: impl FnMut(Dynamic, &str, &mut String),
    ) {
        for part in &self.parts {
            match part {
                Part::Literal(range) => out.push_str(&self.source[range.clone()]),
                Part::Text(text) => out.push_str(text),
                Part::Variable { name, raw } => match variables.get(&self.source[name.clone()]) {
                    Some(value) => out.push_str(value),
                    None => out.push_str(&self.source[raw.clone()]),
                },
                Part::Dynamic { kind, name, raw } => {
                    let defined = name
                        .as_ref()
                        .and_then(|name| variables.get(&self.source[name.clone()]));
                    match defined {
                        Some(value) => out.push_str(value),
                        None => dynamic(*kind, &self.source[raw.clone()], out),
                    }
                }
            }
        }
    }

    /// The rendered text as a new string.
    pub fn render(&self, variables: &dyn Lookup, request_number: u64) -> String {
        let mut out = String::with_capacity(self.source.len());
        self.render_into(variables, request_number, &mut out);
        out
    }
}

enum Placeholder {
    Variable,
    Dynamic(Dynamic),
    Atm(Dynamic),
    /// `env:NAME`: the value, or `None` (kept as written) when unset or not UTF-8.
    Env(Option<String>),
}

fn classify(name: &str) -> Placeholder {
    if let Some(var) = name.strip_prefix("env:") {
        return Placeholder::Env(std::env::var(var.trim()).ok());
    }
    // ATM: `{{target:NAME}}` is the `TARGET_NAME` environment variable.
    if let Some(target) = name.strip_prefix("target:") {
        return Placeholder::Env(std::env::var(format!("TARGET_{}", target.trim())).ok());
    }
    match name {
        "$uuid" | "$guid" | "$randomUUID" => Placeholder::Dynamic(Dynamic::Uuid),
        "$timestamp" => Placeholder::Dynamic(Dynamic::UnixSeconds),
        "$isoTimestamp" => Placeholder::Dynamic(Dynamic::IsoTimestamp),
        "$randomInt" => Placeholder::Dynamic(Dynamic::RandomInt { max: 1000 }),
        "$requestNumber" => Placeholder::Dynamic(Dynamic::RequestNumber),
        "uuid" => Placeholder::Atm(Dynamic::Uuid),
        "timestamp_unix" => Placeholder::Atm(Dynamic::UnixSeconds),
        "timestamp" => Placeholder::Atm(Dynamic::AtmTimestamp),
        "random_int" => Placeholder::Atm(Dynamic::RandomInt { max: 999_999 }),
        "request_number" => Placeholder::Atm(Dynamic::RequestNumber),
        _ => match crate::faker::Kind::parse(name) {
            Some(kind) => Placeholder::Dynamic(Dynamic::Fake(kind)),
            None => Placeholder::Variable,
        },
    }
}

fn render_dynamic(kind: Dynamic, request_number: u64, out: &mut String) {
    // Writing into a String cannot fail.
    let _ = match kind {
        Dynamic::Uuid => {
            write_uuid(random(), random(), out);
            Ok(())
        }
        Dynamic::UnixSeconds => write!(out, "{}", unix_micros() / 1_000_000),
        Dynamic::IsoTimestamp => write_iso(unix_micros() / 1000, out),
        Dynamic::AtmTimestamp => write_atm_time(unix_micros(), out),
        Dynamic::RandomInt { max } => write!(out, "{}", random() % (max + 1)),
        Dynamic::RequestNumber => write!(out, "{request_number}"),
        Dynamic::Fake(kind) => {
            crate::faker::render(kind, out);
            Ok(())
        }
    };
}

fn unix_micros() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |since| {
            u64::try_from(since.as_micros()).unwrap_or(u64::MAX)
        })
}

/// A random (version 4) UUID, as `{{$guid}}` renders one.
pub fn uuid_v4() -> String {
    let mut out = String::with_capacity(36);
    write_uuid(random(), random(), &mut out);
    out
}

/// `xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx` from 128 random bits.
fn write_uuid(high: u64, low: u64, out: &mut String) {
    let high = (high & !0xf000) | 0x4000;
    let low = (low & !(0b11 << 62)) | (0b10 << 62);
    let _ = write!(
        out,
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        high >> 32,
        (high >> 16) & 0xffff,
        high & 0xffff,
        low >> 48,
        low & 0xffff_ffff_ffff
    );
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ`.
/// Postman's `{{$isoTimestamp}}` of a Unix time in milliseconds: `…T00:00:00.123Z`.
fn write_iso(millis: u64, out: &mut String) -> std::fmt::Result {
    write_date_time(millis / 1000, out)?;
    write!(out, ".{:03}Z", millis % 1000)
}

/// ATM's `{{timestamp}}` of a Unix time in microseconds: `…T00:00:00.123456`.
fn write_atm_time(micros: u64, out: &mut String) -> std::fmt::Result {
    write_date_time(micros / 1_000_000, out)?;
    write!(out, ".{:06}", micros % 1_000_000)
}

/// `YYYY-MM-DDTHH:MM:SS` of a Unix time in seconds, UTC.
fn write_date_time(secs: u64, out: &mut String) -> std::fmt::Result {
    let (year, month, day) = civil_from_days(secs / 86_400);
    let of_day = secs % 86_400;
    write!(
        out,
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}",
        of_day / 3600,
        of_day % 3600 / 60,
        of_day % 60
    )
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian (H. Hinnant's algorithm).
pub fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

thread_local! {
    static RANDOM_STATE: Cell<u64> = const { Cell::new(0) };
}

/// A fast per-thread pseudo-random number (splitmix64), seeded from the clock and the
/// thread. Test data, not secrets: it is not cryptographically secure.
fn random() -> u64 {
    RANDOM_STATE.with(|state| {
        let mut current = state.get();
        if current == 0 {
            let marker = 0u8;
            current = (unix_nanos() ^ (std::ptr::addr_of!(marker) as u64).rotate_left(32)) | 1;
        }
        current = current.wrapping_add(0x9e37_79b9_7f4a_7c15);
        state.set(current);
        let mut z = current;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    })
}

fn unix_nanos() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |since| since.as_nanos() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn variables_and_unknown_names() {
        let template = Template::compile("https://{{host}}/u/{{ id }}?x={{missing}}&y={{");
        assert!(template.is_static());
        let out = template.render(&vars(&[("host", "h.example"), ("id", "7")]), 1);
        assert_eq!(out, "https://h.example/u/7?x={{missing}}&y={{");
        assert_eq!(Template::compile("plain").render(&(), 1), "plain");
        assert_eq!(Template::compile("").render(&(), 1), "");
        assert_eq!(
            Template::compile("{{a}}{{b}}").render(&vars(&[("a", "1")]), 1),
            "1{{b}}"
        );
    }

    #[test]
    fn dynamic_values_have_their_shapes() {
        let template = Template::compile(
            "{{$uuid}}|{{$timestamp}}|{{$isoTimestamp}}|{{$randomInt}}|{{$requestNumber}}",
        );
        assert!(!template.is_static());
        let out = template.render(&(), 42);
        let fields: Vec<&str> = out.split('|').collect();
        let uuid = fields[0];
        assert_eq!(uuid.len(), 36, "{uuid}");
        assert_eq!(&uuid[14..15], "4", "{uuid}");
        assert!("89ab".contains(&uuid[19..20]), "{uuid}");
        let secs: u64 = fields[1].parse().unwrap_or(0);
        assert!(secs > 1_700_000_000, "{out}");
        assert_eq!(fields[2].len(), 24, "{out}");
        assert!(fields[2].ends_with('Z') && fields[2].contains('T'), "{out}");
        assert!(fields[3].parse::<u64>().is_ok_and(|n| n <= 1000), "{out}");
        assert_eq!(fields[4], "42");
        let again = template.render(&(), 42);
        assert_ne!(&again[..36], uuid, "a fresh uuid per render");
    }

    #[test]
    fn atm_spellings_yield_to_defined_variables() {
        let template = Template::compile("{{uuid}} {{request_number}} {{timestamp}}");
        assert!(!template.is_static());
        let out = template.render(&(), 3);
        assert!(out.contains(" 3 "), "{out}");
        // ATM's `{{timestamp}}`: `2024-01-28T14:30:45.123456`, microseconds and no zone.
        let stamp = out.rsplit(' ').next().unwrap_or_default();
        assert_eq!(stamp.len(), 26, "{stamp}");
        assert_eq!(&stamp[19..20], ".", "{stamp}");
        assert!(stamp[20..].bytes().all(|b| b.is_ascii_digit()), "{stamp}");
        let out = template.render(&vars(&[("uuid", "mine")]), 3);
        assert!(out.starts_with("mine 3 "), "{out}");
        let random = Template::compile("{{random_int}}").render(&(), 1);
        assert!(random.parse::<u64>().is_ok_and(|n| n <= 999_999));
    }

    #[test]
    fn environment_variables_are_read_at_compile_time() {
        let path = std::env::var("PATH").unwrap_or_default();
        let template = Template::compile("{{env:PATH}}|{{env:VAYU_SURELY_UNSET_1234}}");
        assert!(template.is_static());
        assert_eq!(
            template.render(&(), 1),
            format!("{path}|{{{{env:VAYU_SURELY_UNSET_1234}}}}")
        );
    }

    #[test]
    fn rendering_reuses_the_buffer() {
        let template = Template::compile("id={{$requestNumber}}&u={{user}}");
        let users = vars(&[("user", "bob")]);
        let mut out = String::with_capacity(64);
        let before = out.as_ptr();
        for n in 1..=100 {
            out.clear();
            template.render_into(&users, n, &mut out);
        }
        assert_eq!(out, "id=100&u=bob");
        assert_eq!(out.as_ptr(), before, "no reallocation within capacity");
    }

    #[test]
    fn iso_dates_are_correct() {
        let mut out = String::new();
        let _ = write_iso(0, &mut out);
        assert_eq!(out, "1970-01-01T00:00:00.000Z");
        out.clear();
        let _ = write_iso(951_782_400_123, &mut out);
        assert_eq!(out, "2000-02-29T00:00:00.123Z");
        out.clear();
        let _ = write_iso(1_735_689_599_999, &mut out);
        assert_eq!(out, "2024-12-31T23:59:59.999Z");
        out.clear();
        let _ = write_atm_time(1_706_452_245_123_456, &mut out);
        assert_eq!(out, "2024-01-28T14:30:45.123456");
    }
}
