//! The Prometheus text exposition format (0.0.4) and OpenMetrics 1.0 text, written by hand:
//! metadata lines per family, then its samples, label values escaped, `# EOF` at the end
//! of OpenMetrics. The two differ in how a counter's family is named (`x_total` in 0.0.4,
//! `x` with samples `x_total` in OpenMetrics), in `# UNIT` lines and in info metrics.

use std::fmt::Write;

/// Which text format a scrape gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `text/plain; version=0.0.4`.
    Text,
    /// `application/openmetrics-text; version=1.0.0`.
    OpenMetrics,
}

impl Format {
    /// OpenMetrics when `Accept` names `application/openmetrics-text` with a q-value above
    /// 0 (Prometheus asks for it first), else the 0.0.4 text format.
    pub fn negotiate(accept: Option<&str>) -> Format {
        let wants_openmetrics = accept.is_some_and(|accept| {
            accept.split(',').any(|range| {
                let mut parts = range.split(';').map(str::trim);
                let media = parts.next().unwrap_or_default();
                media.eq_ignore_ascii_case("application/openmetrics-text")
                    && parts.all(|param| {
                        param
                            .strip_prefix("q=")
                            .and_then(|q| q.trim().parse::<f64>().ok())
                            .is_none_or(|q| q > 0.0)
                    })
            })
        });
        if wants_openmetrics {
            Format::OpenMetrics
        } else {
            Format::Text
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Text => "text/plain; version=0.0.4; charset=utf-8",
            Format::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
        }
    }
}

/// A metric family's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Named without `_total`; its samples get the suffix.
    Counter,
    Gauge,
    /// Samples with a `quantile` label, plus `_sum` and `_count`.
    Summary,
    /// Named without `_info`; one sample `name_info{...} 1` (a gauge in 0.0.4).
    Info,
}

/// A family's metadata.
#[derive(Debug, Clone, Copy)]
pub struct Family {
    /// The base name: no `_total` or `_info` suffix.
    pub name: &'static str,
    pub kind: Kind,
    /// The base unit the name ends with (`seconds`, `bytes`), for OpenMetrics' `# UNIT`.
    pub unit: Option<&'static str>,
    pub help: &'static str,
}

/// A document being written.
pub struct Exposition {
    format: Format,
    out: String,
    /// The sample name of the current family (`x_total` for a counter).
    sample_name: String,
}

impl Exposition {
    pub fn new(format: Format) -> Exposition {
        Exposition {
            format,
            out: String::with_capacity(16 * 1024),
            sample_name: String::new(),
        }
    }

    /// Starts a family: its `# HELP`, `# TYPE` (and `# UNIT`) lines. Every sample until the
    /// next family belongs to it (both formats want a family's samples together).
    pub fn family(&mut self, family: &Family) {
        let base = family.name;
        let (metadata_name, type_name) = match (family.kind, self.format) {
            (Kind::Counter, Format::Text) => (format!("{base}_total"), "counter"),
            (Kind::Counter, Format::OpenMetrics) => (base.to_owned(), "counter"),
            (Kind::Gauge, _) => (base.to_owned(), "gauge"),
            (Kind::Summary, _) => (base.to_owned(), "summary"),
            (Kind::Info, Format::Text) => (format!("{base}_info"), "gauge"),
            (Kind::Info, Format::OpenMetrics) => (base.to_owned(), "info"),
        };
        self.sample_name = match family.kind {
            Kind::Counter => format!("{base}_total"),
            Kind::Info => format!("{base}_info"),
            Kind::Gauge | Kind::Summary => base.to_owned(),
        };
        let _ = writeln!(
            self.out,
            "# HELP {metadata_name} {}",
            escape_help(family.help)
        );
        let _ = writeln!(self.out, "# TYPE {metadata_name} {type_name}");
        if let (Some(unit), Format::OpenMetrics) = (family.unit, self.format) {
            let _ = writeln!(self.out, "# UNIT {metadata_name} {unit}");
        }
    }

    /// A sample of the current family.
    pub fn sample(&mut self, labels: &[(&str, &str)], value: Value) {
        self.write_sample("", labels, value);
    }

    /// A sample of the current family with a suffix (`_sum`, `_count` of a summary).
    pub fn sample_suffixed(&mut self, suffix: &str, labels: &[(&str, &str)], value: Value) {
        self.write_sample(suffix, labels, value);
    }

    fn write_sample(&mut self, suffix: &str, labels: &[(&str, &str)], value: Value) {
        self.out.push_str(&self.sample_name);
        self.out.push_str(suffix);
        if !labels.is_empty() {
            self.out.push('{');
            for (index, (name, value)) in labels.iter().enumerate() {
                if index > 0 {
                    self.out.push(',');
                }
                self.out.push_str(name);
                self.out.push_str("=\"");
                escape_label_value(value, &mut self.out);
                self.out.push('"');
            }
            self.out.push('}');
        }
        self.out.push(' ');
        value.write(&mut self.out);
        self.out.push('\n');
    }

    /// The document (`# EOF` ends OpenMetrics).
    pub fn finish(mut self) -> String {
        if self.format == Format::OpenMetrics {
            self.out.push_str("# EOF\n");
        }
        self.out
    }
}

/// A sample value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value {
    Int(u64),
    Float(f64),
}

impl Value {
    fn write(self, out: &mut String) {
        match self {
            Value::Int(value) => {
                let _ = write!(out, "{value}");
            }
            Value::Float(value) if value.is_nan() => out.push_str("NaN"),
            Value::Float(value) if value == f64::INFINITY => out.push_str("+Inf"),
            Value::Float(value) if value == f64::NEG_INFINITY => out.push_str("-Inf"),
            // Rust's shortest round-trip form, never an exponent: valid in both formats.
            Value::Float(value) => {
                let _ = write!(out, "{value}");
            }
        }
    }
}

/// `\`, `"` and line feeds escaped (both formats).
fn escape_label_value(value: &str, out: &mut String) {
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

/// `\` and line feeds escaped (the help texts are ours and hold no quotes).
fn escape_help(help: &str) -> String {
    help.replace('\\', "\\\\").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    const REQUESTS: Family = Family {
        name: "vayu_run_requests",
        kind: Kind::Counter,
        unit: None,
        help: "Requests completed.",
    };
    const LATENCY: Family = Family {
        name: "vayu_run_latency_seconds",
        kind: Kind::Summary,
        unit: Some("seconds"),
        help: "Latency.",
    };

    fn document(format: Format) -> String {
        let mut doc = Exposition::new(format);
        doc.family(&REQUESTS);
        doc.sample(&[("run_id", "r\"1\\\n")], Value::Int(7));
        doc.family(&LATENCY);
        doc.sample(&[("quantile", "0.5")], Value::Float(0.0015));
        doc.sample_suffixed("_count", &[], Value::Int(7));
        doc.finish()
    }

    #[test]
    fn text_names_counter_families_with_total() {
        assert_eq!(
            document(Format::Text),
            "# HELP vayu_run_requests_total Requests completed.\n\
             # TYPE vayu_run_requests_total counter\n\
             vayu_run_requests_total{run_id=\"r\\\"1\\\\\\n\"} 7\n\
             # HELP vayu_run_latency_seconds Latency.\n\
             # TYPE vayu_run_latency_seconds summary\n\
             vayu_run_latency_seconds{quantile=\"0.5\"} 0.0015\n\
             vayu_run_latency_seconds_count 7\n"
        );
    }

    #[test]
    fn openmetrics_has_units_and_eof() {
        let doc = document(Format::OpenMetrics);
        assert!(doc.starts_with("# HELP vayu_run_requests Requests completed.\n# TYPE vayu_run_requests counter\nvayu_run_requests_total{"));
        assert!(doc.contains("# UNIT vayu_run_latency_seconds seconds\n"));
        assert!(doc.ends_with("vayu_run_latency_seconds_count 7\n# EOF\n"));
    }

    #[test]
    fn special_floats_are_spelt_as_prometheus_does() {
        let mut out = String::new();
        for value in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 1e21, 0.1] {
            Value::Float(value).write(&mut out);
            out.push(' ');
        }
        assert_eq!(out, "NaN +Inf -Inf 1000000000000000000000 0.1 ");
    }

    #[test]
    fn openmetrics_is_chosen_by_accept() {
        let prometheus = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
        assert_eq!(Format::negotiate(Some(prometheus)), Format::OpenMetrics);
        assert_eq!(
            Format::negotiate(Some("application/openmetrics-text; q=0")),
            Format::Text
        );
        assert_eq!(Format::negotiate(Some("text/plain")), Format::Text);
        assert_eq!(Format::negotiate(None), Format::Text);
    }
}
