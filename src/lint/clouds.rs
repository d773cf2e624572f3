//! The trust people write for Google Cloud and Azure, read from Terraform: a workload identity
//! pool provider's CEL condition (parsed, each alternative judged by what it tests), the IAM
//! members that name the pool's identities, and Azure's federated identity credentials (exact
//! subjects and flexible expressions). What each admits is described in words; what is wrong is
//! a finding of the OIDC4xx rules, judged with the issuer's knowledge [`issuers`] holds.

use cel_parser::Parser;
use cel_parser::ast::{Expr, IdedExpr};
use cel_parser::reference::Val;
use serde_json::Value;

use super::read::Federation;
use super::report::{Description, Finding, Report};
use super::rules::{admits_every_owner, rule, suppress};
use super::unknown;
use crate::issuer::Issuer;
use crate::issuers::{self, Preset};

/// The resource types read.
pub const KINDS: &[&str] = &[
    GCP_PROVIDER,
    "google_service_account_iam_member",
    "google_service_account_iam_binding",
    "google_project_iam_member",
    "google_project_iam_binding",
    AZURE_CREDENTIAL,
    AZURE_FLEXIBLE,
    AZURERM_CREDENTIAL,
];

const GCP_PROVIDER: &str = "google_iam_workload_identity_pool_provider";
const AZURE_CREDENTIAL: &str = "azuread_application_federated_identity_credential";
const AZURE_FLEXIBLE: &str = "azuread_application_flexible_federated_identity_credential";
const AZURERM_CREDENTIAL: &str = "azurerm_federated_identity_credential";

/// The role a pool's identities get on a service account they impersonate.
const WORKLOAD_IDENTITY_USER: &str = "roles/iam.workloadIdentityUser";

/// The deepest nesting of brackets lint parses in a condition.
const MAX_DEPTH: i64 = 32;

/// Claims that name a GitHub owner (by name or by immutable id) besides those of the preset.
const OWNER_NAME_CLAIMS: &[&str] = &["repository_owner"];

/// Describes and lints one resource.
pub fn lint(federation: &Federation, report: &mut Report) {
    let first = report.findings.len();
    let args = &federation.arguments;
    let text = |name: &str| args.get(name).and_then(Value::as_str).unwrap_or_default();
    // A credential: the argument that says what it admits, its words, and its checks.
    let credential: Option<(&str, &str, CredentialCheck)> = match federation.kind.as_str() {
        AZURE_CREDENTIAL | AZURERM_CREDENTIAL => Some(("subject", "sub is", azure_subject)),
        AZURE_FLEXIBLE => Some(("claims_matching_expression", "claims match", azure_flexible)),
        _ => None,
    };
    match (federation.kind.as_str(), credential) {
        (GCP_PROVIDER, _) => gcp_provider(federation, report),
        (_, Some((argument, words, check))) => {
            let (issuer, admits) = (text("issuer"), text(argument));
            let said = format!("{words} {}", quoted(admits));
            describe(federation, report, "credential", issuer, &said);
            if unknown::in_text(issuer) || unknown::in_text(admits) {
                unproven(federation, report, "credential", &[issuer, admits]);
            } else {
                check(federation, report, issuer, admits);
            }
        }
        _ => gcp_members(federation, report),
    }
    suppress(&federation.suppressed, first, report);
}

/// What a credential is checked with: the resource, the report, the issuer, and its subject or
/// expression.
type CredentialCheck = fn(&Federation, &mut Report, &str, &str);

fn quoted(value: &str) -> String {
    crate::bounded::quoted(value)
}

fn describe(federation: &Federation, report: &mut Report, what: &str, issuer: &str, admits: &str) {
    report.statements.push(Description {
        path: federation.path.clone(),
        line: federation.line,
        resource: federation.resource.clone(),
        statement: what.to_owned(),
        issuer: crate::lint::bare_url(&unknown::display(issuer)),
        admits: unknown::display(admits),
    });
}

fn found(
    federation: &Federation,
    report: &mut Report,
    what: &str,
    issuer: Option<&str>,
    id: &'static str,
    message: String,
    fix: &str,
) {
    let rule = rule(id);
    report.findings.push(Finding {
        path: federation.path.clone(),
        line: federation.line,
        resource: federation.resource.clone(),
        statement: what.to_owned(),
        issuer: issuer.map(crate::lint::bare_url),
        rule: rule.id,
        severity: rule.severity,
        message,
        fix: fix.to_owned(),
    });
}

fn unproven(federation: &Federation, report: &mut Report, what: &str, values: &[&str]) {
    let values = Value::Array(values.iter().map(|v| Value::from(*v)).collect());
    let reasons = unknown::explained(&values);
    found(
        federation,
        report,
        what,
        None,
        "OIDC301",
        format!("what it admits depends on values lint cannot know: {reasons}"),
        "give the values (--var, --var-file) or lint the plan (terraform show -json PLAN)",
    );
}

fn preset_of(issuer: &str) -> Option<&'static Preset> {
    Issuer::parse(issuer)
        .ok()
        .and_then(|issuer| issuers::find(&issuer))
}

/// A workload identity pool provider: its condition must exist and, for an issuer many owners
/// share, name the owner in every alternative; its sub literals must be the issuer's grammar.
fn gcp_provider(federation: &Federation, report: &mut Report) {
    let args = &federation.arguments;
    let issuer = args
        .get("oidc")
        .and_then(|oidc| oidc.get("issuer_uri"))
        .and_then(Value::as_str)
        .unwrap_or_default();
    let condition = args.get("attribute_condition").and_then(Value::as_str);
    describe(
        federation,
        report,
        "condition",
        issuer,
        &match condition {
            Some(condition) => format!("tokens for which {condition}"),
            None => "every token of the issuer with an allowed audience".to_owned(),
        },
    );
    let Some(condition) = condition.filter(|c| !c.trim().is_empty()) else {
        found(
            federation,
            report,
            "condition",
            Some(issuer),
            "OIDC401",
            "the provider has no attribute_condition: every token of the issuer with an allowed audience gets \
             in, whoever's workload it is"
                .to_owned(),
            "set attribute_condition to the workloads you mean, e.g. assertion.repository_owner_id == 'ID' && \
             assertion.sub == 'repo:OWNER/REPO:ref:refs/heads/main' (oidc-gen --cloud gcp writes it)",
        );
        return;
    };
    if unknown::in_text(issuer) || unknown::in_text(condition) {
        unproven(federation, report, "condition", &[issuer, condition]);
        return;
    }
    let Some(preset) = preset_of(issuer) else {
        return;
    };
    let mapping: Vec<(String, String)> = args
        .get("attribute_mapping")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
        .collect();
    // Google takes at most 4,096 characters; past that, or nested deeper than any condition a
    // person writes, lint does not parse (a value built from locals can be made arbitrarily deep).
    let depth = condition
        .chars()
        .scan(0i64, |depth, c| {
            *depth += match c {
                '(' | '[' | '{' => 1,
                ')' | ']' | '}' => -1,
                _ => 0,
            };
            Some(*depth)
        })
        .max()
        .unwrap_or(0);
    let length = condition.chars().count();
    if length > crate::clouds::gcp::MAX_CONDITION || depth > MAX_DEPTH {
        found(
            federation,
            report,
            "condition",
            Some(issuer),
            "OIDC301",
            format!(
                "the attribute condition is {length} characters, nested {depth} deep: Google takes at most {} \
                 characters, and lint reads conditions nested at most {MAX_DEPTH} deep; what it admits is not proven",
                crate::clouds::gcp::MAX_CONDITION
            ),
            "write a shorter condition (oidc-gen --cloud gcp writes one)",
        );
        return;
    }
    let parsed = match Parser::new().parse(condition) {
        Ok(parsed) => parsed,
        Err(e) => {
            found(
                federation,
                report,
                "condition",
                Some(issuer),
                "OIDC301",
                format!(
                    "the attribute condition is not CEL lint can read ({e}): what it admits is not proven"
                ),
                "write the condition in CEL (Google refuses it otherwise)",
            );
            return;
        }
    };
    let reading = Reading {
        preset,
        mapping: &mapping,
    };
    for literal in reading.sub_literals(&parsed) {
        if let Some(other) = foreign_grammar(preset, &literal) {
            found(
                federation,
                report,
                "condition",
                Some(issuer),
                "OIDC405",
                format!(
                    "the condition compares sub with {}, a subject of {other}: no token of {} has it",
                    quoted(&literal),
                    preset.name
                ),
                "write the subject as the issuer writes it (oidc-gen issuers shows each grammar), or trust the \
                 issuer the subject is from",
            );
        }
    }
    let audiences = args
        .get("oidc")
        .and_then(|oidc| oidc.get("allowed_audiences"));
    if preset.audience_names_owner && audiences.is_some_and(unknown::in_value) {
        let written = serde_json::to_string(audiences.expect("tested")).unwrap_or_default();
        unproven(federation, report, "condition", &[&written]);
        return;
    }
    let audiences_name_owner = preset.audience_names_owner
        && audiences
            .and_then(Value::as_array)
            .is_some_and(|list| !list.is_empty());
    if preset.owner_fields.is_empty() || audiences_name_owner {
        return;
    }
    let alternatives = disjuncts(&parsed);
    let open: Vec<String> = alternatives
        .iter()
        .filter(|alternative| {
            !conjuncts(alternative)
                .iter()
                .any(|test| reading.pins_owner(test))
        })
        .map(|alternative| match alternatives.len() {
            1 => "the condition".to_owned(),
            _ => format!("an alternative ({})", describe_expr(alternative)),
        })
        .collect();
    if let Some(first) = open.first() {
        found(
            federation,
            report,
            "condition",
            Some(issuer),
            "OIDC402",
            format!(
                "{first} tests no claim that names the owner, and {} issues tokens to every owner's workloads: \
                 another owner's workload with the same other claims gets in",
                preset.name
            ),
            &format!(
                "test the owner in every alternative: {} or a sub that names it in full",
                preset
                    .owner_claims
                    .iter()
                    .map(|c| format!("assertion.{c} == '...'"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
    }
}

/// IAM members of a pool's identities: the whole pool admits every provider added to it.
fn gcp_members(federation: &Federation, report: &mut Report) {
    let args = &federation.arguments;
    let mut members: Vec<&str> = Vec::new();
    if let Some(member) = args.get("member").and_then(Value::as_str) {
        members.push(member);
    }
    members.extend(
        args.get("members")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str),
    );
    // A member lint cannot know is unproven where it may be a pool's identities: it names
    // them in its known part, or the binding is the one workload identity uses.
    let workload_identity =
        args.get("role").and_then(Value::as_str) == Some(WORKLOAD_IDENTITY_USER);
    let whole_unknown = args
        .get("members")
        .is_some_and(|m| !m.is_array() && unknown::in_value(m));
    for member in members.iter().filter(|m| unknown::in_text(m)) {
        if workload_identity || unknown::display(member).contains("principal") {
            unproven(federation, report, "member", &[member]);
        }
    }
    if whole_unknown && workload_identity {
        let written = serde_json::to_string(&args["members"]).unwrap_or_default();
        unproven(federation, report, "member", &[&written]);
    }
    for member in members {
        if !member.starts_with("principal") || unknown::in_text(member) {
            continue;
        }
        describe(
            federation,
            report,
            "member",
            "",
            &format!("the identities {}", quoted(member)),
        );
        let Some(rest) = member.strip_prefix("principalSet://iam.googleapis.com/") else {
            continue;
        };
        let whole_pool = rest.ends_with("/*") && rest.contains("/workloadIdentityPools/");
        if whole_pool {
            found(
                federation,
                report,
                "member",
                None,
                "OIDC403",
                format!(
                    "the member {} is every identity of the pool: what it may do, every workload any provider of \
                     the pool admits may do, now and when a provider is added",
                    quoted(member)
                ),
                "name the identities: principal://.../subject/SUB, or principalSet://.../attribute.NAME/VALUE of an \
                 attribute the provider maps",
            );
        }
    }
}

/// A standard credential's subject: exact, in the issuer's grammar.
fn azure_subject(federation: &Federation, report: &mut Report, issuer: &str, subject: &str) {
    if subject.contains('*') {
        found(
            federation,
            report,
            "credential",
            Some(issuer),
            "OIDC406",
            format!(
                "the credential compares sub with {} exactly: its * is a star, not a wildcard, so it admits no \
                 workload",
                quoted(subject)
            ),
            "name each subject in a credential of its own, or use a flexible credential (claims['sub'] matches \
             '...')",
        );
    }
    if let Some(preset) = preset_of(issuer)
        && let Some(other) = foreign_grammar(preset, subject)
    {
        found(
            federation,
            report,
            "credential",
            Some(issuer),
            "OIDC405",
            format!(
                "the subject {} is one of {other}: no token of {} has it",
                quoted(subject),
                preset.name
            ),
            "write the subject as the issuer writes it (oidc-gen issuers shows each grammar), or trust the issuer \
             the subject is from",
        );
    }
}

/// A flexible credential of GitHub must test an owner or repository ID.
fn azure_flexible(federation: &Federation, report: &mut Report, issuer: &str, expression: &str) {
    let Some(preset) = preset_of(issuer) else {
        return;
    };
    let terms: Vec<(&str, &str, &str)> = expression
        .split(" and ")
        .filter_map(|term| {
            let rest = term.trim().strip_prefix("claims['")?;
            let (name, rest) = rest.split_once("'] ")?;
            let (operator, value) = rest.split_once(' ')?;
            Some((name, operator, value.trim_matches('\'')))
        })
        .collect();
    for (name, _, value) in &terms {
        if *name == "sub"
            && let Some(other) = foreign_grammar(preset, value)
        {
            found(
                federation,
                report,
                "credential",
                Some(issuer),
                "OIDC405",
                format!(
                    "the expression tests sub against {}, a subject of {other}",
                    quoted(value)
                ),
                "write the subject as the issuer writes it (oidc-gen issuers shows each grammar)",
            );
        }
    }
    if preset.id == "github" {
        let pinned = terms.iter().any(|(name, operator, _)| {
            matches!(*name, "repository_owner_id" | "repository_id") && *operator == "eq"
        });
        if !pinned {
            found(
                federation,
                report,
                "credential",
                Some(issuer),
                "OIDC404",
                format!(
                    "the flexible credential {} tests no repository_owner_id or repository_id: Entra requires one, \
                     and without it a pattern on sub is all that keeps other owners out",
                    quoted(expression)
                ),
                "add claims['repository_owner_id'] eq 'ID' (or repository_id); oidc-gen --cloud azure writes it \
                 from --github OWNER@OWNER_ID/REPO@REPO_ID",
            );
        }
    }
}

/// The issuer whose subject grammar `subject` is, when it is not `preset`'s own.
fn foreign_grammar(preset: &Preset, subject: &str) -> Option<&'static str> {
    let own = preset
        .owner_fields
        .iter()
        .any(|(prefix, _)| subject.starts_with(prefix) || prefix.starts_with(subject));
    if own || preset.owner_fields.is_empty() {
        return None;
    }
    issuers::ALL
        .iter()
        .filter(|other| other.id != preset.id)
        .find(|other| {
            other
                .owner_fields
                .iter()
                .any(|(prefix, _)| prefix.len() > 4 && subject.starts_with(prefix))
        })
        .map(|other| other.name)
}

/// How a condition is read: the issuer, and the mapping that turns `attribute.X` into claims.
struct Reading<'a> {
    preset: &'static Preset,
    mapping: &'a [(String, String)],
}

fn disjuncts(expression: &IdedExpr) -> Vec<&IdedExpr> {
    split(expression, "_||_")
}

fn conjuncts(expression: &IdedExpr) -> Vec<&IdedExpr> {
    split(expression, "_&&_")
}

fn split<'e>(expression: &'e IdedExpr, operator: &str) -> Vec<&'e IdedExpr> {
    match &expression.expr {
        Expr::Call(call) if call.func_name == operator => call
            .args
            .iter()
            .flat_map(|arg| split(arg, operator))
            .collect(),
        _ => vec![expression],
    }
}

fn string_literal(expression: &IdedExpr) -> Option<&str> {
    match &expression.expr {
        Expr::Literal(Val::String(text)) => Some(text),
        _ => None,
    }
}

/// An expression in words: enough of it to find it in the file.
fn describe_expr(expression: &IdedExpr) -> String {
    let mut parts = Vec::new();
    for test in conjuncts(expression) {
        match &test.expr {
            Expr::Call(call) => parts.push(call.func_name.trim_matches('_').to_owned()),
            _ => parts.push("...".to_owned()),
        }
    }
    let literals: Vec<String> = literals(expression)
        .into_iter()
        .map(|l| quoted(&l))
        .collect();
    format!("{} on {}", parts.join(", "), literals.join(", "))
}

fn literals(expression: &IdedExpr) -> Vec<String> {
    match &expression.expr {
        Expr::Literal(Val::String(text)) => vec![text.clone()],
        Expr::Call(call) => call
            .target
            .iter()
            .map(|t| t.as_ref())
            .chain(call.args.iter())
            .flat_map(literals)
            .collect(),
        Expr::List(list) => list.elements.iter().flat_map(literals).collect(),
        _ => Vec::new(),
    }
}

impl Reading<'_> {
    /// The claim an expression reads: `assertion.NAME`, `assertion['NAME']`, or an attribute
    /// the provider maps from one.
    fn claim(&self, expression: &IdedExpr) -> Option<String> {
        match &expression.expr {
            Expr::Select(select) => match &select.operand.expr {
                Expr::Ident(root) if root == "assertion" => Some(select.field.clone()),
                Expr::Ident(root) if root == "attribute" => {
                    let key = format!("attribute.{}", select.field);
                    let mapped = self.mapping.iter().find(|(k, _)| *k == key)?;
                    mapped
                        .1
                        .trim()
                        .strip_prefix("assertion.")
                        .map(str::to_owned)
                }
                _ => None,
            },
            Expr::Call(call) if call.func_name == "_[_]" => {
                match (&call.args[0].expr, call.args.get(1)) {
                    (Expr::Ident(root), Some(key)) if root == "assertion" => {
                        string_literal(key).map(str::to_owned)
                    }
                    _ => None,
                }
            }
            _ => None,
        }
    }

    /// The values a test compares a claim with exactly, or the prefix it requires: (claim,
    /// patterns as IAM writes them).
    fn compared(&self, test: &IdedExpr) -> Option<(String, Vec<String>)> {
        let Expr::Call(call) = &test.expr else {
            return None;
        };
        match (
            call.func_name.as_str(),
            call.target.as_deref(),
            &call.args[..],
        ) {
            ("_==_", None, [a, b]) => {
                let (claim, value) = match (self.claim(a), string_literal(b)) {
                    (Some(claim), Some(value)) => (claim, value),
                    _ => (self.claim(b)?, string_literal(a)?),
                };
                Some((claim, vec![escape_glob(value)]))
            }
            ("@in", None, [a, list]) => {
                let Expr::List(list) = &list.expr else {
                    return None;
                };
                let values: Option<Vec<String>> = list
                    .elements
                    .iter()
                    .map(|e| string_literal(e).map(escape_glob))
                    .collect();
                Some((self.claim(a)?, values?))
            }
            ("startsWith", Some(target), [prefix]) => Some((
                self.claim(target)?,
                vec![format!("{}*", escape_glob(string_literal(prefix)?))],
            )),
            ("matches", Some(target), [regex]) => {
                let regex = string_literal(regex)?;
                let body = regex.trim_start_matches("(?s)").strip_prefix('^')?;
                let prefix: String = body
                    .chars()
                    .take_while(|c| !"\\.+*?()|[]{}^$".contains(*c))
                    .collect();
                Some((
                    self.claim(target)?,
                    vec![format!("{}*", escape_glob(&prefix))],
                ))
            }
            _ => None,
        }
    }

    /// Whether a test admits only one owner's workloads.
    fn pins_owner(&self, test: &IdedExpr) -> bool {
        let Some((claim, patterns)) = self.compared(test) else {
            return false;
        };
        let by_claim = self.preset.owner_claims.contains(&claim.as_str())
            || (self.preset.id == "github" && OWNER_NAME_CLAIMS.contains(&claim.as_str()));
        if by_claim {
            return patterns.iter().all(|p| !p.contains('*'));
        }
        claim == "sub"
            && patterns.iter().all(|pattern| {
                !admits_every_owner(self.preset, pattern)
                    && self.preset.owner_fields.iter().any(|(prefix, end)| {
                        pattern.strip_prefix(prefix).is_some_and(|rest| {
                            rest.split(['*', '?']).next().unwrap_or("").contains(*end)
                        })
                    })
            })
    }

    /// The sub values and prefixes the condition compares with.
    fn sub_literals(&self, expression: &IdedExpr) -> Vec<String> {
        disjuncts(expression)
            .into_iter()
            .flat_map(conjuncts)
            .filter_map(|test| self.compared(test))
            .filter(|(claim, _)| claim == "sub")
            .flat_map(|(_, patterns)| patterns)
            .collect()
    }
}

/// A literal value as an IAM pattern that matches only it: lint's owner check reads `*` and `?`
/// as wildcards, so literal ones are kept out of the fixed text by ending it there.
fn escape_glob(value: &str) -> String {
    match value.find(['*', '?']) {
        // A literal star makes the value no wider; cut the pattern at it so that only the text
        // before it counts as fixed.
        Some(at) => format!("{}*", &value[..at]),
        None => value.to_owned(),
    }
}
