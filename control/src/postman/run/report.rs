//! The `cli` reporter: newman's terminal output — each item with its request line and
//! tests (`✓` passed, a number for a failure), console lines, the summary table, then the
//! numbered failures. With `--disable-unicode`, newman's plain-text symbols (`Pass`,
//! `Root`, `Folder`, `Sub-folder`) and an ASCII table.

use std::fmt::Write;

use super::summary::{Stat, Summary};

/// The marks of the report (newman's `cli-utils-symbols`).
struct Symbols {
    folder: &'static str,
    root: &'static str,
    sub: &'static str,
    ok: &'static str,
    console: &'static str,
}

const UNICODE: Symbols = Symbols {
    folder: "❏",
    root: "→",
    sub: "↳",
    ok: "✓",
    console: "┊",
};

const PLAIN: Symbols = Symbols {
    folder: "Folder",
    root: "Root",
    sub: "Sub-folder",
    ok: "Pass",
    console: "|",
};

/// The whole report as text; `plain`: no Unicode symbols or box drawing.
pub fn render(summary: &Summary, collection: &str, plain: bool) -> String {
    let symbols = if plain { &PLAIN } else { &UNICODE };
    let mut out = format!("vayu collection run\n\n{collection}\n");
    let mut failure = 0;
    let mut last_folder: Option<&str> = None;
    for execution in &summary.executions {
        if execution.position == 0 && summary.cycles > 1 {
            let _ = write!(
                out,
                "\nIteration {}/{}\n",
                execution.iteration + 1,
                summary.cycles
            );
            last_folder = None;
        }
        let folder = execution.path.rsplit_once(" / ").map(|(folder, _)| folder);
        if folder.is_some() && folder != last_folder {
            let _ = write!(out, "\n{} {}", symbols.folder, folder.unwrap_or_default());
        }
        last_folder = folder;
        let arrow = if folder.is_some() {
            symbols.sub
        } else {
            symbols.root
        };
        let _ = write!(out, "\n{arrow} {}\n", execution.item_name);
        for error in &execution.prerequest_errors {
            failure += 1;
            let _ = writeln!(out, "  {failure}. {} in prerequest-script", error.name);
        }
        if let Some(sent) = &execution.request {
            let _ = write!(out, "  {} {} ", sent.method, sent.url);
            match (&execution.response, &execution.request_error) {
                (Some(response), _) => {
                    let _ = writeln!(
                        out,
                        "[{} {}, {}B, {}ms]",
                        response.code,
                        response.status,
                        response.body.len(),
                        response.time_ms.round()
                    );
                }
                (None, Some(error)) => {
                    failure += 1;
                    let _ = writeln!(out, "[errored]\n  {failure}. {error}");
                }
                (None, None) => out.push('\n'),
            }
        }
        for (level, message) in &execution.console {
            let _ = writeln!(out, "  {} {level}: {message}", symbols.console);
        }
        for assertion in &execution.assertions {
            if assertion.error.is_some() {
                failure += 1;
                let _ = writeln!(out, "  {failure}. {}", assertion.name);
            } else if assertion.skipped {
                let _ = writeln!(out, "  -  {}", assertion.name);
            } else {
                let _ = writeln!(out, "  {}  {}", symbols.ok, assertion.name);
            }
        }
        for error in &execution.test_errors {
            failure += 1;
            let _ = writeln!(out, "  {failure}. {} in test-script", error.name);
        }
    }
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
    let lines = [
        format!("total run duration: {duration}ms"),
        format!("total data received: {}B (approx)", summary.received_bytes()),
        format!("average response time: {average:.0}ms [min: {min:.0}ms, max: {max:.0}ms, s.d.: {sd:.0}ms]"),
    ];
    let width = lines
        .iter()
        .map(|line| line.chars().count())
        .max()
        .unwrap_or(0)
        .max(45);
    let rule = "─".repeat(width + 2);
    let pad = width - 45;
    let table_start = out.len();
    let _ = writeln!(
        out,
        "\n┌─────────────────────────┬──────────┬──────────{}┐",
        "─".repeat(pad)
    );
    let _ = writeln!(
        out,
        "│                         │ executed │ {:>width$} │",
        "failed",
        width = 8 + pad
    );
    let _ = writeln!(
        out,
        "├─────────────────────────┼──────────┼──────────{}┤",
        "─".repeat(pad)
    );
    // newman rules off every row of both parts of the table.
    let row_rule = format!(
        "├─────────────────────────┼──────────┼──────────{}┤",
        "─".repeat(pad)
    );
    for (at, (name, stat)) in rows.into_iter().enumerate() {
        if at > 0 {
            let _ = writeln!(out, "{row_rule}");
        }
        let _ = writeln!(
            out,
            "│ {name:>23} │ {:>8} │ {:>width$} │",
            stat.total,
            stat.failed,
            width = 8 + pad
        );
    }
    let _ = writeln!(
        out,
        "├─────────────────────────┴──────────┴──────────{}┤",
        "─".repeat(pad)
    );
    for (at, line) in lines.iter().enumerate() {
        if at > 0 {
            let _ = writeln!(out, "├{rule}┤");
        }
        let _ = writeln!(out, "│ {line:<width$} │");
    }
    let _ = writeln!(out, "└{rule}┘");
    if plain {
        let table: String = out[table_start..].chars().map(ascii_box).collect();
        out.truncate(table_start);
        out.push_str(&table);
    }
    if !summary.failures.is_empty() {
        out.push_str("\n  #  failure         detail\n");
        for (number, failure) in summary.failures.iter().enumerate() {
            let _ = writeln!(
                out,
                "\n {}.  {:<14} {}",
                number + 1,
                failure.name,
                failure.test.as_deref().unwrap_or("")
            );
            let _ = writeln!(out, "     {:<14} {}", "", failure.message);
            let _ = writeln!(out, "     {:<14} at {}", "", failure.at);
            let _ = writeln!(out, "     {:<14} inside \"{}\"", "", failure.path);
        }
    }
    if let Some(error) = &summary.error {
        let _ = writeln!(out, "\nerror: {error}");
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
