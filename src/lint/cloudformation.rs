//! CloudFormation as `lint` reads it: a template's roles with their trust policies evaluated as
//! CloudFormation evaluates them when it deploys the stack. Parameters take their `Default` or the
//! value `--parameter` gives; `Ref`, `Fn::Sub` (both forms), `Fn::Join`, `Fn::Select`,
//! `Fn::Split`, `Fn::FindInMap` and `Fn::If` with the template's `Conditions` are evaluated; what
//! is known only once deployed (the account, another resource's attributes, an import) is
//! [`unknown`]. A condition that cannot be decided is linted both ways: one role per outcome. A
//! `AWS::CloudFormation::StackSet`'s `TemplateBody` is read as the template it is.
//!
//! Pulumi YAML programs are read here too: `aws:iam:Role` and `aws:iam/role:Role`, with
//! `${...}` interpolations of `config` and `variables` known where the program gives them.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Map, Value};

use super::read::{Contents, Place, Role, Unresolved};
use super::unknown;
use crate::bounded;

/// How many undecided conditions a role is linted under every outcome of (2^n roles).
const MAX_UNDECIDED: usize = 4;
/// How deep intrinsic functions (and StackSets' templates) are followed.
const MAX_DEPTH: usize = 32;

/// A template's parameters, mappings and conditions, and what `--parameter` set.
struct Template<'t> {
    parameters: BTreeMap<String, Value>,
    resources: Option<&'t Map<String, Value>>,
    mappings: Option<&'t Value>,
    conditions: Option<&'t Map<String, Value>>,
}

/// What a role is evaluated under: each undecided condition's assumed outcome.
type Assumed = BTreeMap<String, bool>;

impl<'t> Template<'t> {
    fn new(document: &'t Value, given: &[(String, String)]) -> Template<'t> {
        let mut parameters = BTreeMap::new();
        for (name, declared) in document
            .get("Parameters")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            let list = declared
                .get("Type")
                .and_then(Value::as_str)
                .is_some_and(|t| t.starts_with("List<") || t == "CommaDelimitedList");
            let value = match given.iter().rev().find(|(n, _)| n == name) {
                Some((_, value)) => Some(value.clone()),
                None => declared.get("Default").map(|d| match d {
                    Value::String(s) => s.clone(),
                    Value::Array(items) => items
                        .iter()
                        .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_owned))
                        .collect::<Vec<_>>()
                        .join(","),
                    other => other.to_string(),
                }),
            };
            let value = match value {
                Some(text) if list => Value::Array(
                    text.split(',')
                        .map(|s| Value::String(s.trim().to_owned()))
                        .collect(),
                ),
                Some(text) => Value::String(text),
                None => unknown::value(
                    name,
                    &format!("parameter {name} has no Default and no --parameter gives it"),
                ),
            };
            parameters.insert(name.clone(), value);
        }
        Template {
            parameters,
            resources: document.get("Resources").and_then(Value::as_object),
            mappings: document.get("Mappings"),
            conditions: document.get("Conditions").and_then(Value::as_object),
        }
    }

    /// A condition's outcome: decided, or `None` (with the conditions it depends on in
    /// `undecided`).
    fn condition(
        &self,
        name: &str,
        assumed: &Assumed,
        undecided: &mut Vec<String>,
        depth: usize,
    ) -> Option<bool> {
        if let Some(outcome) = assumed.get(name) {
            return Some(*outcome);
        }
        let definition = self.conditions.and_then(|c| c.get(name));
        let outcome = match definition {
            Some(definition) if depth < MAX_DEPTH => {
                self.decide(definition, assumed, undecided, depth + 1)
            }
            _ => None,
        };
        if outcome.is_none() && !undecided.iter().any(|u| u == name) {
            undecided.push(name.to_owned());
        }
        outcome
    }

    fn decide(
        &self,
        definition: &Value,
        assumed: &Assumed,
        undecided: &mut Vec<String>,
        depth: usize,
    ) -> Option<bool> {
        let (function, arguments) = single(definition)?;
        let list = arguments.as_array();
        match function {
            "Condition" => self.condition(arguments.as_str()?, assumed, undecided, depth),
            "Fn::Equals" => {
                let [a, b] = list?.as_slice() else {
                    return None;
                };
                let (a, b) = (
                    self.evaluate(a, assumed, undecided, depth),
                    self.evaluate(b, assumed, undecided, depth),
                );
                (!unknown::in_value(&a) && !unknown::in_value(&b)).then(|| a == b)
            }
            "Fn::Not" => self
                .decide(list?.first()?, assumed, undecided, depth + 1)
                .map(|b| !b),
            "Fn::And" | "Fn::Or" => {
                let outcomes: Vec<Option<bool>> = list?
                    .iter()
                    .map(|c| self.decide(c, assumed, undecided, depth + 1))
                    .collect();
                let deciding = function == "Fn::Or";
                if outcomes.contains(&Some(deciding)) {
                    Some(deciding)
                } else if outcomes.iter().all(Option::is_some) {
                    Some(!deciding)
                } else {
                    None
                }
            }
            _ => None,
        }
    }

    /// A value with its intrinsic functions evaluated; `AWS::NoValue` removes the key or element.
    fn evaluate(
        &self,
        value: &Value,
        assumed: &Assumed,
        undecided: &mut Vec<String>,
        depth: usize,
    ) -> Value {
        if depth > MAX_DEPTH {
            return unknown::value("...", "its functions are nested too deep");
        }
        match value {
            Value::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|i| self.evaluate(i, assumed, undecided, depth + 1))
                    .filter(|v| !is_no_value(v))
                    .collect(),
            ),
            Value::Object(map) => {
                if let Some((function, arguments)) = single(value) {
                    if function == "Ref" || function.starts_with("Fn::") {
                        return self.function(function, arguments, assumed, undecided, depth);
                    }
                }
                let mut out = Map::new();
                for (key, item) in map {
                    let item = self.evaluate(item, assumed, undecided, depth + 1);
                    if !is_no_value(&item) {
                        out.insert(key.clone(), item);
                    }
                }
                Value::Object(out)
            }
            other => other.clone(),
        }
    }

    fn function(
        &self,
        function: &str,
        arguments: &Value,
        assumed: &Assumed,
        undecided: &mut Vec<String>,
        depth: usize,
    ) -> Value {
        let written = || {
            format!(
                "{function}: {}",
                crate::shown::value(&arguments.to_string())
            )
        };
        let mut evaluate = |v: &Value| self.evaluate(v, assumed, undecided, depth + 1);
        match (function, arguments) {
            ("Ref", Value::String(name)) => self.reference(name),
            ("Fn::Sub", Value::String(text)) => {
                self.substitute(text, &Map::new(), assumed, undecided, depth)
            }
            ("Fn::Sub", Value::Array(parts)) => match parts.as_slice() {
                [Value::String(text), variables] => match evaluate(variables) {
                    Value::Object(variables) => {
                        self.substitute(text, &variables, assumed, undecided, depth)
                    }
                    _ => unknown::value(&written(), "its variables are not a map"),
                },
                _ => unknown::value(&written(), "Fn::Sub takes a string, or a string and a map"),
            },
            ("Fn::Join", Value::Array(parts)) => match parts.as_slice() {
                [separator, list] => match (evaluate(separator), evaluate(list)) {
                    (Value::String(separator), Value::Array(items)) => {
                        let pieces: Option<Vec<String>> = items
                            .iter()
                            .map(|i| i.as_str().map(str::to_owned))
                            .collect();
                        match pieces {
                            Some(pieces) => Value::String(pieces.join(&separator)),
                            None => {
                                unknown::value(&written(), "it joins values that are not strings")
                            }
                        }
                    }
                    (_, list) => unknown::value(&written(), &format!("its list is {}", why(&list))),
                },
                _ => unknown::value(&written(), "Fn::Join takes a separator and a list"),
            },
            ("Fn::Select", Value::Array(parts)) => match parts.as_slice() {
                [index, list] => {
                    let index = evaluate(index);
                    let index = index
                        .as_u64()
                        .or_else(|| index.as_str().and_then(|s| s.parse().ok()));
                    match (index, evaluate(list)) {
                        (Some(index), Value::Array(items)) => {
                            items.get(index as usize).cloned().unwrap_or_else(|| {
                                unknown::value(&written(), "the index is out of range")
                            })
                        }
                        (_, list) => {
                            unknown::value(&written(), &format!("its list is {}", why(&list)))
                        }
                    }
                }
                _ => unknown::value(&written(), "Fn::Select takes an index and a list"),
            },
            ("Fn::Split", Value::Array(parts)) => match parts.as_slice() {
                [separator, text] => match (evaluate(separator), evaluate(text)) {
                    (Value::String(separator), Value::String(text)) if !unknown::in_text(&text) => {
                        Value::Array(
                            text.split(separator.as_str())
                                .map(|s| Value::String(s.to_owned()))
                                .collect(),
                        )
                    }
                    (_, text) => unknown::value(&written(), &format!("it splits {}", why(&text))),
                },
                _ => unknown::value(&written(), "Fn::Split takes a separator and a string"),
            },
            ("Fn::FindInMap", Value::Array(parts)) if parts.len() >= 3 => {
                let keys: Vec<Value> = parts[..3].iter().map(&mut evaluate).collect();
                match keys
                    .iter()
                    .map(Value::as_str)
                    .collect::<Option<Vec<&str>>>()
                {
                    Some(keys) if !keys.iter().any(|k| unknown::in_text(k)) => self
                        .mappings
                        .and_then(|m| m.get(keys[0]))
                        .and_then(|m| m.get(keys[1]))
                        .and_then(|m| m.get(keys[2]))
                        .cloned()
                        .or_else(|| parts.get(3).and_then(|d| d.get("DefaultValue")).cloned())
                        .unwrap_or_else(|| {
                            unknown::value(&written(), "the mapping has no such entry")
                        }),
                    _ => unknown::value(
                        &written(),
                        &format!("its keys are {}", why(&Value::Array(keys))),
                    ),
                }
            }
            ("Fn::If", Value::Array(parts)) => match parts.as_slice() {
                [Value::String(condition), yes, no] => {
                    match self.condition(condition, assumed, undecided, depth) {
                        Some(true) => self.evaluate(yes, assumed, undecided, depth + 1),
                        Some(false) => self.evaluate(no, assumed, undecided, depth + 1),
                        None => unknown::value(
                            &format!("Fn::If {condition}"),
                            &format!("the condition {condition} is not decided"),
                        ),
                    }
                }
                _ => unknown::value(&written(), "Fn::If takes a condition and two values"),
            },
            ("Fn::GetAtt", Value::Array(parts))
                if parts.get(1).and_then(Value::as_str) == Some("Arn")
                    && parts
                        .first()
                        .and_then(Value::as_str)
                        .is_some_and(|id| self.provider(id).is_some()) =>
            {
                self.provider(parts[0].as_str().expect("checked"))
                    .expect("checked")
            }
            ("Fn::GetAtt", _) => {
                unknown::value(&written(), "a resource's attribute is known once deployed")
            }
            ("Fn::ImportValue", _) => {
                unknown::value(&written(), "another stack's export is known once deployed")
            }
            _ => unknown::value(&written(), &format!("lint does not evaluate {function}")),
        }
    }

    /// `Ref NAME`: a parameter, a pseudo parameter, or a resource's physical id.
    fn reference(&self, name: &str) -> Value {
        if let Some(value) = self.parameters.get(name) {
            return value.clone();
        }
        match name {
            "AWS::NoValue" => Value::String(NO_VALUE.into()),
            "AWS::Partition" => {
                unknown::value("AWS::Partition", "the partition is known once deployed")
            }
            _ if name.starts_with("AWS::") => {
                unknown::value(name, &format!("{name} is known once deployed"))
            }
            _ => self.provider(name).unwrap_or_else(|| {
                unknown::value(
                    name,
                    &format!("the physical id of {name} is known once deployed"),
                )
            }),
        }
    }

    /// The ARN of an `AWS::IAM::OIDCProvider` of the template (its `Ref` and its `Arn`): the
    /// account is known once deployed, the issuer is its `Url` without `https://`.
    fn provider(&self, id: &str) -> Option<Value> {
        let resource = self.resources?.get(id)?;
        let kind = resource.get("Type").and_then(Value::as_str);
        if !matches!(
            kind,
            Some("AWS::IAM::OIDCProvider" | "Custom::AWSCDKOpenIdConnectProvider")
        ) {
            return None;
        }
        let url = resource.pointer("/Properties/Url")?;
        let url = self.evaluate(url, &Assumed::new(), &mut Vec::new(), MAX_DEPTH - 4);
        let url = url.as_str()?;
        Some(Value::String(format!(
            "arn:aws:iam::{}:oidc-provider/{}",
            unknown::unknown("AWS::AccountId", "the account is known once deployed"),
            super::bare_url(url)
        )))
    }

    /// `Fn::Sub`: `${Name}`, `${Resource.Attribute}` and `${!Literal}`.
    fn substitute(
        &self,
        text: &str,
        variables: &Map<String, Value>,
        _assumed: &Assumed,
        _undecided: &mut [String],
        _depth: usize,
    ) -> Value {
        let mut out = String::new();
        let mut rest = text;
        while let Some(open) = rest.find("${") {
            out.push_str(&rest[..open]);
            let inner = &rest[open + 2..];
            let Some(close) = inner.find('}') else {
                out.push_str(&rest[open..]);
                rest = "";
                break;
            };
            let name = &inner[..close];
            rest = &inner[close + 1..];
            if let Some(literal) = name.strip_prefix('!') {
                out.push_str("${");
                out.push_str(literal);
                out.push('}');
                continue;
            }
            let value = match variables.get(name) {
                Some(value) => value.clone(),
                None if name.contains('.') && !name.starts_with("AWS::") => {
                    unknown::value(name, "a resource's attribute is known once deployed")
                }
                None => self.reference(name),
            };
            match value {
                Value::String(s) => out.push_str(&s),
                Value::Number(n) => out.push_str(&n.to_string()),
                other => out.push_str(&unknown::unknown(
                    name,
                    &format!("it is {other}, not a string"),
                )),
            }
        }
        out.push_str(rest);
        Value::String(out)
    }
}

/// What `AWS::NoValue` evaluates to until its key or element is removed.
const NO_VALUE: &str = "\u{FDD0}AWS::NoValue\u{FDD2}";

fn is_no_value(value: &Value) -> bool {
    value.as_str() == Some(NO_VALUE)
}

/// `{"Fn::X": arguments}`: the one key of an object, and its value.
fn single(value: &Value) -> Option<(&str, &Value)> {
    let map = value.as_object()?;
    if map.len() != 1 {
        return None;
    }
    map.iter().next().map(|(k, v)| (k.as_str(), v))
}

fn why(value: &Value) -> String {
    if unknown::in_value(value) {
        unknown::explained(value)
    } else {
        crate::shown::value(&value.to_string()).into_owned()
    }
}

/// The roles of a CloudFormation template: each `AWS::IAM::Role` (under every outcome of the
/// conditions it depends on that cannot be decided), and the roles of each StackSet's template.
pub fn roles(
    path: &Path,
    document: &Value,
    given: &[(String, String)],
    place: Place,
    contents: &mut Contents,
    depth: usize,
) {
    let template = Template::new(document, given);
    let Some(resources) = document.get("Resources").and_then(Value::as_object) else {
        return;
    };
    for (id, resource) in resources {
        let (line, suppressed) = place(id);
        match resource.get("Type").and_then(Value::as_str) {
            Some("AWS::IAM::Role") => {}
            Some("AWS::CloudFormation::StackSet") if depth < 2 => {
                stack_set(path, id, resource, &template, place, contents, depth);
                continue;
            }
            _ => continue,
        }
        let Some(policy) = resource.pointer("/Properties/AssumeRolePolicyDocument") else {
            contents.unresolved.push(Unresolved {
                path: path.to_path_buf(),
                line,
                resource: id.clone(),
                reason: "it has no AssumeRolePolicyDocument, which CloudFormation requires".into(),
            });
            continue;
        };
        for (assumed, label) in outcomes(&template, resource, policy) {
            let mut undecided = Vec::new();
            // A role whose own Condition is false is not created.
            if let Some(Value::String(condition)) = resource.get("Condition") {
                if template.condition(condition, &assumed, &mut undecided, 0) == Some(false) {
                    continue;
                }
            }
            let value = template.evaluate(policy, &assumed, &mut undecided, 0);
            let resource_name = format!("{id}{label}");
            match unknown::policy(
                &value,
                "give them with --parameter NAME=VALUE, or lint the deployed role (aws iam get-role)",
            ) {
                Ok(policy) => contents.roles.push(Role {
                    path: path.to_path_buf(),
                    line,
                    resource: resource_name,
                    policy,
                    suppressed: suppressed.clone(),
                }),
                Err(reason) => contents.unresolved.push(Unresolved {
                    path: path.to_path_buf(),
                    line,
                    resource: resource_name,
                    reason,
                }),
            }
        }
    }
}

/// Every assignment of the undecided conditions a role depends on (at most
/// 2^[`MAX_UNDECIDED`]), with the words that name it: ` [if IsProd]`, ` [unless IsProd]`.
fn outcomes(template: &Template, resource: &Value, policy: &Value) -> Vec<(Assumed, String)> {
    let mut undecided = Vec::new();
    if let Some(Value::String(condition)) = resource.get("Condition") {
        template.condition(condition, &Assumed::new(), &mut undecided, 0);
    }
    template.evaluate(policy, &Assumed::new(), &mut undecided, 0);
    undecided.truncate(MAX_UNDECIDED);
    let mut all = vec![(Assumed::new(), String::new())];
    for name in &undecided {
        all = all
            .into_iter()
            .flat_map(|(assumed, label)| {
                [true, false].map(|outcome| {
                    let mut assumed = assumed.clone();
                    assumed.insert(name.clone(), outcome);
                    let word = if outcome { "if" } else { "unless" };
                    (assumed, format!("{label} [{word} {name}]"))
                })
            })
            .collect();
    }
    all
}

/// The roles of a StackSet's `TemplateBody`, with the StackSet's `Parameters`.
fn stack_set(
    path: &Path,
    id: &str,
    resource: &Value,
    template: &Template,
    place: Place,
    contents: &mut Contents,
    depth: usize,
) {
    let (line, _) = place(id);
    let mut undecided = Vec::new();
    let body = resource
        .pointer("/Properties/TemplateBody")
        .map(|b| template.evaluate(b, &Assumed::new(), &mut undecided, 0));
    let inner = match body {
        Some(Value::String(text)) if !unknown::in_text(&text) => bounded::parse_document(&text),
        Some(Value::Object(map)) => Ok(Value::Object(map)),
        Some(other) => Err(format!("its TemplateBody is {}", why(&other))),
        None => return,
    };
    let given: Vec<(String, String)> = resource
        .pointer("/Properties/Parameters")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|p| {
            let value = template.evaluate(
                p.get("ParameterValue")?,
                &Assumed::new(),
                &mut Vec::new(),
                0,
            );
            Some((
                p.get("ParameterKey")?.as_str()?.to_owned(),
                value.as_str()?.to_owned(),
            ))
        })
        .collect();
    match inner {
        Ok(document) => {
            let mut inner = Contents::default();
            let at = |_: &str| (line, Vec::new());
            roles(path, &document, &given, &at, &mut inner, depth + 1);
            for mut role in inner.roles {
                role.resource = format!("{id}/{}", role.resource);
                contents.roles.push(role);
            }
            for mut role in inner.unresolved {
                role.resource = format!("{id}/{}", role.resource);
                contents.unresolved.push(role);
            }
        }
        Err(reason) => contents.unresolved.push(Unresolved {
            path: path.to_path_buf(),
            line,
            resource: id.to_owned(),
            reason: format!("the template it deploys cannot be read: {reason}"),
        }),
    }
}

/// The roles of a Pulumi YAML program: `aws:iam:Role` and `aws:iam/role:Role`, their
/// `assumeRolePolicy` (`fn::toJSON` of the document, or its text) with `${...}` of `config` and
/// `variables` known where the program gives them.
pub fn pulumi(path: &Path, document: &Value, place: Place, contents: &mut Contents) {
    let Some(resources) = document.get("resources").and_then(Value::as_object) else {
        return;
    };
    let mut known = BTreeMap::new();
    for (name, entry) in document
        .get("config")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        let value = entry
            .get("default")
            .or(entry.get("value"))
            .or(Some(entry).filter(|e| !e.is_object()));
        if let Some(Value::String(value)) = value {
            known.insert(name.clone(), value.clone());
        }
    }
    for (name, value) in document
        .get("variables")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        if let Value::String(value) = value {
            if !value.contains("${") {
                known.insert(name.clone(), value.clone());
            }
        }
    }
    // An OIDC provider of the program: its ARN names the issuer (the account is known once
    // deployed), its url is read back without https://.
    for (name, resource) in resources {
        let kind = resource.get("type").and_then(Value::as_str);
        if !matches!(
            kind,
            Some(
                "aws:iam:OpenIdConnectProvider"
                    | "aws:iam/openIdConnectProvider:OpenIdConnectProvider"
            )
        ) {
            continue;
        }
        if let Some(Value::String(url)) = resource.pointer("/properties/url") {
            if !url.contains("${") {
                let url = super::bare_url(url);
                let account = unknown::unknown(
                    "aws:getCallerIdentity",
                    "the account is known once deployed",
                );
                known.insert(
                    format!("{name}.arn"),
                    format!("arn:aws:iam::{account}:oidc-provider/{url}"),
                );
                known.insert(format!("{name}.url"), url.to_owned());
            }
        }
    }
    for (name, resource) in resources {
        let kind = resource.get("type").and_then(Value::as_str);
        if !matches!(kind, Some("aws:iam:Role" | "aws:iam/role:Role")) {
            continue;
        }
        let Some(policy) = resource.pointer("/properties/assumeRolePolicy") else {
            continue;
        };
        let (line, suppressed) = place(name);
        let policy = policy.get("fn::toJSON").unwrap_or(policy);
        let policy = interpolated(policy, &known);
        match unknown::policy(&policy, "give them a default in the program's config") {
            Ok(policy) => contents.roles.push(Role {
                path: path.to_path_buf(),
                line,
                resource: name.clone(),
                policy,
                suppressed,
            }),
            Err(reason) => contents.unresolved.push(Unresolved {
                path: path.to_path_buf(),
                line,
                resource: name.clone(),
                reason,
            }),
        }
    }
}

/// A Pulumi YAML value with `${name}` and `${config.name}` of known values written in, other
/// interpolations unknown, and `$${` as `${`.
fn interpolated(value: &Value, known: &BTreeMap<String, String>) -> Value {
    match value {
        Value::String(text) => {
            let mut out = String::new();
            let mut rest = text.as_str();
            while let Some(open) = rest.find("${") {
                if rest[..open].ends_with('$') {
                    out.push_str(&rest[..open - 1]);
                    out.push_str("${");
                    rest = &rest[open + 2..];
                    continue;
                }
                out.push_str(&rest[..open]);
                let inner = &rest[open + 2..];
                let Some(close) = inner.find('}') else {
                    out.push_str(&rest[open..]);
                    rest = "";
                    break;
                };
                let name = &inner[..close];
                let key = name.strip_prefix("config.").unwrap_or(name);
                match known.get(key) {
                    Some(value) => out.push_str(value),
                    None => out.push_str(&unknown::unknown(
                        name,
                        &format!(
                            "{name} is known when the program runs; give it a default in config"
                        ),
                    )),
                }
                rest = &inner[close + 1..];
            }
            out.push_str(rest);
            Value::String(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(|i| interpolated(i, known)).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let key = interpolated(&Value::String(k.clone()), known);
                    (key.as_str().unwrap_or(k).to_owned(), interpolated(v, known))
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn evaluate(document: &Value, value: &Value) -> Value {
        Template::new(document, &[]).evaluate(value, &Assumed::new(), &mut Vec::new(), 0)
    }

    #[test]
    fn intrinsic_functions_evaluate_as_cloudformation_does() {
        let document = json!({
            "Parameters": { "Owner": { "Type": "String", "Default": "acme" }, "Repo": { "Type": "String" } },
            "Mappings": { "Subjects": { "prod": { "sub": "repo:acme/app:environment:prod" } } },
        });
        let sub = evaluate(
            &document,
            &json!({ "Fn::Sub": "repo:${Owner}/${!Literal}:*" }),
        );
        assert_eq!(sub, json!("repo:acme/${Literal}:*"));
        let joined = evaluate(
            &document,
            &json!({ "Fn::Join": [":", ["repo", { "Ref": "Owner" }]] }),
        );
        assert_eq!(joined, json!("repo:acme"));
        let mapped = evaluate(
            &document,
            &json!({ "Fn::FindInMap": ["Subjects", "prod", "sub"] }),
        );
        assert_eq!(mapped, json!("repo:acme/app:environment:prod"));
        let repo = evaluate(
            &document,
            &json!({ "Fn::Sub": ["repo:${Owner}/${R}:*", { "R": { "Ref": "Repo" } }] }),
        );
        assert_eq!(
            unknown::display(repo.as_str().unwrap()),
            "repo:acme/${Repo}:*"
        );
        assert!(unknown::explained(&repo).contains("parameter Repo has no Default"));
        let selected = evaluate(
            &document,
            &json!({ "Fn::Select": [1, { "Fn::Split": ["/", "a/b"] }] }),
        );
        assert_eq!(selected, json!("b"));
        let dropped = evaluate(&document, &json!([1, { "Ref": "AWS::NoValue" }]));
        assert_eq!(dropped, json!([1]));
    }

    #[test]
    fn an_undecided_condition_is_linted_both_ways() {
        let document = json!({
            "Parameters": { "Env": { "Type": "String" } },
            "Conditions": { "IsProd": { "Fn::Equals": [{ "Ref": "Env" }, "prod"] } },
        });
        let template = Template::new(&document, &[]);
        let policy = json!({ "Fn::If": ["IsProd", "a", "b"] });
        let labels: Vec<String> = outcomes(&template, &json!({}), &policy)
            .into_iter()
            .map(|(_, label)| label)
            .collect();
        assert_eq!(labels, [" [if IsProd]", " [unless IsProd]"]);
        let given = Template::new(&document, &[("Env".into(), "prod".into())]);
        assert_eq!(outcomes(&given, &json!({}), &policy).len(), 1);
        assert_eq!(
            given.evaluate(&policy, &Assumed::new(), &mut Vec::new(), 0),
            json!("a")
        );
    }
}
