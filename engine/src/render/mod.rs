//! Report formats: the JSON report as other people read it. CSV (the per-tick time series),
//! JUnit XML (one test case per threshold and per script test, for CI) and a self-contained
//! HTML page with charts. All work from JSON values, so the CLI (fresh report) and the
//! daemon (stored report and ticks) render the same way.

pub mod csv;
pub mod html;
pub mod junit;

use hdrhistogram::Histogram;
use serde_json::Value;

/// uPlot (MIT, `vendor/LICENSE-uPlot`), the chart library of the HTML report and the daemon's
/// dashboard.
pub const UPLOT_JS: &str = include_str!("vendor/uPlot.iife.min.js");
pub const UPLOT_CSS: &str = include_str!("vendor/uPlot.min.css");

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Csv,
    Html,
    Junit,
}

impl Format {
    /// `json`, `csv`, `html`, `junit` (as in `?format=`).
    pub fn parse(name: &str) -> Option<Format> {
        Some(match name {
            "json" => Format::Json,
            "csv" => Format::Csv,
            "html" => Format::Html,
            "junit" => Format::Junit,
            _ => return None,
        })
    }

    /// From a file name's extension: `.json`, `.csv`, `.html`/`.htm`, `.xml` (JUnit).
    pub fn from_path(path: &std::path::Path) -> Option<Format> {
        let extension = path.extension()?.to_str()?.to_ascii_lowercase();
        match extension.as_str() {
            "htm" | "html" => Some(Format::Html),
            "xml" => Some(Format::Junit),
            "json" => Some(Format::Json),
            "csv" => Some(Format::Csv),
            _ => None,
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Json => "application/json",
            Format::Csv => "text/csv; charset=utf-8",
            Format::Html => "text/html; charset=utf-8",
            Format::Junit => "application/xml; charset=utf-8",
        }
    }
}

/// Everything a rendering may use.
pub struct Sources<'a> {
    /// The report (the `GET /run/:id/report` JSON shape).
    pub report: &'a Value,
    /// Live ticks in order.
    pub ticks: &'a [Value],
    /// The whole-run latency histogram (µs), when available.
    pub latency: Option<&'a Histogram<u64>>,
}

/// Renders `sources` in `format`.
pub fn render(format: Format, sources: &Sources<'_>) -> String {
    match format {
        Format::Json => serde_json::to_string_pretty(sources.report).unwrap_or_default(),
        Format::Csv => csv::ticks_to_csv(sources.ticks),
        Format::Html => html::page(sources),
        Format::Junit => junit::suite(sources.report),
    }
}

/// Escapes text for HTML and XML content and attribute values.
pub fn escape_markup(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

/// Log-spaced latency buckets `(upper bound ms, count)` from a histogram, for a chart.
pub fn latency_buckets(histogram: &Histogram<u64>) -> Vec<(f64, u64)> {
    if histogram.is_empty() {
        return Vec::new();
    }
    const BUCKETS: u32 = 40;
    let low = histogram.min().max(1) as f64;
    let high = histogram.max().max(histogram.min() + 1) as f64;
    let ratio = (high / low).powf(1.0 / f64::from(BUCKETS));
    let mut uppers: Vec<u64> = Vec::with_capacity(BUCKETS as usize);
    for i in 1..=BUCKETS {
        let upper = if i == BUCKETS {
            histogram.max()
        } else {
            (low * ratio.powi(i as i32)) as u64
        };
        if uppers.last().is_none_or(|&last| upper > last) {
            uppers.push(upper);
        }
    }
    let counts = counts_up_to(histogram, &uppers);
    uppers
        .iter()
        .zip(counts)
        .map(|(&upper, count)| (upper as f64 / 1000.0, count))
        .collect()
}

/// The histogram's count in each bucket ending at one of `uppers` (ascending, the last one
/// the histogram's max): every recorded value is counted once, in the first bucket that
/// holds it. (`count_between` of adjacent ranges would count a histogram bucket wider than
/// a display bucket in each range it touches.)
pub fn counts_up_to(histogram: &Histogram<u64>, uppers: &[u64]) -> Vec<u64> {
    let mut counts = vec![0; uppers.len()];
    let Some(last) = uppers.len().checked_sub(1) else {
        return counts;
    };
    for value in histogram.iter_recorded() {
        let at = value.value_iterated_to().min(histogram.max());
        let index = uppers.partition_point(|&upper| upper < at).min(last);
        counts[index] += value.count_at_value();
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_from_names_and_paths() {
        assert_eq!(Format::parse("junit"), Some(Format::Junit));
        assert_eq!(
            Format::from_path(std::path::Path::new("out/report.HTML")),
            Some(Format::Html)
        );
        assert_eq!(
            Format::from_path(std::path::Path::new("r.xml")),
            Some(Format::Junit)
        );
        assert_eq!(Format::from_path(std::path::Path::new("r.txt")), None);
    }

    #[test]
    fn buckets_cover_every_value() {
        let mut histogram = crate::metrics::new_histogram();
        for micros in [100u64, 200, 5_000, 90_000, 1_000_000] {
            histogram.saturating_record(micros);
        }
        let buckets = latency_buckets(&histogram);
        assert_eq!(buckets.iter().map(|(_, n)| n).sum::<u64>(), 5);
        assert!(buckets.windows(2).all(|pair| pair[0].0 < pair[1].0));
    }

    /// Values in a narrow range (display buckets narrower than the histogram's own): each
    /// value is still counted once.
    #[test]
    fn narrow_ranges_count_each_value_once() {
        let mut histogram = crate::metrics::new_histogram();
        for micros in [1_000_100u64, 1_000_900, 1_001_500, 1_002_000] {
            histogram.saturating_record(micros);
        }
        let buckets = latency_buckets(&histogram);
        assert_eq!(
            buckets.iter().map(|(_, n)| n).sum::<u64>(),
            4,
            "{buckets:?}"
        );
        let linear: Vec<u64> = (1..=10).map(|i| 1_000_000 + i * 200).collect();
        let mut uppers = linear;
        uppers.push(histogram.max());
        assert_eq!(counts_up_to(&histogram, &uppers).iter().sum::<u64>(), 4);
    }

    #[test]
    fn markup_is_escaped() {
        assert_eq!(
            escape_markup("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
