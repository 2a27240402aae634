//! ATM's tests report (`GET /api/v1/tests/report`): the saved test configurations, as
//! `GET /tests` lists them, laid out as an A4 PDF. Text is set in Courier, one of PDF's
//! standard fonts: nothing is embedded, and a fixed-width face lets lines wrap exactly.
//! Characters outside Latin-1 print as `?` (the standard fonts' WinAnsi encoding).

use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str, TextStr};
use serde_json::Value;

const PAGE_WIDTH: f32 = 595.0;
const PAGE_HEIGHT: f32 = 842.0;
const MARGIN: f32 = 50.0;
const FONT_SIZE: f32 = 9.0;
const LINE_HEIGHT: f32 = 12.0;
/// Courier's advance is 600/1000 of the font size.
const CHARS_PER_LINE: usize = ((PAGE_WIDTH - 2.0 * MARGIN) / (FONT_SIZE * 0.6)) as usize;
/// Lines of text per page, leaving one for the footer.
const LINES_PER_PAGE: usize = ((PAGE_HEIGHT - 2.0 * MARGIN) / LINE_HEIGHT) as usize - 2;

const REGULAR: Name = Name(b"F1");
const BOLD: Name = Name(b"F2");

/// One line of the report.
struct Line {
    text: String,
    bold: bool,
}

/// The report of `configs` (each `{name, enabled, spec, created_at, updated_at,
/// run_count}`), generated at `generated_at` (shown as written).
pub fn pdf(configs: &[Value], enabled_only: bool, generated_at: &str) -> Vec<u8> {
    let lines = lines(configs, enabled_only, generated_at);
    let pages: Vec<&[Line]> = lines.chunks(LINES_PER_PAGE).collect();
    write(&pages)
}

fn lines(configs: &[Value], enabled_only: bool, generated_at: &str) -> Vec<Line> {
    let mut out = Vec::new();
    let mut push = |text: String, bold: bool| {
        for piece in wrap(&text) {
            out.push(Line { text: piece, bold });
        }
    };
    push("Load test configurations".to_owned(), true);
    push(format!("Generated {generated_at}"), false);
    let which = if enabled_only {
        "enabled tests"
    } else {
        "tests"
    };
    push(format!("{} {which}", configs.len()), false);
    for config in configs {
        push(String::new(), false);
        push(text(&config["name"]), true);
        let enabled = if config["enabled"] == Value::Bool(true) {
            "enabled"
        } else {
            "disabled"
        };
        push(
            format!("{enabled}, {} runs", text(&config["run_count"])),
            false,
        );
        push(
            format!(
                "created {}, updated {}",
                text(&config["created_at"]),
                text(&config["updated_at"])
            ),
            false,
        );
        let mut fields = Vec::new();
        flatten("", &config["spec"], &mut fields);
        for (path, value) in fields {
            push(format!("  {path}: {value}"), false);
        }
    }
    out
}

/// A JSON value as report text: strings without quotes.
fn text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Null => "-".to_owned(),
        other => other.to_string(),
    }
}

/// `(dotted.path, value)` for every leaf of `value`; arrays by index.
fn flatten(path: &str, value: &Value, out: &mut Vec<(String, String)>) {
    let join = |key: &str| {
        if path.is_empty() {
            key.to_owned()
        } else {
            format!("{path}.{key}")
        }
    };
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (key, inner) in map {
                flatten(&join(key), inner, out);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            for (index, inner) in items.iter().enumerate() {
                flatten(&join(&index.to_string()), inner, out);
            }
        }
        leaf => out.push((path.to_owned(), text(leaf))),
    }
}

/// `text` cut into pieces that fit a line; continuation lines are indented.
fn wrap(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    if chars.len() <= CHARS_PER_LINE {
        return vec![text.to_owned()];
    }
    let mut pieces = vec![chars[..CHARS_PER_LINE].iter().collect::<String>()];
    for rest in chars[CHARS_PER_LINE..].chunks(CHARS_PER_LINE - 4) {
        pieces.push(format!("    {}", rest.iter().collect::<String>()));
    }
    pieces
}

/// Latin-1 text as WinAnsi bytes (they agree on printable Latin-1); anything else is `?`.
fn win_ansi(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| match u8::try_from(u32::from(c)) {
            Ok(byte) if (0x20..0x7f).contains(&byte) || byte >= 0xa0 => byte,
            _ => b'?',
        })
        .collect()
}

fn write(pages: &[&[Line]]) -> Vec<u8> {
    let catalog = Ref::new(1);
    let tree = Ref::new(2);
    let regular = Ref::new(3);
    let bold = Ref::new(4);
    let info = Ref::new(5);
    let first_page = 6;
    let page_ids: Vec<Ref> = (0..pages.len().max(1))
        .map(|index| Ref::new(first_page + 2 * index as i32))
        .collect();

    let mut pdf = Pdf::new();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree)
        .kids(page_ids.iter().copied())
        .count(page_ids.len() as i32);
    for (font, name) in [(regular, &b"Courier"[..]), (bold, b"Courier-Bold")] {
        pdf.type1_font(font)
            .base_font(Name(name))
            .encoding_predefined(Name(b"WinAnsiEncoding"));
    }
    pdf.document_info(info)
        .title(TextStr("Load test configurations"))
        .producer(TextStr("Vayu"));
    let total = page_ids.len();
    for (index, page_id) in page_ids.iter().enumerate() {
        let content_id = Ref::new(page_id.get() + 1);
        let mut page = pdf.page(*page_id);
        page.media_box(Rect::new(0.0, 0.0, PAGE_WIDTH, PAGE_HEIGHT))
            .parent(tree)
            .contents(content_id);
        page.resources()
            .fonts()
            .pair(REGULAR, regular)
            .pair(BOLD, bold);
        page.finish();

        let mut content = Content::new();
        let lines = pages.get(index).copied().unwrap_or_default();
        for (row, line) in lines.iter().enumerate() {
            let y = PAGE_HEIGHT - MARGIN - LINE_HEIGHT * (row as f32 + 1.0);
            show(&mut content, line.bold, MARGIN, y, &line.text);
        }
        let footer = format!("page {} of {total}", index + 1);
        show(&mut content, false, MARGIN, MARGIN - LINE_HEIGHT, &footer);
        pdf.stream(content_id, &content.finish());
    }
    pdf.finish()
}

fn show(content: &mut Content, bold: bool, x: f32, y: f32, text: &str) {
    content
        .begin_text()
        .set_font(if bold { BOLD } else { REGULAR }, FONT_SIZE)
        .next_line(x, y)
        .show(Str(&win_ansi(text)))
        .end_text();
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn specs_are_flattened_into_dotted_lines() {
        let mut out = Vec::new();
        flatten(
            "",
            &json!({"url": "http://h/", "thresholds": {"max_p95_ms": 200}, "endpoints": [{"name": "a"}], "empty": {}}),
            &mut out,
        );
        let mut lines: Vec<String> = out.iter().map(|(p, v)| format!("{p}: {v}")).collect();
        // Key order is the map's (insertion order only with serde_json's preserve_order).
        lines.sort();
        assert_eq!(
            lines,
            [
                "empty: {}",
                "endpoints.0.name: a",
                "thresholds.max_p95_ms: 200",
                "url: http://h/"
            ]
        );
    }

    #[test]
    fn long_lines_wrap_and_foreign_characters_print_as_question_marks() {
        let long = "x".repeat(CHARS_PER_LINE * 2);
        let pieces = wrap(&long);
        assert_eq!(pieces.len(), 3);
        assert!(pieces
            .iter()
            .all(|piece| piece.chars().count() <= CHARS_PER_LINE));
        assert_eq!(win_ansi("é→a"), vec![0xe9, b'?', b'a']);
    }
}
