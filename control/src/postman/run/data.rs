//! Iteration data files as newman reads them: JSON (an array of objects) first, else CSV
//! (first row the names; fields trimmed; quotes escape with `""`; rows of another length
//! accepted; a UTF-8 byte-order mark dropped; unquoted numbers read as numbers).

use serde_json::Value;
use vayu_engine::script::{Scope, TypedScope};

use crate::postman::model::rendered;

/// One iteration's `data` variables, as text (what `{{name}}` renders).
pub type Row = Scope;

/// One iteration's `data` variables with their types (numbers from JSON, or unquoted in
/// CSV, stay numbers for `pm.iterationData`).
pub type TypedRow = TypedScope;

/// Parses a data file's text.
pub fn parse(text: &str) -> Result<Vec<Row>, String> {
    Ok(parse_typed(text)?.iter().map(text_row).collect())
}

/// A typed row as text: each value as `{{name}}` renders it.
pub fn text_row(row: &TypedRow) -> Row {
    row.iter()
        .map(|(key, value)| (key.clone(), rendered(value)))
        .collect()
}

/// Parses a data file's text, keeping the values' types.
pub fn parse_typed(text: &str) -> Result<Vec<TypedRow>, String> {
    let text = text.trim_start_matches('\u{feff}');
    if let Ok(json) = serde_json::from_str::<Value>(text.trim()) {
        return match json {
            Value::Array(rows) => rows
                .into_iter()
                .enumerate()
                .map(|(at, row)| match row {
                    Value::Object(fields) => Ok(fields.into_iter().collect()),
                    // newman runs the iteration with no data.
                    Value::Null => Ok(TypedRow::default()),
                    other => Err(format!("data row {at} is not an object: {other}")),
                })
                .collect(),
            Value::Object(_) => Err("a JSON data file must hold an array of objects".to_owned()),
            _ => csv(text),
        };
    }
    csv(text)
}

/// One CSV field and whether it was quoted.
struct Field {
    text: String,
    quoted: bool,
}

fn csv(text: &str) -> Result<Vec<TypedRow>, String> {
    let records = records(text)?;
    let mut records = records.into_iter();
    let Some(header) = records.next() else {
        return Ok(Vec::new());
    };
    let names: Vec<String> = header.into_iter().map(|field| field.text).collect();
    // A blank line is a record of one empty field, as csv-parse reads it (newman runs an
    // iteration for it).
    Ok(records
        .map(|record| {
            names
                .iter()
                .zip(record)
                .map(|(name, field)| (name.clone(), cast(field)))
                .collect()
        })
        .collect())
}

/// newman's `csvAutoParse`: an unquoted field that newman's `util.isInt` takes for an
/// integer (`/^(-|\+)?([1-9]+[0-9]*)$/`) becomes `parseInt` of it; else one its
/// `util.isFloat` takes for a number (`value - parseFloat(value) + 1 >= 0`, with
/// JavaScript's coercions: `007`, `.5`, `1e3`, even `0x10`, whose `parseFloat` is 0)
/// becomes `parseFloat` of it; anything else stays text.
fn cast(field: Field) -> Value {
    if field.quoted {
        return Value::String(field.text);
    }
    let text = field.text;
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(&text);
    let is_int = unsigned.starts_with(|c: char| ('1'..='9').contains(&c))
        && unsigned.bytes().all(|b| b.is_ascii_digit());
    let number = if is_int {
        js_parse_float(&text)
    } else {
        js_parse_float(&text)
            .filter(|parsed| js_number(&text).is_some_and(|whole| whole - parsed + 1.0 >= 0.0))
    };
    match number {
        Some(number) => js_number_value(number),
        None => Value::String(text),
    }
}

/// A JavaScript number as JSON writes it: integral ones without a fraction, -0 as 0.
fn js_number_value(number: f64) -> Value {
    const SAFE: f64 = 9_007_199_254_740_992.0;
    if number.fract() == 0.0 && number.abs() < SAFE {
        return Value::from(number as i64);
    }
    serde_json::Number::from_f64(number).map_or(Value::Null, Value::Number)
}

/// JavaScript's `Number(text)`: None where it gives NaN.
fn js_number(text: &str) -> Option<f64> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Some(0.0);
    }
    let radix = |prefix: &str, radix: u32| {
        let digits = trimmed
            .strip_prefix(prefix)
            .or_else(|| trimmed.strip_prefix(&prefix.to_ascii_uppercase()))?;
        u64::from_str_radix(digits, radix).ok().map(|n| n as f64)
    };
    if let Some(number) = radix("0x", 16)
        .or_else(|| radix("0o", 8))
        .or_else(|| radix("0b", 2))
    {
        return Some(number);
    }
    let unsigned = trimmed.strip_prefix(['-', '+']).unwrap_or(trimmed);
    if unsigned == "Infinity" {
        return Some(if trimmed.starts_with('-') {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        });
    }
    // Rust's grammar beside JavaScript's: digits, a point, an exponent, nothing else.
    let decimal = !unsigned.is_empty()
        && unsigned
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'-' | b'+'))
        && unsigned.bytes().any(|b| b.is_ascii_digit());
    decimal.then(|| trimmed.parse::<f64>().ok()).flatten()
}

/// JavaScript's `parseFloat(text)`: the longest number at the start (after white space);
/// None where it gives NaN.
fn js_parse_float(text: &str) -> Option<f64> {
    let trimmed = text.trim_start();
    let unsigned = trimmed.strip_prefix(['-', '+']).unwrap_or(trimmed);
    let sign = if trimmed.starts_with('-') { -1.0 } else { 1.0 };
    if unsigned.starts_with("Infinity") {
        return Some(sign * f64::INFINITY);
    }
    let bytes = unsigned.as_bytes();
    let digits = |from: usize| {
        from + bytes[from..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count()
    };
    let whole = digits(0);
    let mut end = whole;
    if bytes.get(end) == Some(&b'.') {
        end = digits(end + 1);
    }
    if end == 0 || (end == 1 && whole == 0) {
        return None;
    }
    if matches!(bytes.get(end), Some(b'e' | b'E')) {
        let signed = end + 1 + usize::from(matches!(bytes.get(end + 1), Some(b'-' | b'+')));
        let exponent = digits(signed);
        if exponent > signed {
            end = exponent;
        }
    }
    unsigned[..end]
        .parse::<f64>()
        .ok()
        .map(|number| sign * number)
}

fn records(text: &str) -> Result<Vec<Vec<Field>>, String> {
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut chars = text.chars().peekable();
    let mut line = 1;
    loop {
        // One field.
        while chars.peek().is_some_and(|c| *c == ' ' || *c == '\t') {
            chars.next();
        }
        let mut field = Field {
            text: String::new(),
            quoted: false,
        };
        if chars.peek() == Some(&'"') {
            chars.next();
            field.quoted = true;
            loop {
                match chars.next() {
                    Some('"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        field.text.push('"');
                    }
                    Some('"') => break,
                    Some(c) => {
                        line += usize::from(c == '\n');
                        field.text.push(c);
                    }
                    None => return Err(format!("line {line}: a quoted field is not closed")),
                }
            }
            // Only white space may follow the closing quote (csv-parse refuses the file
            // otherwise, and newman loads no data).
            while let Some(&c) = chars.peek() {
                if c == ',' || c == '\n' || c == '\r' {
                    break;
                }
                if !c.is_whitespace() {
                    return Err(format!(
                        "line {line}: invalid closing quote: found non trimable byte after quote"
                    ));
                }
                chars.next();
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == ',' || c == '\n' || c == '\r' {
                    break;
                }
                field.text.push(c);
                chars.next();
            }
            field.text = field.text.trim_end().to_owned();
        }
        record.push(field);
        match chars.next() {
            Some(',') => {}
            Some('\r') => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                line += 1;
                records.push(std::mem::take(&mut record));
            }
            Some('\n') => {
                line += 1;
                records.push(std::mem::take(&mut record));
            }
            _ => {
                // A line break just before the end starts no record (csv-parse's reading).
                let after_break = text.ends_with(['\n', '\r']);
                let empty = record.len() == 1 && record[0].text.is_empty() && !record[0].quoted;
                if !(after_break && empty) {
                    records.push(std::mem::take(&mut record));
                }
                break;
            }
        }
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_become_numbers_as_newmans_csv_auto_parse_casts_them() {
        // What newman 6.2.2 reads from each unquoted field (csvAutoParse on csv-parse 4).
        let read = |field: &str| {
            cast(Field {
                text: field.to_owned(),
                quoted: false,
            })
        };
        for (field, number) in [
            ("1", 1.0),
            ("-1", -1.0),
            ("+15551234567", 15_551_234_567.0),
            ("007", 7.0),
            ("0", 0.0),
            ("-0", 0.0),
            ("1.50", 1.5),
            (".5", 0.5),
            ("1.", 1.0),
            ("1e3", 1000.0),
            ("0x10", 0.0),
            ("0b11", 0.0),
            ("00", 0.0),
            ("+.5", 0.5),
            ("1E3", 1000.0),
        ] {
            assert_eq!(read(field), js_number_value(number), "{field}");
        }
        for text in [
            "", "12abc", "-", "Infinity", "1e400", "true", "1_000", "a1", "1e", "1.5.5",
        ] {
            assert_eq!(read(text), Value::String(text.to_owned()), "{text}");
        }
    }

    #[test]
    fn only_white_space_may_follow_a_closing_quote() {
        assert_eq!(parse("id,v\n1,\"x\" \t,2\n").unwrap()[0]["v"], "x");
        let refused = parse("id,v\n1,\"x\"y\n").unwrap_err();
        assert!(
            refused.starts_with("line 2: invalid closing quote"),
            "{refused}"
        );
    }

    #[test]
    fn a_blank_line_is_a_row_as_csv_parse_reads_it() {
        // csv-parse 4 with newman's options: a blank line is a record of one empty field;
        // the line break before the end of the file starts none.
        let ids = |text: &str| -> Vec<String> {
            parse(text)
                .unwrap()
                .iter()
                .map(|row| row["id"].clone())
                .collect()
        };
        assert_eq!(ids("id\n1\n\n2\n"), ["1", "", "2"]);
        assert_eq!(ids("id\n1\r\n\r\n"), ["1", ""]);
        assert_eq!(ids("id\n1\n"), ["1"]);
        assert_eq!(ids("id\n1"), ["1"]);
    }

    #[test]
    fn json_rows() {
        let rows = parse("[{\"a\": 1, \"b\": \"x\"}, {\"a\": true}]").unwrap();
        assert_eq!(rows[0]["a"], "1");
        assert_eq!(rows[1]["a"], "true");
        assert!(parse("{\"a\": 1}").is_err());
        // A null row is an iteration without data, as newman runs it.
        let rows = parse("[{\"a\": 1}, null]").unwrap();
        assert!(rows[1].is_empty());
        assert!(parse("[{\"a\": 1}, 2]").is_err());
    }

    #[test]
    fn values_render_as_javascript_writes_them() {
        let rows =
            parse(r#"[{"o": {"x": 1}, "a": [1, null, [2, "s"]], "n": null, "f": 1.0, "g": 2.5}]"#)
                .unwrap();
        let row = &rows[0];
        assert_eq!(row["o"], "[object Object]");
        assert_eq!(row["a"], "1,,2,s");
        assert_eq!(row["n"], "null");
        assert_eq!(row["f"], "1");
        assert_eq!(row["g"], "2.5");
    }

    #[test]
    fn csv_rows_as_newman_reads_them() {
        let text = "\u{feff}name, age ,note\nalice, 30 ,\"a, \"\"quoted\"\" note\"\r\nbob,007,\"12\"\n\ncarol,1.50\n";
        let rows = parse(text).unwrap();
        // csv-parse 4 with newman's options: the blank line is a row (`{name: ''}`).
        assert_eq!(rows.len(), 4);
        assert_eq!(rows[0]["name"], "alice");
        assert_eq!(rows[0]["age"], "30");
        assert_eq!(rows[0]["note"], "a, \"quoted\" note");
        assert_eq!(rows[1]["age"], "7");
        assert_eq!(rows[1]["note"], "12");
        assert_eq!(rows[2]["name"], "");
        assert!(!rows[2].contains_key("age"));
        assert_eq!(rows[3]["age"], "1.5");
        assert!(!rows[3].contains_key("note"));
    }
}
