//! lodash's `upperFirst(camelCase(name))` without non-word characters: the class names
//! newman's JUnit reporter gives test suites (`getUser` → `GetUser`, `HTTPRequest` →
//! `HttpRequest`, `Über Tést` → `UberTest`).

use unicode_normalization::UnicodeNormalization;

/// The class name of a suite called `name`; empty when nothing of it is a word
/// character (newman then uses the collection's).
pub fn class_name(name: &str) -> String {
    let text: String = deburr(name)
        .chars()
        .filter(|c| !matches!(c, '\'' | '\u{2019}'))
        .collect();
    let chars: Vec<char> = text.chars().collect();
    let mut camel = String::new();
    for (index, word) in words(&chars).into_iter().enumerate() {
        let lower = word.iter().collect::<String>().to_lowercase();
        match index {
            0 => camel.push_str(&lower),
            _ => camel.push_str(&upper_first(&lower)),
        }
    }
    let word_characters: String = camel
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    upper_first(&word_characters)
}

fn upper_first(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

/// lodash's `deburr`: Latin-1 Supplement and Latin Extended-A letters as basic Latin
/// letters, combining marks dropped.
fn deburr(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\u{c0}'..='\u{d6}' | '\u{d8}'..='\u{f6}' | '\u{f8}'..='\u{17f}' => {
                match unlike_decomposed(c) {
                    Some(letters) => out.push_str(letters),
                    None => out.extend(c.nfd().filter(|c| !is_combining_mark(*c))),
                }
            }
            c if is_combining_mark(c) => {}
            c => out.push(c),
        }
    }
    out
}

fn is_combining_mark(c: char) -> bool {
    matches!(c, '\u{300}'..='\u{36f}' | '\u{fe20}'..='\u{fe2f}' | '\u{20d0}'..='\u{20ff}')
}

/// The letters lodash's table gives where Unicode's decomposition does not.
fn unlike_decomposed(c: char) -> Option<&'static str> {
    Some(match c {
        'Æ' => "Ae",
        'Ð' | 'Đ' => "D",
        'Ø' => "O",
        'Þ' => "Th",
        'ß' => "ss",
        'æ' => "ae",
        'ð' | 'đ' => "d",
        'ø' => "o",
        'þ' => "th",
        'Ħ' => "H",
        'ħ' => "h",
        'ı' => "i",
        'Ĳ' => "IJ",
        'ĳ' => "ij",
        'ĸ' => "k",
        'Ŀ' | 'Ł' => "L",
        'ŀ' | 'ł' => "l",
        'ŉ' => "'n",
        'Ŋ' => "N",
        'ŋ' => "n",
        'Œ' => "Oe",
        'œ' => "oe",
        'Ŧ' => "T",
        'ŧ' => "t",
        'ſ' => "s",
        _ => return None,
    })
}

/// A character as lodash's word pattern sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Upper,
    Lower,
    Digit,
    /// Letters of other scripts: they join words as lower or upper case letters would.
    Misc,
    /// Emoji and dingbats: each a word of its own.
    Symbol,
    Break,
}

fn class(c: char) -> Class {
    match c {
        'A'..='Z' | '\u{c0}'..='\u{d6}' | '\u{d8}'..='\u{de}' => Class::Upper,
        'a'..='z' | '\u{df}'..='\u{f6}' | '\u{f8}'..='\u{ff}' => Class::Lower,
        '0'..='9' => Class::Digit,
        '\u{0}'..='\u{bf}'
        | '\u{d7}'
        | '\u{f7}'
        | '\u{1680}'
        | '\u{180e}'
        | '\u{2000}'..='\u{206f}'
        | '\u{3000}'
        | '\u{feff}' => Class::Break,
        '\u{2700}'..='\u{27bf}' => Class::Symbol,
        c if u32::from(c) > 0xffff => Class::Symbol,
        _ => Class::Misc,
    }
}

/// lodash's `words`: its unicode word pattern's alternatives in order, at each place.
fn words(chars: &[char]) -> Vec<&[char]> {
    let classes: Vec<Class> = chars.iter().map(|c| class(*c)).collect();
    let mut found = Vec::new();
    let mut at = 0;
    while at < chars.len() {
        match word_end(chars, &classes, at) {
            Some(end) => {
                found.push(&chars[at..end]);
                at = end;
            }
            None => at += 1,
        }
    }
    found
}

fn word_end(chars: &[char], classes: &[Class], at: usize) -> Option<usize> {
    use Class::{Break, Digit, Lower, Misc, Symbol, Upper};
    let n = classes.len();
    let is = |i: usize, wanted: &[Class]| i < n && wanted.contains(&classes[i]);
    let run = |from: usize, wanted: &[Class]| {
        let mut end = from;
        while is(end, wanted) {
            end += 1;
        }
        end
    };
    let after_upper = if is(at, &[Upper]) { at + 1 } else { at };
    // An optional capital and lower case letters, before a break, a capital or the end.
    let end = run(after_upper, &[Lower]);
    if end > after_upper && (end == n || is(end, &[Break, Upper])) {
        return Some(end);
    }
    // Capitals (or other letters) before a break, a capitalised word or the end.
    let longest = run(at, &[Upper, Misc]);
    for end in (at + 1..=longest).rev() {
        if end == n || is(end, &[Break]) || (is(end, &[Upper]) && is(end + 1, &[Lower, Misc])) {
            return Some(end);
        }
    }
    // An optional capital and lower case (or other) letters.
    let end = run(after_upper, &[Lower, Misc]);
    if end > after_upper {
        return Some(end);
    }
    let end = run(at, &[Upper]);
    if end > at {
        return Some(end);
    }
    let digits = run(at, &[Digit]);
    if digits > at {
        return Some(ordinal_end(chars, digits).unwrap_or(digits));
    }
    is(at, &[Symbol]).then_some(at + 1)
}

/// `1st`, `22ND`, `4th`: digits and their ordinal suffix, in one case, before a word's end
/// or a letter of the other case.
fn ordinal_end(chars: &[char], digits: usize) -> Option<usize> {
    let suffix = match chars[digits - 1] {
        '1' => "st",
        '2' => "nd",
        '3' => "rd",
        _ => "th",
    };
    let follows: String = chars.iter().skip(digits).take(2).collect();
    let end = digits + 2;
    let next = chars.get(end).copied();
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let ends = next.is_none_or(|c| !word(c));
    if follows == suffix.to_uppercase()
        && (ends || next.is_some_and(|c| c.is_ascii_lowercase() || c == '_'))
    {
        return Some(end);
    }
    if follows == suffix && (ends || next.is_some_and(|c| c.is_ascii_uppercase() || c == '_')) {
        return Some(end);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_as_lodash_camel_cases_them() {
        // What lodash 4.17 gives for `upperFirst(camelCase(name).replace(/\W/g, ''))`.
        for (name, class) in [
            ("getUser", "GetUser"),
            ("HTTPRequest", "HttpRequest"),
            ("GET /api/v1/users/{{id}}", "GetApiV1UsersId"),
            ("Folder / get", "FolderGet"),
            ("Über Tést", "UberTest"),
            ("テスト", ""),
            ("user_id-2nd", "UserId2nd"),
            ("v1b", "V1B"),
            ("XMLHttpRequest2", "XmlHttpRequest2"),
            ("fooBAR baz", "FooBarBaz"),
            ("1st place", "1stPlace"),
            ("Ærø", "Aero"),
            ("naïve café", "NaiveCafe"),
            ("it's ok", "ItsOk"),
            ("ÀB", "Ab"),
            ("getID3Tag", "GetId3Tag"),
            ("  x  ", "X"),
            ("\u{fb01}le", "Le"),
        ] {
            assert_eq!(class_name(name), class, "{name}");
        }
    }
}
