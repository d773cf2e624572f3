//! Reading what a user hands oidc-gen (a spec, a policy, a token, a template) within bounds of
//! size, depth and work, so that a hostile file costs a clear error, not the machine.
//!
//! Inputs are read only from regular files or standard input (`-`), never from a FIFO, a device
//! or a folder, and never past a size cap. YAML is first walked as a stream of events, refusing
//! nesting deeper than [`MAX_DEPTH`] and documents whose aliases expand past [`MAX_NODES`], so the
//! parser that builds values never sees an alias bomb.

use std::io::Read;
use std::path::Path;

use yaml_rust2::parser::{Event, Parser};

/// The largest spec file (`--config`), in bytes. A spec of 10,000 roles is about 1 MiB.
pub const SPEC_BYTES: u64 = 4 << 20;
/// The largest policy file (`simulate --policy`): a whole CloudFormation template may hold it.
pub const POLICY_BYTES: u64 = 4 << 20;
/// The largest template file under `--templates`.
pub const TEMPLATE_BYTES: u64 = 1 << 20;
/// The largest token: STS takes web identity tokens of at most 20,000 characters.
pub const TOKEN_BYTES: u64 = 20_000;
/// The deepest nesting of YAML or JSON collections accepted.
pub const MAX_DEPTH: usize = 64;
/// The most YAML nodes a document may hold once its aliases are expanded.
pub const MAX_NODES: usize = 1_000_000;
/// The most bytes a document's aliases may add, all of them together, once expanded (each
/// scalar's bytes, and 16 for each other node): a thousand aliases of one 1 MiB string are a
/// 1 MB file that would build a gigabyte.
pub const ALIAS_BYTES: usize = 16 << 20;
/// The most characters of a bad value an error message quotes.
pub const QUOTED_CHARS: usize = 200;

/// Why an input could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The operating system refused.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// Not a regular file (a FIFO, a device, a folder).
    #[error("it is not a regular file (give a file, or - for standard input)")]
    NotRegular,
    /// Larger than the cap.
    #[error("it is larger than {limit} bytes, the most oidc-gen reads")]
    TooLarge {
        /// The cap.
        limit: u64,
    },
    /// Not UTF-8 text.
    #[error("it is not UTF-8 text")]
    NotText,
}

/// Reads `path` (`-` for standard input) as UTF-8 text of at most `limit` bytes, without a
/// leading byte-order mark.
pub fn read_text(path: &Path, limit: u64) -> Result<String, ReadError> {
    read_text_opened(path, limit, true)
}

/// [`read_text`], refusing a path whose last part is a symbolic link, even one put there after
/// the caller looked.
pub fn read_text_unlinked(path: &Path, limit: u64) -> Result<String, ReadError> {
    read_text_opened(path, limit, false)
}

fn read_text_opened(path: &Path, limit: u64, follow: bool) -> Result<String, ReadError> {
    let bytes = if path == Path::new("-") {
        read_capped(std::io::stdin().lock(), limit, 0)?
    } else {
        let file = open_regular(path, follow)?;
        let size = file.metadata()?.len();
        if size > limit {
            return Err(ReadError::TooLarge { limit });
        }
        read_capped(file, limit, size)?
    };
    let mut text = String::from_utf8(bytes).map_err(|_| ReadError::NotText)?;
    if text.starts_with('\u{feff}') {
        text.drain(..'\u{feff}'.len_utf8());
    }
    Ok(text)
}

/// Opens `path` for reading if it is a regular file (and, unless `follow`, not a symbolic link).
/// Opening does not wait on a FIFO.
fn open_regular(path: &Path, follow: bool) -> Result<std::fs::File, ReadError> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut flags = rustix::fs::OFlags::NONBLOCK;
    if !follow {
        flags |= rustix::fs::OFlags::NOFOLLOW;
    }
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(flags.bits() as i32)
        .open(path)?;
    if !file.metadata()?.is_file() {
        return Err(ReadError::NotRegular);
    }
    Ok(file)
}

fn read_capped(reader: impl Read, limit: u64, size: u64) -> Result<Vec<u8>, ReadError> {
    // The size the file says it has, read in one buffer (it may have grown: the cap still holds).
    let mut bytes = Vec::with_capacity(size.min(limit) as usize + 1);
    reader.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge { limit });
    }
    Ok(bytes)
}

/// Why a YAML text was refused before parsing it into values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlRefusal {
    /// The 1-based line where it was noticed.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// Walks `text`'s YAML events and refuses nesting deeper than [`MAX_DEPTH`], more than
/// [`MAX_NODES`] nodes with aliases expanded, or aliases that add more than [`ALIAS_BYTES`]. Syntax errors are left to the parser that follows,
/// which reports them in its own words.
pub fn check_yaml(text: &str) -> Result<(), YamlRefusal> {
    // YAML is text: no control characters but tab and line ends.
    if let Some(at) = text.find(|c: char| c.is_control() && !matches!(c, '\t' | '\n' | '\r')) {
        let line = text[..at].matches('\n').count() + 1;
        let column = at - text[..at].rfind('\n').map_or(0, |n| n + 1) + 1;
        let found = text[at..].chars().next().expect("found above") as u32;
        return Err(YamlRefusal {
            line,
            message: format!("control character U+{found:04X} at column {column}; YAML is text"),
        });
    }
    let mut parser = Parser::new_from_str(text);
    // Open collections: (anchor id, size inside so far).
    let mut open: Vec<(usize, Size)> = Vec::new();
    // The size of each anchored node, counted with its aliases expanded.
    let mut anchored: std::collections::HashMap<usize, Size> = Default::default();
    let mut total: usize = 0;
    let mut aliased: usize = 0;
    loop {
        let (event, marker) = match parser.next_token() {
            Ok(next) => next,
            // The scanner's own limit: flow collections nested 255 deep.
            Err(e) if e.info().contains("recursion limit") => {
                return Err(YamlRefusal {
                    line: e.marker().line(),
                    message: format!("collections are nested more than {MAX_DEPTH} deep"),
                });
            }
            Err(_) => return Ok(()),
        };
        let refuse = |message: String| YamlRefusal {
            line: marker.line(),
            message,
        };
        let size = match event {
            Event::StreamEnd => return Ok(()),
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                if open.len() >= MAX_DEPTH {
                    return Err(refuse(format!(
                        "collections are nested more than {MAX_DEPTH} deep"
                    )));
                }
                open.push((anchor, Size::NODE));
                continue;
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let (anchor, size) = open.pop().unwrap_or((0, Size::NODE));
                if anchor != 0 {
                    anchored.insert(anchor, size);
                }
                size
            }
            Event::Scalar(value, _, anchor, _) => {
                let size = Size {
                    nodes: 1,
                    bytes: value.len(),
                };
                if anchor != 0 {
                    anchored.insert(anchor, size);
                }
                size
            }
            Event::Alias(anchor) => {
                let size = anchored.get(&anchor).copied().unwrap_or(Size::NODE);
                aliased = aliased.saturating_add(size.bytes);
                if aliased > ALIAS_BYTES {
                    return Err(refuse(format!(
                        "aliases expand to more than {ALIAS_BYTES} bytes; write the values out, or use fewer \
                         aliases of large values"
                    )));
                }
                size
            }
            _ => continue,
        };
        total = total.saturating_add(size.nodes);
        if let Some((_, inside)) = open.last_mut() {
            *inside = inside.add(size);
        }
        if total > MAX_NODES {
            return Err(refuse(format!(
                "aliases expand to more than {MAX_NODES} values"
            )));
        }
    }
}

/// A YAML node's size with its aliases expanded: its nodes, and its bytes (each scalar's, and 16
/// for each other node).
#[derive(Debug, Clone, Copy)]
struct Size {
    nodes: usize,
    bytes: usize,
}

impl Size {
    const NODE: Size = Size {
        nodes: 1,
        bytes: 16,
    };

    fn add(self, other: Size) -> Size {
        Size {
            nodes: self.nodes.saturating_add(other.nodes),
            bytes: self.bytes.saturating_add(other.bytes),
        }
    }
}

/// Parses JSON like `serde_json::from_str`, but refuses an object that names a key twice: a
/// parser that keeps the last of two `Condition`s would evaluate a policy nobody reviewed.
pub fn parse_json(text: &str) -> Result<serde_json::Value, serde_json::Error> {
    use serde::de::DeserializeSeed;
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let value = Strict.deserialize(&mut deserializer)?;
    deserializer.end()?;
    Ok(value)
}

/// A document in JSON, or else in YAML within the bounds of [`check_yaml`], as a JSON value; the
/// error says why it is neither.
pub fn parse_document(text: &str) -> Result<serde_json::Value, String> {
    match parse_json(text) {
        Ok(value) => Ok(value),
        // Valid JSON with a key twice is not YAML either.
        Err(json_error) if json_error.is_data() => {
            Err(format!("it is not valid JSON: {json_error}"))
        }
        Err(json_error) => {
            check_yaml(text)
                .map_err(|refusal| format!("line {}: {}", refusal.line, refusal.message))?;
            let yaml: serde_yaml::Value = serde_yaml::from_str(text).map_err(|yaml_error| {
                format!("it is neither JSON ({json_error}) nor plain YAML ({yaml_error})")
            })?;
            json_of_yaml(yaml)
        }
    }
}

/// A YAML value as JSON. CloudFormation's short-form tags become their long form: `!Ref X` is
/// `{"Ref": "X"}`, `!GetAtt A.B` is `{"Fn::GetAtt": ["A", "B"]}`, `!Sub ...` is `{"Fn::Sub": ...}`.
fn json_of_yaml(yaml: serde_yaml::Value) -> Result<serde_json::Value, String> {
    use serde_json::Value;
    Ok(match yaml {
        serde_yaml::Value::Null => Value::Null,
        serde_yaml::Value::Bool(b) => Value::Bool(b),
        serde_yaml::Value::Number(n) => serde_json::to_value(&n).map_err(|e| e.to_string())?,
        serde_yaml::Value::String(s) => Value::String(s),
        serde_yaml::Value::Sequence(items) => Value::Array(
            items
                .into_iter()
                .map(json_of_yaml)
                .collect::<Result<_, _>>()?,
        ),
        serde_yaml::Value::Mapping(mapping) => {
            let mut object = serde_json::Map::new();
            for (key, value) in mapping {
                let key = match key {
                    serde_yaml::Value::String(s) => s,
                    serde_yaml::Value::Number(n) => n.to_string(),
                    serde_yaml::Value::Bool(b) => b.to_string(),
                    other => {
                        return Err(format!(
                            "its YAML has a key JSON cannot have ({})",
                            cut(&format!("{other:?}"))
                        ));
                    }
                };
                object.insert(key, json_of_yaml(value)?);
            }
            Value::Object(object)
        }
        serde_yaml::Value::Tagged(tagged) => {
            let name = tagged.tag.to_string();
            let name = name.trim_start_matches('!');
            let value = json_of_yaml(tagged.value)?;
            let long = match (name, value) {
                ("GetAtt", Value::String(text)) => {
                    let parts = match text.split_once('.') {
                        Some((resource, attribute)) => vec![resource.into(), attribute.into()],
                        None => vec![Value::String(text)],
                    };
                    ("Fn::GetAtt".to_owned(), Value::Array(parts))
                }
                ("Ref" | "Condition", value) => (name.to_owned(), value),
                (_, value) => (format!("Fn::{name}"), value),
            };
            Value::Object(serde_json::Map::from_iter([long]))
        }
    })
}

/// Deserializes a JSON value, refusing duplicate keys at any depth.
#[derive(Clone, Copy)]
struct Strict;

impl<'de> serde::de::DeserializeSeed<'de> for Strict {
    type Value = serde_json::Value;

    fn deserialize<D: serde::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Strict {
    type Value = serde_json::Value;

    fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
        formatter.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
        Ok(v.into())
    }

    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(v.into())
    }

    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        Ok(v.into())
    }

    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(serde_json::Value::Null, Into::into))
    }

    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(v.into())
    }

    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(v.into())
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(serde_json::Value::Null)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut values = Vec::new();
        while let Some(value) = seq.next_element_seed(self)? {
            values.push(value);
        }
        Ok(values.into())
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut object = serde_json::Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if object.contains_key(&key) {
                return Err(serde::de::Error::custom(format!(
                    "the key {} is given twice",
                    quoted(&key)
                )));
            }
            let value = map.next_value_seed(self)?;
            object.insert(key, value);
        }
        Ok(object.into())
    }
}

/// `value` quoted, cut to [`QUOTED_CHARS`] characters, with how long it was.
pub fn quoted(value: &str) -> String {
    match value.char_indices().nth(QUOTED_CHARS) {
        None => crate::shown::quoted(value),
        Some((end, _)) => format!(
            "{}... ({} characters in all)",
            crate::shown::quoted(&value[..end]),
            value.chars().count()
        ),
    }
}

/// The longest line of a message printed whole.
pub const MESSAGE_CHARS: usize = 2_000;

/// `message` with every run of more than [`QUOTED_CHARS`] characters without a space (a value a
/// message quotes) cut to that many, and the whole cut to [`MESSAGE_CHARS`]: a 50 MB value in a
/// spec must not come back whole on stderr.
pub fn short_message(message: &str) -> String {
    let mut short = String::with_capacity(message.len().min(MESSAGE_CHARS + 64));
    let mut run = 0usize;
    let mut cut = 0usize;
    let mut kept = 0usize;
    for c in message.chars() {
        if c.is_whitespace() {
            if cut > 0 {
                short.push_str(&format!("... ({cut} more characters)"));
                cut = 0;
            }
            run = 0;
        } else {
            run += 1;
            if run > QUOTED_CHARS {
                cut += 1;
                continue;
            }
        }
        short.push(c);
        kept += 1;
        if kept >= MESSAGE_CHARS {
            short.push_str("... (message cut)");
            return short;
        }
    }
    if cut > 0 {
        short.push_str(&format!("... ({cut} more characters)"));
    }
    short
}

/// `value` cut to [`QUOTED_CHARS`] characters, ending in `...` when cut.
pub fn cut(value: &str) -> String {
    match value.char_indices().nth(QUOTED_CHARS) {
        None => value.to_owned(),
        Some((end, _)) => format!("{}...", &value[..end]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_alias_bomb_is_refused_early() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for level in 1..12 {
            let previous = level - 1;
            let aliases = vec![format!("*a{previous}"); 10].join(", ");
            text.push_str(&format!("a{level}: &a{level} [{aliases}]\n"));
        }
        let refusal = check_yaml(&text).unwrap_err();
        assert!(refusal.message.contains("expand"), "{refusal:?}");
        assert!(refusal.line <= 7, "noticed late: {refusal:?}");
    }

    #[test]
    fn aliases_of_a_large_value_are_refused_by_bytes() {
        let big = "x".repeat(1 << 20);
        let aliases = vec!["*big"; 1_000].join(", ");
        let text = format!("big: &big {big}\nmany: [{aliases}]\n");
        let refusal = check_yaml(&text).unwrap_err();
        assert!(refusal.message.contains("bytes"), "{refusal:?}");
        assert_eq!(refusal.line, 2);
        // A few aliases of it are fine.
        let text = format!("big: &big {big}\nmany: [*big, *big]\n");
        assert_eq!(check_yaml(&text), Ok(()));
    }

    #[test]
    fn deep_nesting_is_refused_at_the_limit() {
        let text = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        let refusal = check_yaml(&text).unwrap_err();
        assert!(refusal.message.contains("nested"), "{refusal:?}");
        let block: String = (0..1_000)
            .map(|depth| format!("{}-\n", " ".repeat(depth * 2)))
            .collect();
        let refusal = check_yaml(&block).unwrap_err();
        assert!(
            refusal.message.contains("nested") && refusal.line <= MAX_DEPTH + 1,
            "{refusal:?}"
        );
        let fine = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert_eq!(check_yaml(&fine), Ok(()));
    }

    #[test]
    fn ordinary_anchors_pass() {
        let text = "base: &b {x: 1, y: [1, 2]}\nroles:\n  - *b\n  - *b\n";
        assert_eq!(check_yaml(text), Ok(()));
    }

    #[test]
    fn a_byte_order_mark_is_dropped_and_the_cap_holds() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("spec.yaml");
        std::fs::write(&path, "\u{feff}roles: []\n").unwrap();
        assert_eq!(read_text(&path, 100).unwrap(), "roles: []\n");
        assert!(matches!(
            read_text(&path, 5),
            Err(ReadError::TooLarge { limit: 5 })
        ));
        assert!(matches!(
            read_text(dir.path(), 100),
            Err(ReadError::NotRegular)
        ));
        assert!(matches!(
            read_text(Path::new("/dev/zero"), 100),
            Err(ReadError::NotRegular)
        ));
    }

    #[test]
    fn an_unlinked_read_refuses_a_link_a_plain_one_follows() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("policy.json");
        std::fs::write(&target, "{}").unwrap();
        let link = dir.path().join("link.json");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        assert_eq!(read_text(&link, 10).unwrap(), "{}");
        assert!(read_text_unlinked(&link, 10).is_err());
        assert_eq!(read_text_unlinked(&target, 10).unwrap(), "{}");
    }

    #[test]
    fn json_with_a_key_twice_is_refused() {
        let error = parse_json(r#"{"a": {"Condition": 1, "Condition": 2}}"#).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("the key \"Condition\" is given twice"),
            "{error}"
        );
        assert_eq!(
            parse_json(r#"{"a": [1, {"b": null}], "c": "d"}"#).unwrap(),
            serde_json::json!({"a": [1, {"b": null}], "c": "d"})
        );
        assert!(parse_json(&"[".repeat(1000)).is_err());
    }

    #[test]
    fn long_values_in_messages_are_cut() {
        let message = format!("invalid \"{}\": too long\nnext line", "x".repeat(10_000));
        let short = short_message(&message);
        assert!(short.len() < 300, "{short}");
        assert!(
            short.ends_with("... (9803 more characters) too long\nnext line"),
            "{short}"
        );
        assert_eq!(short_message("plain words"), "plain words");
        assert!(short_message(&"a ".repeat(5_000)).ends_with("(message cut)"));
    }

    #[test]
    fn quotes_are_cut() {
        assert_eq!(quoted("ab"), "\"ab\"");
        let long = "x".repeat(50_000);
        let shown = quoted(&long);
        assert!(shown.len() < 260 && shown.ends_with("(50000 characters in all)"));
    }
}
