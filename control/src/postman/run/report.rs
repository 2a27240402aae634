//! The `cli` reporter: newman's terminal output — each item with its request line and
//! tests (`✓` passed, a number for a failure), console lines, the summary table, then the
//! numbered failures. With `--disable-unicode`, newman's plain-text symbols (`Pass`,
//! `Root`, `Folder`, `Sub-folder`) and an ASCII table. With `--verbose`, newman's verbose
//! block per request: sizes and header counts, the request and response bodies, and the
//! time of each phase.

use std::fmt::Write;

use super::paint::Paint;
use super::summary::{
    Assertion, ConsoleEntry, Execution, Received, RequestLine, ScriptError, Stat, Summary,
};
use crate::design::exchange::Outgoing;
use serde_json::Value;

/// The marks of the report (newman's `cli-utils-symbols`).
struct Symbols {
    folder: &'static str,
    root: &'static str,
    sub: &'static str,
    ok: &'static str,
    /// The box around console lines: top, side, bottom.
    console: [&'static str; 3],
    /// `--verbose`: between fields, sent, received.
    star: &'static str,
    up: &'static str,
    down: &'static str,
}

const UNICODE: Symbols = Symbols {
    folder: "❏",
    root: "→",
    sub: "↳",
    ok: "✓",
    console: ["┌", "│", "└"],
    star: "★",
    up: "↑",
    down: "↓",
};

const PLAIN: Symbols = Symbols {
    folder: "Folder",
    root: "Root",
    sub: "Sub-folder",
    ok: "Pass",
    console: ["-", "|", "-"],
    star: "*",
    up: "^",
    down: "v",
};

/// What the report shows: newman's `--disable-unicode` and `--reporter-cli-no-*` flags.
#[derive(Debug, Clone, Copy, Default)]
pub struct CliOptions {
    /// No Unicode marks or box drawing.
    pub plain: bool,
    pub no_summary: bool,
    pub no_failures: bool,
    /// No line per assertion.
    pub no_assertions: bool,
    /// No line per passed assertion.
    pub no_success_assertions: bool,
    pub no_console: bool,
    /// newman's `--verbose`.
    pub verbose: bool,
    /// No `vayu collection run` line before the collection's name (newman's banner).
    pub no_banner: bool,
    /// The local time before each request line, assertion and console message.
    pub show_timestamps: bool,
    /// In newman's colours.
    pub color: bool,
}

/// The whole report as text.
pub fn render(summary: &Summary, collection: &str, options: CliOptions) -> String {
    let symbols = if options.plain { &PLAIN } else { &UNICODE };
    let paint = Paint::new(options.color);
    let mut out = if options.no_banner {
        format!("{}\n", paint.reset(collection))
    } else {
        format!(
            "{}\n\n{}\n",
            paint.reset("vayu collection run"),
            paint.reset(collection)
        )
    };
    let mut failure = 0;
    let mut last_folder: Option<&str> = None;
    for execution in &summary.executions {
        if execution.position == 0 && summary.cycles > 1 {
            let iteration = format!("Iteration {}/{}", execution.iteration + 1, summary.cycles);
            let _ = writeln!(out, "\n{}", paint.gray_underline(&iteration));
            last_folder = None;
        }
        let folder = execution.folder.as_deref();
        if folder.is_some() && folder != last_folder {
            let folder = paint.reset(folder.unwrap_or_default());
            let _ = write!(out, "\n{} {folder}", symbols.folder);
        }
        last_folder = folder;
        let arrow = if folder.is_some() {
            symbols.sub
        } else {
            symbols.root
        };
        let _ = write!(out, "\n{arrow} {}\n", paint.reset(&execution.item_name));
        let mut item = ItemReport {
            out: &mut out,
            failure: &mut failure,
            options: &options,
            symbols,
            paint,
        };
        item.print(execution);
    }
    if !options.no_summary {
        out.push_str(&summary_table(summary, options.plain, paint));
    }
    if !options.no_failures {
        out.push_str(&failures_table(summary, paint));
    }
    if let Some(error) = &summary.error {
        let _ = writeln!(out, "\nerror: {error}");
    }
    out
}

/// Where an item run prints, below its name.
struct ItemReport<'a> {
    out: &'a mut String,
    /// The run's failures so far (assertions are numbered by it).
    failure: &'a mut usize,
    options: &'a CliOptions,
    symbols: &'a Symbols,
    paint: Paint,
}

impl ItemReport<'_> {
    /// The pre-request scripts' output, the request line, the test scripts' output.
    fn print(&mut self, execution: &Execution) {
        let (pre_console, test_console) = execution.console.split_at(
            execution
                .console_before_request
                .min(execution.console.len()),
        );
        let (pre_assertions, test_assertions) = execution.assertions.split_at(
            execution
                .assertions_before_request
                .min(execution.assertions.len()),
        );
        self.phase(pre_console, pre_assertions, 0, execution.sent_ms);
        self.script_errors(&execution.prerequest_errors, "prerequest-script");
        let own = execution.own_request.as_ref();
        let request = own.map_or(&execution.request, |own| &own.request);
        if let Some(sent) = request {
            let response = own.map_or(&execution.response, |own| &own.response);
            let error = own.map_or(&execution.request_error, |own| &own.error);
            self.request(execution, sent, response.as_ref(), error.as_deref());
        }
        let first = pre_assertions.len();
        self.phase(test_console, test_assertions, first, execution.tested_ms);
        self.script_errors(&execution.test_errors, "test-script");
        if let Some(next) = execution.next_asked_by_tests.as_deref() {
            if !next.is_empty() {
                let line = format!("Attempting to set next request to {next}");
                let _ = writeln!(self.out, "\n{}", self.paint.gray(&line));
            }
        }
    }

    /// The request line: method, URL, and the response's status, size and time (or the
    /// error, counted among the failures but printed without a number).
    fn request(
        &mut self,
        execution: &Execution,
        sent: &Outgoing,
        response: Option<&Received>,
        error: Option<&str>,
    ) {
        let (out, paint) = (&mut *self.out, self.paint);
        for line in &execution.challenge_lines {
            request_line(out, line, paint);
        }
        if self.options.show_timestamps {
            let stamp = format!("[{}]", local_time(execution.sent_ms, true));
            let _ = write!(out, "  {}", paint.gray(&stamp));
        }
        let rendered =
            (execution.rendered_url.as_ref()).filter(|rendered| only_encoded(rendered, &sent.url));
        let url = if let Some(rendered) = rendered {
            rendered.clone()
        } else if execution.written_without_path {
            without_root_path(&sent.url)
        } else {
            sent.url.clone()
        };
        let mut url = as_written(&url, execution.written_without_scheme).to_owned();
        // A blank URL prints as nothing, as postman-collection's `Url.toString()` gives it.
        if url.trim().is_empty() {
            url.clear();
        }
        let _ = write!(out, "  {} {} ", paint.gray(&sent.method), paint.gray(&url));
        match (response, error) {
            (Some(response), _) if self.options.verbose => {
                let written = execution.written_body.as_ref();
                let listed = execution.listed_headers(sent).len();
                verbose(out, sent, written, listed, response, self.symbols);
            }
            (Some(response), _) => {
                let _ = writeln!(out, "{}", paint.gray(&request_summary(response)));
            }
            (None, Some(error)) => {
                *self.failure += 1;
                let detail = format!("     {error}");
                let _ = writeln!(out, "{}\n{}", paint.red("[errored]"), paint.red(&detail));
            }
            (None, None) => out.push('\n'),
        }
    }

    /// Scripts that did not run to their end, numbered with newman's `⠄`.
    fn script_errors(&mut self, errors: &[ScriptError], script: &str) {
        for error in errors {
            *self.failure += 1;
            let line = format!("{:>3}⠄ {} in {script}", *self.failure, error.name());
            let _ = writeln!(self.out, "{}", self.paint.red_bold(&line));
        }
    }

    /// A phase's console messages and assertions in the order they happened (newman
    /// prints each as it comes); `first` is the item's count of assertions before these,
    /// `at` the phase's time (Unix ms) for `--reporter-cli-show-timestamps`.
    fn phase(&mut self, console: &[ConsoleEntry], assertions: &[Assertion], first: usize, at: u64) {
        let stamps = self.options.show_timestamps;
        let mut waiting = console;
        for (offset, assertion) in assertions.iter().enumerate() {
            let before = waiting
                .iter()
                .take_while(|line| line.after_assertions <= first + offset)
                .count();
            self.console(&waiting[..before], stamps.then_some(at));
            waiting = &waiting[before..];
            self.assertion(assertion, stamps.then(|| local_time(at, false)));
        }
        self.console(waiting, stamps.then_some(at));
    }

    /// Console messages (unless `--reporter-cli-no-console`) and `pm.sendRequest` lines.
    fn console(&mut self, lines: &[ConsoleEntry], at: Option<u64>) {
        if self.options.no_console {
            let requests: Vec<ConsoleEntry> = lines
                .iter()
                .filter(|line| line.request.is_some())
                .cloned()
                .collect();
            console_box(
                self.out,
                &requests,
                self.symbols,
                at,
                self.paint,
                self.failure,
            );
        } else {
            console_box(self.out, lines, self.symbols, at, self.paint, self.failure);
        }
    }

    fn assertion(&mut self, assertion: &Assertion, time: Option<String>) {
        let (options, paint) = (self.options, self.paint);
        let stamp = time
            .map(|time| format!("  {}", paint.gray(&format!("[{time}]"))))
            .unwrap_or_default();
        let name = &assertion.name;
        if assertion.error.is_some() {
            *self.failure += 1;
            if !options.no_assertions {
                // newman pads the number to 3 columns, 2 after a timestamp.
                let failure = *self.failure;
                let number = if stamp.is_empty() {
                    format!("{failure:>3}.")
                } else {
                    format!("{failure:>2}.")
                };
                let (number, name) = (paint.red_bold(&number), paint.red_bold(name));
                let _ = writeln!(self.out, "{stamp}{number} {name}");
            }
        } else if options.no_assertions || options.no_success_assertions {
            // Neither passed nor skipped tests are shown.
        } else if assertion.skipped {
            // newman prints a skipped test without its time.
            let skipped = paint.cyan(&format!("[skipped] {name}"));
            let _ = writeln!(self.out, "{} {skipped}", paint.cyan("  - "));
        } else {
            let mark = paint.green(&format!("  {} ", self.symbols.ok));
            let _ = writeln!(self.out, "{stamp}{mark} {}", paint.gray(name));
        }
    }
}

/// newman's summary table: the counts, then the run's duration, data and response times.
fn summary_table(summary: &Summary, plain: bool, paint: Paint) -> String {
    let mut out = String::new();
    let stats = &summary.stats;
    let rows: [(&str, Stat); 5] = [
        ("iterations", stats.iterations),
        ("requests", stats.requests),
        ("test-scripts", stats.test_scripts),
        ("prerequest-scripts", stats.prerequest_scripts),
        ("assertions", stats.assertions),
    ];
    let (average, min, max, sd) = summary.response_times();
    let duration = summary.completed_ms.saturating_sub(summary.started_ms);
    let mut lines = vec![
        format!("total run duration: {}", pretty_ms(duration as f64)),
        format!(
            "total data received: {} (approx)",
            file_size(summary.received_bytes())
        ),
    ];
    // newman leaves the line out when the average is 0: a run without a response.
    if average > 0.0 {
        lines.push(format!(
            "average response time: {} [min: {}, max: {}, s.d.: {}]",
            pretty_ms(average),
            pretty_ms(min),
            pretty_ms(max),
            pretty_ms(sd)
        ));
    }
    let width = lines
        .iter()
        .map(|line| line.chars().count())
        .max()
        .unwrap_or(0)
        .max(45);
    let rule = "─".repeat(width + 2);
    // The lines below the counts set the width; the two count columns share what they
    // add, as newman's table does.
    let pad = width - 45;
    let executed = 10 + pad / 2;
    let failed = 10 + pad - pad / 2;
    let bar = |left: &str, middle: &str, right: &str| {
        format!(
            "{left}{}{middle}{}{middle}{}{right}",
            "─".repeat(25),
            "─".repeat(executed),
            "─".repeat(failed)
        )
    };
    let table_start = out.len();
    let side = paint.gray("│");
    let _ = writeln!(out, "\n{}", paint.gray(&bar("┌", "┬", "┐")));
    let _ = writeln!(
        out,
        "{side} {:23} {side} {:>e$} {side} {:>f$} {side}",
        "",
        "executed",
        "failed",
        e = executed - 2,
        f = failed - 2
    );
    // newman rules off every row of both parts of the table.
    let row_rule = paint.gray(&bar("├", "┼", "┤"));
    for (name, stat) in rows {
        let _ = writeln!(out, "{row_rule}");
        // A row's name is green, or red with its count of failures when it has some.
        let (label, failures) = if stat.failed > 0 {
            (paint.red(name), paint.red(&stat.failed.to_string()))
        } else {
            (paint.green(name), stat.failed.to_string())
        };
        let _ = writeln!(
            out,
            "{side} {}{label} {side} {:>e$} {side} {}{failures} {side}",
            " ".repeat(23 - name.len()),
            stat.total,
            " ".repeat((failed - 2).saturating_sub(stat.failed.to_string().len())),
            e = executed - 2,
        );
    }
    let _ = writeln!(out, "{}", paint.gray(&bar("├", "┴", "┤")));
    for (at, line) in lines.iter().enumerate() {
        if at > 0 {
            let _ = writeln!(out, "{}", paint.gray(&format!("├{rule}┤")));
        }
        let _ = writeln!(out, "{side} {line:<width$} {side}");
    }
    let _ = writeln!(out, "{}", paint.gray(&format!("└{rule}┘")));
    if plain {
        let table: String = out[table_start..].chars().map(ascii_box).collect();
        out.truncate(table_start);
        out.push_str(&table);
    }
    out
}

/// newman's numbered failures, with where each happened: cli-table3 without borders,
/// each column as wide as its widest line plus a space either side (what newman's table
/// does when stdout is not a terminal), rows apart by a blank line.
fn failures_table(summary: &Summary, paint: Paint) -> String {
    let mut out = String::new();
    if summary.failures.is_empty() {
        return out;
    }
    let digits = summary.failures.len().to_string().len();
    let rows: Vec<[Vec<String>; 3]> = summary
        .failures
        .iter()
        .enumerate()
        .map(|(number, failure)| {
            let mut name = vec![failure.error.field("name").unwrap_or_default()];
            // Past one iteration, newman says which one under the failure's name.
            if summary.cycles > 1 {
                name.push(format!("iteration: {}", failure.iteration + 1));
            }
            // A request's failure names no item: postman-runtime reports it with an item
            // that has no parent, and newman's full name of such an item is empty.
            let inside = if failure.at == "request" {
                ""
            } else {
                &failure.path
            };
            let detail = format!(
                "{}\n{}\nat {}\ninside \"{inside}\"",
                failure.test.as_deref().unwrap_or(""),
                failure.error.field("message").unwrap_or_default(),
                failure.at
            );
            [
                vec![format!("{:0>digits$}.", number + 1)],
                name,
                detail.split('\n').map(str::to_owned).collect(),
            ]
        })
        .collect();
    let widest = |column: usize, head: &str| {
        rows.iter()
            .flat_map(|row| row[column].iter())
            .map(|line| line.chars().count())
            .chain([head.chars().count()])
            .max()
            .unwrap_or(0)
    };
    let widths = [widest(0, "#"), widest(1, "failure"), widest(2, "detail")];
    let cell = |text: &str, width: usize, right: bool| {
        let pad = " ".repeat(width - text.chars().count());
        if right {
            format!(" {pad}{text} ")
        } else {
            format!(" {text}{pad} ")
        }
    };
    let blank: String = widths
        .iter()
        .map(|width| paint.gray(&" ".repeat(width + 2)))
        .collect();
    let heads = ["#", "failure", "detail"];
    let head: String = (0..3)
        .map(|column| {
            let pad = " ".repeat(widths[column] - heads[column].len());
            let word = paint.red_underline(heads[column]);
            if column == 0 {
                format!(" {pad}{word} ")
            } else {
                format!(" {word}{pad} ")
            }
        })
        .collect();
    let _ = writeln!(out, "\n{head}");
    for row in &rows {
        let _ = writeln!(out, "{blank}");
        let height = row.iter().map(Vec::len).max().unwrap_or(0);
        for line in 0..height {
            let text = |column: usize| row[column].get(line).map_or("", String::as_str);
            // Below its first line, a cell is gray.
            let shaded = |column: usize| {
                let padded = cell(text(column), widths[column], false);
                if line == 0 {
                    padded
                } else {
                    paint.gray(&padded)
                }
            };
            let number = cell(text(0), widths[0], true);
            let _ = writeln!(out, "{number}{}{}", shaded(1), shaded(2));
        }
    }
    out
}

/// newman's ASCII table (`cliTableTemplateFallback`): `|` sides, `+` crossings, `-` else.
fn ascii_box(c: char) -> char {
    match c {
        '│' => '|',
        '┼' => '+',
        '─' | '┌' | '┐' | '└' | '┘' | '┬' | '┴' | '├' | '┤' => '-',
        other => other,
    }
}

/// Console messages in newman's box: one box for them all, or, with a time (Unix ms),
/// each message in its own box after a line with the time. The level shows only as the
/// frame's colour (the first message's level for a box). A `pm.sendRequest` that got no
/// response takes a failure's number, as the item's own request does.
fn console_box(
    out: &mut String,
    lines: &[ConsoleEntry],
    symbols: &Symbols,
    at: Option<u64>,
    paint: Paint,
    failures: &mut usize,
) {
    if lines.is_empty() {
        return;
    }
    let [top, side, bottom] = symbols.console;
    let groups: Vec<&[ConsoleEntry]> = match at {
        Some(_) => lines.chunks(1).collect(),
        None => vec![lines],
    };
    for group in groups {
        // A `pm.sendRequest` line closes the box before it; messages after it open another.
        for run in group.split_inclusive(|entry| entry.request.is_some()) {
            let (messages, request) = match run.split_last() {
                Some((last, before)) if last.request.is_some() => (before, last.request.as_ref()),
                _ => (run, None),
            };
            if !messages.is_empty() {
                if let Some(ms) = at {
                    let stamp = format!("[{}]", local_time(ms, false));
                    let _ = writeln!(out, "\n  {}", paint.gray(&stamp));
                }
                let level = messages[0].level.as_str();
                let _ = writeln!(out, "{}", paint.level(level, &format!("  {top}")));
                for entry in messages {
                    let side = paint.level(&entry.level, side);
                    for line in wrapped(&entry.text, CONSOLE_WIDTH) {
                        let _ = writeln!(out, "  {side} {}", paint.gray(&line));
                    }
                }
                let _ = writeln!(out, "{}", paint.level(level, &format!("  {bottom}")));
            }
            if let Some(line) = request {
                *failures += usize::from(line.outcome.is_err());
                request_line(out, line, paint);
            }
        }
    }
}

/// A sent URL as it was written: without the `http://` the client added to one written
/// without a scheme (`host:3000/x`), as newman prints it.
pub(super) fn as_written(url: &str, written_without_scheme: bool) -> &str {
    match written_without_scheme {
        true => url.strip_prefix("http://").unwrap_or(url),
        false => url,
    }
}

/// `sent` is `rendered` as the client encodes it for the wire, nothing else (no query
/// parameter an auth added, no URL a script sent instead).
fn only_encoded(rendered: &str, sent: &str) -> bool {
    url::Url::parse(&vayu_net::endpoint::breaks_encoded(rendered))
        .is_ok_and(|parsed| parsed.as_str() == sent)
}

/// A sent URL without the `/` path the client sent for a URL written without one
/// (`http://host/?q` → `http://host?q`), as postman-collection prints it.
fn without_root_path(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    match rest.find('/') {
        Some(at) if rest[at + 1..].is_empty() || rest[at + 1..].starts_with(['?', '#']) => {
            format!("{scheme}://{}{}", &rest[..at], &rest[at + 1..])
        }
        _ => url.to_owned(),
    }
}

/// A request the report shows beside the item's own: `  GET url [200 OK, 12B, 3ms]`.
fn request_line(out: &mut String, line: &RequestLine, paint: Paint) {
    let (method, url) = (paint.gray(&line.method), paint.gray(&line.url));
    match &line.outcome {
        Ok(summary) => {
            let _ = writeln!(out, "  {method} {url} {}", paint.gray(summary));
        }
        Err(error) => {
            let detail = paint.red(&format!("     {error}"));
            let _ = writeln!(out, "  {method} {url} {}\n{detail}", paint.red("[errored]"));
        }
    }
}

/// What a request line says of the response: `[200 OK, 411B, 35ms]`.
pub(super) fn request_summary(response: &Received) -> String {
    format!(
        "[{} {}, {}, {}]",
        response.code,
        response.status,
        file_size(response_size(response)),
        pretty_ms(response.time_ms)
    )
}

/// The width newman wraps console messages to when its output is not a terminal.
const CONSOLE_WIDTH: usize = 54;

/// `text` cut as newman's wrapper (word-wrap with `cut`) cuts it: lines end at line
/// terminators, which are dropped with the empty lines they leave, and every `width`
/// UTF-16 units. A message with no line at all is one empty line. A surrogate pair cut in
/// two prints as two replacement characters, as Node writes the halves.
fn wrapped(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    let mut units = 0;
    for c in text.chars() {
        if matches!(c, '\n' | '\r' | '\u{2028}' | '\u{2029}') {
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            units = 0;
            continue;
        }
        let size = c.len_utf16();
        if units + size > width {
            if units < width {
                line.push(char::REPLACEMENT_CHARACTER);
                lines.push(std::mem::take(&mut line));
                line.push(char::REPLACEMENT_CHARACTER);
                units = 1;
                continue;
            }
            lines.push(std::mem::take(&mut line));
            units = 0;
        }
        line.push(c);
        units += size;
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// Unix milliseconds in the local time zone as Node's `toLocaleString()` (with the date)
/// or `toLocaleTimeString()` print them in the default `en-US` locale:
/// `12/4/2026, 5:16:06 AM`, `5:16:06 AM`.
fn local_time(ms: u64, with_date: bool) -> String {
    use chrono::TimeZone;
    let Some(at) = chrono::Local
        .timestamp_millis_opt(i64::try_from(ms).unwrap_or(i64::MAX))
        .single()
    else {
        return String::new();
    };
    let time = at.format("%-I:%M:%S %p");
    if with_date {
        format!("{}, {time}", at.format("%-m/%-d/%Y"))
    } else {
        time.to_string()
    }
}

/// newman's `--verbose` block for one exchange (after the request line); `written` is the
/// item's body as written, when `sent` is the item's own request, and `listed_headers`
/// how many headers newman lists for the request.
fn verbose(
    out: &mut String,
    sent: &Outgoing,
    written: Option<&Value>,
    listed_headers: usize,
    response: &Received,
    symbols: &Symbols,
) {
    let Symbols { star, up, down, .. } = symbols;
    let mode = written
        .and_then(|body| body.get("mode"))
        .and_then(Value::as_str)
        .unwrap_or("raw");
    // The bytes the request took on the wire, as the client encoded them.
    let sent_size = vayu_net::Endpoint::parse(&sent.url)
        .ok()
        .and_then(|endpoint| {
            vayu_net::request::encode(&sent.method, &endpoint, &sent.headers, &sent.body).ok()
        })
        .map_or(0, |wire| wire.len());
    let cookies = response
        .headers
        .iter()
        .filter(|(name, _)| name.eq_ignore_ascii_case("set-cookie"))
        .count();
    let _ = writeln!(
        out,
        " \n  {} {} {star} {} time {star} {}{up} {}{down} size {star} {}{up} {}{down} headers {star} {cookies} cookies",
        response.code,
        response.status,
        pretty_ms(response.time_ms),
        file_size(sent_size),
        file_size(response_size(response)),
        listed_headers,
        response.headers.len(),
    );
    let [top, side, bottom] = symbols.console;
    // `size` is the body's bytes, `body` what newman shows of it (postman-collection's
    // `RequestBody#toString`: nothing for a multipart form or a file).
    // `after` is what newman writes after the box's bottom corner (a space after the
    // request's box, before its line ends).
    let boxed = |out: &mut String, title: String, size: usize, body: &[u8], after: &str| {
        let _ = writeln!(out, "  {top} {title} {star} {}", file_size(size));
        let text = String::from_utf8_lossy(&body[..body.len().min(VERBOSE_BODY)]);
        let chars: Vec<char> = text.chars().filter(|c| *c != '\r').collect();
        if chars.is_empty() {
            let _ = writeln!(out, "  {side} ");
        }
        for line in chars.split(|c| *c == '\n').filter(|line| !line.is_empty()) {
            for chunk in line.chunks(VERBOSE_WIDTH) {
                let _ = writeln!(out, "  {side} {}", chunk.iter().collect::<String>());
            }
        }
        if body.len() > VERBOSE_BODY {
            let _ = writeln!(
                out,
                "  {side} (showing {}/{})",
                file_size(VERBOSE_BODY),
                file_size(body.len())
            );
        }
        let _ = writeln!(out, "  {bottom}{after}");
    };
    if !sent.body.is_empty() {
        let shown = match (mode, written) {
            ("raw", _) => sent.body.clone(),
            ("urlencoded", Some(body)) => urlencoded_text(&body["urlencoded"]).into_bytes(),
            _ => Vec::new(),
        };
        boxed(out, format!("{up} {mode}"), sent.body.len(), &shown, " ");
    }
    let content_type =
        crate::input::request::header_value(&response.headers, "content-type").unwrap_or("");
    let summary = mime_summary(content_type).join(&format!(" {star} "));
    if response.body.is_empty() {
        let _ = writeln!(out, "  {down} {summary}");
    } else {
        boxed(
            out,
            format!("{down} {summary}"),
            response.body.len(),
            &response.body,
            "",
        );
    }
    let phases = &response.phases;
    let mut table: Vec<(&str, String)> = vec![
        ("dns-lookup", pretty_ms(phases.dns_ms)),
        ("tcp-handshake", pretty_ms(phases.connect_ms)),
    ];
    if response.tls {
        table.push(("ssl-handshake", pretty_ms(phases.tls_ms)));
    }
    table.push(("transfer-start", pretty_ms(phases.first_byte_ms)));
    table.push(("download", pretty_ms(phases.download_ms)));
    table.push(("total", pretty_ms(response.time_ms)));
    let widths: Vec<usize> = table
        .iter()
        .map(|(name, value)| name.chars().count().max(value.chars().count()) + 3)
        .collect();
    let row = |cells: Vec<&str>| {
        let mut line = String::from("  ");
        for (cell, width) in cells.iter().zip(&widths) {
            let _ = write!(line, "{cell:width$}");
        }
        line.trim_end().to_owned()
    };
    // newman starts the table on the line after the response's box, or after a blank line
    // when the response had no body to box.
    let gap = if response.body.is_empty() { "\n" } else { "" };
    let _ = writeln!(
        out,
        "{gap}{}\n{}\n",
        row(table.iter().map(|(name, _)| *name).collect()),
        row(table.iter().map(|(_, value)| value.as_str()).collect())
    );
}

/// A urlencoded body's enabled fields as postman-collection's `QueryParam.unparse` writes
/// them: `key=value` by `&`, `&` and `#` escaped (and `=` in a key) outside `{{variables}}`.
fn urlencoded_text(fields: &Value) -> String {
    let normalized = |text: &str, is_key: bool| {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while !rest.is_empty() {
            let (plain, variable, after) = match rest.find("{{") {
                Some(open) => match rest[open..].find("}}") {
                    Some(close) => (
                        &rest[..open],
                        &rest[open..open + close + 2],
                        &rest[open + close + 2..],
                    ),
                    None => (rest, "", ""),
                },
                None => (rest, "", ""),
            };
            for c in plain.chars() {
                match c {
                    '&' => out.push_str("%26"),
                    '#' => out.push_str("%23"),
                    '=' if is_key => out.push_str("%3D"),
                    c => out.push(c),
                }
            }
            out.push_str(variable);
            rest = after;
        }
        out
    };
    let fields = fields.as_array().map(Vec::as_slice).unwrap_or_default();
    fields
        .iter()
        .filter(|field| field.get("disabled").and_then(Value::as_bool) != Some(true))
        .map(|field| {
            let key = normalized(
                &field
                    .get("key")
                    .map(crate::postman::model::rendered)
                    .unwrap_or_default(),
                true,
            );
            match field.get("value").filter(|value| value.is_string()) {
                Some(value) => format!(
                    "{key}={}",
                    normalized(&crate::postman::model::rendered(value), false)
                ),
                None => key,
            }
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// Bytes of a body the verbose block shows (newman's `BODY_CLIP_SIZE`).
const VERBOSE_BODY: usize = 2048;
/// Characters per line of a body in the verbose block.
const VERBOSE_WIDTH: usize = 54;

/// The content type, its kind and format, and its charset, as newman's verbose block
/// names them (`application/json ★ text ★ json ★ utf8`).
fn mime_summary(content_type: &str) -> [String; 4] {
    let mut parts = content_type.split(';');
    let essence = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
    let charset = parts
        .filter_map(|part| part.trim().split_once('='))
        .find(|(name, _)| name.eq_ignore_ascii_case("charset"))
        .map_or_else(
            || "utf8".to_owned(),
            |(_, value)| {
                value
                    .trim_matches('"')
                    .to_ascii_lowercase()
                    .replace('-', "")
            },
        );
    let (kind, format) = match essence.split_once('/') {
        _ if essence.contains("json") => ("text", "json"),
        _ if essence.contains("xml") => ("text", "xml"),
        Some(("text", "html")) => ("text", "html"),
        Some(("text" | "application", "javascript")) => ("text", "script"),
        Some(("image", _)) => ("image", "image"),
        Some(("audio", _)) => ("audio", "audio"),
        Some(("video", _)) => ("video", "video"),
        Some(("text", _)) => ("text", "plain"),
        Some(("application", "octet-stream")) | None => ("unknown", "raw"),
        Some(_) => ("embed", "embed"),
    };
    [essence, kind.to_owned(), format.to_owned(), charset]
}

/// A response's size as newman's request line gives it (postman-collection's
/// `Response.size().total`): the body, the headers as `Name: value` lines and a status
/// line written `HTTP/X.X 200 OK`.
fn response_size(response: &Received) -> usize {
    let status_line = format!("HTTP/X.X {} {}\r\n\r\n", response.code, response.status);
    let headers: usize = response
        .headers
        .iter()
        .map(|(name, value)| name.len() + value.len() + 4)
        .sum();
    response.body.len() + status_line.len() + headers
}

/// A duration as newman writes it (`util.prettyms`, then pretty-ms): µs below 1 ms, whole
/// ms below 1,998 ms, then `1.9s`, `1m 5.5s`, `1d 1h 1m 1s` (digits cut, not rounded).
fn pretty_ms(ms: f64) -> String {
    if ms < 1.0 {
        return format!("{}µs", (ms * 1000.0) as u64);
    }
    if ms < 1998.0 {
        return format!("{}ms", ms as u64);
    }
    let tenths = (ms / 100.0) as u64;
    let seconds = tenths % 600;
    let minutes = tenths / 600;
    let mut parts = Vec::new();
    for (value, unit) in [
        (minutes / (60 * 24), "d"),
        (minutes / 60 % 24, "h"),
        (minutes % 60, "m"),
    ] {
        if value > 0 {
            parts.push(format!("{value}{unit}"));
        }
    }
    match (seconds / 10, seconds % 10) {
        (0, 0) => {}
        (whole, 0) => parts.push(format!("{whole}s")),
        (whole, tenth) => parts.push(format!("{whole}.{tenth}s")),
    }
    parts.join(" ")
}

/// A byte count as newman writes it (the `filesize` package: powers of 1,000, at most two
/// decimals, no trailing zeros, no space): `397B`, `1.54kB`, `1.5MB`.
fn file_size(bytes: usize) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    let text = format!("{value:.2}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    format!("{text}{}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_sizes_read_as_newmans() {
        // Expected values printed by newman 6.2.2's `util.prettyms` and `util.filesize`.
        for (ms, expected) in [
            (0.0, "0µs"),
            (0.4, "400µs"),
            (1.9, "1ms"),
            (1997.0, "1997ms"),
            (1998.0, "1.9s"),
            (2000.0, "2s"),
            (10049.0, "10s"),
            (59999.0, "59.9s"),
            (65500.0, "1m 5.5s"),
            (119_999.0, "1m 59.9s"),
            (3_723_000.0, "1h 2m 3s"),
            (86_400_000.0, "1d"),
            (90_061_000.0, "1d 1h 1m 1s"),
        ] {
            assert_eq!(pretty_ms(ms), expected, "{ms}");
        }
        for (bytes, expected) in [
            (0, "0B"),
            (397, "397B"),
            (1000, "1kB"),
            (1023, "1.02kB"),
            (1536, "1.54kB"),
            (10240, "10.24kB"),
            (1_048_576, "1.05MB"),
            (1_500_000, "1.5MB"),
            (123_456_789, "123.46MB"),
        ] {
            assert_eq!(file_size(bytes), expected, "{bytes}");
        }
    }

    #[test]
    fn console_messages_wrap_as_newmans() {
        // What word-wrap 1.2.5 gives newman for these with `width: 54, cut: true` (a
        // lone surrogate is written as U+FFFD).
        let a = |n| "a".repeat(n);
        let cases: [(String, Vec<String>); 7] = [
            (String::new(), vec![String::new()]),
            ("short".into(), vec!["short".into()]),
            (a(54), vec![a(54)]),
            (a(55), vec![a(54), a(1)]),
            ("x\n\ny".into(), vec!["x".into(), "y".into()]),
            (a(53) + "😀b", vec![a(53) + "\u{fffd}", "\u{fffd}b".into()]),
            ("r\rs".into(), vec!["r".into(), "s".into()]),
        ];
        for (text, expected) in cases {
            assert_eq!(wrapped(&text, CONSOLE_WIDTH), expected, "{text:?}");
        }
    }
}
