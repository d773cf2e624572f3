//! Terraform's JSON syntax (`*.tf.json`) as the native syntax it stands for: each block type's
//! objects become blocks, every string an expression's template (`"${var.x}"`), a variable's
//! `default` a literal. The text written is parsed as any `.tf` file is.

use serde_json::{Map, Value};

use crate::bounded;

/// Block types whose labels are keys: (type, how many labels).
const LABELLED: [(&str, usize); 5] = [
    ("resource", 2),
    ("data", 2),
    ("variable", 1),
    ("module", 1),
    ("output", 1),
];
/// Names that are nested blocks inside a resource or data source (not arguments).
const NESTED: [&str; 7] = [
    "statement",
    "principals",
    "not_principals",
    "condition",
    "content",
    "lifecycle",
    "inline_policy",
];

/// The native syntax of a `.tf.json` file.
pub fn native(text: &str) -> Result<String, String> {
    let document = bounded::parse_json(text).map_err(|e| format!("it is not JSON: {e}"))?;
    let Value::Object(top) = document else {
        return Err("a .tf.json file holds one JSON object".into());
    };
    let mut out = String::new();
    for (kind, value) in &top {
        match (kind.as_str(), LABELLED.iter().find(|(k, _)| k == kind)) {
            ("locals", _) => {
                for locals in objects(value) {
                    out.push_str("locals {\n");
                    for (name, value) in locals.iter().filter(|(n, _)| !key(n).starts_with('"')) {
                        out.push_str(&format!("{} = {}\n", key(name), expression(value)));
                    }
                    out.push_str("}\n");
                }
            }
            (_, Some((_, labels))) => labelled(&mut out, kind, value, *labels, Vec::new()),
            _ => {}
        }
    }
    Ok(out)
}

/// The blocks of one type, with `labels` labels taken from the keys on the way down.
fn labelled(out: &mut String, kind: &str, value: &Value, labels: usize, taken: Vec<&str>) {
    if taken.len() == labels {
        for body in objects(value) {
            out.push_str(kind);
            for label in &taken {
                out.push_str(&format!(" {}", Value::String((*label).to_owned())));
            }
            out.push_str(" {\n");
            block_body(out, body, kind == "variable");
            out.push_str("}\n");
        }
        return;
    }
    for map in objects(value) {
        for (name, inner) in map.iter().filter(|(n, _)| *n != "//") {
            let mut taken = taken.clone();
            taken.push(name);
            labelled(out, kind, inner, labels, taken);
        }
    }
}

/// A block's arguments and nested blocks; a variable's `default` is a literal.
fn block_body(out: &mut String, body: &Map<String, Value>, variable: bool) {
    for (name, value) in body {
        // "//" is a comment; any other name a block body cannot hold is passed over.
        if name == "//" || key(name).starts_with('"') {
            continue;
        }
        if name == "dynamic" {
            for map in objects(value) {
                for (label, inner) in map {
                    for body in objects(inner) {
                        out.push_str(&format!("dynamic {} {{\n", Value::String(label.clone())));
                        block_body(out, body, false);
                        out.push_str("}\n");
                    }
                }
            }
        } else if NESTED.contains(&name.as_str()) && !objects(value).is_empty() {
            for body in objects(value) {
                out.push_str(&format!("{name} {{\n"));
                block_body(out, body, false);
                out.push_str("}\n");
            }
        } else if variable && name == "default" {
            out.push_str(&format!("default = {}\n", literal(value)));
        } else {
            out.push_str(&format!("{} = {}\n", key(name), expression(value)));
        }
    }
}

/// An object, or each object of a list of them.
fn objects(value: &Value) -> Vec<&Map<String, Value>> {
    match value {
        Value::Object(map) => vec![map],
        Value::Array(items) => items.iter().filter_map(Value::as_object).collect(),
        _ => Vec::new(),
    }
}

/// An argument's name: an identifier as it is, anything else quoted.
fn key(name: &str) -> String {
    let plain = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if plain {
        name.to_owned()
    } else {
        quoted(name, false)
    }
}

/// A JSON value as an expression: strings are templates.
fn expression(value: &Value) -> String {
    match value {
        Value::String(s) => quoted(s, true),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(expression).collect::<Vec<_>>().join(", ")
        ),
        Value::Object(map) => format!(
            "{{ {} }}",
            map.iter()
                .map(|(k, v)| format!("{} = {}", quoted(k, true), expression(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => other.to_string(),
    }
}

/// A JSON value as a literal: strings are not templates.
fn literal(value: &Value) -> String {
    match value {
        Value::String(s) => quoted(s, false),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(literal).collect::<Vec<_>>().join(", ")
        ),
        Value::Object(map) => format!(
            "{{ {} }}",
            map.iter()
                .map(|(k, v)| format!("{} = {}", quoted(k, false), literal(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => other.to_string(),
    }
}

/// A quoted HCL string; `${` and `%{` stay template sequences only in a template, and what is
/// inside one is expression syntax, copied as it is (its quotes are its own strings').
fn quoted(text: &str, template: bool) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    let mut chars = text.chars().peekable();
    // How many braces deep inside a template sequence.
    let mut depth = 0usize;
    while let Some(c) = chars.next() {
        if depth > 0 {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                _ => {}
            }
            out.push(if c == '\n' || c == '\r' { ' ' } else { c });
            continue;
        }
        match c {
            '$' | '%' if chars.peek() == Some(&c) => {
                // `$${` is a literal `${` already: kept as it is.
                out.push(c);
                out.push(chars.next().expect("peeked"));
            }
            '$' | '%' if chars.peek() == Some(&'{') => {
                if template {
                    out.push(c);
                    out.push(chars.next().expect("peeked"));
                    depth = 1;
                } else {
                    out.push(c);
                    out.push(c);
                }
            }
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_syntax_becomes_native_syntax() {
        let text = r#"{
          "variable": { "owner": { "default": "${not-a-template}" } },
          "locals": { "subject": "repo:${var.owner}/*" },
          "resource": { "aws_iam_role": { "ci": { "assume_role_policy": "${jsonencode({a = local.subject})}" } } },
          "data": { "aws_iam_policy_document": { "d": { "statement": [{ "actions": ["x"],
            "condition": { "test": "StringLike", "variable": "k", "values": ["v"] } }] } } }
        }"#;
        let native = native(text).unwrap();
        assert!(
            native.contains("default = \"$${not-a-template}\""),
            "{native}"
        );
        assert!(
            native.contains("subject = \"repo:${var.owner}/*\""),
            "{native}"
        );
        assert!(
            native.contains("resource \"aws_iam_role\" \"ci\" {"),
            "{native}"
        );
        assert!(
            native.contains("statement {\nactions = [\"x\"]\ncondition {"),
            "{native}"
        );
        assert!(hcl::parse(&native).is_ok(), "{native}");
    }
}
