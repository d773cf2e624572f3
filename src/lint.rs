//! `oidc-gen lint`: reads trust policies people already have and says, for every statement that
//! trusts an OIDC provider, which issuer it trusts, what it admits in words, and what is wrong with
//! it: a finding with a stable rule id, a severity and a fix. The issuer's knowledge is the
//! [`issuers`] table generation uses.
//!
//! Inputs: a policy document, `aws iam get-role`, `aws iam list-roles` and
//! `aws iam get-account-authorization-details` output, and CloudFormation templates (JSON, or
//! YAML without short-form tags), as files or the folders holding them.

use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::Value;

use crate::bounded;
use crate::issuer::Issuer;
use crate::issuers::{self, Preset};
use crate::policy::{ASSUME_ACTION, is_pattern, string_like};

/// The most a file `lint` reads may hold: a 10,000-role account dump is about 10 MB.
pub const LINT_BYTES: u64 = 64 << 20;
/// The most files a folder given to `lint` may hold that it reads.
pub const MAX_FILES: usize = 10_000;

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, clap::ValueEnum, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Defence in depth a known issuer offers and the statement does not use.
    Note,
    /// The statement admits nothing it seems meant to, or will be refused on its next edit.
    Warning,
    /// The statement admits more than its owner can mean.
    Error,
}

impl Severity {
    /// The word in text output and SARIF's level.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Note => "note",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// A rule: its stable id, its name, how serious it is, and what it means.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Rule {
    /// The stable id, e.g. `OIDC001`.
    pub id: &'static str,
    /// A short name, e.g. `unchecked-subject`.
    pub name: &'static str,
    /// How serious a finding of it is.
    pub severity: Severity,
    /// What it means.
    pub summary: &'static str,
}

/// Every rule, by id.
pub const RULES: [Rule; 8] = [
    Rule {
        id: "OIDC001",
        name: "unchecked-subject",
        severity: Severity::Error,
        summary: "The statement does not test the token's sub with StringEquals or StringLike: every \
                  workload that can get a token of the issuer with an audience it admits gets in.",
    },
    Rule {
        id: "OIDC002",
        name: "subject-admits-every-owner",
        severity: Severity::Error,
        summary: "A sub pattern has a wildcard before the end of the owner's name (*, repo:*, repo:acme*): \
                  it admits other owners' workloads.",
    },
    Rule {
        id: "OIDC003",
        name: "wildcard-entry",
        severity: Severity::Error,
        summary: "A list of values holds a bare *, which admits every value whatever the others say.",
    },
    Rule {
        id: "OIDC004",
        name: "audience-pattern",
        severity: Severity::Error,
        summary: "The audience is tested with a pattern; it should be compared exactly.",
    },
    Rule {
        id: "OIDC005",
        name: "for-all-values",
        severity: Severity::Error,
        summary: "ForAllValues: on a single-valued claim is true when the claim is absent.",
    },
    Rule {
        id: "OIDC101",
        name: "equals-with-wildcard",
        severity: Severity::Warning,
        summary: "StringEquals compares * and ? as themselves: no token's value has them, so the condition \
                  admits nothing.",
    },
    Rule {
        id: "OIDC102",
        name: "unmapped-claim",
        severity: Severity::Warning,
        summary: "The condition tests a claim AWS does not map to a condition key for this issuer (or \
                  another issuer's key): it never matches.",
    },
    Rule {
        id: "OIDC201",
        name: "github-without-repository-id",
        severity: Severity::Note,
        summary: "A GitHub statement names repositories without testing repository_id: a repository \
                  deleted and re-created under the same name gets in.",
    },
];

/// The rule with id `id`.
fn rule(id: &str) -> &'static Rule {
    RULES.iter().find(|r| r.id == id).expect("a known rule")
}

/// One role's trust policy, as read from a file.
#[derive(Debug, Clone)]
pub struct Role {
    /// The file.
    pub path: PathBuf,
    /// The role: its name, its CloudFormation logical id, or the file's name for a document.
    pub resource: String,
    /// The trust policy document.
    pub policy: Value,
}

/// What one statement that trusts an OIDC provider admits.
#[derive(Debug, Clone, Serialize)]
pub struct Description {
    /// The file.
    pub path: PathBuf,
    /// The role.
    pub resource: String,
    /// The statement's Sid, or `#N`.
    pub statement: String,
    /// The issuer, without `https://`.
    pub issuer: String,
    /// What it admits, in words.
    pub admits: String,
}

/// Something wrong with a statement.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// The file.
    pub path: PathBuf,
    /// The 1-based line, where the format has one.
    pub line: Option<usize>,
    /// The role.
    pub resource: String,
    /// The statement's Sid, or `#N`.
    pub statement: String,
    /// The issuer, without `https://`, when known.
    pub issuer: Option<String>,
    /// The rule's id.
    pub rule: &'static str,
    /// How serious it is.
    pub severity: Severity,
    /// What is wrong, with the values.
    pub message: String,
    /// What to do.
    pub fix: String,
}

/// A file that could not be read, and why.
#[derive(Debug, Clone, Serialize)]
pub struct Unreadable {
    /// The file.
    pub path: PathBuf,
    /// Why.
    pub reason: String,
}

/// What `lint` found in every file.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    /// What each statement admits.
    pub statements: Vec<Description>,
    /// The findings, file by file.
    pub findings: Vec<Finding>,
    /// Files that could not be read.
    pub unreadable: Vec<Unreadable>,
    /// How many roles were read.
    pub roles: usize,
}

/// Reads every path (a folder: the `.json`, `.yaml`, `.yml` and `.template` files below it, never
/// through a symbolic link) and lints each role found.
pub fn lint_paths(paths: &[PathBuf]) -> Report {
    let mut report = Report::default();
    let mut files = Vec::new();
    for path in paths {
        collect(path, true, &mut files, &mut report.unreadable);
    }
    for file in files {
        match read_roles(&file) {
            Ok(roles) => {
                for role in roles {
                    report.roles += 1;
                    lint_role(&role, &mut report);
                }
            }
            Err(reason) => report.unreadable.push(Unreadable { path: file, reason }),
        }
    }
    report
}

/// The files `path` names: itself when given, or the policy-looking files below a folder.
fn collect(path: &Path, given: bool, files: &mut Vec<PathBuf>, unreadable: &mut Vec<Unreadable>) {
    let metadata = match std::fs::symlink_metadata(path) {
        Ok(metadata) => metadata,
        Err(e) => {
            unreadable.push(Unreadable {
                path: path.to_path_buf(),
                reason: e.to_string(),
            });
            return;
        }
    };
    if metadata.is_dir() {
        let mut entries: Vec<PathBuf> = match std::fs::read_dir(path) {
            Ok(entries) => entries.filter_map(|e| e.ok().map(|e| e.path())).collect(),
            Err(e) => {
                unreadable.push(Unreadable {
                    path: path.to_path_buf(),
                    reason: e.to_string(),
                });
                return;
            }
        };
        entries.sort();
        for entry in entries {
            if files.len() >= MAX_FILES {
                unreadable.push(Unreadable {
                    path: path.to_path_buf(),
                    reason: format!("more than {MAX_FILES} files; lint fewer at a time"),
                });
                return;
            }
            collect(&entry, false, files, unreadable);
        }
    } else if metadata.is_file() {
        let wanted = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| ["json", "yaml", "yml", "template"].contains(&e));
        if given || wanted {
            files.push(path.to_path_buf());
        }
    } else if given {
        // A symbolic link named on the command line is not followed either.
        unreadable.push(Unreadable {
            path: path.to_path_buf(),
            reason: "it is not a regular file or a folder (a symbolic link is not followed)".into(),
        });
    }
}

/// The roles in a file: a policy document, `aws iam get-role`, `list-roles` or
/// `get-account-authorization-details` output, or a CloudFormation template.
pub fn read_roles(path: &Path) -> Result<Vec<Role>, String> {
    let text = bounded::read_text(path, LINT_BYTES).map_err(|e| e.to_string())?;
    let document = bounded::parse_document(&text)?;
    let name = path
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let role = |resource: String, policy: &Value| -> Result<Role, String> {
        let policy = match policy {
            // IAM returns the document URL-encoded in some outputs, JSON-encoded in others.
            Value::String(encoded) => {
                let decoded = url::form_urlencoded::parse(format!("x={encoded}").as_bytes())
                    .next()
                    .map(|(_, v)| v.into_owned())
                    .unwrap_or_default();
                bounded::parse_json(&decoded)
                    .or_else(|_| bounded::parse_json(encoded))
                    .map_err(|e| format!("the trust policy of {resource} is not JSON: {e}"))?
            }
            other => other.clone(),
        };
        Ok(Role {
            path: path.to_path_buf(),
            resource,
            policy,
        })
    };
    if document.get("Statement").is_some() {
        return Ok(vec![role(name, &document)?]);
    }
    let listed = |list: &Value| -> Result<Vec<Role>, String> {
        list.as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| {
                let policy = r.get("AssumeRolePolicyDocument")?;
                let resource = r.get("RoleName").and_then(Value::as_str).unwrap_or("?");
                Some(role(resource.to_owned(), policy))
            })
            .collect()
    };
    if let Some(one) = document.get("Role") {
        return listed(&Value::Array(vec![one.clone()]));
    }
    for key in ["Roles", "RoleDetailList"] {
        if let Some(list) = document.get(key) {
            return listed(list);
        }
    }
    if let Some(resources) = document.get("Resources").and_then(Value::as_object) {
        return resources
            .iter()
            .filter(|(_, r)| r.get("Type").and_then(Value::as_str) == Some("AWS::IAM::Role"))
            .filter_map(|(id, r)| {
                let policy = r.pointer("/Properties/AssumeRolePolicyDocument")?;
                Some(role(id.clone(), policy))
            })
            .collect();
    }
    Err(
        "it holds no trust policy: give a policy document, aws iam get-role, list-roles or \
         get-account-authorization-details output, or a CloudFormation template"
            .into(),
    )
}

/// A condition's operator, split: `ForAllValues:StringLikeIfExists` is
/// (`Some("ForAllValues")`, `StringLike`, true).
struct Operator<'a> {
    set: Option<&'a str>,
    base: &'a str,
    if_exists: bool,
}

impl<'a> Operator<'a> {
    fn parse(text: &'a str) -> Operator<'a> {
        let (set, rest) = match text.split_once(':') {
            Some((set, rest)) => (Some(set), rest),
            None => (None, text),
        };
        let (base, if_exists) = match rest.strip_suffix("IfExists") {
            Some(base) => (base, true),
            None => (rest, false),
        };
        Operator {
            set,
            base,
            if_exists,
        }
    }

    /// Whether a value must equal or match a listed one (not a negation).
    fn positive(&self) -> bool {
        matches!(
            self.base,
            "StringEquals" | "StringLike" | "StringEqualsIgnoreCase"
        )
    }
}

/// A statement's conditions on one claim of its issuer.
struct Test<'a> {
    operator: Operator<'a>,
    claim: String,
    values: Vec<String>,
}

/// Lints one role's policy: a description and findings for each statement that trusts an OIDC
/// provider through `sts:AssumeRoleWithWebIdentity`.
pub fn lint_role(role: &Role, report: &mut Report) {
    let statements: Vec<&Value> = match role.policy.get("Statement") {
        Some(Value::Array(list)) => list.iter().collect(),
        Some(one @ Value::Object(_)) => vec![one],
        _ => Vec::new(),
    };
    for (index, statement) in statements.into_iter().enumerate() {
        let name = match statement.get("Sid").and_then(Value::as_str) {
            Some(sid) if !sid.is_empty() => sid.to_owned(),
            _ => format!("#{}", index + 1),
        };
        if statement.get("Effect").and_then(Value::as_str) != Some("Allow")
            || !strings(statement.get("Action"))
                .iter()
                .any(|a| string_like(&a.to_ascii_lowercase(), &ASSUME_ACTION.to_ascii_lowercase()))
        {
            continue;
        }
        lint_statement(role, &name, statement, report);
    }
}

fn lint_statement(role: &Role, name: &str, statement: &Value, report: &mut Report) {
    let keys = condition_keys(statement);
    let host_path = provider_host_path(statement).or_else(|| {
        // A principal CloudFormation computes: the issuer its condition keys name.
        keys.iter()
            .find_map(|(_, key, _)| key.rsplit_once(':').map(|(prefix, _)| prefix.to_owned()))
    });
    let Some(host_path) = host_path else {
        return;
    };
    let preset = Issuer::parse(&format!("https://{host_path}"))
        .ok()
        .and_then(|issuer| issuers::find(&issuer));
    let mut found = |id: &'static str, message: String, fix: String| {
        let rule = rule(id);
        report.findings.push(Finding {
            path: role.path.clone(),
            line: None,
            resource: role.resource.clone(),
            statement: name.to_owned(),
            issuer: Some(host_path.clone()),
            rule: rule.id,
            severity: rule.severity,
            message,
            fix,
        });
    };

    let mut tests: Vec<Test> = Vec::new();
    for (operator, key, values) in &keys {
        let operator = Operator::parse(operator);
        let Some((prefix, claim)) = key.rsplit_once(':') else {
            continue;
        };
        if prefix.eq_ignore_ascii_case("aws") || key.starts_with("aws:") {
            continue;
        }
        if !prefix.eq_ignore_ascii_case(&host_path) {
            found(
                "OIDC102",
                format!(
                    "{key} is a key of the issuer {prefix}, but the statement trusts {host_path}'s provider"
                ),
                format!(
                    "write {host_path}:{claim}, or move the condition to a statement for {prefix}"
                ),
            );
            continue;
        }
        let mapped = ["aud", "sub", "amr"].contains(&claim)
            || preset.is_none_or(|p| p.mapped_claims.contains(&claim));
        if !mapped {
            let preset = preset.expect("unmapped only for a known issuer");
            found(
                "OIDC102",
                format!(
                    "{key}: AWS does not map the claim {claim} of {} to a condition key, so the condition never \
                     matches",
                    preset.name
                ),
                format!(
                    "test one of the keys AWS maps: aud, sub{}",
                    preset
                        .mapped_claims
                        .iter()
                        .map(|c| format!(", {c}"))
                        .collect::<String>()
                ),
            );
        }
        if operator.set == Some("ForAllValues") {
            found(
                "OIDC005",
                format!(
                    "ForAllValues:{} on {key} is true when the token has no {claim}",
                    operator.base
                ),
                format!("write {} without ForAllValues:", operator.base),
            );
        }
        if values.iter().any(|v| v == "*") && operator.positive() && values.len() > 1 {
            found(
                "OIDC003",
                format!(
                    "{key} lists \"*\" among {} values: every {claim} matches",
                    values.len()
                ),
                "remove the \"*\" entry".into(),
            );
        }
        if operator.base == "StringEquals" && values.iter().any(|v| is_pattern(v)) {
            found(
                "OIDC101",
                format!(
                    "StringEquals compares {key} with {} exactly: * and ? are not wildcards there, and no token \
                     has that value",
                    quoted_list(values.iter().filter(|v| is_pattern(v)))
                ),
                "did you mean StringLike?".into(),
            );
        }
        if claim == "aud" && operator.base == "StringLike" && values.iter().any(|v| is_pattern(v)) {
            found(
                "OIDC004",
                format!(
                    "{key} is tested with StringLike {}",
                    quoted_list(values.iter())
                ),
                "compare the audience exactly with StringEquals".into(),
            );
        }
        tests.push(Test {
            operator,
            claim: claim.to_owned(),
            values: values.clone(),
        });
    }

    let subject_tests: Vec<&Test> = tests
        .iter()
        .filter(|t| t.claim == "sub" && t.operator.positive() && !t.operator.if_exists)
        .collect();
    let issuer_name = preset.map_or_else(|| host_path.clone(), |p| p.name.to_owned());
    if subject_tests.is_empty() {
        found(
            "OIDC001",
            format!(
                "no condition tests {host_path}:sub: every workload of {issuer_name} with an admitted audience \
                 gets in"
            ),
            "add StringEquals (or StringLike) on sub naming the workloads: oidc-gen writes it for you".into(),
        );
    }
    if let Some(preset) = preset {
        for test in &subject_tests {
            for value in &test.values {
                if test.operator.base == "StringLike" && admits_every_owner(preset, value) {
                    found(
                        "OIDC002",
                        format!(
                            "sub {} admits the workloads of every owner on {}",
                            bounded::quoted(value),
                            preset.name
                        ),
                        format!(
                            "name the owner before any wildcard, e.g. {}",
                            preset
                                .owner_fields
                                .first()
                                .map_or(String::new(), |(prefix, end)| {
                                    format!("{prefix}OWNER{end}*")
                                })
                        ),
                    );
                }
            }
        }
        if preset.id == "github"
            && !tests.iter().any(|t| t.claim == "repository_id")
            && !subject_tests.is_empty()
        {
            found(
                "OIDC201",
                "the statement names GitHub repositories but does not test repository_id".into(),
                "add StringEquals on repository_id and repository_owner_id (oidc-gen --github OWNER@ID/REPO@ID)"
                    .into(),
            );
        }
    }
    report.statements.push(Description {
        path: role.path.clone(),
        resource: role.resource.clone(),
        statement: name.to_owned(),
        issuer: host_path.clone(),
        admits: words(&issuer_name, &tests),
    });
}

/// Whether a subject pattern has a wildcard before the end of the owner's name, in every shape of
/// the issuer's subjects that it can match.
pub fn admits_every_owner(preset: &Preset, value: &str) -> bool {
    let Some(first) = value.find(['*', '?']) else {
        return false;
    };
    let fixed = &value[..first];
    preset.owner_fields.iter().any(|(prefix, end)| {
        prefix.starts_with(fixed)
            || fixed
                .strip_prefix(prefix)
                .is_some_and(|owner| !owner.contains(*end))
    })
}

/// What the statement admits, in words.
fn words(issuer: &str, tests: &[Test]) -> String {
    let mut parts = Vec::new();
    for test in tests {
        let verb = match (test.operator.base, test.operator.positive()) {
            ("StringLike", _) => "matches",
            (_, true) => "is",
            ("StringNotLike", _) => "does not match",
            _ => "is not",
        };
        let exists = if test.operator.if_exists {
            " (when present)"
        } else {
            ""
        };
        parts.push(format!(
            "{} {verb} {}{exists}",
            test.claim,
            test.values
                .iter()
                .map(|v| bounded::quoted(v))
                .collect::<Vec<_>>()
                .join(" or ")
        ));
    }
    if !tests
        .iter()
        .any(|t| t.claim == "sub" && t.operator.positive())
    {
        parts.push("any sub".into());
    }
    format!("tokens of {issuer} whose {}", parts.join(", and "))
}

/// `"a", "b"`.
fn quoted_list<'a>(values: impl Iterator<Item = &'a String>) -> String {
    values
        .map(|v| bounded::quoted(v))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The host and path of the OIDC provider a statement's `Principal.Federated` names, if it is
/// written out (`arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com`).
fn provider_host_path(statement: &Value) -> Option<String> {
    let arns = match statement.pointer("/Principal/Federated") {
        Some(Value::String(arn)) => vec![arn.as_str()],
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).collect(),
        // An intrinsic function (Fn::If, Ref, Fn::Sub) is computed when deployed.
        _ => Vec::new(),
    };
    arns.into_iter().find_map(|arn| {
        arn.strip_prefix("arn:")
            .and_then(|arn| arn.split_once(":oidc-provider/"))
            .map(|(_, host_path)| host_path.to_owned())
    })
}

/// Every (operator, key, values) of a statement's conditions.
fn condition_keys(statement: &Value) -> Vec<(String, String, Vec<String>)> {
    let mut keys = Vec::new();
    let operators = statement.get("Condition").and_then(Value::as_object);
    for (operator, tests) in operators.into_iter().flatten() {
        for (key, values) in tests.as_object().into_iter().flatten() {
            keys.push((operator.clone(), key.clone(), strings(Some(values))));
        }
    }
    keys
}

/// A string or a list of strings (other values as their JSON text).
fn strings(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(list)) => list
            .iter()
            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
            .collect(),
        Some(other) => vec![other.to_string()],
        None => Vec::new(),
    }
}

impl Report {
    /// The findings at or above `severity`.
    pub fn at_least(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity >= severity)
            .count()
    }

    /// The report as people read it: each statement's issuer and what it admits, then its
    /// findings, file by file.
    pub fn text(&self) -> String {
        let mut text = String::new();
        // A statement's findings come right after those of the statement before it.
        let mut findings = self.findings.iter().peekable();
        for description in &self.statements {
            text.push_str(&format!(
                "{}: {} {}: {}\n",
                description.path.display(),
                description.resource,
                description.statement,
                description.admits
            ));
            while let Some(finding) = findings.next_if(|f| {
                f.path == description.path
                    && f.resource == description.resource
                    && f.statement == description.statement
            }) {
                let rule = rule(finding.rule);
                text.push_str(&format!(
                    "  {} {} {}: {}\n    fix: {}\n",
                    finding.severity.as_str(),
                    rule.id,
                    rule.name,
                    finding.message,
                    finding.fix
                ));
            }
        }
        for unreadable in &self.unreadable {
            text.push_str(&format!(
                "{}: unreadable: {}\n",
                unreadable.path.display(),
                unreadable.reason
            ));
        }
        let count = |severity| {
            self.findings
                .iter()
                .filter(|f| f.severity == severity)
                .count()
        };
        text.push_str(&format!(
            "{} role(s), {} OIDC statement(s): {} error(s), {} warning(s), {} note(s), {} unreadable file(s)\n",
            self.roles,
            self.statements.len(),
            count(Severity::Error),
            count(Severity::Warning),
            count(Severity::Note),
            self.unreadable.len()
        ));
        text
    }

    /// The report as SARIF 2.1.0, as GitHub code scanning reads it: every rule, and a result per
    /// finding located at its file (and the role as a logical location); an unreadable file is a
    /// tool execution notification.
    pub fn sarif(&self) -> Value {
        let rules: Vec<Value> = RULES
            .iter()
            .map(|rule| {
                serde_json::json!({
                    "id": rule.id,
                    "name": rule.name,
                    "shortDescription": { "text": rule.summary },
                    "fullDescription": { "text": rule.summary },
                    "defaultConfiguration": { "level": rule.severity.as_str() },
                    "help": { "text": format!("{} See oidc-gen lint in the README.", rule.summary) },
                })
            })
            .collect();
        let results: Vec<Value> = self
            .findings
            .iter()
            .map(|finding| {
                serde_json::json!({
                    "ruleId": finding.rule,
                    "ruleIndex": RULES.iter().position(|r| r.id == finding.rule),
                    "level": finding.severity.as_str(),
                    "message": {
                        "text": format!(
                            "{} {}: {}. Fix: {}",
                            finding.resource, finding.statement, finding.message, finding.fix
                        ),
                    },
                    "locations": [{
                        "physicalLocation": {
                            "artifactLocation": { "uri": uri(&finding.path) },
                            "region": { "startLine": finding.line.unwrap_or(1) },
                        },
                        "logicalLocations": [{
                            "name": finding.resource,
                            "fullyQualifiedName": format!("{}/{}", finding.resource, finding.statement),
                            "kind": "resource",
                        }],
                    }],
                })
            })
            .collect();
        let notifications: Vec<Value> = self
            .unreadable
            .iter()
            .map(|file| {
                serde_json::json!({
                    "level": "error",
                    "message": { "text": format!("{}: {}", file.path.display(), file.reason) },
                    "locations": [{
                        "physicalLocation": { "artifactLocation": { "uri": uri(&file.path) } },
                    }],
                })
            })
            .collect();
        serde_json::json!({
            "$schema": "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json",
            "version": "2.1.0",
            "runs": [{
                "tool": {
                    "driver": {
                        "name": env!("CARGO_PKG_NAME"),
                        "version": env!("CARGO_PKG_VERSION"),
                        "rules": rules,
                    },
                },
                "invocations": [{
                    "executionSuccessful": self.unreadable.is_empty(),
                    "toolExecutionNotifications": notifications,
                }],
                "results": results,
            }],
        })
    }

    /// The report as JSON: `{"findings": [...], "statements": [...], "unreadable": [...],
    /// "summary": {...}}`.
    pub fn json(&self) -> Value {
        serde_json::json!({
            "findings": self.findings,
            "statements": self.statements,
            "unreadable": self.unreadable,
            "summary": {
                "roles": self.roles,
                "statements": self.statements.len(),
                "errors": self.findings.iter().filter(|f| f.severity == Severity::Error).count(),
                "warnings": self.findings.iter().filter(|f| f.severity == Severity::Warning).count(),
                "notes": self.findings.iter().filter(|f| f.severity == Severity::Note).count(),
                "unreadable": self.unreadable.len(),
            },
        })
    }
}

/// A file's SARIF URI: `file:///...` for an absolute path, else the relative path with `/` and
/// every byte outside RFC 3986's unreserved characters percent-encoded.
fn uri(path: &Path) -> String {
    if path.is_absolute() {
        if let Ok(url) = url::Url::from_file_path(path) {
            return url.to_string();
        }
    }
    let mut text = String::new();
    for (index, part) in path.iter().enumerate() {
        if index > 0 {
            text.push('/');
        }
        for byte in part.as_encoded_bytes() {
            match byte {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                    text.push(*byte as char)
                }
                _ => text.push_str(&format!("%{byte:02X}")),
            }
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn preset(id: &str) -> &'static Preset {
        issuers::ALL.iter().find(|p| p.id == id).unwrap()
    }

    #[test]
    fn a_wildcard_before_the_owner_ends_admits_every_owner() {
        let github = preset("github");
        for value in ["*", "repo:*", "rep*", "repo:acme*", "repo:acme?/app:*"] {
            assert!(admits_every_owner(github, value), "{value}");
        }
        for value in [
            "repo:acme/*",
            "repo:acme/app:*",
            "repo:acme@12/app@3:*",
            "repo:acme/app",
        ] {
            assert!(!admits_every_owner(github, value), "{value}");
        }
        let pulumi = preset("pulumi");
        assert!(admits_every_owner(pulumi, "pulumi:environments:org:*"));
        assert!(admits_every_owner(pulumi, "pulumi:deploy:org:ac*"));
        assert!(!admits_every_owner(
            pulumi,
            "pulumi:environments:org:acme:*"
        ));
    }

    #[test]
    fn uris_are_encoded() {
        assert_eq!(
            uri(Path::new("infra/my roles/a#b.json")),
            "infra/my%20roles/a%23b.json"
        );
        assert_eq!(uri(Path::new("/tmp/x y.json")), "file:///tmp/x%20y.json");
    }

    #[test]
    fn operators_split() {
        let op = Operator::parse("ForAllValues:StringLikeIfExists");
        assert_eq!(
            (op.set, op.base, op.if_exists),
            (Some("ForAllValues"), "StringLike", true)
        );
        assert!(op.positive());
        assert!(!Operator::parse("StringNotLike").positive());
    }
}
