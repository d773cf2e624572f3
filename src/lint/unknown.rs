//! Values `lint` cannot know: a variable nobody sets, a parameter with no default, an account id
//! known only once applied, a function it does not evaluate. Such a value travels inside the
//! policy as a marked piece of a string, `⟨written⟩` with the reason, so that what is known around
//! it (`repo:acme/${var.repo}:*`) is still checked, and every rule sees that the rest is not.
//!
//! The marks are Unicode noncharacters (U+FDD0 to U+FDD2), which no file `lint` reads may hold
//! ([`check_input`]), so no file can forge one.

use serde_json::Value;

/// Opens an unknown value: `OPEN written SEPARATOR reason CLOSE`.
const OPEN: char = '\u{FDD0}';
const SEPARATOR: char = '\u{FDD1}';
const CLOSE: char = '\u{FDD2}';

/// An unknown value written as `written` (an expression, as the file spells it), unknown because
/// of `reason`.
pub fn unknown(written: &str, reason: &str) -> String {
    let clean = |text: &str| text.replace([OPEN, SEPARATOR, CLOSE], "");
    format!(
        "{OPEN}{}{SEPARATOR}{}{CLOSE}",
        clean(&display(written)),
        clean(&display(reason))
    )
}

/// An unknown value as JSON.
pub fn value(written: &str, reason: &str) -> Value {
    Value::String(unknown(written, reason))
}

/// Refuses a text that holds one of the marks.
pub fn check_input(text: &str) -> Result<(), String> {
    // The marks are U+FDD0 to U+FDD2: EF B7 90 to EF B7 92 in UTF-8.
    let bytes = text.as_bytes();
    let found = memchr::memchr_iter(0xEF, bytes).find(|&at| {
        bytes.get(at + 1) == Some(&0xB7)
            && bytes.get(at + 2).is_some_and(|b| (0x90..=0x92).contains(b))
    });
    match found {
        Some(at) => Err(format!(
            "line {}: it holds the Unicode noncharacter U+{:04X}, which lint keeps for values it cannot know; \
             remove it",
            text[..at].matches('\n').count() + 1,
            text[at..].chars().next().map_or(0, u32::from)
        )),
        None => Ok(()),
    }
}

/// Whether a string holds an unknown part.
pub fn in_text(text: &str) -> bool {
    text.contains(OPEN)
}

/// Whether a value holds an unknown part anywhere.
pub fn in_value(value: &Value) -> bool {
    match value {
        Value::String(s) => in_text(s),
        Value::Array(items) => items.iter().any(in_value),
        Value::Object(map) => map.iter().any(|(k, v)| in_text(k) || in_value(v)),
        _ => false,
    }
}

/// Whether a string is one unknown value and nothing else.
pub fn is_whole(text: &str) -> bool {
    text.starts_with(OPEN) && text.ends_with(CLOSE) && text.matches(OPEN).count() == 1
}

/// A piece of a string: known text, or an unknown value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part<'a> {
    /// Text as it is.
    Known(&'a str),
    /// A value lint cannot know: how it is written, and why it is unknown.
    Unknown {
        /// The expression as the file spells it.
        written: &'a str,
        /// Why lint cannot know it.
        reason: &'a str,
    },
}

/// The pieces of `text`.
pub fn parts(text: &str) -> Vec<Part<'_>> {
    let mut parts = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find(OPEN) {
        if open > 0 {
            parts.push(Part::Known(&rest[..open]));
        }
        let inner = &rest[open + OPEN.len_utf8()..];
        let close = inner.find(CLOSE).unwrap_or(inner.len());
        let (written, reason) = inner[..close]
            .split_once(SEPARATOR)
            .unwrap_or((&inner[..close], ""));
        parts.push(Part::Unknown { written, reason });
        rest = inner.get(close + CLOSE.len_utf8()..).unwrap_or("");
    }
    if !rest.is_empty() {
        parts.push(Part::Known(rest));
    }
    parts
}

/// `text` with each unknown value written `${...}` as the file spells it.
pub fn display(text: &str) -> String {
    if !in_text(text) {
        return text.to_owned();
    }
    parts(text)
        .into_iter()
        .map(|part| match part {
            Part::Known(known) => known.to_owned(),
            Part::Unknown { written, .. } => format!("${{{written}}}"),
        })
        .collect()
}

/// `text` with `f` applied to its known pieces (`lower`, `upper`): the unknown ones stay.
pub fn map_known(text: &str, f: impl Fn(&str) -> String) -> String {
    parts(text)
        .into_iter()
        .map(|part| match part {
            Part::Known(known) => f(known),
            Part::Unknown { written, reason } => unknown(written, reason),
        })
        .collect()
}

/// Every unknown value in `value`: (how it is written, why it is unknown), each once, in order.
pub fn reasons(value: &Value) -> Vec<(String, String)> {
    fn text(s: &str, found: &mut Vec<(String, String)>) {
        for part in parts(s) {
            if let Part::Unknown { written, reason } = part {
                let entry = (written.to_owned(), reason.to_owned());
                if !found.contains(&entry) {
                    found.push(entry);
                }
            }
        }
    }
    fn walk(value: &Value, found: &mut Vec<(String, String)>) {
        match value {
            Value::String(s) => text(s, found),
            Value::Array(items) => items.iter().for_each(|item| walk(item, found)),
            Value::Object(map) => {
                for (key, item) in map {
                    text(key, found);
                    walk(item, found);
                }
            }
            _ => {}
        }
    }
    let mut found = Vec::new();
    walk(value, &mut found);
    found
}

/// The words for the unknown values in `value`: "var.owner (it has no default ...), ...".
pub fn explained(value: &Value) -> String {
    reasons(value)
        .into_iter()
        .map(|(written, reason)| format!("{} ({reason})", crate::shown::value(&written)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A policy attribute's value as a policy document: an object, or JSON text. When it is not known
/// (wholly, or its JSON is built around unknown values) the reason says so and ends with `give`,
/// what gives the values (`--var or --var-file`, `--parameter`).
pub fn policy(value: &Value, give: &str) -> Result<Value, String> {
    match value {
        Value::Object(_) => Ok(value.clone()),
        Value::String(text) if is_whole(text) => Err(format!(
            "its trust policy is not known: {}; {give}",
            explained(value)
        )),
        Value::String(json) => crate::bounded::parse_json(json).map_err(|e| match in_text(json) {
            true => format!(
                "its trust policy is not known: its JSON is built around {}; {give}",
                explained(value)
            ),
            false => format!("its trust policy is not JSON: {e}"),
        }),
        other => Err(format!(
            "its trust policy is {}, not a policy",
            crate::shown::value(&display(&other.to_string()))
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_text_around_an_unknown_value_stays_known() {
        let text = format!("repo:{}/app:*", unknown("var.owner", "no default"));
        assert!(in_text(&text) && !is_whole(&text));
        assert_eq!(display(&text), "repo:${var.owner}/app:*");
        assert_eq!(
            parts(&text),
            vec![
                Part::Known("repo:"),
                Part::Unknown {
                    written: "var.owner",
                    reason: "no default"
                },
                Part::Known("/app:*"),
            ]
        );
        assert_eq!(
            display(&map_known(&text, |s| s.to_uppercase())),
            "REPO:${var.owner}/APP:*"
        );
        assert!(is_whole(&unknown("var.x", "r")));
        assert!(!in_text("repo:${var.owner}"));
    }

    #[test]
    fn no_input_can_forge_a_mark() {
        assert!(
            check_input("a\n\u{FDD0}b")
                .unwrap_err()
                .starts_with("line 2:")
        );
        assert!(check_input("repo:${var.owner}").is_ok());
        // A mark inside what a value is written as is dropped, never nested.
        let nested = unknown(&unknown("a", "b"), "c");
        assert_eq!(nested.matches(OPEN).count(), 1);
    }
}
