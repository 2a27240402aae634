//! Comments out of a raw JSON body, as postman-runtime takes them out before it sends one:
//! a port of strip-json-comments 3.1.1 (sindresorhus, MIT) with `{ whitespace: false }`,
//! the options the runtime passes. A comment goes without a trace; the line break that ends
//! a `//` comment stays (a `\r\n` leaves its `\n`); text inside strings is never touched.

/// `text` without its `//` and `/* */` comments.
pub fn strip(text: &str) -> String {
    #[derive(PartialEq)]
    enum Comment {
        None,
        Single,
        Multi,
    }
    let bytes = text.as_bytes();
    let escaped = |quote: usize| {
        let backslashes = bytes[..quote]
            .iter()
            .rev()
            .take_while(|&&byte| byte == b'\\')
            .count();
        backslashes % 2 == 1
    };
    let mut in_string = false;
    let mut comment = Comment::None;
    let mut offset = 0;
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < bytes.len() {
        let here = bytes[i];
        let next = bytes.get(i + 1).copied();
        if comment == Comment::None && here == b'"' && !escaped(i) {
            in_string = !in_string;
        }
        if in_string {
            i += 1;
            continue;
        }
        match (&comment, here, next) {
            (Comment::None, b'/', Some(b'/')) => {
                out.push_str(&text[offset..i]);
                offset = i;
                comment = Comment::Single;
                i += 1;
            }
            (Comment::Single, b'\r', Some(b'\n')) => {
                i += 1;
                comment = Comment::None;
                offset = i;
                i += 1;
                continue;
            }
            (Comment::Single, b'\n', _) => {
                comment = Comment::None;
                offset = i;
            }
            (Comment::None, b'/', Some(b'*')) => {
                out.push_str(&text[offset..i]);
                offset = i;
                comment = Comment::Multi;
                i += 2;
                continue;
            }
            (Comment::Multi, b'*', Some(b'/')) => {
                i += 1;
                comment = Comment::None;
                offset = i + 1;
                i += 1;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    if comment == Comment::None {
        out.push_str(&text[offset..]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::strip;

    #[test]
    fn comments_go_as_strip_json_comments_takes_them_out() {
        // What strip-json-comments 3.1.1 gives for each with `{ whitespace: false }`
        // (checked with node).
        for (text, expected) in [
            (
                "{// some comment\n\"a\": \"value\"\n}",
                "{\n\"a\": \"value\"\n}",
            ),
            ("{\"a\": 1 // c\r\n}", "{\"a\": 1 \n}"),
            ("{/* a\nb */\"a\": \"value\"}", "{\"a\": \"value\"}"),
            ("{\"a\": \"http://x/*y*/\"}", "{\"a\": \"http://x/*y*/\"}"),
            ("{\"a\\\"//\": 1}", "{\"a\\\"//\": 1}"),
            ("{\"a\": 1} // trailing", "{\"a\": 1} "),
            ("{\"a\": 1} /* open", "{\"a\": 1} "),
        ] {
            assert_eq!(strip(text), expected, "{text:?}");
        }
    }
}
