//! The Terraform functions `lint` evaluates: those people build trust policies with, for strings
//! and collections, each as Terraform defines it. A function not in [`FUNCTIONS`] makes its value
//! unknown, never its text.
//!
//! An argument may hold unknown values ([`unknown`]). A function that only moves strings and
//! lists around (`format`, `join`, `concat`, `lower`) keeps them in place, so what is known around
//! them is still checked; one whose result depends on the unknown part (`replace`, `split`,
//! `length` of a string) makes the whole result unknown.

use regex::RegexBuilder;
use serde_json::{Map, Value};

use crate::lint::unknown;

/// What a function returns: a value (which may hold unknown parts), or why it is unknown (its
/// argument is, or Terraform would refuse the call).
pub type Outcome = Result<Value, String>;
type Function = fn(&[Value]) -> Outcome;

/// Every function `lint` evaluates, by name. `try`, `can`, `file` and `templatefile` are the
/// evaluator's own: they need the expressions or the module's folder.
pub const FUNCTIONS: &[(&str, Function)] = &[
    ("chomp", |a| {
        string_map(a, |s| s.trim_end_matches(['\n', '\r']).to_owned())
    }),
    ("coalesce", coalesce),
    ("coalescelist", coalescelist),
    ("compact", compact),
    ("concat", concat),
    ("contains", contains),
    ("distinct", distinct),
    ("element", element),
    ("endswith", |a| {
        two_strings(a).map(|(s, x)| Value::Bool(s.ends_with(x.as_str())))
    }),
    ("flatten", |a| Ok(Value::Array(flat(one(a)?)?))),
    ("format", |a| format_call(a)),
    ("formatlist", formatlist),
    ("join", join),
    ("jsondecode", jsondecode),
    ("jsonencode", |a| Ok(Value::String(one(a)?.to_string()))),
    ("keys", |a| {
        Ok(Value::Array(
            object(one(a)?)?
                .keys()
                .cloned()
                .map(Value::String)
                .collect(),
        ))
    }),
    ("length", length),
    ("lookup", lookup),
    ("lower", |a| {
        Ok(Value::String(unknown::map_known(
            text(one(a)?)?.as_str(),
            str::to_lowercase,
        )))
    }),
    ("merge", merge),
    ("one", one_of),
    ("regex", regex_call),
    ("regexall", regexall),
    ("replace", replace),
    ("split", split),
    ("startswith", |a| {
        two_strings(a).map(|(s, x)| Value::Bool(s.starts_with(x.as_str())))
    }),
    ("strcontains", |a| {
        two_strings(a).map(|(s, x)| Value::Bool(s.contains(x.as_str())))
    }),
    ("title", |a| string_map(a, title)),
    ("tolist", |a| Ok(Value::Array(list(one(a)?)?.to_vec()))),
    ("toset", toset),
    ("tostring", tostring),
    ("trim", |a| {
        two_strings(a).map(|(s, cut)| Value::String(s.trim_matches(|c| cut.contains(c)).to_owned()))
    }),
    ("trimprefix", |a| {
        two_strings(a)
            .map(|(s, x)| Value::String(s.strip_prefix(x.as_str()).unwrap_or(&s).to_owned()))
    }),
    ("trimspace", |a| string_map(a, |s| s.trim().to_owned())),
    ("trimsuffix", |a| {
        two_strings(a)
            .map(|(s, x)| Value::String(s.strip_suffix(x.as_str()).unwrap_or(&s).to_owned()))
    }),
    ("upper", |a| {
        Ok(Value::String(unknown::map_known(
            text(one(a)?)?.as_str(),
            str::to_uppercase,
        )))
    }),
    ("values", |a| {
        Ok(Value::Array(object(one(a)?)?.values().cloned().collect()))
    }),
];

/// The largest compiled regular expression a policy may ask for.
const REGEX_BYTES: usize = 1 << 20;

/// Calls `name`: `None` when it is not one `lint` evaluates.
pub fn call(name: &str, args: &[Value]) -> Option<Outcome> {
    FUNCTIONS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, function)| function(args))
}

fn one(args: &[Value]) -> Result<&Value, String> {
    match args {
        [value] => Ok(value),
        _ => Err(format!("it takes one argument, not {}", args.len())),
    }
}

/// A string argument that may hold unknown parts; numbers and bools convert as Terraform does.
fn text(value: &Value) -> Result<String, String> {
    match value {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Null => Err("a null value is not a string".into()),
        _ => Err("a collection is not a string".into()),
    }
}

/// A string argument whose every part is known.
fn known(value: &Value) -> Result<String, String> {
    let text = text(value)?;
    if unknown::in_text(&text) {
        return Err(format!("it depends on {}", unknown::explained(value)));
    }
    Ok(text)
}

fn two_strings(args: &[Value]) -> Result<(String, String), String> {
    match args {
        [a, b] => Ok((known(a)?, known(b)?)),
        _ => Err("it takes two arguments".into()),
    }
}

fn string_map(args: &[Value], f: fn(&str) -> String) -> Outcome {
    Ok(Value::String(f(&known(one(args)?)?)))
}

/// A list (or set, or tuple) argument.
fn list(value: &Value) -> Result<&[Value], String> {
    match value {
        Value::Array(items) => Ok(items),
        Value::String(s) if unknown::is_whole(s) => {
            Err(format!("it depends on {}", unknown::explained(value)))
        }
        _ => Err("the argument is not a list".into()),
    }
}

fn object(value: &Value) -> Result<&Map<String, Value>, String> {
    match value {
        Value::Object(map) => Ok(map),
        Value::String(s) if unknown::is_whole(s) => {
            Err(format!("it depends on {}", unknown::explained(value)))
        }
        _ => Err("the argument is not a map or object".into()),
    }
}

fn index(value: &Value) -> Result<usize, String> {
    match value {
        Value::Number(n) => n
            .as_u64()
            .map(|n| n as usize)
            .ok_or_else(|| "the index is not a whole number".into()),
        Value::String(s) => known(value)?
            .parse()
            .map_err(|_| format!("{s} is not a number")),
        _ => Err("the index is not a number".into()),
    }
}

fn title(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut start = true;
    for c in s.chars() {
        if start && c.is_alphabetic() {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        start = !c.is_alphanumeric();
    }
    out
}

/// Whether a value is empty for `coalesce`: null or "".
fn is_empty(value: &Value) -> bool {
    matches!(value, Value::Null) || value.as_str() == Some("")
}

fn coalesce(args: &[Value]) -> Outcome {
    for arg in args {
        if let Value::String(s) = arg {
            if unknown::in_text(s) {
                // An unknown value may be "": which argument wins is not known.
                return Err(format!("it depends on {}", unknown::explained(arg)));
            }
        }
        if !is_empty(arg) {
            return Ok(arg.clone());
        }
    }
    Err("every argument is null or empty: Terraform refuses the call".into())
}

fn coalescelist(args: &[Value]) -> Outcome {
    for arg in args {
        if !list(arg)?.is_empty() {
            return Ok(arg.clone());
        }
    }
    Ok(Value::Array(Vec::new()))
}

fn compact(args: &[Value]) -> Outcome {
    let items = list(one(args)?)?;
    if items
        .iter()
        .any(|i| i.as_str().is_some_and(unknown::is_whole))
    {
        return Err(format!("it depends on {}", unknown::explained(one(args)?)));
    }
    Ok(Value::Array(
        items.iter().filter(|i| !is_empty(i)).cloned().collect(),
    ))
}

fn concat(args: &[Value]) -> Outcome {
    let mut out = Vec::new();
    for arg in args {
        out.extend_from_slice(list(arg)?);
    }
    Ok(Value::Array(out))
}

fn contains(args: &[Value]) -> Outcome {
    let [collection, wanted] = args else {
        return Err("it takes two arguments".into());
    };
    let items = list(collection)?;
    if unknown::in_value(collection) || unknown::in_value(wanted) {
        return Err(format!(
            "it depends on {}",
            unknown::explained(&Value::Array(args.to_vec()))
        ));
    }
    Ok(Value::Bool(items.contains(wanted)))
}

fn distinct(args: &[Value]) -> Outcome {
    let mut out: Vec<Value> = Vec::new();
    for item in list(one(args)?)? {
        if !out.contains(item) {
            out.push(item.clone());
        }
    }
    Ok(Value::Array(out))
}

fn toset(args: &[Value]) -> Outcome {
    // A set of strings is ordered by its values, as Terraform orders it.
    let mut items = distinct(args)?.as_array().cloned().unwrap_or_default();
    if items.iter().all(Value::is_string) {
        items.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
    }
    Ok(Value::Array(items))
}

fn element(args: &[Value]) -> Outcome {
    let [collection, at] = args else {
        return Err("it takes two arguments".into());
    };
    let items = list(collection)?;
    if items.is_empty() {
        return Err("the list is empty".into());
    }
    Ok(items[index(at)? % items.len()].clone())
}

fn flat(value: &Value) -> Result<Vec<Value>, String> {
    let mut out = Vec::new();
    for item in list(value)? {
        match item {
            Value::Array(_) => out.extend(flat(item)?),
            other => out.push(other.clone()),
        }
    }
    Ok(out)
}

/// `format`'s verbs: `%s`, `%v`, `%d`, `%q`, `%%`; anything else is not evaluated.
fn format_call(args: &[Value]) -> Outcome {
    let Some((spec, rest)) = args.split_first() else {
        return Err("it takes a format".into());
    };
    let spec = known(spec)?;
    let mut out = String::new();
    let mut rest = rest.iter();
    let mut chars = spec.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let verb = chars.next().ok_or("the format ends in %")?;
        if verb == '%' {
            out.push('%');
            continue;
        }
        let arg = rest
            .next()
            .ok_or("the format has more verbs than arguments")?;
        match verb {
            's' | 'v' => out.push_str(&text(arg)?),
            'd' => match arg {
                Value::Number(n) => out.push_str(&n.to_string()),
                _ => out.push_str(&known(arg)?),
            },
            'q' => out.push_str(&Value::String(known(arg)?).to_string()),
            other => return Err(format!("lint does not evaluate the verb %{other}")),
        }
    }
    Ok(Value::String(out))
}

fn formatlist(args: &[Value]) -> Outcome {
    let Some((spec, rest)) = args.split_first() else {
        return Err("it takes a format".into());
    };
    let lengths: Vec<usize> = rest
        .iter()
        .filter_map(|a| a.as_array().map(Vec::len))
        .collect();
    let Some(&count) = lengths.first() else {
        return Ok(Value::Array(vec![format_call(args)?]));
    };
    if lengths.iter().any(|&l| l != count) {
        return Err("its lists are of different lengths".into());
    }
    if rest
        .iter()
        .any(|a| a.as_str().is_some_and(unknown::is_whole))
    {
        return Err(format!(
            "it depends on {}",
            unknown::explained(&Value::Array(rest.to_vec()))
        ));
    }
    let mut out = Vec::with_capacity(count);
    for i in 0..count {
        let mut call = vec![spec.clone()];
        call.extend(rest.iter().map(|a| match a {
            Value::Array(items) => items[i].clone(),
            other => other.clone(),
        }));
        out.push(format_call(&call)?);
    }
    Ok(Value::Array(out))
}

fn join(args: &[Value]) -> Outcome {
    let [separator, lists @ ..] = args else {
        return Err("it takes a separator".into());
    };
    let separator = text(separator)?;
    let mut parts = Vec::new();
    for each in lists {
        for item in list(each)? {
            parts.push(text(item)?);
        }
    }
    Ok(Value::String(parts.join(&separator)))
}

fn jsondecode(args: &[Value]) -> Outcome {
    let source = known(one(args)?)?;
    crate::bounded::parse_json(&source).map_err(|e| format!("it is not JSON: {e}"))
}

fn length(args: &[Value]) -> Outcome {
    match one(args)? {
        Value::Array(items) => Ok(Value::from(items.len())),
        Value::Object(map) => Ok(Value::from(map.len())),
        value => Ok(Value::from(known(value)?.chars().count())),
    }
}

fn lookup(args: &[Value]) -> Outcome {
    let (map, key, default) = match args {
        [map, key] => (map, key, None),
        [map, key, default] => (map, key, Some(default)),
        _ => return Err("it takes two or three arguments".into()),
    };
    let map = object(map)?;
    let key = known(key)?;
    match (map.get(&key), default) {
        (Some(value), _) => Ok(value.clone()),
        (None, Some(default)) => Ok(default.clone()),
        (None, None) => Err(format!("the map has no key {key}")),
    }
}

/// Terraform's `one`: the element of a list of one, null for an empty list.
fn one_of(args: &[Value]) -> Outcome {
    match list(one(args)?)? {
        [] => Ok(Value::Null),
        [only] => Ok(only.clone()),
        more => Err(format!(
            "the list has {} elements: Terraform refuses the call",
            more.len()
        )),
    }
}

fn merge(args: &[Value]) -> Outcome {
    let mut out = Map::new();
    for arg in args {
        if arg.is_null() {
            continue;
        }
        for (key, value) in object(arg)? {
            out.insert(key.clone(), value.clone());
        }
    }
    Ok(Value::Object(out))
}

fn compiled(pattern: &str) -> Result<regex::Regex, String> {
    RegexBuilder::new(pattern)
        .size_limit(REGEX_BYTES)
        .build()
        .map_err(|e| format!("its regular expression does not compile: {e}"))
}

/// Terraform's `regex`: the match, its groups as a list, or its named groups as an object.
fn regex_call(args: &[Value]) -> Outcome {
    let (pattern, subject) = two_strings(args)?;
    let re = compiled(&pattern)?;
    let captures = re
        .captures(&subject)
        .ok_or("the regular expression does not match: Terraform refuses the call")?;
    Ok(groups(&re, &captures))
}

fn groups(re: &regex::Regex, captures: &regex::Captures) -> Value {
    let text = |m: Option<regex::Match>| Value::String(m.map_or("", |m| m.as_str()).to_owned());
    if re.captures_len() == 1 {
        return text(captures.get(0));
    }
    if re.capture_names().flatten().next().is_some() {
        let names = re.capture_names().flatten();
        return Value::Object(
            names
                .map(|name| (name.to_owned(), text(captures.name(name))))
                .collect(),
        );
    }
    Value::Array(
        (1..re.captures_len())
            .map(|i| text(captures.get(i)))
            .collect(),
    )
}

fn regexall(args: &[Value]) -> Outcome {
    let (pattern, subject) = two_strings(args)?;
    let re = compiled(&pattern)?;
    Ok(Value::Array(
        re.captures_iter(&subject)
            .map(|c| groups(&re, &c))
            .collect(),
    ))
}

/// Terraform's `replace`: a `/regular expression/` with `$1` in the replacement, else the text.
fn replace(args: &[Value]) -> Outcome {
    let [subject, search, with] = args else {
        return Err("it takes three arguments".into());
    };
    let (subject, search, with) = (known(subject)?, known(search)?, known(with)?);
    match search.strip_prefix('/').and_then(|s| s.strip_suffix('/')) {
        Some(pattern) if search.len() > 1 => Ok(Value::String(
            compiled(pattern)?
                .replace_all(&subject, with.as_str())
                .into_owned(),
        )),
        _ => Ok(Value::String(subject.replace(&search, &with))),
    }
}

fn split(args: &[Value]) -> Outcome {
    let (separator, subject) = two_strings(args)?;
    Ok(Value::Array(
        subject
            .split(separator.as_str())
            .map(|s| Value::String(s.to_owned()))
            .collect(),
    ))
}

fn tostring(args: &[Value]) -> Outcome {
    match one(args)? {
        Value::Null => Ok(Value::Null),
        value => Ok(Value::String(text(value)?)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(name: &str, args: Value) -> Outcome {
        call(name, args.as_array().unwrap()).expect("a known function")
    }

    #[test]
    fn functions_compute_as_terraform_does() {
        assert_eq!(
            run("format", json!(["repo:%s:*", "*"])),
            Ok(json!("repo:*:*"))
        );
        assert_eq!(
            run("join", json!(["/", ["acme", "app"]])),
            Ok(json!("acme/app"))
        );
        assert_eq!(
            run("replace", json!(["repo:acme/app:x", "/acme/[a-z]+/", "*"])),
            Ok(json!("repo:*:x"))
        );
        assert_eq!(run("replace", json!(["a.b", ".", "*"])), Ok(json!("a*b")));
        assert_eq!(run("coalesce", json!(["", "repo:*"])), Ok(json!("repo:*")));
        assert_eq!(
            run("formatlist", json!(["repo:%s:*", ["a/b", "c/d"]])),
            Ok(json!(["repo:a/b:*", "repo:c/d:*"]))
        );
        assert_eq!(run("element", json!([["a", "b"], 3])), Ok(json!("b")));
        assert_eq!(
            run("regex", json!(["^repo:([^/]+)/", "repo:acme/app"])),
            Ok(json!(["acme"]))
        );
        assert_eq!(
            run("title", json!(["hello world-x"])),
            Ok(json!("Hello World-X"))
        );
        assert_eq!(
            run("toset", json!([["b", "a", "b"]])),
            Ok(json!(["a", "b"]))
        );
        assert!(call("timestamp", &[]).is_none());
    }

    #[test]
    fn an_unknown_argument_stays_in_place_or_makes_the_result_unknown() {
        let owner = unknown::value("var.owner", "no default");
        let joined = run("join", json!(["/", [owner.clone(), "app"]])).unwrap();
        assert_eq!(
            unknown::display(joined.as_str().unwrap()),
            "${var.owner}/app"
        );
        let formatted = run("format", json!(["repo:%s/*", owner.clone()])).unwrap();
        assert_eq!(
            unknown::display(formatted.as_str().unwrap()),
            "repo:${var.owner}/*"
        );
        // Whether "" comes first is not known, nor what replace does to an unknown.
        assert!(run("coalesce", json!([owner.clone(), "x"])).is_err());
        assert!(run("replace", json!([owner, "a", "b"])).is_err());
    }
}
