//! Quoting for each target language, used as the templates' auto-escaping.
//!
//! Every value a template prints is written as a literal of the file's language, quotes included:
//! a string becomes `"..."`, a list `["a", "b"]`. Nothing the user gives can end a string early or
//! start an interpolation: HCL's `${` and `%{` become `$${` and `%%{`, and in Pulumi YAML and ESC,
//! where `${...}` is a reference, every `$` becomes `$$`.

use minijinja::value::{Value, ValueKind};
use minijinja::{ErrorKind, Output, State};

/// A language generated files are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    /// Terraform's HCL native syntax.
    Hcl,
    /// JSON (CloudFormation).
    Json,
    /// YAML whose reader interpolates `$` (Pulumi YAML, ESC, a Buildkite pipeline on upload),
    /// where `$$` is a literal `$`.
    InterpolatedYaml,
    /// YAML read as it is (a CI system's file), where `$` is itself.
    Yaml,
}

impl Language {
    /// The auto-escape name minijinja carries for this language.
    pub fn auto_escape_name(self) -> &'static str {
        match self {
            Language::Hcl => "hcl",
            Language::Json => "json",
            Language::InterpolatedYaml => "yaml",
            Language::Yaml => "plain-yaml",
        }
    }

    fn from_auto_escape_name(name: &str) -> Option<Self> {
        [
            Language::Hcl,
            Language::Json,
            Language::InterpolatedYaml,
            Language::Yaml,
        ]
        .into_iter()
        .find(|language| language.auto_escape_name() == name)
    }

    /// `value` as a quoted string literal of this language.
    pub fn quote(self, value: &str) -> String {
        match self {
            Language::Hcl => hcl_string(value),
            Language::Json => serde_json::to_string(value).expect("a string always serializes"),
            Language::InterpolatedYaml => yaml_string(value).replace('$', "$$"),
            Language::Yaml => yaml_string(value),
        }
    }

    /// `value` as a literal of this language: strings quoted, numbers and booleans bare, lists as
    /// flow lists. Undefined and none are errors, so a missing value never renders as nothing.
    pub fn literal(self, value: &Value) -> Result<String, minijinja::Error> {
        match value.kind() {
            ValueKind::String if value.is_safe() => Ok(value.to_string()),
            ValueKind::String => Ok(self.quote(value.as_str().unwrap_or_default())),
            ValueKind::Number => Ok(value.to_string()),
            ValueKind::Bool => Ok(value.is_true().to_string()),
            ValueKind::Seq | ValueKind::Iterable => {
                let items = value
                    .try_iter()?
                    .map(|item| self.literal(&item))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(format!("[{}]", items.join(", ")))
            }
            kind => Err(minijinja::Error::new(
                ErrorKind::InvalidOperation,
                format!("cannot print a value of kind {kind} in a {self:?} file"),
            )),
        }
    }
}

/// The minijinja formatter: prints every value as a literal of the template's language.
pub fn formatter(
    out: &mut Output,
    state: &mut State,
    value: &Value,
) -> Result<(), minijinja::Error> {
    let text = match state.auto_escape() {
        minijinja::AutoEscape::Custom(name) => match Language::from_auto_escape_name(name) {
            Some(language) => language.literal(value)?,
            None => return Err(unknown_escape(name)),
        },
        other => return Err(unknown_escape(&format!("{other:?}"))),
    };
    out.write_str(&text).map_err(minijinja::Error::from)
}

fn unknown_escape(name: &str) -> minijinja::Error {
    minijinja::Error::new(
        ErrorKind::InvalidOperation,
        format!("no escaping is known for {name}; templates must live under a format's folder"),
    )
}

/// The `comment` filter: the text with every control character and line separator replaced, so
/// that it stays on one line of a `#` comment whatever it holds.
pub fn comment(value: &str) -> Value {
    let breaks_line = |c: char| c.is_control() || matches!(c, '\u{2028}' | '\u{2029}');
    Value::from_safe_string(
        value
            .chars()
            .map(|c| if breaks_line(c) { '\u{FFFD}' } else { c })
            .collect(),
    )
}

/// The `hcl_attributes` filter: a list of `{key, value}` as HCL map lines, each indented by
/// `indent` spaces, keys quoted and `=` aligned the way `terraform fmt` aligns them.
pub fn hcl_attributes(pairs: Value, indent: usize) -> Result<Value, minijinja::Error> {
    let mut lines = Vec::new();
    for pair in pairs.try_iter()? {
        let field = |name| -> Result<String, minijinja::Error> {
            let value = pair.get_attr(name)?;
            value.as_str().map(hcl_string).ok_or_else(|| {
                minijinja::Error::new(
                    ErrorKind::InvalidOperation,
                    format!("hcl_attributes needs a string {name}, not {value}"),
                )
            })
        };
        lines.push((field("key")?, field("value")?));
    }
    let width = lines
        .iter()
        .map(|(key, _)| key.chars().count())
        .max()
        .unwrap_or(0);
    let text = lines
        .iter()
        .map(|(key, value)| {
            let pad = width - key.chars().count();
            format!("{:indent$}{key}{:pad$} = {value}", "", "")
        })
        .collect::<Vec<_>>()
        .join("\n");
    Ok(Value::from_safe_string(text))
}

/// The `bare` filter: `value` unquoted, for identifiers and parts of a longer literal. Only
/// letters, digits and `_-+=,.@/` pass, which no language here reads as syntax; anything else is
/// an error rather than a value printed raw.
pub fn bare(value: String) -> Result<Value, minijinja::Error> {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_-+=,.@/".contains(c);
    if value.is_empty() || !value.chars().all(plain) {
        return Err(minijinja::Error::new(
            ErrorKind::InvalidOperation,
            format!("{value:?} cannot be printed bare"),
        ));
    }
    Ok(Value::from_safe_string(value))
}

/// The `reference` filter: a Pulumi YAML reference `${name}` or `${name.property}`. Names and
/// properties may hold letters, digits, `-` and `_` only.
pub fn reference(name: String, property: Option<String>) -> Result<Value, minijinja::Error> {
    let plain = |text: &str| {
        !text.is_empty()
            && text
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    };
    let property = property.map(|p| format!(".{p}")).unwrap_or_default();
    if !plain(&name) || !plain(property.trim_start_matches('.')) && !property.is_empty() {
        return Err(minijinja::Error::new(
            ErrorKind::InvalidOperation,
            format!("{name:?}{property:?} cannot be referenced"),
        ));
    }
    Ok(Value::from_safe_string(format!("${{{name}{property}}}")))
}

/// The `hcl_key` filter: `value` as a quoted HCL map key followed by the spaces that align the `=`
/// after it with keys of up to `width` characters (unquoted), as `terraform fmt` does.
pub fn hcl_key(value: String, width: usize) -> Value {
    let key = hcl_string(&value);
    let pad = (width + 2).saturating_sub(key.chars().count());
    Value::from_safe_string(format!("{key}{:pad$}", ""))
}

/// A quoted HCL string: `\`, `"` and control characters escaped, template sequences doubled.
fn hcl_string(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '$' | '%' if chars.peek() == Some(&'{') => {
                out.push(c);
                out.push(c);
            }
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A double-quoted YAML scalar with `$` doubled; everything YAML does not print as-is is escaped.
fn yaml_string(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if yaml_prints_as_is(c) => out.push(c),
            c if (c as u32) <= 0xFFFF => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push_str(&format!("\\U{:08X}", c as u32)),
        }
    }
    out.push('"');
    out
}

/// YAML's printable set, less the characters some parsers take as line breaks or a byte-order mark.
fn yaml_prints_as_is(c: char) -> bool {
    matches!(c as u32, 0x20..=0x7E | 0xA0..=0xD7FF | 0xE000..=0xFFFD | 0x10000..)
        && !matches!(c, '\u{2028}' | '\u{2029}' | '\u{FEFF}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hcl() {
        let cases = [
            ("plain", r#""plain""#),
            ("a\"b", r#""a\"b""#),
            ("back\\slash", r#""back\\slash""#),
            ("${var.x}", r#""$${var.x}""#),
            ("%{if true}", r#""%%{if true}""#),
            ("$${x}", r#""$$${x}""#),
            ("$ and % alone", r#""$ and % alone""#),
            ("line\nbreak\ttab", r#""line\nbreak\ttab""#),
            ("bell\u{7}", r#""bell\u0007""#),
            ("ünïcode", r#""ünïcode""#),
        ];
        for (input, expected) in cases {
            assert_eq!(Language::Hcl.quote(input), expected, "{input:?}");
        }
    }

    #[test]
    fn yaml() {
        let cases = [
            ("plain", r#""plain""#),
            ("${aws.login}", r#""$${aws.login}""#),
            ("cost $5", r#""cost $$5""#),
            ("a\"b\\c", r#""a\"b\\c""#),
            ("yes", r#""yes""#),
            ("line\nbreak", r#""line\nbreak""#),
            ("nel\u{85}ls\u{2028}", r#""nel\u0085ls\u2028""#),
            ("bom\u{feff}", r#""bom\uFEFF""#),
            ("emoji 🦀", r#""emoji 🦀""#),
        ];
        for (input, expected) in cases {
            assert_eq!(
                Language::InterpolatedYaml.quote(input),
                expected,
                "{input:?}"
            );
        }
    }

    #[test]
    fn yaml_strings_parse_back_to_the_escaped_text() {
        for input in [
            "a: b",
            "${x} $$",
            "- x",
            "#c",
            "'q'",
            "\u{85}\u{2028}\u{1}",
            "null",
            "1e3",
            "~",
        ] {
            let parsed: String = serde_yaml::from_str(&yaml_string(input)).unwrap();
            assert_eq!(parsed, input, "{input:?}");
            let interpolated = Language::InterpolatedYaml.quote(input);
            let parsed: String = serde_yaml::from_str(&interpolated).unwrap();
            assert_eq!(parsed, input.replace('$', "$$"), "{input:?}");
        }
    }

    #[test]
    fn json() {
        assert_eq!(Language::Json.quote("a\"b\n${x}"), r#""a\"b\n${x}""#);
    }

    #[test]
    fn literals() {
        let list = Value::from(vec!["a", "${b}"]);
        assert_eq!(Language::Hcl.literal(&list).unwrap(), r#"["a", "$${b}"]"#);
        assert_eq!(Language::Json.literal(&list).unwrap(), r#"["a", "${b}"]"#);
        assert_eq!(
            Language::InterpolatedYaml.literal(&list).unwrap(),
            r#"["a", "$${b}"]"#
        );
        assert_eq!(Language::Hcl.literal(&Value::from(3600)).unwrap(), "3600");
        assert_eq!(Language::Json.literal(&Value::from(true)).unwrap(), "true");
        assert!(Language::Hcl.literal(&Value::UNDEFINED).is_err());
        assert!(Language::Json.literal(&Value::from(())).is_err());
    }

    #[test]
    fn comment_text_stays_on_one_line() {
        assert_eq!(comment("a\nb\rc").to_string(), "a\u{FFFD}b\u{FFFD}c");
        assert_eq!(
            comment("a\u{2028}b\u{85}").to_string(),
            "a\u{FFFD}b\u{FFFD}"
        );
    }
}
