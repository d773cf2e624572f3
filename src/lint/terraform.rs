//! Terraform as `lint` reads it: the trust policies of a configuration (`.tf`) and of a plan or
//! state in JSON (`terraform show -json`).
//!
//! A configuration is parsed with `hcl-rs`, never run. An `aws_iam_role`'s `assume_role_policy`
//! is resolved as far as the file says: `jsonencode(...)`, a heredoc, `data.aws_iam_policy_document`
//! statements, and references to `aws_iam_openid_connect_provider` resources and data sources
//! (their ARN names the issuer), variables' defaults and locals. What the file cannot know (an
//! account id, `each.value`, another module's output) stays as its `${...}` text: a principal's
//! issuer then comes from the condition keys, and a role whose whole policy is such a value is
//! reported as not linted, with the plan to lint instead. Policies passed to a module inside
//! `jsonencode(...)` are read too, as `module.NAME.ARGUMENT...`.

use std::cell::Cell;
use std::collections::HashMap;
use std::path::Path;

use hcl::edit::Span;
use hcl::{Block, Body, Expression, ObjectKey, TraversalOperator};
use serde_json::{Map, Value};

use super::read::{Contents, Role, Unresolved, comment_suppressions};
use crate::bounded;

/// How many references (a local naming a local ...) are followed before giving up.
const MAX_HOPS: usize = 16;
/// The most a file's expressions may build as they are evaluated, in bytes (strings, and 16 for
/// every other value), counted over the whole file: locals that refer to each other ten times
/// over would otherwise build gigabytes from a kilobyte.
pub const EVALUATION_BYTES: usize = 64 << 20;

/// The roles of a Terraform configuration file.
pub fn read(path: &Path, text: &str) -> Result<Contents, String> {
    check_depth(text)?;
    let edit_body = hcl::edit::parser::parse_body(text).map_err(|e| {
        format!(
            "it is not Terraform (HCL) it can read: {}",
            first_line(&e.to_string())
        )
    })?;
    let mut lines = super::read::Lines::new(text);
    let text_lines: Vec<&str> = text.lines().collect();
    // Each top-level block with its line; the line of a role's assume_role_policy if it has one.
    let mut blocks: Vec<(Block, usize, Option<usize>)> = Vec::new();
    for structure in edit_body.iter() {
        if let Some(block) = structure.as_block() {
            let at = block.span().map_or(1, |span| lines.at(span.start));
            let policy_at = block
                .body
                .get_attribute("assume_role_policy")
                .and_then(|a| a.span())
                .map(|span| lines.at(span.start));
            blocks.push((Block::from(block.clone()), at, policy_at));
        }
    }
    let declarations = Declarations::new(blocks.iter().map(|(block, _, _)| block));
    let budget = Cell::new(EVALUATION_BYTES);
    let model = Model {
        declarations: &declarations,
        each: None,
        budget: &budget,
    };
    let mut contents = Contents::default();
    for (block, at, policy_at) in &blocks {
        if budget.get() == 0 {
            return Err(format!(
                "line {at}: its expressions evaluate to more than {EVALUATION_BYTES} bytes of values (locals or \
                 variables that refer to each other many times over); lint the plan (terraform show -json PLAN)"
            ));
        }
        let labels: Vec<&str> = block.labels.iter().map(|l| l.as_str()).collect();
        let address = match (block.identifier.as_str(), &labels[..]) {
            ("resource", ["aws_iam_role", name]) => format!("aws_iam_role.{name}"),
            ("module", [name]) => {
                let policies = module_policies(&model, &block.body);
                let source = attribute(&block.body, "source").map(|e| model.evaluate(e, 0));
                let source = source.as_ref().and_then(Value::as_str).unwrap_or_default();
                if policies.is_empty() && source.to_ascii_lowercase().contains("oidc") {
                    // A module that builds an OIDC role's trust from its inputs: said, not guessed.
                    contents.unresolved.push(Unresolved {
                        path: path.to_path_buf(),
                        line: Some(*at),
                        resource: format!("module.{name}"),
                        reason: format!(
                            "the module {source} builds its trust policy from its inputs; lint the plan \
                             (terraform show -json PLAN)"
                        ),
                    });
                }
                for (attribute, policy) in policies {
                    contents.roles.push(Role {
                        path: path.to_path_buf(),
                        line: Some(*at),
                        resource: format!("module.{name}.{attribute}"),
                        policy,
                        suppressed: comment_suppressions(&text_lines, *at),
                    });
                }
                continue;
            }
            _ => continue,
        };
        let Some(expression) = attribute(&block.body, "assume_role_policy") else {
            continue;
        };
        let line = policy_at.unwrap_or(*at);
        // A role per element of `for_each`, when the file spells the collection out.
        let instances: Vec<(String, Value)> =
            match attribute(&block.body, "for_each").map(|e| model.evaluate(e, 0)) {
                None => vec![(address.clone(), model.evaluate(expression, 0))],
                Some(Value::Object(elements)) => elements
                    .into_iter()
                    .map(|(key, value)| {
                        let each = model.with_each(Value::String(key.clone()), value);
                        (
                            format!("{address}[{}]", Value::String(key)),
                            each.evaluate(expression, 0),
                        )
                    })
                    .collect(),
                Some(_) => vec![(address.clone(), Value::Null)],
            };
        if budget.get() == 0 {
            return Err(format!(
                "line {at}: the expressions of {address} evaluate to more than {EVALUATION_BYTES} bytes of values \
                 (locals or variables that refer to each other many times over); lint the plan (terraform show \
                 -json PLAN)"
            ));
        }
        for (resource, value) in instances {
            match value {
                Value::String(json) if !is_unknown(&json) => {
                    let policy = bounded::parse_json(&json).map_err(|e| {
                        format!(
                            "line {line}: the assume_role_policy of {resource} is not JSON: {e}"
                        )
                    })?;
                    contents.roles.push(Role {
                        path: path.to_path_buf(),
                        line: Some(line),
                        resource,
                        policy,
                        suppressed: comment_suppressions(&text_lines, *at),
                    });
                }
                _ => contents
                    .unresolved
                    .push(unresolved(path, line, resource, expression)),
            }
        }
    }
    Ok(contents)
}

/// A role whose policy `expression` the file does not spell out.
fn unresolved(path: &Path, line: usize, resource: String, expression: &Expression) -> Unresolved {
    Unresolved {
        path: path.to_path_buf(),
        line: Some(line),
        resource,
        reason: format!(
            "its trust policy is {}, which this file does not spell out; lint the plan \
             (terraform show -json PLAN) or the module's caller",
            text_of(expression)
        ),
    }
}

/// The roles of a Terraform plan or state in JSON: every `aws_iam_role` in the planned (or
/// current) values of the root module and its child modules.
pub fn plan(path: &Path, document: &Value, contents: &mut Contents) {
    let root = document
        .pointer("/planned_values/root_module")
        .or_else(|| document.pointer("/values/root_module"));
    let mut modules: Vec<&Value> = root.into_iter().collect();
    while let Some(module) = modules.pop() {
        modules.extend(
            module
                .get("child_modules")
                .and_then(Value::as_array)
                .into_iter()
                .flatten(),
        );
        for resource in module
            .get("resources")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if resource.get("type").and_then(Value::as_str) != Some("aws_iam_role")
                || resource.get("mode").and_then(Value::as_str) == Some("data")
            {
                continue;
            }
            let address = resource
                .get("address")
                .and_then(Value::as_str)
                .unwrap_or("?")
                .to_owned();
            let policy = match resource.pointer("/values/assume_role_policy").and_then(Value::as_str) {
                Some(json) => bounded::parse_json(json)
                    .map_err(|e| format!("its assume_role_policy is not JSON: {e}")),
                None => Err("its assume_role_policy is known only after apply (it names a resource not yet \
                             created); lint the .tf files"
                    .into()),
            };
            match policy {
                Ok(policy) => contents.roles.push(Role {
                    path: path.to_path_buf(),
                    line: None,
                    resource: address,
                    policy,
                    suppressed: Vec::new(),
                }),
                Err(reason) => contents.unresolved.push(Unresolved {
                    path: path.to_path_buf(),
                    line: None,
                    resource: address,
                    reason,
                }),
            }
        }
    }
    contents.roles.sort_by(|a, b| a.resource.cmp(&b.resource));
}

/// What a configuration declares that a policy can refer to.
struct Declarations<'a> {
    /// `var.NAME`: each variable's default.
    variables: HashMap<&'a str, &'a Expression>,
    /// `local.NAME`.
    locals: HashMap<&'a str, &'a Expression>,
    /// `TYPE.NAME` of resources and `data.TYPE.NAME` of data sources, keyed by that address.
    objects: HashMap<String, &'a Body>,
}

impl<'a> Declarations<'a> {
    fn new(blocks: impl Iterator<Item = &'a Block>) -> Declarations<'a> {
        let mut declarations = Declarations {
            variables: HashMap::new(),
            locals: HashMap::new(),
            objects: HashMap::new(),
        };
        for block in blocks {
            let labels: Vec<&str> = block.labels.iter().map(|l| l.as_str()).collect();
            match (block.identifier.as_str(), &labels[..]) {
                ("variable", [name]) => {
                    if let Some(default) = attribute(&block.body, "default") {
                        declarations.variables.insert(name, default);
                    }
                }
                ("locals", []) => {
                    for local in block.body.attributes() {
                        declarations.locals.insert(local.key.as_str(), &local.expr);
                    }
                }
                ("resource", [kind, name]) => {
                    declarations
                        .objects
                        .insert(format!("{kind}.{name}"), &block.body);
                }
                ("data", [kind, name]) => {
                    declarations
                        .objects
                        .insert(format!("data.{kind}.{name}"), &block.body);
                }
                _ => {}
            }
        }
        declarations
    }
}

/// The declarations, `each` inside a resource with `for_each`, and what is left of the file's
/// [`EVALUATION_BYTES`].
struct Model<'m, 'a> {
    declarations: &'m Declarations<'a>,
    /// `each.key` and `each.value` inside a resource with `for_each`.
    each: Option<(Value, Value)>,
    /// Bytes that evaluation may still build; at 0 every expression is null.
    budget: &'m Cell<usize>,
}

impl<'m, 'a> Model<'m, 'a> {
    /// The model inside one element of a `for_each`: the declarations are shared, not copied.
    fn with_each(&self, key: Value, value: Value) -> Model<'m, 'a> {
        Model {
            declarations: self.declarations,
            each: Some((key, value)),
            budget: self.budget,
        }
    }

    /// Takes `bytes` from the budget; false when it is spent.
    fn spend(&self, bytes: usize) -> bool {
        let left = self.budget.get();
        self.budget.set(left.saturating_sub(bytes));
        left > bytes
    }

    /// The value of `expression` as far as the file says; what it cannot know is the string
    /// `${text}` of the expression.
    fn evaluate(&self, expression: &Expression, hops: usize) -> Value {
        let value = self.evaluate_unbounded(expression, hops);
        let bytes = match &value {
            Value::String(s) => s.len(),
            _ => 16,
        };
        match self.spend(bytes) {
            true => value,
            false => Value::Null,
        }
    }

    fn evaluate_unbounded(&self, expression: &Expression, hops: usize) -> Value {
        if self.budget.get() == 0 {
            return Value::Null;
        }
        let unknown = || Value::String(format!("${{{}}}", text_of(expression)));
        if hops > MAX_HOPS {
            return unknown();
        }
        match expression {
            Expression::Null => Value::Null,
            Expression::Bool(b) => Value::Bool(*b),
            Expression::Number(n) => serde_json::to_value(n).unwrap_or(Value::Null),
            Expression::String(s) => Value::String(s.clone()),
            Expression::Array(items) => {
                Value::Array(items.iter().map(|item| self.evaluate(item, hops)).collect())
            }
            Expression::Object(object) => {
                let mut map = Map::new();
                for (key, value) in object {
                    let key = match key {
                        ObjectKey::Identifier(id) => id.as_str().to_owned(),
                        ObjectKey::Expression(key) => match self.evaluate(key, hops) {
                            Value::String(s) => s,
                            other => other.to_string(),
                        },
                        _ => return unknown(),
                    };
                    map.insert(key, self.evaluate(value, hops));
                }
                Value::Object(map)
            }
            Expression::TemplateExpr(template) => {
                let Ok(template) = hcl::Template::from_expr(template) else {
                    return unknown();
                };
                let mut text = String::new();
                for element in template.elements() {
                    match element {
                        hcl::template::Element::Literal(literal) => text.push_str(literal),
                        hcl::template::Element::Interpolation(interpolation) => {
                            match self.evaluate(&interpolation.expr, hops) {
                                Value::String(s) => text.push_str(&s),
                                Value::Number(n) => text.push_str(&n.to_string()),
                                Value::Bool(b) => text.push_str(&b.to_string()),
                                _ => {
                                    text.push_str(&format!("${{{}}}", text_of(&interpolation.expr)))
                                }
                            }
                        }
                        hcl::template::Element::Directive(_) => return unknown(),
                    }
                }
                Value::String(text)
            }
            Expression::Parenthesis(inner) => self.evaluate(inner, hops),
            Expression::FuncCall(call) if call.name.namespace.is_empty() => {
                let args: Vec<Value> = call.args.iter().map(|a| self.evaluate(a, hops)).collect();
                match (call.name.name.as_str(), &args[..]) {
                    ("jsonencode", [value]) if self.budget.get() > 0 => {
                        Value::String(value.to_string())
                    }
                    ("replace", [Value::String(s), Value::String(from), Value::String(to)])
                        if !from.starts_with('/') =>
                    {
                        Value::String(s.replace(from.as_str(), to.as_str()))
                    }
                    ("tolist" | "toset", [value @ Value::Array(_)]) => value.clone(),
                    _ => unknown(),
                }
            }
            Expression::Traversal(traversal) => {
                self.reference(traversal, hops).unwrap_or_else(unknown)
            }
            _ => unknown(),
        }
    }

    /// What a reference such as `aws_iam_openid_connect_provider.github.arn`,
    /// `data.aws_iam_policy_document.trust.json`, `var.org` or `local.subjects` stands for.
    fn reference(&self, traversal: &hcl::Traversal, hops: usize) -> Option<Value> {
        let Expression::Variable(root) = &traversal.expr else {
            return None;
        };
        let names: Vec<&str> = traversal
            .operators
            .iter()
            .map_while(|op| match op {
                TraversalOperator::GetAttr(id) => Some(id.as_str()),
                _ => None,
            })
            .collect();
        if names.len() != traversal.operators.len() {
            return None;
        }
        let value = match (root.as_str(), &names[..]) {
            ("var", [name, rest @ ..]) => descend(
                self.evaluate(self.declarations.variables.get(name)?, hops + 1),
                rest,
            )?,
            ("local", [name, rest @ ..]) => descend(
                self.evaluate(self.declarations.locals.get(name)?, hops + 1),
                rest,
            )?,
            ("each", ["key"]) => self.each.as_ref()?.0.clone(),
            ("each", ["value", rest @ ..]) => descend(self.each.as_ref()?.1.clone(), rest)?,
            ("data", [kind, name, attribute]) => {
                self.attribute_of(&format!("data.{kind}.{name}"), kind, attribute, hops)?
            }
            (kind, [name, attribute]) => {
                self.attribute_of(&format!("{kind}.{name}"), kind, attribute, hops)?
            }
            _ => return None,
        };
        Some(value)
    }

    /// An attribute of a resource or data source the file declares: an OIDC provider's `arn` and
    /// `url`, a policy document's `json`.
    fn attribute_of(&self, address: &str, kind: &str, wanted: &str, hops: usize) -> Option<Value> {
        let body = self.declarations.objects.get(address)?;
        let argument = |name| attribute(body, name).map(|e| self.evaluate(e, hops + 1));
        match (kind, wanted) {
            ("aws_iam_openid_connect_provider", "arn") => match argument("arn") {
                Some(arn) => Some(arn),
                None => {
                    let Value::String(url) = argument("url")? else {
                        return None;
                    };
                    let host_path = url.trim_start_matches("https://").trim_end_matches('/');
                    Some(Value::String(format!(
                        "arn:aws:iam::${{{address}.account}}:oidc-provider/{host_path}"
                    )))
                }
            },
            ("aws_iam_openid_connect_provider", "url") => argument("url"),
            ("aws_iam_policy_document", "json" | "minified_json") => {
                policy_document(self, body, hops).map(|policy| Value::String(policy.to_string()))
            }
            _ => None,
        }
    }
}

/// The policy a `data "aws_iam_policy_document"` renders, as Terraform writes it; `None` when a
/// statement is built by a `dynamic` block or merges other documents.
fn policy_document(model: &Model, body: &Body, hops: usize) -> Option<Value> {
    let evaluate = |e| model.evaluate(e, hops + 1);
    if body.blocks().any(|b| b.identifier.as_str() == "dynamic")
        || ["source_policy_documents", "override_policy_documents"]
            .iter()
            .any(|name| attribute(body, name).is_some())
    {
        return None;
    }
    let mut statements = Vec::new();
    for block in body
        .blocks()
        .filter(|b| b.identifier.as_str() == "statement")
    {
        let mut statement = Map::new();
        let inner = &block.body;
        if let Some(sid) = attribute(inner, "sid") {
            statement.insert("Sid".into(), evaluate(sid));
        }
        let effect = attribute(inner, "effect").map_or(Value::String("Allow".into()), evaluate);
        statement.insert("Effect".into(), effect);
        if let Some(actions) = attribute(inner, "actions") {
            statement.insert("Action".into(), evaluate(actions));
        }
        if inner.blocks().any(|b| b.identifier.as_str() == "dynamic") {
            return None;
        }
        let mut principals = Map::new();
        for principal in inner
            .blocks()
            .filter(|b| b.identifier.as_str() == "principals")
        {
            let kind = attribute(&principal.body, "type").map(evaluate);
            let identifiers = attribute(&principal.body, "identifiers").map(evaluate);
            if let (Some(Value::String(kind)), Some(identifiers)) = (kind, identifiers) {
                append(
                    principals.entry(kind).or_insert(Value::Array(Vec::new())),
                    identifiers,
                );
            }
        }
        if !principals.is_empty() {
            statement.insert("Principal".into(), Value::Object(principals));
        }
        let mut conditions = Map::new();
        for condition in inner
            .blocks()
            .filter(|b| b.identifier.as_str() == "condition")
        {
            let field = |name| attribute(&condition.body, name).map(evaluate);
            if let (Some(Value::String(test)), Some(Value::String(variable)), Some(values)) =
                (field("test"), field("variable"), field("values"))
            {
                let tests = conditions.entry(test).or_insert(Value::Object(Map::new()));
                let values_of = tests.as_object_mut().expect("inserted as an object");
                append(
                    values_of
                        .entry(variable)
                        .or_insert(Value::Array(Vec::new())),
                    values,
                );
            }
        }
        if !conditions.is_empty() {
            statement.insert("Condition".into(), Value::Object(conditions));
        }
        statements.push(Value::Object(statement));
    }
    Some(serde_json::json!({ "Version": "2012-10-17", "Statement": statements }))
}

/// The policies a module block passes inside `jsonencode(...)` (at any depth of its arguments):
/// (`argument.key...`, policy).
fn module_policies(model: &Model, body: &Body) -> Vec<(String, Value)> {
    let mut found = Vec::new();
    for attribute in body.attributes() {
        let value = model.evaluate(&attribute.expr, 0);
        policies_in(&value, attribute.key.as_str().to_owned(), &mut found);
    }
    found
}

fn policies_in(value: &Value, at: String, found: &mut Vec<(String, Value)>) {
    match value {
        Value::String(text) if text.contains("Statement") => {
            if let Ok(policy @ Value::Object(_)) = bounded::parse_json(text) {
                if policy.get("Statement").is_some() {
                    found.push((at, policy));
                }
            }
        }
        Value::Object(map) => {
            for (key, value) in map {
                policies_in(value, format!("{at}.{key}"), found);
            }
        }
        Value::Array(items) => {
            for (index, value) in items.iter().enumerate() {
                policies_in(value, format!("{at}[{index}]"), found);
            }
        }
        _ => {}
    }
}

/// Adds `values` (a value or a list) to the list `into`.
fn append(into: &mut Value, values: Value) {
    if let Value::Array(list) = into {
        match values {
            Value::Array(values) => list.extend(values),
            value => list.push(value),
        }
    }
}

/// `value.a.b`.
fn descend(value: Value, names: &[&str]) -> Option<Value> {
    names
        .iter()
        .try_fold(value, |value, name| value.get(name).cloned())
}

/// The value of attribute `name` of a body.
fn attribute<'a>(body: &'a Body, name: &str) -> Option<&'a Expression> {
    body.attributes()
        .find(|a| a.key.as_str() == name)
        .map(|a| &a.expr)
}

/// Whether a whole value is an expression the file does not spell out.
fn is_unknown(text: &str) -> bool {
    text.starts_with("${") && text.ends_with('}')
}

/// An expression as it is written.
fn text_of(expression: &Expression) -> String {
    hcl::format::to_string(expression)
        .map(|text| text.trim().to_owned())
        .unwrap_or_else(|_| "...".into())
}

fn first_line(message: &str) -> String {
    message
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The most entries one object literal (`{ key = value, ... }`) may have: the HCL parser keeps an
/// object's keys in a list it searches on every insert, so its time grows with the square of the
/// entries (20,000 take six seconds).
pub const MAX_OBJECT_ENTRIES: usize = 5_000;

/// Refuses, before the parser (which recurses, and is quadratic in an object's entries) sees
/// them, brackets nested deeper than [`bounded::MAX_DEPTH`] and object literals of more than
/// [`MAX_OBJECT_ENTRIES`] entries. Entries are counted as the `=` and `:` directly inside a `{`
/// that follows `=`, `:`, `(`, `[`, `,` or `{` (an object, not a block's body), outside strings and
/// comments: a ternary in a value counts twice, which only makes the bound stricter.
fn check_depth(text: &str) -> Result<(), String> {
    // Every bracket counts for depth, those in strings and comments too: `"${[[[...]]]}"` nests.
    let mut depth: usize = 0;
    for (index, byte) in text.bytes().enumerate() {
        match byte {
            b'(' | b'[' | b'{' => {
                depth += 1;
                if depth > bounded::MAX_DEPTH {
                    let line = text[..index].matches('\n').count() + 1;
                    return Err(format!(
                        "line {line}: brackets are nested more than {} deep",
                        bounded::MAX_DEPTH
                    ));
                }
            }
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    // Open brackets: (whether it is an object, the `=` and `:` directly inside it).
    let mut open: Vec<(bool, usize)> = Vec::new();
    let mut previous = b'\n';
    let bytes = text.as_bytes();
    let line_at = |index: usize| text[..index].matches('\n').count() + 1;
    let mut index = 0;
    while index < bytes.len() {
        let byte = bytes[index];
        match byte {
            b'"' => {
                // A quoted string, with its escapes, ends at the next unescaped quote or the line.
                index += 1;
                while index < bytes.len() && bytes[index] != b'"' && bytes[index] != b'\n' {
                    index += if bytes[index] == b'\\' { 2 } else { 1 };
                }
            }
            b'#' => {
                index = memchr::memchr(b'\n', &bytes[index..]).map_or(bytes.len(), |n| index + n)
            }
            b'/' if bytes.get(index + 1) == Some(&b'/') => {
                index = memchr::memchr(b'\n', &bytes[index..]).map_or(bytes.len(), |n| index + n)
            }
            b'(' | b'[' | b'{' => {
                let object =
                    byte == b'{' && matches!(previous, b'=' | b':' | b'(' | b'[' | b',' | b'{');
                open.push((object, 0));
            }
            b')' | b']' | b'}' => {
                open.pop();
            }
            b'=' | b':' => {
                let paired = matches!(bytes.get(index + 1), Some(b'=' | b'>'))
                    || matches!(previous, b'=' | b'!' | b'<' | b'>');
                if let Some((true, entries)) = open.last_mut() {
                    if !paired {
                        *entries += 1;
                        if *entries > MAX_OBJECT_ENTRIES {
                            return Err(format!(
                                "line {}: an object has more than {MAX_OBJECT_ENTRIES} entries, more than lint \
                                 reads in one object (the HCL parser takes time that grows with the square of \
                                 them); lint the plan (terraform show -json PLAN)",
                                line_at(index)
                            ));
                        }
                    }
                }
            }
            _ => {}
        }
        if index < bytes.len() && !bytes[index].is_ascii_whitespace() {
            previous = bytes[index];
        }
        index += 1;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roles(text: &str) -> Contents {
        read(Path::new("main.tf"), text).unwrap()
    }

    #[test]
    fn a_provider_reference_names_the_issuer_and_variables_resolve() {
        let contents = roles(
            r#"
variable "org" {
  default = "acme"
}
locals {
  subject = "repo:${var.org}/*"
}
resource "aws_iam_openid_connect_provider" "github" {
  url            = "https://token.actions.githubusercontent.com"
  client_id_list = ["sts.amazonaws.com"]
}
resource "aws_iam_role" "ci" {
  assume_role_policy = jsonencode({
    Statement = [{
      Effect    = "Allow"
      Action    = "sts:AssumeRoleWithWebIdentity"
      Principal = { Federated = aws_iam_openid_connect_provider.github.arn }
      Condition = { StringLike = { "token.actions.githubusercontent.com:sub" = local.subject } }
    }]
  })
}
"#,
        );
        let role = &contents.roles[0];
        assert_eq!(role.resource, "aws_iam_role.ci");
        assert_eq!(role.line, Some(13));
        let statement = &role.policy["Statement"][0];
        assert!(
            statement["Principal"]["Federated"]
                .as_str()
                .unwrap()
                .ends_with(":oidc-provider/token.actions.githubusercontent.com")
        );
        assert_eq!(
            statement["Condition"]["StringLike"]["token.actions.githubusercontent.com:sub"],
            "repo:acme/*"
        );
    }

    #[test]
    fn a_policy_document_data_source_renders_its_statements() {
        let contents = roles(
            r#"
data "aws_iam_policy_document" "trust" {
  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]
    principals {
      type        = "Federated"
      identifiers = ["arn:aws:iam::123456789012:oidc-provider/gitlab.com"]
    }
    condition {
      test     = "StringLike"
      variable = "gitlab.com:sub"
      values   = ["project_path:acme/*"]
    }
  }
}
resource "aws_iam_role" "deploy" {
  assume_role_policy = data.aws_iam_policy_document.trust.json
}
resource "aws_iam_role" "other" {
  assume_role_policy = var.policy
}
"#,
        );
        let policy = &contents.roles[0].policy;
        assert_eq!(policy["Statement"][0]["Effect"], "Allow");
        assert_eq!(
            policy["Statement"][0]["Condition"]["StringLike"]["gitlab.com:sub"][0],
            "project_path:acme/*"
        );
        assert_eq!(contents.unresolved[0].resource, "aws_iam_role.other");
        assert!(
            contents.unresolved[0].reason.contains("var.policy"),
            "{:?}",
            contents.unresolved
        );
    }

    #[test]
    fn a_module_that_builds_an_oidc_role_is_named_not_guessed() {
        let contents = roles(
            r#"
module "github_oidc" {
  source   = "terraform-aws-modules/iam/aws//modules/iam-github-oidc-role"
  subjects = ["acme/*"]
}
module "network" {
  source = "./network"
}
"#,
        );
        assert!(contents.roles.is_empty());
        assert_eq!(contents.unresolved.len(), 1, "{:?}", contents.unresolved);
        assert_eq!(contents.unresolved[0].resource, "module.github_oidc");
        assert_eq!(contents.unresolved[0].line, Some(2));
    }

    #[test]
    fn a_huge_object_literal_is_refused_before_parsing() {
        let entries = |n: usize| -> String {
            (0..n)
                .map(|i| format!("    \"k{i}\" = \"a = b: c\" # x = y\n"))
                .collect()
        };
        let huge = format!(
            "# assume_role_policy\nlocals {{\n  m = {{\n{}  }}\n}}\n",
            entries(MAX_OBJECT_ENTRIES + 1)
        );
        let error = read(Path::new("x.tf"), &huge).unwrap_err();
        assert!(
            error.starts_with("line ") && error.contains("more than 5000 entries"),
            "{error}"
        );
        let fine = format!(
            "locals {{\n  m = {{\n{}  }}\n}}\n",
            entries(MAX_OBJECT_ENTRIES)
        );
        assert!(read(Path::new("x.tf"), &fine).is_ok());
        // A block's body is no object: as many attributes as it likes.
        let body: String = (0..MAX_OBJECT_ENTRIES + 10)
            .map(|i| format!("  l{i} = {i}\n"))
            .collect();
        assert!(read(Path::new("x.tf"), &format!("locals {{\n{body}}}\n")).is_ok());
    }

    #[test]
    fn deep_brackets_are_refused_before_parsing() {
        let text = format!("x = {}{}", "[".repeat(100_000), "]".repeat(100_000));
        let error = read(Path::new("x.tf"), &text).unwrap_err();
        assert!(error.contains("nested more than"), "{error}");
        let text = format!(
            "x = \"${{{}{}}}\"",
            "[".repeat(100_000),
            "]".repeat(100_000)
        );
        let error = read(Path::new("x.tf"), &text).unwrap_err();
        assert!(error.contains("nested more than"), "{error}");
    }
}
