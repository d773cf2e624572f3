//! Terraform expressions as `lint` evaluates them: literals, string templates with their `if`
//! and `for` directives, ternaries, operators, `for` expressions, indexes and splats, references
//! to variables, locals, resources and data sources, and the [`functions`] people build policies
//! with. What the configuration cannot tell (a variable nobody sets, an attribute known only once
//! applied, a function `lint` does not evaluate) is an [`unknown`] value with its reason, never
//! the expression's text.

use std::cell::Cell;
use std::collections::HashMap;
use std::path::PathBuf;
use std::rc::Rc;

use hcl::expr::{BinaryOperator, UnaryOperator};
use hcl::template::{Directive, Element};
use hcl::{Body, Expression, ObjectKey, Template, TraversalOperator};
use serde_json::{Map, Value};

use super::functions;
use crate::lint::unknown;

/// How many references (a local naming a local ...) are followed before giving up.
const MAX_HOPS: usize = 24;
/// The most a module's expressions may build as they are evaluated, in bytes (strings, and 16 for
/// every other value), counted over the whole module: locals that refer to each other ten times
/// over would otherwise build gigabytes from a kilobyte.
pub const EVALUATION_BYTES: usize = 64 << 20;
/// The largest file `file()` or `templatefile()` reads.
const TEMPLATE_BYTES: u64 = 1 << 20;

/// A variable's value: as set (by a tfvars file or `--var`), its default, or nothing.
pub enum Variable<'a> {
    /// Set by a tfvars file or `--var`.
    Set(Value),
    /// The declared default.
    Default(&'a Expression),
    /// Declared without a default and set by nothing.
    Unset,
}

/// What a module declares that a policy can refer to.
#[derive(Default)]
pub struct Declarations<'a> {
    /// `var.NAME`.
    pub variables: HashMap<&'a str, Variable<'a>>,
    /// `local.NAME`.
    pub locals: HashMap<&'a str, &'a Expression>,
    /// `TYPE.NAME` of resources and `data.TYPE.NAME` of data sources, keyed by that address.
    pub objects: HashMap<String, &'a Body>,
    /// The module's folder, from which `file()` and `templatefile()` read; none for standard
    /// input.
    pub folder: Option<PathBuf>,
}

/// A name bound around an expression, and the bindings outside it: binding one more is O(1),
/// whatever the others hold.
pub struct Binding {
    name: String,
    value: Value,
    outer: Option<Rc<Binding>>,
}

/// The declarations, the names bound where the expression is (`each`, `count`, a `for`'s
/// variables, a template's variables), and what is left of the module's [`EVALUATION_BYTES`].
#[derive(Clone)]
pub struct Model<'m, 'a> {
    pub declarations: &'m Declarations<'a>,
    /// Names bound around the expression, innermost first.
    scope: Option<Rc<Binding>>,
    /// Whether only the scope may be referred to (a template file sees only its variables).
    closed: bool,
    /// Bytes that evaluation may still build; at 0 every expression is unknown.
    budget: &'m Cell<usize>,
}

impl<'m, 'a> Model<'m, 'a> {
    pub fn new(declarations: &'m Declarations<'a>, budget: &'m Cell<usize>) -> Model<'m, 'a> {
        Model {
            declarations,
            scope: None,
            closed: false,
            budget,
        }
    }

    /// The model with `name` bound to `value` (`each`, `count`, a `for`'s variable).
    pub fn with(&self, name: &str, value: Value) -> Model<'m, 'a> {
        Model {
            declarations: self.declarations,
            scope: Some(Rc::new(Binding {
                name: name.to_owned(),
                value,
                outer: self.scope.clone(),
            })),
            closed: self.closed,
            budget: self.budget,
        }
    }

    /// Whether the budget is spent.
    pub fn exhausted(&self) -> bool {
        self.budget.get() == 0
    }

    /// Takes `bytes` from the budget; false when it is spent.
    fn spend(&self, bytes: usize) -> bool {
        let left = self.budget.get();
        self.budget.set(left.saturating_sub(bytes));
        left > bytes
    }

    /// The value of `expression`.
    pub fn evaluate(&self, expression: &Expression) -> Value {
        self.at(expression, 0)
    }

    fn at(&self, expression: &Expression, hops: usize) -> Value {
        if self.exhausted() {
            return unknown_of(
                expression,
                "the module's expressions build too much to evaluate",
            );
        }
        if hops > MAX_HOPS {
            return unknown_of(expression, "it refers through too many references");
        }
        let value = self.unbounded(expression, hops);
        let bytes = match &value {
            Value::String(s) => s.len(),
            _ => 16,
        };
        match self.spend(bytes) {
            true => value,
            false => unknown_of(
                expression,
                "the module's expressions build too much to evaluate",
            ),
        }
    }

    fn unbounded(&self, expression: &Expression, hops: usize) -> Value {
        match expression {
            Expression::Null => Value::Null,
            Expression::Bool(b) => Value::Bool(*b),
            Expression::Number(n) => serde_json::to_value(n).unwrap_or(Value::Null),
            Expression::String(s) => Value::String(s.clone()),
            Expression::Array(items) => {
                Value::Array(items.iter().map(|item| self.at(item, hops)).collect())
            }
            Expression::Object(object) => {
                let mut map = Map::new();
                for (key, value) in object {
                    let key = match key {
                        ObjectKey::Identifier(id) => id.as_str().to_owned(),
                        ObjectKey::Expression(key) => match self.at(key, hops) {
                            Value::String(s) => s,
                            Value::Number(n) => n.to_string(),
                            Value::Bool(b) => b.to_string(),
                            _ => return unknown_of(key, "an object key that is not a string"),
                        },
                        _ => return unknown_of(expression, "an object key lint cannot read"),
                    };
                    map.insert(key, self.at(value, hops));
                }
                Value::Object(map)
            }
            Expression::TemplateExpr(template) => match Template::from_expr(template) {
                Ok(template) => self.template(&template, hops),
                Err(e) => unknown_of(expression, &format!("it is not a valid template: {e}")),
            },
            Expression::Parenthesis(inner) => self.at(inner, hops),
            Expression::Variable(name) => self
                .bound(name.as_str())
                .unwrap_or_else(|| unknown_of(expression, "it names nothing lint knows")),
            Expression::Traversal(traversal) => self.traversal(expression, traversal, hops),
            Expression::FuncCall(call) => self.call(expression, call, hops),
            Expression::Conditional(conditional) => {
                let condition = self.at(&conditional.cond_expr, hops);
                match condition {
                    Value::Bool(true) => self.at(&conditional.true_expr, hops),
                    Value::Bool(false) => self.at(&conditional.false_expr, hops),
                    _ => {
                        let (yes, no) = (
                            self.at(&conditional.true_expr, hops),
                            self.at(&conditional.false_expr, hops),
                        );
                        if yes == no && !unknown::in_value(&yes) {
                            yes
                        } else {
                            unknown_of(
                                expression,
                                &format!(
                                    "which branch is taken depends on {}",
                                    because(&conditional.cond_expr, &condition)
                                ),
                            )
                        }
                    }
                }
            }
            Expression::Operation(operation) => self.operation(expression, operation, hops),
            Expression::ForExpr(for_expr) => self.for_expr(expression, for_expr, hops),
            _ => unknown_of(expression, "lint does not evaluate this kind of expression"),
        }
    }

    /// A name bound in the scope.
    fn bound(&self, name: &str) -> Option<Value> {
        let mut binding = self.scope.as_deref();
        while let Some(here) = binding {
            if here.name == name {
                return Some(here.value.clone());
            }
            binding = here.outer.as_deref();
        }
        None
    }

    fn template(&self, template: &Template, hops: usize) -> Value {
        let mut text = String::new();
        for element in template.elements() {
            match element {
                Element::Literal(literal) => text.push_str(literal),
                Element::Interpolation(interpolation) => {
                    match interpolated(&interpolation.expr, self.at(&interpolation.expr, hops)) {
                        Ok(piece) => text.push_str(&piece),
                        Err(unknown) => return unknown,
                    }
                }
                Element::Directive(directive) => match directive.as_ref() {
                    Directive::If(branch) => match self.at(&branch.cond_expr, hops) {
                        Value::Bool(true) => {
                            push(&mut text, self.template(&branch.true_template, hops))
                        }
                        Value::Bool(false) => {
                            if let Some(other) = &branch.false_template {
                                push(&mut text, self.template(other, hops));
                            }
                        }
                        condition => {
                            return unknown_of(
                                &Expression::String(template.to_string()),
                                &format!(
                                    "an %{{if}} in it depends on {}",
                                    because(&branch.cond_expr, &condition)
                                ),
                            );
                        }
                    },
                    Directive::For(each) => {
                        let collection = self.at(&each.collection_expr, hops);
                        let Some(items) = entries(&collection) else {
                            return unknown_of(
                                &each.collection_expr,
                                &format!(
                                    "a %{{for}} in the template goes over {}",
                                    because(&each.collection_expr, &collection)
                                ),
                            );
                        };
                        for (key, value) in items {
                            let mut inner = self.with(each.value_var.as_str(), value);
                            if let Some(key_var) = &each.key_var {
                                inner = inner.with(key_var.as_str(), key);
                            }
                            push(&mut text, inner.template(&each.template, hops));
                        }
                    }
                },
            }
        }
        Value::String(text)
    }

    fn traversal(&self, whole: &Expression, traversal: &hcl::Traversal, hops: usize) -> Value {
        let names: Vec<&str> = traversal
            .operators
            .iter()
            .map_while(|op| match op {
                TraversalOperator::GetAttr(id) => Some(id.as_str()),
                _ => None,
            })
            .collect();
        // The declaration a reference names, and the operators after it.
        let (value, used) = match (&traversal.expr, &names[..]) {
            (Expression::Variable(root), _) if self.bound(root.as_str()).is_some() => {
                (self.bound(root.as_str()).expect("bound"), 0)
            }
            (Expression::Variable(_), _) if self.closed => {
                return unknown_of(whole, "a template file sees only the variables given to it");
            }
            (Expression::Variable(root), names) => match (root.as_str(), names) {
                ("var", [name, ..]) => (self.variable(whole, name, hops), 1),
                ("local", [name, ..]) => match self.declarations.locals.get(name) {
                    Some(local) => (self.at(local, hops + 1), 1),
                    None => return unknown_of(whole, &format!("no local {name} is declared")),
                },
                ("path", ["module" | "root" | "cwd", ..]) => (Value::String(".".into()), 1),
                ("module", [name, output, ..]) => {
                    return unknown_of(
                        whole,
                        &format!(
                            "it is the output {output} of module.{name}, known when the module is planned"
                        ),
                    );
                }
                ("data", [kind, name, ..]) => {
                    return self.object(
                        whole,
                        &format!("data.{kind}.{name}"),
                        kind,
                        traversal,
                        3,
                        hops,
                    );
                }
                (kind, [name, ..]) if kind.contains('_') => {
                    return self.object(whole, &format!("{kind}.{name}"), kind, traversal, 2, hops);
                }
                _ => return unknown_of(whole, "it names nothing lint knows"),
            },
            (root, _) => (self.at(root, hops), 0),
        };
        self.apply(whole, value, &traversal.operators[used..], hops)
    }

    /// `var.NAME`: as set, else its default.
    fn variable(&self, whole: &Expression, name: &str, hops: usize) -> Value {
        match self.declarations.variables.get(name) {
            Some(Variable::Set(value)) => value.clone(),
            Some(Variable::Default(default)) => self.at(default, hops + 1),
            Some(Variable::Unset) => unknown::value(
                &format!("var.{name}"),
                &format!("var.{name} has no default and no tfvars file or --var sets it"),
            ),
            None => unknown_of(whole, &format!("no variable {name} is declared")),
        }
    }

    /// Applies attribute lookups, indexes and splats to a value.
    fn apply(
        &self,
        whole: &Expression,
        value: Value,
        operators: &[TraversalOperator],
        hops: usize,
    ) -> Value {
        let mut value = value;
        for (at, operator) in operators.iter().enumerate() {
            if let Value::String(s) = &value {
                if unknown::is_whole(s) {
                    return value;
                }
            }
            value = match operator {
                TraversalOperator::GetAttr(name) => match value.get(name.as_str()) {
                    Some(inner) => inner.clone(),
                    None => {
                        return unknown_of(whole, &format!("the value has no attribute {name}"));
                    }
                },
                TraversalOperator::Index(index) => {
                    let index = self.at(index, hops);
                    match (&value, &index) {
                        (Value::Array(items), Value::Number(n)) => {
                            match n.as_u64().and_then(|n| items.get(n as usize)) {
                                Some(item) => item.clone(),
                                None => return unknown_of(whole, "the index is out of range"),
                            }
                        }
                        (Value::Object(map), Value::String(key)) if !unknown::in_text(key) => {
                            match map.get(key) {
                                Some(item) => item.clone(),
                                None => {
                                    return unknown_of(whole, &format!("the map has no key {key}"));
                                }
                            }
                        }
                        _ => {
                            return unknown_of(
                                whole,
                                &format!("its index is {}", because(whole, &index)),
                            );
                        }
                    }
                }
                TraversalOperator::LegacyIndex(n) => match value.get(*n as usize) {
                    Some(item) => item.clone(),
                    None => return unknown_of(whole, "the index is out of range"),
                },
                TraversalOperator::AttrSplat | TraversalOperator::FullSplat => {
                    let items = match value {
                        Value::Array(items) => items,
                        Value::Null => Vec::new(),
                        one => vec![one],
                    };
                    let rest = &operators[at + 1..];
                    return Value::Array(
                        items
                            .into_iter()
                            .map(|item| self.apply(whole, item, rest, hops))
                            .collect(),
                    );
                }
            };
        }
        value
    }

    /// An attribute of a resource or data source the module declares, as its provider computes
    /// it: an OIDC provider's `arn` and `url` (read back from IAM without `https://`), a policy
    /// document's `json`, a template's `rendered`.
    fn object(
        &self,
        whole: &Expression,
        address: &str,
        kind: &str,
        traversal: &hcl::Traversal,
        skip: usize,
        hops: usize,
    ) -> Value {
        // `TYPE.NAME[0].attribute` of a counted resource: every instance has the configuration.
        let operators = &traversal.operators[skip - 1..];
        let mut splat = false;
        let mut rest = operators.iter();
        let attribute = loop {
            match rest.next() {
                Some(TraversalOperator::GetAttr(name)) => break Some(name.as_str()),
                Some(TraversalOperator::AttrSplat | TraversalOperator::FullSplat) => splat = true,
                Some(_) => {}
                None => break None,
            }
        };
        let Some(wanted) = attribute else {
            return unknown_of(
                whole,
                &format!("{address} as a whole is known once planned"),
            );
        };
        let Some(body) = self.declarations.objects.get(address) else {
            return unknown_of(whole, &format!("{address} is not declared in the module"));
        };
        let argument = |name| super::attribute(body, name).map(|e| self.at(e, hops + 1));
        let value = match (kind, wanted) {
            ("aws_iam_openid_connect_provider", "arn") => match argument("arn") {
                Some(arn) => Some(arn),
                None => argument("url").map(|url| match url {
                    Value::String(url) => Value::String(format!(
                        "arn:aws:iam::{}:oidc-provider/{}",
                        unknown::unknown(
                            &format!("{address}.arn"),
                            "the account is known once applied"
                        ),
                        crate::lint::bare_url(&url)
                    )),
                    other => other,
                }),
            },
            ("aws_iam_openid_connect_provider", "url") => argument("url")
                .or_else(|| {
                    argument("arn").map(|arn| match &arn {
                        Value::String(s) if !unknown::in_text(s) => s
                            .split_once(":oidc-provider/")
                            .map_or(arn.clone(), |(_, url)| Value::String(url.to_owned())),
                        _ => arn,
                    })
                })
                .map(|url| match url {
                    // The provider reads the URL back from IAM, which keeps it without the scheme.
                    Value::String(url) => Value::String(crate::lint::bare_url(&url)),
                    other => other,
                }),
            ("tls_certificate", "url") => argument("url"),
            ("aws_iam_policy_document", "json" | "minified_json") => Some(
                super::policy_document(self, body)
                    .map(|policy| Value::String(policy.to_string()))
                    .unwrap_or_else(|reason| unknown_of(whole, &reason)),
            ),
            ("template_file", "rendered") => Some(self.template_file(whole, body, hops)),
            // An argument the configuration sets is known at plan as it is set.
            _ => argument(wanted),
        };
        let value = value.unwrap_or_else(|| {
            unknown_of(whole, &format!("{address}.{wanted} is known once applied"))
        });
        if splat {
            Value::Array(vec![value])
        } else {
            value
        }
    }

    /// `data "template_file"`: its `template` rendered with its `vars`.
    fn template_file(&self, whole: &Expression, body: &Body, hops: usize) -> Value {
        let template = super::attribute(body, "template").map(|e| self.at(e, hops + 1));
        let vars = super::attribute(body, "vars")
            .map_or(Value::Object(Map::new()), |e| self.at(e, hops + 1));
        match template {
            Some(Value::String(source)) if !unknown::in_text(&source) => {
                self.render(whole, &source, &vars, hops)
            }
            Some(other) => unknown_of(
                whole,
                &format!("its template is {}", because(whole, &other)),
            ),
            None => unknown_of(whole, "it has no template"),
        }
    }

    /// A template's text rendered with `vars` as its only names.
    fn render(&self, whole: &Expression, source: &str, vars: &Value, hops: usize) -> Value {
        if hops > MAX_HOPS {
            return unknown_of(whole, "templates render templates too many times over");
        }
        let Value::Object(vars) = vars else {
            return unknown_of(
                whole,
                &format!("its variables are {}", because(whole, vars)),
            );
        };
        let template: Template = match source.parse() {
            Ok(template) => template,
            Err(e) => return unknown_of(whole, &format!("the template is not valid: {e}")),
        };
        let mut model = Model {
            declarations: self.declarations,
            scope: None,
            closed: true,
            budget: self.budget,
        };
        for (name, value) in vars {
            model = model.with(name, value.clone());
        }
        model.template(&template, hops + 1)
    }

    fn call(&self, whole: &Expression, call: &hcl::expr::FuncCall, hops: usize) -> Value {
        let name = call.name.name.as_str();
        if !call.name.namespace.is_empty() {
            return unknown_of(whole, "lint does not evaluate provider functions");
        }
        match name {
            // The first argument that evaluates with no unknown part; an unknown one may fail or not.
            "try" => {
                for arg in &call.args {
                    let value = self.at(arg, hops);
                    if !unknown::in_value(&value) {
                        return value;
                    }
                    if !failed(&value) {
                        return unknown_of(
                            whole,
                            &format!("it depends on {}", unknown::explained(&value)),
                        );
                    }
                }
                return unknown_of(whole, "every argument of try fails");
            }
            "can" => {
                let value = call.args.first().map(|arg| self.at(arg, hops));
                return match value {
                    Some(value) if !unknown::in_value(&value) => Value::Bool(true),
                    Some(value) if failed(&value) => Value::Bool(false),
                    _ => unknown_of(whole, "whether its argument fails is not known"),
                };
            }
            _ => {}
        }
        let mut args: Vec<Value> = call.args.iter().map(|a| self.at(a, hops)).collect();
        if call.expand_final {
            match args.pop() {
                Some(Value::Array(items)) => args.extend(items),
                Some(other) => {
                    return unknown_of(
                        whole,
                        &format!("its expanded argument is {}", because(whole, &other)),
                    );
                }
                None => {}
            }
        }
        match name {
            "file" | "templatefile" => {
                let source = match args.first().map(|path| self.read(path)) {
                    Some(Ok(source)) => source,
                    Some(Err(reason)) => return unknown_of(whole, &reason),
                    None => return unknown_of(whole, "it names no file"),
                };
                if name == "file" {
                    return Value::String(source);
                }
                let vars = args.get(1).cloned().unwrap_or(Value::Object(Map::new()));
                self.render(whole, &source, &vars, hops)
            }
            _ => match functions::call(name, &args) {
                Some(Ok(value)) => value,
                Some(Err(reason)) => {
                    unknown_of(whole, &format!("{name}(...) is not known: {reason}"))
                }
                None => unknown_of(
                    whole,
                    &format!("lint does not evaluate the function {name}"),
                ),
            },
        }
    }

    /// A file of the module named by `path` (relative to the module's folder, as `path.module`
    /// makes it): read without following a link, bounded.
    fn read(&self, path: &Value) -> Result<String, String> {
        let Some(folder) = &self.declarations.folder else {
            return Err("a file read from standard input has no folder to read files from".into());
        };
        let Value::String(name) = path else {
            return Err("the file's name is not a string".into());
        };
        if unknown::in_text(name) {
            return Err(format!(
                "the file's name depends on {}",
                unknown::explained(path)
            ));
        }
        let unreadable =
            |why: String| format!("{} cannot be read: {why}", crate::shown::value(name));
        let relative = name.trim_start_matches("./");
        let Some(names) = crate::confined::names(relative) else {
            return Err(format!(
                "{} is not a plain path inside the module's folder, which is all lint reads",
                crate::shown::value(name)
            ));
        };
        let (file, folders) = names.split_last().expect("names are never empty");
        let root = crate::confined::Folder::open(folder).map_err(|e| unreadable(e.to_string()))?;
        let below = match crate::confined::walk(&root, folders) {
            Ok(Some(below)) => below,
            Ok(None) => return Err(unreadable("a folder on its way is missing".into())),
            Err(_) => {
                return Err(unreadable(
                    "a link or a file stands where a folder should be; lint follows no link".into(),
                ));
            }
        };
        let bytes = below
            .read(file, TEMPLATE_BYTES)
            .map_err(|e| unreadable(format!("{e} (a link is not followed)")))?
            .ok_or_else(|| unreadable(format!("it holds more than {TEMPLATE_BYTES} bytes")))?;
        let text = String::from_utf8(bytes).map_err(|_| unreadable("it is not UTF-8".into()))?;
        unknown::check_input(&text)?;
        Ok(text)
    }

    fn operation(
        &self,
        whole: &Expression,
        operation: &hcl::expr::Operation,
        hops: usize,
    ) -> Value {
        match operation {
            hcl::expr::Operation::Unary(unary) => {
                let value = self.at(&unary.expr, hops);
                match (unary.operator, &value) {
                    (UnaryOperator::Not, Value::Bool(b)) => Value::Bool(!b),
                    (UnaryOperator::Neg, Value::Number(n)) => n
                        .as_f64()
                        .and_then(|n| serde_json::Number::from_f64(-n))
                        .map_or_else(|| unknown_of(whole, "not a number"), Value::Number),
                    _ => unknown_of(
                        whole,
                        &format!("its operand is {}", because(&unary.expr, &value)),
                    ),
                }
            }
            hcl::expr::Operation::Binary(binary) => {
                let left = self.at(&binary.lhs_expr, hops);
                // && and || need their right side only when the left does not decide.
                match (binary.operator, &left) {
                    (BinaryOperator::And, Value::Bool(false)) => return Value::Bool(false),
                    (BinaryOperator::Or, Value::Bool(true)) => return Value::Bool(true),
                    _ => {}
                }
                let right = self.at(&binary.rhs_expr, hops);
                if unknown::in_value(&left) || unknown::in_value(&right) {
                    let which = if unknown::in_value(&left) {
                        (&binary.lhs_expr, &left)
                    } else {
                        (&binary.rhs_expr, &right)
                    };
                    return unknown_of(
                        whole,
                        &format!("it depends on {}", because(which.0, which.1)),
                    );
                }
                let number = |v: &Value| {
                    v.as_f64()
                        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
                };
                let result = match binary.operator {
                    BinaryOperator::Eq => Some(Value::Bool(left == right)),
                    BinaryOperator::NotEq => Some(Value::Bool(left != right)),
                    BinaryOperator::And | BinaryOperator::Or => match (&left, &right) {
                        (Value::Bool(_), Value::Bool(r)) => Some(Value::Bool(*r)),
                        _ => None,
                    },
                    operator => match (number(&left), number(&right)) {
                        (Some(l), Some(r)) => match operator {
                            BinaryOperator::Less => Some(Value::Bool(l < r)),
                            BinaryOperator::LessEq => Some(Value::Bool(l <= r)),
                            BinaryOperator::Greater => Some(Value::Bool(l > r)),
                            BinaryOperator::GreaterEq => Some(Value::Bool(l >= r)),
                            BinaryOperator::Plus => number_value(l + r),
                            BinaryOperator::Minus => number_value(l - r),
                            BinaryOperator::Mul => number_value(l * r),
                            BinaryOperator::Div if r != 0.0 => number_value(l / r),
                            BinaryOperator::Mod if r != 0.0 => number_value(l % r),
                            _ => None,
                        },
                        _ => None,
                    },
                };
                result.unwrap_or_else(|| unknown_of(whole, "Terraform refuses the operation"))
            }
        }
    }

    fn for_expr(&self, whole: &Expression, for_expr: &hcl::expr::ForExpr, hops: usize) -> Value {
        let collection = self.at(&for_expr.collection_expr, hops);
        let Some(items) = entries(&collection) else {
            return unknown_of(
                whole,
                &format!(
                    "it goes over {}",
                    because(&for_expr.collection_expr, &collection)
                ),
            );
        };
        let mut list = Vec::new();
        let mut map = Map::new();
        for (key, value) in items {
            let mut inner = self.with(for_expr.value_var.as_str(), value);
            if let Some(key_var) = &for_expr.key_var {
                inner = inner.with(key_var.as_str(), key);
            }
            if let Some(condition) = &for_expr.cond_expr {
                match inner.at(condition, hops) {
                    Value::Bool(true) => {}
                    Value::Bool(false) => continue,
                    other => {
                        return unknown_of(
                            whole,
                            &format!("its condition depends on {}", because(condition, &other)),
                        );
                    }
                }
            }
            let value = inner.at(&for_expr.value_expr, hops);
            match &for_expr.key_expr {
                None => list.push(value),
                Some(key_expr) => {
                    let key = match inner.at(key_expr, hops) {
                        Value::String(key) if !unknown::in_text(&key) => key,
                        other => {
                            return unknown_of(
                                whole,
                                &format!("a key is {}", because(key_expr, &other)),
                            );
                        }
                    };
                    if for_expr.grouping {
                        let group = map.entry(key).or_insert_with(|| Value::Array(Vec::new()));
                        if let Value::Array(group) = group {
                            group.push(value);
                        }
                    } else {
                        map.insert(key, value);
                    }
                }
            }
        }
        match for_expr.key_expr {
            None => Value::Array(list),
            Some(_) => Value::Object(map),
        }
    }
}

/// An unknown value for what `expression` is written as.
pub fn unknown_of(expression: &Expression, reason: &str) -> Value {
    unknown::value(&super::text_of(expression), reason)
}

/// Why an evaluated value is not of use: its unknown parts, or what it is.
fn because(expression: &Expression, value: &Value) -> String {
    if unknown::in_value(value) {
        unknown::explained(value)
    } else {
        format!(
            "{} = {}",
            crate::shown::value(&super::text_of(expression)),
            crate::shown::value(&value.to_string())
        )
    }
}

/// Whether an unknown value says that Terraform would refuse the expression (which `try` skips),
/// rather than that its value is not known yet.
fn failed(value: &Value) -> bool {
    unknown::reasons(value).iter().all(|(_, reason)| {
        [
            "has no attribute",
            "has no key",
            "out of range",
            "refuses",
            "is not declared",
            "no local",
        ]
        .iter()
        .any(|failure| reason.contains(failure))
    })
}

/// A value as a template writes it, or the unknown value it becomes.
fn interpolated(expression: &Expression, value: Value) -> Result<String, Value> {
    match value {
        Value::String(s) => Ok(s),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Null => Err(unknown_of(
            expression,
            "it is null, which Terraform refuses in a template",
        )),
        _ => Err(unknown_of(
            expression,
            "it is a collection, which Terraform refuses in a template",
        )),
    }
}

fn push(text: &mut String, value: Value) {
    match value {
        Value::String(s) => text.push_str(&s),
        other => text.push_str(&other.to_string()),
    }
}

/// The (key, value) pairs a `for` goes over: a list's indexes, a map's keys.
fn entries(collection: &Value) -> Option<Vec<(Value, Value)>> {
    match collection {
        Value::Array(items) => Some(
            items
                .iter()
                .enumerate()
                .map(|(i, v)| (Value::from(i), v.clone()))
                .collect(),
        ),
        Value::Object(map) => Some(
            map.iter()
                .map(|(k, v)| (Value::String(k.clone()), v.clone()))
                .collect(),
        ),
        _ => None,
    }
}

fn number_value(n: f64) -> Option<Value> {
    if n.fract() == 0.0 && n.abs() < 9e15 {
        Some(Value::from(n as i64))
    } else {
        serde_json::Number::from_f64(n).map(Value::Number)
    }
}
