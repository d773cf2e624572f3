//! The one door out: how a value that came from a file or a flag is printed, so that nothing a
//! repository holds can steer a terminal or a CI log.
//!
//! A CI runner reads a log line that starts with `::` as a command (`::add-mask::`,
//! `::stop-commands::`, `::error file=...::`), and a terminal obeys escape sequences, carriage
//! returns and bidirectional overrides. [`value`] shows a value as it is when it is plain, and
//! quoted with every such character escaped (`\x1b`, `\r`, `\u{202e}`) when it is not; [`text`]
//! is the last step of everything oidc-gen prints for people, so that no line of it starts with
//! `::` and no control character is left raw whatever a message was composed of; [`json`] keeps
//! the exact value in JSON with those characters written as `\u` escapes.

use std::borrow::Cow;
use std::fmt::Write;
use std::path::Path;

/// Whether `c` is printed escaped: control characters (C0, DEL, C1), and the invisible
/// characters that reorder, hide or break text (Unicode's format characters, among them the
/// bidirectional overrides and isolates and the zero-width characters, and the line and
/// paragraph separators).
pub fn is_hidden(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}'
        | '\u{ad}' | '\u{600}'..='\u{605}' | '\u{61c}' | '\u{6dd}' | '\u{70f}'
        | '\u{890}'..='\u{891}' | '\u{8e2}' | '\u{180e}'
        | '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}' | '\u{2060}'..='\u{2064}'
        | '\u{2066}'..='\u{206f}' | '\u{feff}' | '\u{fff9}'..='\u{fffb}'
        | '\u{110bd}' | '\u{110cd}' | '\u{13430}'..='\u{1343f}' | '\u{1bca0}'..='\u{1bca3}'
        | '\u{1d173}'..='\u{1d17a}' | '\u{e0001}' | '\u{e0020}'..='\u{e007f}')
}

/// Whether `value` prints as it is: not empty, no character [`is_hidden`], and no start that
/// a log could read as a command or that hides where it begins (`:`, a blank, a quote).
fn is_plain(value: &str) -> bool {
    !value.is_empty()
        && !value.starts_with([':', '"'])
        && !value.starts_with(char::is_whitespace)
        && !value.ends_with(char::is_whitespace)
        && !value.contains(is_hidden)
}

/// `c` escaped: `\n`, `\r`, `\t`, `\x1b` for the other ASCII controls, `\u{202e}` beyond.
fn push_escaped(shown: &mut String, c: char) {
    match c {
        '\n' => shown.push_str("\\n"),
        '\r' => shown.push_str("\\r"),
        '\t' => shown.push_str("\\t"),
        '\u{0}'..='\u{7f}' => {
            let _ = write!(shown, "\\x{:02x}", c as u32);
        }
        _ => {
            let _ = write!(shown, "\\u{{{:x}}}", c as u32);
        }
    }
}

/// `value` as it can be printed: as it is when plain, else in double quotes with `"`, `\` and
/// every character [`is_hidden`] escaped.
pub fn value(value: &str) -> Cow<'_, str> {
    if is_plain(value) {
        return Cow::Borrowed(value);
    }
    Cow::Owned(quoted(value))
}

/// `value` in double quotes with `"`, `\` and every character [`is_hidden`] escaped.
pub fn quoted(value: &str) -> String {
    let mut shown = String::with_capacity(value.len() + 2);
    shown.push('"');
    for c in value.chars() {
        match c {
            '"' => shown.push_str("\\\""),
            '\\' => shown.push_str("\\\\"),
            c if is_hidden(c) => push_escaped(&mut shown, c),
            c => shown.push(c),
        }
    }
    shown.push('"');
    shown
}

/// A path as [`value`] shows it; bytes that are not UTF-8 are shown as U+FFFD.
pub fn path(path: &Path) -> String {
    value(&path.to_string_lossy()).into_owned()
}

/// Text for people (a report, a message), made safe line by line: every character [`is_hidden`]
/// but the line ends is escaped, and a line whose first character that is not blank is
/// `:` has that `:` written `\x3a`, so that no line starts a CI runner's command.
pub fn text(text: &str) -> Cow<'_, str> {
    let unsafe_line = |line: &str| line.trim_start_matches(' ').starts_with(':');
    let needs =
        text.contains(|c: char| c != '\n' && is_hidden(c)) || text.split('\n').any(unsafe_line);
    if !needs {
        return Cow::Borrowed(text);
    }
    let mut shown = String::with_capacity(text.len() + 16);
    for (index, line) in text.split('\n').enumerate() {
        if index > 0 {
            shown.push('\n');
        }
        let mut leading = true;
        for c in line.chars() {
            match c {
                ':' if leading => shown.push_str("\\x3a"),
                c if is_hidden(c) => push_escaped(&mut shown, c),
                c => shown.push(c),
            }
            leading &= c == ' ';
        }
    }
    Cow::Owned(shown)
}

/// `value` as pretty JSON with a final newline, carrying every string exactly, with each
/// character [`is_hidden`] written as a `\u` escape (serde escapes only C0 controls).
pub fn json(value: &impl serde::Serialize) -> String {
    let mut text = serde_json::to_string_pretty(value).expect("the value serializes");
    // Most reports are ASCII without controls but the newlines: nothing to escape.
    if !text.bytes().any(|b| (b < 0x20 && b != b'\n') || b >= 0x7f) {
        text.push('\n');
        return text;
    }
    let mut shown = String::with_capacity(text.len() + 1);
    // Outside its strings, JSON is ASCII without controls: every hidden character is in a string.
    for c in text.chars() {
        if is_hidden(c) && c != '\n' {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                let _ = write!(shown, "\\u{unit:04x}");
            }
        } else {
            shown.push(c);
        }
    }
    shown.push('\n');
    shown
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_values_are_shown_as_they_are() {
        for plain in [
            "infra/iam.tf",
            "aws_iam_role.ci[\"x\"]",
            "repo:acme/app:*",
            "a b",
        ] {
            assert_eq!(value(plain), plain);
        }
    }

    #[test]
    fn other_values_are_quoted_and_escaped() {
        let cases = [
            ("", r#""""#),
            ("::add-mask::error", r#""::add-mask::error""#),
            (" ::error::x", r#"" ::error::x""#),
            ("f\n::error::x\n.json", r#""f\n::error::x\n.json""#),
            ("\u{1b}[31mred\r", r#""\x1b[31mred\r""#),
            ("abc\u{202e}fdp.json", r#""abc\u{202e}fdp.json""#),
            ("a\u{85}b\u{7f}", r#""a\u{85}b\x7f""#),
            ("\"q\" \\", r#""\"q\" \\""#),
            ("x\u{2028}y", r#""x\u{2028}y""#),
        ];
        for (raw, shown) in cases {
            assert_eq!(value(raw), shown, "{raw:?}");
        }
    }

    #[test]
    fn text_starts_no_line_with_a_command() {
        let shown = text("ok\n::add-mask::error\n  ::stop-commands::x\r\n\tfine: \u{1b}]0;t\u{7}");
        assert_eq!(
            shown,
            "ok\n\\x3a:add-mask::error\n  \\x3a:stop-commands::x\\r\n\\tfine: \\x1b]0;t\\x07"
        );
        assert!(matches!(text("plain\n  lines: fine\n"), Cow::Borrowed(_)));
        // A tab escaped: a line cannot hide a command behind one.
        assert_eq!(text("\t::error::x"), "\\t::error::x");
    }

    #[test]
    fn json_carries_the_exact_value() {
        let raw = "a\u{202e}b\u{7f}\u{85}\u{1b}\u{e0041}\n::x";
        let shown = json(&serde_json::json!({ "v": raw }));
        assert!(!shown.contains(is_hidden_but_newline), "{shown}");
        let back: serde_json::Value = serde_json::from_str(&shown).unwrap();
        assert_eq!(back["v"], raw);
    }

    fn is_hidden_but_newline(c: char) -> bool {
        c != '\n' && is_hidden(c)
    }
}
