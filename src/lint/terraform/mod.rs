//! Terraform as `lint` reads it: the trust policies of a module (a folder of `.tf` files, read
//! together as Terraform reads them) and of a plan or state in JSON.
//!
//! A configuration is parsed with `hcl-rs` and evaluated, never run ([`evaluate`]): variables
//! take their values as `terraform plan` gives them (defaults, then `terraform.tfvars`, then
//! `*.auto.tfvars` in name order, then `--var-file` and `--var`); locals, resources and data
//! sources are found across the module's files. An `aws_iam_role`'s `assume_role_policy` (an
//! `awscc_iam_role`'s `assume_role_policy_document`) is evaluated; so is a
//! `data "aws_iam_policy_document"` that trusts an OIDC provider and no role uses. What cannot be
//! known stays unknown, with its reason, and the role is unproven where it matters.

mod evaluate;
mod functions;
mod json;
mod modules;

use std::cell::Cell;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use hcl::edit::Span;
use hcl::{Block, Body, Expression};
use serde_json::{Map, Value};

use super::read::{Contents, Federation, Role, Suppressions, Unresolved, comment_suppressions};
use super::unknown;
use crate::bounded;
pub use evaluate::EVALUATION_BYTES;
use evaluate::{Declarations, Model, Variable};

/// The most a module's `.tf` files may hold together.
pub const MODULE_BYTES: u64 = 16 << 20;

/// Values for a module's variables besides those its folder gives: `--var-file` files, then
/// `--var NAME=VALUE`, as `terraform plan` takes them.
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    /// `--var-file`: tfvars files, in order.
    pub var_files: Vec<PathBuf>,
    /// `--var NAME=VALUE`, in order.
    pub vars: Vec<(String, String)>,
}

/// One parsed file of a module: its top-level blocks, each with its line and the line of its
/// policy attribute.
struct Source {
    path: PathBuf,
    text: String,
    blocks: Vec<Placed>,
}

struct Placed {
    block: Block,
    line: usize,
    policy_line: Option<usize>,
}

/// Parses one `.tf` file.
fn parse(path: &Path, text: &str) -> Result<Source, String> {
    unknown::check_input(text)?;
    if path.to_string_lossy().ends_with(".tf.json") {
        // Its blocks are placed at the lines of their names in the JSON.
        let mut source = parse(&path.with_extension("json.tf"), &json::native(text)?)?;
        for placed in &mut source.blocks {
            let name = placed.block.labels.last().map(|l| l.as_str().to_owned());
            let line = name
                .and_then(|name| super::read::line_of(text, &name, None))
                .unwrap_or(1);
            placed.line = line;
            placed.policy_line = placed.policy_line.map(|_| line);
        }
        source.path = path.to_path_buf();
        source.text = text.to_owned();
        return Ok(source);
    }
    check_depth(text)?;
    let edit_body = hcl::edit::parser::parse_body(text).map_err(|e| {
        format!(
            "it is not Terraform (HCL) it can read: {}",
            first_line(&e.to_string())
        )
    })?;
    let mut lines = super::read::Lines::new(text);
    let mut blocks = Vec::new();
    for structure in edit_body.iter() {
        if let Some(block) = structure.as_block() {
            let line = block.span().map_or(1, |span| lines.at(span.start));
            let policy_line = ["assume_role_policy", "assume_role_policy_document"]
                .iter()
                .find_map(|name| block.body.get_attribute(name))
                .and_then(|a| a.span())
                .map(|span| lines.at(span.start));
            blocks.push(Placed {
                block: Block::from(block.clone()),
                line,
                policy_line,
            });
        }
    }
    Ok(Source {
        path: path.to_path_buf(),
        text: text.to_owned(),
        blocks,
    })
}

/// The roles of one Terraform file read alone (standard input, `simulate --policy`): a module
/// of one file, reading `file()`s and local modules beside it.
pub fn read(path: &Path, text: &str) -> Result<Contents, String> {
    let source = parse(path, text)?;
    let folder = (path != Path::new("-")).then(|| {
        path.parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .to_path_buf()
    });
    let loader = modules::Loader::new(folder.clone());
    let module = Module {
        sources: Rc::new(vec![source]),
        folder,
        values: Vec::new(),
        prefix: String::new(),
        key: String::new(),
        call: None,
        depth: 0,
        loader: &loader,
    };
    let contents = module.contents()?;
    Ok(contents)
}

/// The `.tf` files of a folder, parsed, and those that could not be: `(path, reason)`.
fn sources(folder: &Path) -> (Vec<Source>, Vec<(PathBuf, String)>) {
    let mut refused = Vec::new();
    let mut sources = Vec::new();
    let mut total = 0u64;
    for path in listed(folder, &[".tf", ".tf.json"], &mut refused) {
        let text = match bounded::read_text_unlinked(&path, super::read::TERRAFORM_BYTES) {
            Ok(text) => text,
            Err(e) => {
                refused.push((path, e.to_string()));
                continue;
            }
        };
        total += text.len() as u64;
        if total > MODULE_BYTES {
            refused.push((
                path,
                format!("the module's .tf files hold more than {MODULE_BYTES} bytes together; lint the plan"),
            ));
            continue;
        }
        match parse(&path, &text) {
            Ok(source) => sources.push(source),
            Err(reason) => refused.push((path, reason)),
        }
    }
    (sources, refused)
}

/// The regular files of a folder (never a link) whose names end with one of `endings`, in name
/// order.
fn listed(folder: &Path, endings: &[&str], refused: &mut Vec<(PathBuf, String)>) -> Vec<PathBuf> {
    let mut names: Vec<PathBuf> = match std::fs::read_dir(folder) {
        Ok(entries) => entries.filter_map(|e| e.ok().map(|e| e.path())).collect(),
        Err(e) => {
            refused.push((folder.to_path_buf(), e.to_string()));
            return Vec::new();
        }
    };
    names.retain(|path| {
        let named = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| endings.iter().any(|e| n.ends_with(e)));
        named && std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_file())
    });
    names.sort();
    names
}

/// What a module folder holds: its roles (and its modules' roles), the files that could not be
/// read (`(path, reason)`: the rest are still read, and what those declared is then unknown), and
/// the folders of the local modules it calls.
pub struct Read {
    pub contents: Contents,
    pub refused: Vec<(PathBuf, String)>,
    pub called: BTreeSet<PathBuf>,
}

/// The roles of the module in `folder`: every `*.tf` file in it, with the variables its tfvars
/// files and `inputs` give, and the modules it calls.
pub fn read_module(folder: &Path, inputs: &Inputs) -> Read {
    let (sources, mut refused) = self::sources(folder);
    // Variables as `terraform plan` sets them, the last one winning.
    let mut files: Vec<PathBuf> = ["terraform.tfvars", "terraform.tfvars.json"]
        .iter()
        .map(|name| folder.join(name))
        .filter(|p| std::fs::symlink_metadata(p).is_ok_and(|m| m.file_type().is_file()))
        .collect();
    files.extend(listed(
        folder,
        &[".auto.tfvars", ".auto.tfvars.json"],
        &mut refused,
    ));
    files.extend(inputs.var_files.iter().cloned());
    let mut values = Vec::new();
    for file in files {
        match tfvars(&file) {
            Ok(set) => values.extend(set),
            Err(reason) => refused.push((file, reason)),
        }
    }
    values.extend(
        inputs
            .vars
            .iter()
            .map(|(name, value)| (name.clone(), var_value(value))),
    );
    let loader = modules::Loader::new(Some(folder.to_path_buf()));
    let module = Module {
        sources: Rc::new(sources),
        folder: Some(folder.to_path_buf()),
        values,
        prefix: String::new(),
        key: String::new(),
        call: None,
        depth: 0,
        loader: &loader,
    };
    let contents = module.contents();
    refused.extend(loader.refused.take());
    let contents = contents.unwrap_or_else(|reason| {
        refused.push((folder.to_path_buf(), reason));
        Contents::default()
    });
    // A module that calls itself is still a root.
    let mut called = loader.called.take();
    if let Ok(own) = std::fs::canonicalize(folder) {
        called.remove(&own);
    }
    Read {
        contents,
        refused,
        called,
    }
}

/// A `--var` value as Terraform reads it: a list or object in HCL syntax, else the string.
fn var_value(text: &str) -> Value {
    let trimmed = text.trim_start();
    if trimmed.starts_with('[') || trimmed.starts_with('{') {
        if let Ok(expression) = text.parse::<Expression>() {
            let (declarations, budget) = (Declarations::default(), Cell::new(EVALUATION_BYTES));
            return Model::new(&declarations, &budget).evaluate(&expression);
        }
    }
    Value::String(text.to_owned())
}

/// The variables a tfvars file sets (HCL, or JSON for `.json`).
fn tfvars(path: &Path) -> Result<Vec<(String, Value)>, String> {
    let text = bounded::read_text_unlinked(path, super::read::TERRAFORM_BYTES)
        .map_err(|e| e.to_string())?;
    unknown::check_input(&text)?;
    if path.extension().is_some_and(|e| e == "json") {
        return match bounded::parse_json(&text).map_err(|e| e.to_string())? {
            Value::Object(map) => Ok(map.into_iter().collect()),
            _ => Err("a .tfvars.json file holds one JSON object".into()),
        };
    }
    check_depth(&text)?;
    let body: Body = hcl::parse(&text).map_err(|e| {
        format!(
            "it is not a tfvars file lint can read: {}",
            first_line(&e.to_string())
        )
    })?;
    let (declarations, budget) = (Declarations::default(), Cell::new(EVALUATION_BYTES));
    let model = Model::new(&declarations, &budget);
    Ok(body
        .attributes()
        .map(|a| (a.key.as_str().to_owned(), model.evaluate(&a.expr)))
        .collect())
}

/// A module: its files, its folder, the values set for its variables, and where it is called.
struct Module<'l> {
    sources: Rc<Vec<Source>>,
    folder: Option<PathBuf>,
    values: Vec<(String, Value)>,
    /// `module.NAME.` before each role's address (empty for the root module).
    prefix: String,
    /// The module's key in `modules.json`: `NAME`, `NAME.CHILD` (empty for the root module).
    key: String,
    /// For a model of a registry module, the call's file, line and suppressions, where its roles
    /// are placed.
    call: Option<(PathBuf, usize, Suppressions)>,
    depth: usize,
    loader: &'l modules::Loader,
}

impl Module<'_> {
    fn declarations(&self) -> Declarations<'_> {
        let mut declarations = Declarations {
            folder: self.folder.clone(),
            ..Declarations::default()
        };
        for placed in self.sources.iter().flat_map(|s| &s.blocks) {
            let block = &placed.block;
            let labels: Vec<&str> = block.labels.iter().map(|l| l.as_str()).collect();
            match (block.identifier.as_str(), &labels[..]) {
                ("variable", [name]) => {
                    let variable = match attribute(&block.body, "default") {
                        Some(default) => Variable::Default(default),
                        None => Variable::Unset,
                    };
                    declarations.variables.insert(name, variable);
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
        for (name, value) in &self.values {
            if let Some(variable) = declarations.variables.get_mut(name.as_str()) {
                *variable = Variable::Set(value.clone());
            }
        }
        declarations
    }

    /// Every role the module (and the modules it calls) makes, and the roles whose trust it does
    /// not spell out.
    fn contents(&self) -> Result<Contents, String> {
        let declarations = self.declarations();
        let model = Model::new(&declarations, &self.loader.budget);
        let mut contents = Contents::default();
        // Policy documents a role or a module call refers to are linted through it.
        let used: BTreeSet<String> = self
            .sources
            .iter()
            .flat_map(|s| &s.blocks)
            .filter(|p| {
                matches!(
                    p.block.identifier.as_str(),
                    "resource" | "module" | "locals"
                )
            })
            .flat_map(|p| referenced_documents(&p.block.body))
            .collect();
        for source in self.sources.iter() {
            let text_lines: Vec<&str> = source.text.lines().collect();
            let place = |line: usize| -> (PathBuf, usize, Vec<(String, String)>) {
                match &self.call {
                    Some((path, line, suppressed)) => (path.clone(), *line, suppressed.clone()),
                    None => (
                        source.path.clone(),
                        line,
                        comment_suppressions(&text_lines, line),
                    ),
                }
            };
            for placed in &source.blocks {
                if model.exhausted() {
                    return Err(format!(
                        "{}: line {}: its expressions evaluate to more than {EVALUATION_BYTES} bytes of values \
                         (locals or variables that refer to each other many times over); lint the plan \
                         (terraform show -json PLAN)",
                        crate::shown::path(&source.path),
                        placed.line
                    ));
                }
                let block = &placed.block;
                let labels: Vec<&str> = block.labels.iter().map(|l| l.as_str()).collect();
                let (address, policy_attribute) = match (block.identifier.as_str(), &labels[..]) {
                    ("resource", ["aws_iam_role", name]) => {
                        (format!("aws_iam_role.{name}"), "assume_role_policy")
                    }
                    ("resource", ["awscc_iam_role", name]) => (
                        format!("awscc_iam_role.{name}"),
                        "assume_role_policy_document",
                    ),
                    ("data", ["aws_iam_policy_document", name]) if !used.contains(*name) => {
                        if let Ok(policy) = policy_document(&model, &block.body) {
                            if trusts_web_identity(&policy) {
                                let (path, line, suppressed) = place(placed.line);
                                contents.roles.push(Role {
                                    path,
                                    line: Some(line),
                                    resource: format!(
                                        "{}data.aws_iam_policy_document.{name}",
                                        self.prefix
                                    ),
                                    policy,
                                    suppressed,
                                });
                            }
                        }
                        continue;
                    }
                    ("resource", [kind, name]) if super::clouds::KINDS.contains(kind) => {
                        let address = format!("{kind}.{name}");
                        let (path, line, suppressed) = place(placed.line);
                        for (resource, model) in instances(&model, &address, &block.body, true) {
                            contents.federations.push(Federation {
                                path: path.clone(),
                                line: Some(line),
                                resource: format!("{}{resource}", self.prefix),
                                kind: (*kind).to_owned(),
                                arguments: arguments(&model, &block.body),
                                suppressed: suppressed.clone(),
                            });
                        }
                        continue;
                    }
                    ("module", [name]) => {
                        let (path, line, suppressed) = place(placed.line);
                        self.call_module(
                            &model,
                            name,
                            &block.body,
                            (path, line, suppressed),
                            &mut contents,
                        )?;
                        continue;
                    }
                    _ => continue,
                };
                let Some(expression) = attribute(&block.body, policy_attribute) else {
                    continue;
                };
                // Suppressions are written above the block; the role's line is its policy's.
                let (path, line, _) = place(placed.policy_line.unwrap_or(placed.line));
                let (_, _, suppressed) = place(placed.line);
                let per_index = text_of(expression).contains("count.index");
                let evaluated: Vec<(String, Value)> =
                    instances(&model, &address, &block.body, per_index)
                        .into_iter()
                        .map(|(resource, model)| (resource, model.evaluate(expression)))
                        .collect();
                if model.exhausted() {
                    return Err(format!(
                        "{}: line {}: the expressions of {address} evaluate to more than {EVALUATION_BYTES} bytes of \
                         values (locals or variables that refer to each other many times over); lint the plan \
                         (terraform show -json PLAN)",
                        crate::shown::path(&source.path),
                        placed.line
                    ));
                }
                for (resource, value) in evaluated {
                    let resource = format!("{}{resource}", self.prefix);
                    match as_policy(&value) {
                        Ok(policy) => contents.roles.push(Role {
                            path: path.clone(),
                            line: Some(line),
                            resource,
                            policy,
                            suppressed: suppressed.clone(),
                        }),
                        Err(reason) => contents.unresolved.push(Unresolved {
                            path: path.clone(),
                            line: Some(line),
                            resource,
                            reason,
                        }),
                    }
                }
            }
        }
        Ok(contents)
    }

    /// The roles a `module "name"` block makes: its code read with the call's arguments as its
    /// variables; policies passed inside its arguments; or, when its code is not found and its
    /// arguments look like trust, an unproven role.
    fn call_module(
        &self,
        model: &Model,
        name: &str,
        body: &Body,
        (path, line, suppressed): (PathBuf, usize, Vec<(String, String)>),
        contents: &mut Contents,
    ) -> Result<(), String> {
        let address = format!("{}module.{name}", self.prefix);
        let source = match attribute(body, "source").map(|e| model.evaluate(e)) {
            Some(Value::String(source)) if !unknown::in_text(&source) => source,
            _ => String::new(),
        };
        let key = if self.key.is_empty() {
            name.to_owned()
        } else {
            format!("{}.{name}", self.key)
        };
        let meta = [
            "source",
            "version",
            "count",
            "for_each",
            "providers",
            "depends_on",
        ];
        for (instance, model) in instances(model, &address, body, true) {
            let arguments: Vec<(String, Value)> = body
                .attributes()
                .filter(|a| !meta.contains(&a.key.as_str()))
                .map(|a| (a.key.as_str().to_owned(), model.evaluate(&a.expr)))
                .collect();
            // A call that says it makes nothing (`create = false`) makes no role.
            if arguments.iter().any(|(name, value)| {
                matches!(name.as_str(), "create" | "create_role" | "enabled")
                    && value == &Value::Bool(false)
            }) {
                continue;
            }
            for (argument, value) in &arguments {
                let mut found = Vec::new();
                policies_in(value, format!("{instance}.{argument}"), &mut found);
                for (resource, policy) in found {
                    contents.roles.push(Role {
                        path: path.clone(),
                        line: Some(line),
                        resource,
                        policy,
                        suppressed: suppressed.clone(),
                    });
                }
            }
            self.loader.instances.set(self.loader.instances.get() + 1);
            if self.loader.instances.get() > modules::MAX_INSTANCES {
                // Said once, at the first instance past the bound: no role past it is read.
                if self.loader.instances.get() > modules::MAX_INSTANCES + 1 {
                    return Ok(());
                }
                contents.unresolved.push(Unresolved {
                    path: path.clone(),
                    line: Some(line),
                    resource: instance.clone(),
                    reason: format!(
                        "the configuration makes more than {} module instances, more than lint evaluates; lint \
                         the plan (terraform show -json PLAN)",
                        modules::MAX_INSTANCES
                    ),
                });
                return Ok(());
            }
            let found = match self.depth >= modules::MAX_DEPTH {
                // Said once: no module past the depth is read.
                true if self.loader.too_deep.replace(true) => continue,
                true => modules::Found::Unknown(format!(
                    "modules are nested more than {} deep, more than lint follows",
                    modules::MAX_DEPTH
                )),
                false => self.loader.find(&key, &source, self.folder.as_deref()),
            };
            let (sources, folder, call) = match found {
                modules::Found::Folder(folder, sources, at_call) => (
                    sources,
                    Some(folder),
                    at_call.then(|| (path.clone(), line, suppressed.clone())),
                ),
                modules::Found::Model(sources) => (
                    sources,
                    None,
                    Some((path.clone(), line, suppressed.clone())),
                ),
                modules::Found::Unknown(reason) => {
                    let names: Vec<&str> = arguments.iter().map(|(n, _)| n.as_str()).collect();
                    let values: Vec<Value> = arguments.iter().map(|(_, v)| v.clone()).collect();
                    if modules::looks_like_trust(&source, &names, &values) {
                        contents.unresolved.push(Unresolved {
                            path: path.clone(),
                            line: Some(line),
                            resource: instance.clone(),
                            reason: format!(
                                "its arguments look like trust, and {reason}: run terraform init and lint again, \
                                 or lint the plan (terraform show -json PLAN)"
                            ),
                        });
                    }
                    continue;
                }
            };
            let child = Module {
                sources,
                folder,
                values: arguments,
                prefix: format!("{instance}."),
                key: key.clone(),
                call: call.or_else(|| self.call.clone()),
                depth: self.depth + 1,
                loader: self.loader,
            };
            let inner = child.contents()?;
            contents.roles.extend(inner.roles);
            contents.unresolved.extend(inner.unresolved);
        }
        Ok(())
    }
}

/// Each instance a resource or module block makes, with the model its expressions are evaluated
/// in (`count.index`, `each.key` and `each.value` bound): one, one per index of a `count` or
/// element of a `for_each` the module spells out, none with `count = 0`. A block whose
/// expressions do not use `count.index` (`per_index` false) is one instance whatever its count.
fn instances<'m, 'a>(
    model: &Model<'m, 'a>,
    address: &str,
    body: &Body,
    per_index: bool,
) -> Vec<(String, Model<'m, 'a>)> {
    if let Some(count) = attribute(body, "count") {
        return match model.evaluate(count) {
            Value::Number(n) if n.as_u64() == Some(0) => Vec::new(),
            Value::Number(n) if per_index => (0..n.as_u64().unwrap_or(1).min(100))
                .map(|i| {
                    let index = serde_json::json!({ "index": i });
                    (format!("{address}[{i}]"), model.with("count", index))
                })
                .collect(),
            Value::Number(_) | Value::Bool(_) => vec![(address.to_owned(), model.clone())],
            other => {
                let reason = format!("the count of {address} is {}", unknown::explained(&other));
                let index =
                    serde_json::json!({ "index": unknown::unknown("count.index", &reason) });
                vec![(address.to_owned(), model.with("count", index))]
            }
        };
    }
    match attribute(body, "for_each").map(|e| model.evaluate(e)) {
        None => vec![(address.to_owned(), model.clone())],
        Some(collection @ (Value::Object(_) | Value::Array(_))) => each_of(collection)
            .into_iter()
            .map(|(key, value)| {
                (
                    format!("{address}[{}]", Value::String(key.clone())),
                    model.with("each", serde_json::json!({ "key": key, "value": value })),
                )
            })
            .collect(),
        Some(other) => {
            let reason = format!(
                "the for_each of {address} is {}",
                if unknown::in_value(&other) {
                    unknown::explained(&other)
                } else {
                    "not a map or set".into()
                }
            );
            let each = serde_json::json!({
                "key": unknown::unknown("each.key", &reason),
                "value": unknown::unknown("each.value", &reason),
            });
            vec![(address.to_owned(), model.with("each", each))]
        }
    }
}

/// The (key, value) pairs of a `for_each` collection: a map's entries, a set's strings.
fn each_of(collection: Value) -> Vec<(String, Value)> {
    match collection {
        Value::Object(map) => map.into_iter().collect(),
        Value::Array(items) => items
            .into_iter()
            .map(|item| {
                (
                    item.as_str()
                        .map_or_else(|| item.to_string(), str::to_owned),
                    item,
                )
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// Policies passed inside a module's arguments as JSON text: (`argument.key...`, policy).
fn policies_in(value: &Value, at: String, found: &mut Vec<(String, Value)>) {
    match value {
        Value::String(text) if text.contains("Statement") => {
            if let Ok(policy @ Value::Object(_)) = bounded::parse_json(text) {
                if policy.get("Statement").is_some() && trusts_web_identity(&policy) {
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

/// What gives a Terraform module's values.
const GIVE: &str =
    "give the values with --var or --var-file, or lint the plan (terraform show -json PLAN)";

/// A policy attribute's value as a policy document, or why not.
fn as_policy(value: &Value) -> Result<Value, String> {
    unknown::policy(value, GIVE)
}

/// Whether a policy has a statement that may trust an OIDC provider.
fn trusts_web_identity(policy: &Value) -> bool {
    let text = policy.to_string().to_ascii_lowercase();
    text.contains("assumerolewithwebidentity")
        || text.contains("\"sts:*\"")
        || unknown::in_value(policy)
}

/// The names of the policy documents a block refers to (`data.aws_iam_policy_document.NAME`).
fn referenced_documents(body: &Body) -> Vec<String> {
    let text = hcl::format::to_string(body).unwrap_or_default();
    text.match_indices("data.aws_iam_policy_document.")
        .map(|(at, marker)| {
            text[at + marker.len()..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '-')
                .collect()
        })
        .collect()
}

/// The policy a `data "aws_iam_policy_document"` renders, as the AWS provider writes it:
/// `source_policy_documents` first, its statements (`dynamic` ones expanded), then
/// `override_policy_documents` replacing statements of the same Sid.
fn policy_document(model: &Model, body: &Body) -> Result<Value, String> {
    let documents = |name: &str| -> Result<Vec<Value>, String> {
        let Some(expression) = attribute(body, name) else {
            return Ok(Vec::new());
        };
        let value = model.evaluate(expression);
        let mut statements = Vec::new();
        for document in value
            .as_array()
            .ok_or_else(|| format!("its {name} are {}", unknown::explained(&value)))?
        {
            let policy = as_policy(document)?;
            match policy.get("Statement") {
                Some(Value::Array(list)) => statements.extend(list.iter().cloned()),
                Some(one) => statements.push(one.clone()),
                None => {}
            }
        }
        Ok(statements)
    };
    let mut statements = documents("source_policy_documents")?;
    for (inner_model, block) in blocks(model, body, "statement")? {
        statements.push(statement(&inner_model, block)?);
    }
    for replacement in documents("override_policy_documents")? {
        let sid = replacement.get("Sid").cloned();
        match statements
            .iter_mut()
            .find(|s| sid.is_some() && s.get("Sid") == sid.as_ref())
        {
            Some(existing) => *existing = replacement,
            None => statements.push(replacement),
        }
    }
    Ok(serde_json::json!({ "Version": "2012-10-17", "Statement": statements }))
}

/// One `statement` block as JSON.
fn statement(model: &Model, inner: &Body) -> Result<Value, String> {
    let evaluate = |e| model.evaluate(e);
    let mut statement = Map::new();
    if let Some(sid) = attribute(inner, "sid") {
        statement.insert("Sid".into(), evaluate(sid));
    }
    let effect = attribute(inner, "effect").map_or(Value::String("Allow".into()), evaluate);
    statement.insert("Effect".into(), effect);
    for (name, key) in [("actions", "Action"), ("not_actions", "NotAction")] {
        if let Some(actions) = attribute(inner, name) {
            statement.insert(key.into(), evaluate(actions));
        }
    }
    for (name, key) in [
        ("principals", "Principal"),
        ("not_principals", "NotPrincipal"),
    ] {
        let mut principals = Map::new();
        for (model, principal) in blocks(model, inner, name)? {
            let kind = attribute(principal, "type").map(|e| model.evaluate(e));
            let identifiers = attribute(principal, "identifiers").map(|e| model.evaluate(e));
            match (kind, identifiers) {
                (Some(Value::String(kind)), Some(identifiers)) => append(
                    principals.entry(kind).or_insert(Value::Array(Vec::new())),
                    identifiers,
                ),
                (kind, _) => {
                    principals.insert(
                        unknown::unknown(
                            "type",
                            &format!(
                                "the principal's type is {}",
                                kind.map_or("missing".into(), |k| unknown::explained(&k))
                            ),
                        ),
                        Value::Array(Vec::new()),
                    );
                }
            }
        }
        if !principals.is_empty() {
            statement.insert(key.into(), Value::Object(principals));
        }
    }
    let mut conditions = Map::new();
    for (model, condition) in blocks(model, inner, "condition")? {
        let field = |name| attribute(condition, name).map(|e| model.evaluate(e));
        let (Some(test), Some(variable), Some(values)) =
            (field("test"), field("variable"), field("values"))
        else {
            return Err("a condition block lacks its test, variable or values".into());
        };
        let text = |v: Value| match v {
            Value::String(s) => s,
            other => other.to_string(),
        };
        let tests = conditions
            .entry(text(test))
            .or_insert(Value::Object(Map::new()));
        let values_of = tests.as_object_mut().expect("inserted as an object");
        append(
            values_of
                .entry(text(variable))
                .or_insert(Value::Array(Vec::new())),
            values,
        );
    }
    if !conditions.is_empty() {
        statement.insert("Condition".into(), Value::Object(conditions));
    }
    Ok(Value::Object(statement))
}

/// The nested blocks `name` of a body, each with the model it is evaluated in: written out, or
/// made by a `dynamic "name"` block from each element of its `for_each`.
fn blocks<'b, 'm, 'a>(
    model: &Model<'m, 'a>,
    body: &'b Body,
    name: &str,
) -> Result<Vec<(Model<'m, 'a>, &'b Body)>, String> {
    let mut found = Vec::new();
    for block in body.blocks() {
        if block.identifier.as_str() == name {
            found.push((model.clone(), &block.body));
            continue;
        }
        let label = block.labels.first().map(|l| l.as_str());
        if block.identifier.as_str() != "dynamic" || label != Some(name) {
            continue;
        }
        let content = block
            .body
            .blocks()
            .find(|b| b.identifier.as_str() == "content")
            .ok_or("a dynamic block has no content")?;
        let iterator = match attribute(&block.body, "iterator") {
            Some(Expression::Variable(v)) => v.as_str().to_owned(),
            _ => name.to_owned(),
        };
        let collection = attribute(&block.body, "for_each").map(|e| model.evaluate(e));
        let elements: Vec<(Value, Value)> = match collection {
            Some(Value::Array(items)) => items
                .into_iter()
                .enumerate()
                .map(|(i, v)| (Value::from(i), v))
                .collect(),
            Some(Value::Object(map)) => map
                .into_iter()
                .map(|(k, v)| (Value::String(k), v))
                .collect(),
            other => {
                return Err(format!(
                    "a dynamic {name} block goes over {}",
                    other.map_or("nothing".into(), |v| unknown::explained(&v))
                ));
            }
        };
        for (key, value) in elements {
            found.push((
                model.with(&iterator, serde_json::json!({ "key": key, "value": value })),
                &content.body,
            ));
        }
    }
    Ok(found)
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

/// The roles of a Terraform plan or state in JSON (`terraform show -json`), or of a state file
/// itself (`terraform.tfstate`): every `aws_iam_role` in the planned (or current) values.
pub fn plan(path: &Path, document: &Value, contents: &mut Contents) {
    let root = document
        .pointer("/planned_values/root_module")
        .or_else(|| document.pointer("/values/root_module"));
    let mut found: Vec<(String, Option<&Value>)> = Vec::new();
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
            if resource.get("mode").and_then(Value::as_str) == Some("data") {
                continue;
            }
            let address = resource
                .get("address")
                .and_then(Value::as_str)
                .unwrap_or("?");
            if let Some(attribute) = policy_attribute(resource.get("type")) {
                found.push((
                    address.to_owned(),
                    resource.get("values").and_then(|v| v.get(attribute)),
                ));
            }
        }
    }
    // A state file: resources with their instances' attributes.
    if root.is_none() {
        for resource in document
            .get("resources")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if resource.get("mode").and_then(Value::as_str) != Some("managed") {
                continue;
            }
            let Some(attribute) = policy_attribute(resource.get("type")) else {
                continue;
            };
            let module = resource
                .get("module")
                .and_then(Value::as_str)
                .map_or(String::new(), |m| format!("{m}."));
            let address = format!(
                "{module}{}.{}",
                resource.get("type").and_then(Value::as_str).unwrap_or("?"),
                resource.get("name").and_then(Value::as_str).unwrap_or("?")
            );
            for instance in resource
                .get("instances")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let key = match instance.get("index_key") {
                    Some(key @ (Value::String(_) | Value::Number(_))) => format!("[{key}]"),
                    _ => String::new(),
                };
                found.push((
                    format!("{address}{key}"),
                    instance.pointer(&format!("/attributes/{attribute}")),
                ));
            }
        }
    }
    for (resource, policy) in found {
        let policy = match policy {
            Some(Value::String(json)) => bounded::parse_json(json).map_err(|e| format!("its trust policy is not JSON: {e}")),
            Some(Value::Object(_)) => Ok(policy.cloned().expect("matched")),
            _ => Err("its trust policy is known only after apply (it names a resource not yet created); lint the \
                      .tf files"
                .into()),
        };
        match policy {
            Ok(policy) => contents.roles.push(Role {
                path: path.to_path_buf(),
                line: None,
                resource,
                policy,
                suppressed: Vec::new(),
            }),
            Err(reason) => contents.unresolved.push(Unresolved {
                path: path.to_path_buf(),
                line: None,
                resource,
                reason,
            }),
        }
    }
    contents.roles.sort_by(|a, b| a.resource.cmp(&b.resource));
}

/// The attribute holding a role's trust policy, for the resource types that make roles.
fn policy_attribute(kind: Option<&Value>) -> Option<&'static str> {
    match kind.and_then(Value::as_str) {
        Some("aws_iam_role") => Some("assume_role_policy"),
        Some("awscc_iam_role") => Some("assume_role_policy_document"),
        _ => None,
    }
}

/// A body's attributes evaluated, and its nested blocks as objects (a repeated block as a list).
fn arguments(model: &Model, body: &Body) -> Value {
    let mut object = Map::new();
    for attribute in body.attributes() {
        object.insert(
            attribute.key.as_str().to_owned(),
            model.evaluate(&attribute.expr),
        );
    }
    for block in body.blocks() {
        let value = arguments(model, &block.body);
        match object.get_mut(block.identifier.as_str()) {
            Some(Value::Array(list)) => list.push(value),
            Some(first) => *first = Value::Array(vec![first.clone(), value]),
            None => {
                object.insert(block.identifier.as_str().to_owned(), value);
            }
        }
    }
    Value::Object(object)
}

/// The value of attribute `name` of a body.
fn attribute<'a>(body: &'a Body, name: &str) -> Option<&'a Expression> {
    body.attributes()
        .find(|a| a.key.as_str() == name)
        .map(|a| &a.expr)
}

/// An expression as it is written.
pub(super) fn text_of(expression: &Expression) -> String {
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
    fn a_known_module_is_read_from_its_inputs_and_an_unknown_one_is_unproven() {
        let contents = roles(
            r#"
module "github_oidc" {
  source   = "terraform-aws-modules/iam/aws//modules/iam-github-oidc-role"
  subjects = ["acme/*", "repo:acme/app:*"]
}
module "off" {
  source   = "terraform-aws-modules/iam/aws//modules/iam-github-oidc-role"
  create   = false
  subjects = ["*"]
}
module "elsewhere" {
  source   = "example/ci-role/aws"
  subjects = ["*"]
}
module "network" {
  source = "example/vpc/aws"
}
"#,
        );
        assert_eq!(contents.roles.len(), 1, "{:?}", contents.roles);
        let role = &contents.roles[0];
        assert_eq!(role.resource, "module.github_oidc.aws_iam_role.this");
        assert_eq!(role.line, Some(2));
        assert_eq!(
            role.policy["Statement"][0]["Condition"]["StringLike"]["token.actions.githubusercontent.com:sub"],
            serde_json::json!(["repo:acme/*", "repo:acme/app:*"])
        );
        assert_eq!(contents.unresolved.len(), 1, "{:?}", contents.unresolved);
        assert_eq!(contents.unresolved[0].resource, "module.elsewhere");
        assert!(contents.unresolved[0].reason.contains("terraform init"));
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
