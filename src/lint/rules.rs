//! The rules `lint` applies to each statement that trusts an OIDC provider, and the words that
//! say what the statement admits. What is known of each issuer (its subject shapes, the claims
//! AWS maps, the claim IAM's shared-issuer guard requires) is the [`issuers`] table.

use serde::Serialize;
use serde_json::Value;

use super::read::{Role, Unresolved};
use super::report::{Description, Finding, Report, Suppressed};
use super::unknown;
use crate::bounded;
use crate::issuer::Issuer;
use crate::issuers::{self, Preset};
use crate::policy::{ASSUME_ACTION, is_pattern, string_like};

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
pub const RULES: [Rule; 24] = [
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
        id: "OIDC006",
        name: "subject-spans-shapes",
        severity: Severity::Error,
        summary: "A sub pattern matches subjects of more than one token shape of the issuer (Pulumi ESC and \
                  Deployments alike): it does not pin which kind of workload gets in.",
    },
    Rule {
        id: "OIDC007",
        name: "negation-alone",
        severity: Severity::Error,
        summary: "sub is tested only with StringNotEquals or StringNotLike: every workload but the ones named \
                  gets in.",
    },
    Rule {
        id: "OIDC008",
        name: "any-principal",
        severity: Severity::Error,
        summary: "The statement lets anyone (Principal *) assume the role with a web identity token: a token \
                  of any identity provider, Google's and Cognito's included, gets in.",
    },
    Rule {
        id: "OIDC009",
        name: "subject-pins-no-owner",
        severity: Severity::Error,
        summary: "The issuer lets each owner choose how its subjects are written (GitHub's subject \
                  templates), and no sub value names an owner nor does the statement test an owner claim: \
                  any owner can make its workloads' subjects look like this.",
    },
    Rule {
        id: "OIDC010",
        name: "wildcard-in-repository",
        severity: Severity::Error,
        summary: "A sub pattern has a wildcard right after part of a repository's name, with nothing after \
                  it to end the name (repo:acme/app*): it admits every repository whose name starts so.",
    },
    Rule {
        id: "OIDC011",
        name: "unchecked-audience",
        severity: Severity::Error,
        summary: "The statement trusts an issuer oidc-gen does not know, or a public one (Google, Cognito), \
                  without testing the audience, or admits any sub of an issuer it does not know: tokens \
                  minted for other applications get in.",
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
        id: "OIDC103",
        name: "shared-issuer-guard",
        severity: Severity::Warning,
        summary: "IAM's shared-issuer guard (June 2025) refuses to create or update a role trusting this \
                  issuer unless the policy tests its required claim: the role works today and its next edit \
                  fails.",
    },
    Rule {
        id: "OIDC104",
        name: "impossible-subject",
        severity: Severity::Warning,
        summary: "No token of the issuer has a sub like this: its subjects have another grammar, so the \
                  condition admits nothing.",
    },
    Rule {
        id: "OIDC105",
        name: "refused-by-iam",
        severity: Severity::Warning,
        summary: "IAM refuses the policy (an Effect other than Allow or Deny, spelled exactly): the role \
                  cannot be created or updated with it, and what it admits is not what the file says.",
    },
    Rule {
        id: "OIDC201",
        name: "github-without-repository-id",
        severity: Severity::Note,
        summary: "A GitHub statement names repositories without testing repository_id: a repository \
                  deleted and re-created under the same name gets in.",
    },
    Rule {
        id: "OIDC401",
        name: "provider-without-condition",
        severity: Severity::Error,
        summary: "A Google Cloud workload identity pool provider has no attribute_condition: every token of \
                  the issuer with an allowed audience gets in, whoever's workload it is.",
    },
    Rule {
        id: "OIDC402",
        name: "condition-pins-no-owner",
        severity: Severity::Error,
        summary: "A GCP attribute condition (or one of its alternatives) tests no claim that names the owner, \
                  for an issuer that serves every owner (GitHub, GitLab.com, HCP Terraform, ...): another \
                  owner's workload gets in.",
    },
    Rule {
        id: "OIDC403",
        name: "whole-pool-member",
        severity: Severity::Warning,
        summary: "An IAM member is a whole workload identity pool (principalSet://.../*): every workload any of \
                  its providers admits, now or later, gets what the member gets.",
    },
    Rule {
        id: "OIDC404",
        name: "flexible-pins-no-owner-id",
        severity: Severity::Error,
        summary: "An Azure flexible federated credential for GitHub tests no repository_owner_id or \
                  repository_id: Entra requires one, and a pattern on sub is all that keeps other owners out.",
    },
    Rule {
        id: "OIDC405",
        name: "foreign-subject",
        severity: Severity::Error,
        summary: "A GCP condition or an Azure credential tests a subject written in another issuer's grammar: \
                  no token of the trusted issuer has it (or the wrong issuer is trusted).",
    },
    Rule {
        id: "OIDC406",
        name: "wildcard-in-exact-subject",
        severity: Severity::Warning,
        summary: "An Azure federated credential compares its subject exactly: a * in it is a star, not a \
                  wildcard, and admits no workload.",
    },
    Rule {
        id: "OIDC301",
        name: "unproven",
        severity: Severity::Warning,
        summary: "What the role admits depends on a value lint cannot know (a variable nobody sets, a \
                  parameter with no default, a value known once applied, a policy variable): it is not \
                  proven safe. Give the values (--var, --var-file, --parameter) or lint the plan.",
    },
];

/// The rule with id `id`.
pub fn rule(id: &str) -> &'static Rule {
    RULES.iter().find(|r| r.id == id).expect("a known rule")
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

    /// Whether every token must carry the key and meet it: a positive operator, neither
    /// `IfExists` nor a set operator (both hold when the key is absent).
    fn required(&self) -> bool {
        self.positive() && !self.if_exists && self.set.is_none()
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

impl Test<'_> {
    /// Whether it names the subjects that get in (a positive operator on sub, not IfExists).
    fn tests_subject(&self) -> bool {
        self.claim == "sub" && self.operator.positive() && !self.operator.if_exists
    }
}

/// Lints one role's policy: a description and findings for each statement that trusts an OIDC
/// provider through `sts:AssumeRoleWithWebIdentity`.
pub fn lint_role(role: &Role, report: &mut Report) {
    let first = report.findings.len();
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
        let web_identity = strings(statement.get("Action")).iter().any(|a| {
            unknown::in_text(a)
                || string_like(&a.to_ascii_lowercase(), &ASSUME_ACTION.to_ascii_lowercase())
        });
        if !web_identity {
            continue;
        }
        match statement.get("Effect").and_then(Value::as_str) {
            Some("Allow") => {}
            Some("Deny") => continue,
            Some(effect) if unknown::in_text(effect) => {}
            effect => {
                let effect = effect.map_or_else(
                    || "no Effect".to_owned(),
                    |e| format!("Effect {}", bounded::quoted(e)),
                );
                report.findings.push(finding(
                    role,
                    &name,
                    None,
                    "OIDC105",
                    format!(
                        "the statement has {effect}: IAM refuses the policy (MalformedPolicyDocument), so the role \
                         cannot be created or updated with it"
                    ),
                    "write \"Effect\": \"Allow\" (or \"Deny\"), spelled exactly so".into(),
                ));
                continue;
            }
        }
        lint_statement(role, &name, statement, report);
    }
    suppress(&role.suppressed, first, report);
}

/// Moves the findings from `first` on that `suppressions` (rule id, reason) name into the
/// report's suppressed ones. A suppression holds only with a reason.
pub(super) fn suppress(suppressions: &[(String, String)], first: usize, report: &mut Report) {
    let reason_for = |finding: &Finding| {
        suppressions
            .iter()
            .find(|(rule, reason)| rule == finding.rule && !reason.is_empty())
            .map(|(_, reason)| reason.clone())
    };
    let (suppressed, kept): (Vec<Finding>, Vec<Finding>) = report
        .findings
        .split_off(first)
        .into_iter()
        .partition(|f| reason_for(f).is_some());
    report.findings.extend(kept);
    for finding in suppressed {
        let reason = reason_for(&finding).expect("partitioned on it");
        report.suppressed.push(Suppressed { finding, reason });
    }
}

/// A finding of rule `id` on a statement of `role`.
fn finding(
    role: &Role,
    statement: &str,
    issuer: Option<String>,
    id: &'static str,
    message: String,
    fix: String,
) -> Finding {
    let rule = rule(id);
    Finding {
        path: role.path.clone(),
        line: role.line,
        resource: role.resource.clone(),
        statement: statement.to_owned(),
        issuer,
        rule: rule.id,
        severity: rule.severity,
        message,
        fix,
    }
}

/// A role whose trust policy its file does not spell out: unproven, never clean.
pub fn unproven_role(role: &Unresolved, report: &mut Report) {
    let rule = rule("OIDC301");
    report.findings.push(Finding {
        path: role.path.clone(),
        line: role.line,
        resource: role.resource.clone(),
        statement: "-".into(),
        issuer: None,
        rule: rule.id,
        severity: rule.severity,
        message: role.reason.clone(),
        fix: "give the values it depends on (--var, --var-file, --parameter), or lint the plan (terraform show \
              -json PLAN) or the deployed role (aws iam get-role)"
            .into(),
    });
}

/// Issuers anyone can get a token of, with no provider of theirs in the account: the claim that
/// names the application the token is for, which a statement must test.
const PUBLIC_ISSUERS: [(&str, &str); 4] = [
    ("accounts.google.com", "aud"),
    ("cognito-identity.amazonaws.com", "aud"),
    ("graph.facebook.com", "app_id"),
    ("www.amazon.com", "app_id"),
];

/// One statement being linted: where it is, the issuer it trusts, and what is found.
struct Check<'r> {
    role: &'r Role,
    name: &'r str,
    /// The issuer, without `https://`.
    host_path: String,
    /// What oidc-gen knows of the issuer, if it knows it.
    preset: Option<&'static Preset>,
    /// The issuer's name for people.
    issuer_name: String,
    findings: Vec<Finding>,
    /// Why no token can get in, when a condition every token must meet never holds.
    admits_nothing: Vec<String>,
    /// Whether a condition key is not known (it may be the sub or the aud).
    unknown_key: bool,
}

impl<'r> Check<'r> {
    fn found(&mut self, id: &'static str, message: String, fix: String) {
        self.findings.push(finding(
            self.role,
            self.name,
            Some(self.host_path.clone()),
            id,
            message,
            fix,
        ));
    }

    /// The checks of one condition key: its issuer, whether AWS maps it, its operator and values.
    /// The test it makes, when the key is the trusted issuer's.
    fn key<'k>(&mut self, operator: &'k str, key: &str, values: &[String]) -> Option<Test<'k>> {
        let operator = Operator::parse(operator);
        if unknown::in_text(key) {
            self.unknown_key = true;
            return None;
        }
        let all = values;
        // The checks below judge the values lint knows; the unknown ones make the role unproven.
        let known: Vec<String> = values
            .iter()
            .filter(|v| !unknown::in_text(v) && !v.contains("${"))
            .cloned()
            .collect();
        let values = &known[..];
        let (prefix, claim) = key.rsplit_once(':')?;
        if prefix.eq_ignore_ascii_case("aws") {
            return None;
        }
        let host_path = self.host_path.clone();
        // As messages show them: a key from a file may hold anything.
        let (key_shown, prefix_shown, claim_shown, host_shown) = (
            crate::shown::value(key),
            crate::shown::value(prefix),
            crate::shown::value(claim),
            crate::shown::value(&host_path).into_owned(),
        );
        // A condition every token must meet: a positive operator, the key required.
        let required = operator.required();
        if !prefix.eq_ignore_ascii_case(&host_path) {
            if required {
                self.admits_nothing
                    .push(format!("{key_shown} is not a key of {host_shown}'s tokens"));
            }
            self.found(
                "OIDC102",
                format!("{key_shown} is a key of the issuer {prefix_shown}, but the statement trusts {host_shown}'s provider"),
                format!("write {host_shown}:{claim_shown}, or move the condition to a statement for {prefix_shown}"),
            );
            return None;
        }
        if let Some(preset) = self.preset.filter(|_| required) {
            if !(["aud", "sub", "amr"].contains(&claim) || preset.mapped_claims.contains(&claim)) {
                if required {
                    self.admits_nothing.push(format!(
                        "AWS does not map {claim_shown} for {}",
                        preset.name
                    ));
                }
                self.found(
                    "OIDC102",
                    format!(
                        "{key_shown}: AWS does not map the claim {claim_shown} of {} to a condition key, so the condition never \
                         matches",
                        preset.name
                    ),
                    format!(
                        "test one of the keys AWS maps: aud, sub{}",
                        preset.mapped_claims.iter().map(|c| format!(", {c}")).collect::<String>()
                    ),
                );
            }
        }
        // The provider compares every token's aud with its client ids, so every token has one.
        if operator.set == Some("ForAllValues") && claim != "aud" {
            self.found(
                "OIDC005",
                format!(
                    "ForAllValues:{} on {key_shown} is true when the token has no {claim_shown}",
                    operator.base
                ),
                format!("write {} without ForAllValues:", operator.base),
            );
        }
        if values.iter().any(|v| v == "*") && operator.positive() && values.len() > 1 {
            self.found(
                "OIDC003",
                format!(
                    "{key_shown} lists \"*\" among {} values: every {claim_shown} matches",
                    values.len()
                ),
                "remove the \"*\" entry".into(),
            );
        }
        if operator.base == "StringEquals" && values.iter().any(|v| is_pattern(v)) {
            if required && values.iter().all(|v| is_pattern(v)) {
                self.admits_nothing.push(format!(
                    "StringEquals compares {key_shown} with {} exactly",
                    quoted_list(values.iter())
                ));
            }
            self.found(
                "OIDC101",
                format!(
                    "StringEquals compares {key_shown} with {} exactly: * and ? are not wildcards there, and no token \
                     has that value",
                    quoted_list(values.iter().filter(|v| is_pattern(v)))
                ),
                "did you mean StringLike?".into(),
            );
        }
        if claim == "aud" && operator.base == "StringLike" && values.iter().any(|v| is_pattern(v)) {
            self.found(
                "OIDC004",
                format!(
                    "{key_shown} is tested with StringLike {}",
                    quoted_list(values.iter())
                ),
                "compare the audience exactly with StringEquals".into(),
            );
        }
        Some(Test {
            operator,
            claim: claim.to_owned(),
            values: all.to_vec(),
        })
    }

    /// Whether the statement tests the subject, and whether each subject it names can be one of
    /// the issuer's and stays within one owner and one token shape.
    fn subject(&mut self, tests: &[Test]) {
        let subject_tests: Vec<&Test> = tests.iter().filter(|t| t.tests_subject()).collect();
        let negated = tests
            .iter()
            .find(|t| t.claim == "sub" && !t.operator.positive());
        let (host_path, issuer_name) = (
            crate::shown::value(&self.host_path).into_owned(),
            self.issuer_name.clone(),
        );
        match (subject_tests.is_empty(), negated) {
            (true, Some(negated)) => self.found(
                "OIDC007",
                format!(
                    "sub is tested only with {} {}: every other workload of {issuer_name} with an admitted \
                     audience gets in",
                    negated.operator.base,
                    quoted_list(negated.values.iter())
                ),
                "name the workloads that may assume the role with StringEquals (or StringLike) on sub; keep the \
                 negation only to carve out of that"
                    .into(),
            ),
            (true, None) if self.unknown_key => {}
            (true, None) if self.preset.is_none() && public_claim(&self.host_path).is_some() => {}
            (true, None) => self.found(
                "OIDC001",
                format!(
                    "no condition tests {host_path}:sub: every workload of {issuer_name} with an admitted audience \
                     gets in"
                ),
                "add StringEquals (or StringLike) on sub naming the workloads: oidc-gen writes it for you".into(),
            ),
            _ => {}
        }
        let Some(preset) = self.preset else {
            return;
        };
        // Whether a subject outside the known shapes can still be one the issuer sends.
        let grammar_known = !preset.owner_fields.is_empty() && !preset.custom_subjects;
        // With subjects each owner writes, a sub pins an owner only by naming it, unless the
        // statement tests a claim the issuer sets that does.
        let owner_tested = tests.iter().any(|t| {
            preset.owner_claims.contains(&t.claim.as_str())
                && t.operator.positive()
                && !t.operator.if_exists
                && known(&t.values).all(|v| !v.starts_with(['*', '?']))
        });
        for test in subject_tests {
            let pattern = test.operator.base == "StringLike";
            let mut impossible = 0;
            let values: Vec<&String> = known(&test.values).collect();
            for value in values.iter().copied() {
                let every_owner = pattern && admits_every_owner(preset, value);
                if preset.custom_subjects
                    && !preset.owner_fields.is_empty()
                    && !owner_tested
                    && !every_owner
                    && !pins_owner(preset, value, pattern)
                {
                    self.found(
                        "OIDC009",
                        format!(
                            "sub {} names no owner: any owner on {} can set its subjects to look like this \
                             (a custom subject template), and no condition tests {}",
                            bounded::quoted(value),
                            preset.name,
                            preset.owner_claims.join(" or ")
                        ),
                        format!(
                            "start the sub with the owner ({}), or test {} with StringEquals",
                            preset
                                .owner_fields
                                .first()
                                .map_or(String::new(), |(prefix, end)| format!("{prefix}OWNER{end}...")),
                            preset.owner_claims.first().copied().unwrap_or("the owner's id")
                        ),
                    );
                }
                if pattern && !every_owner {
                    if let Some(fix) = crosses_repository(preset, value) {
                        self.found(
                            "OIDC010",
                            format!(
                                "sub {} has a wildcard inside the repository's name: it admits every repository \
                                 of the owner whose name starts so",
                                bounded::quoted(value)
                            ),
                            format!("end the name before the wildcard: {}", bounded::quoted(&fix)),
                        );
                    }
                }
                if every_owner {
                    self.found(
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
                                .map_or(String::new(), |(prefix, end)| format!(
                                    "{prefix}OWNER{end}*"
                                ))
                        ),
                    );
                }
                let shapes = shapes_matched(preset, value, pattern);
                if shapes.len() > 1 {
                    self.found(
                        "OIDC006",
                        format!(
                            "sub {} matches subjects of {} token shapes ({}): it does not pin which workload of {} \
                             gets in",
                            bounded::quoted(value),
                            shapes.len(),
                            shapes.join(", "),
                            preset.name
                        ),
                        "write one statement per token shape, each with its own aud and a sub that starts with \
                         that shape's prefix"
                            .into(),
                    );
                } else if shapes.is_empty() && grammar_known {
                    impossible += 1;
                    self.found(
                        "OIDC104",
                        format!(
                            "no token of {} has a sub like {}: its subjects start with {}",
                            preset.name,
                            bounded::quoted(value),
                            preset
                                .owner_fields
                                .iter()
                                .map(|(prefix, _)| bounded::quoted(prefix))
                                .collect::<Vec<_>>()
                                .join(" or ")
                        ),
                        format!(
                            "write the subject in {}'s grammar: {}",
                            preset.name, preset.subject
                        ),
                    );
                }
            }
            if impossible == values.len() && impossible > 0 && values.len() == test.values.len() {
                self.admits_nothing.push(format!(
                    "no token of {} has a sub like {}",
                    preset.name,
                    quoted_list(values.iter().copied())
                ));
            }
        }
    }

    /// An issuer oidc-gen does not know (or a public one) must have its audience tested, and an
    /// unknown issuer's sub must name something.
    fn audience(&mut self, tests: &[Test]) {
        if self.preset.is_some() || self.unknown_key {
            return;
        }
        let claim = public_claim(&self.host_path).unwrap_or("aud");
        let host = crate::shown::value(&self.host_path).into_owned();
        let tested = tests.iter().any(|t| {
            t.claim == claim
                && t.operator.positive()
                && !t.operator.if_exists
                && !t.values.is_empty()
                && known(&t.values).all(|v| !is_pattern(v))
        });
        if !tested {
            self.found(
                "OIDC011",
                format!(
                    "no condition compares {host}:{claim} exactly: tokens {host} issues for any application get in"
                ),
                format!("add StringEquals on {host}:{claim} naming the audience your workloads ask for"),
            );
        }
        if public_claim(&self.host_path).is_some() {
            return;
        }
        for test in tests
            .iter()
            .filter(|t| t.tests_subject() && t.operator.base == "StringLike")
        {
            for value in known(&test.values) {
                if value.chars().all(|c| c == '*' || c == '?') {
                    self.found(
                        "OIDC011",
                        format!("sub {} admits every subject of {host}, an issuer oidc-gen does not know", bounded::quoted(value)),
                        "name the subjects that may assume the role".into(),
                    );
                }
            }
        }
    }

    /// Whether IAM's shared-issuer guard would accept the statement: its required claim tested with
    /// a plain positive operator whose first value is not `*`.
    fn guard(&mut self, tests: &[Test]) {
        let Some(preset) = self.preset.filter(|_| !self.unknown_key) else {
            return;
        };
        let Some(required) = preset.required_claim else {
            return;
        };
        // "sub (or job_workflow_ref)": each claim the guard takes.
        let claims: Vec<&str> = required
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .filter(|w| !w.is_empty() && *w != "or")
            .collect();
        let guarded = tests.iter().any(|t| {
            claims.contains(&t.claim.as_str())
                && t.operator.set.is_none()
                && t.operator.positive()
                && t.values.first().is_some_and(|v| v != "*")
        });
        if !guarded {
            self.found(
                "OIDC103",
                format!(
                    "IAM refuses to create or update a role trusting {} unless its policy tests {required} with \
                     StringEquals, StringLike or StringEqualsIgnoreCase and not with * alone: this statement does \
                     not, so the role's next edit will fail",
                    preset.name
                ),
                format!("test {required} with StringEquals (or StringLike) naming the workloads"),
            );
        }
    }

    /// Defence in depth a known issuer offers: GitHub's repository ids.
    fn defence(&mut self, tests: &[Test]) {
        if self.preset.is_some_and(|p| p.id == "github")
            && !self.unknown_key
            && !tests.iter().any(|t| t.claim == "repository_id")
            && tests.iter().any(Test::tests_subject)
        {
            self.found(
                "OIDC201",
                "the statement names GitHub repositories but does not test repository_id".into(),
                "add StringEquals on repository_id and repository_owner_id (oidc-gen --github OWNER@ID/REPO@ID)"
                    .into(),
            );
        }
    }
}

/// Lints one statement that may trust an OIDC provider: its findings and what it admits.
fn lint_statement(role: &Role, name: &str, statement: &Value, report: &mut Report) {
    let unproven = unproven(statement);
    if let Some(principal) = any_principal(statement) {
        report.findings.push(finding(
            role,
            name,
            None,
            "OIDC008",
            format!(
                "Principal {principal} with sts:AssumeRoleWithWebIdentity: a web identity token of any provider, \
                 Google's and Cognito's included, gets in"
            ),
            "name the OIDC provider: \"Principal\": {\"Federated\": \"arn:aws:iam::ACCOUNT:oidc-provider/HOST\"}".into(),
        ));
        report.statements.push(Description {
            path: role.path.clone(),
            line: role.line,
            resource: role.resource.clone(),
            statement: name.to_owned(),
            issuer: "*".into(),
            admits: "web identity tokens of any issuer".into(),
        });
        return;
    }
    let keys = condition_keys(statement);
    let host_path = provider_host_path(statement).or_else(|| {
        // A principal CloudFormation computes: the issuer its condition keys name.
        keys.iter()
            .find_map(|(_, key, _)| key.rsplit_once(':').map(|(prefix, _)| prefix.to_owned()))
    });
    let Some(host_path) = host_path else {
        if let Some(reasons) = unproven {
            report
                .findings
                .push(finding(role, name, None, "OIDC301", reasons.0, reasons.1));
        }
        return;
    };
    let preset = Issuer::parse(&format!("https://{host_path}"))
        .ok()
        .and_then(|issuer| issuers::find(&issuer));
    let mut check = Check {
        role,
        name,
        issuer_name: preset.map_or_else(
            || crate::shown::value(&host_path).into_owned(),
            |p| p.name.to_owned(),
        ),
        host_path,
        preset,
        findings: Vec::new(),
        admits_nothing: Vec::new(),
        unknown_key: false,
    };
    let tests: Vec<Test> = keys
        .iter()
        .filter_map(|(operator, key, values)| check.key(operator, key, values))
        .collect();
    check.subject(&tests);
    check.audience(&tests);
    check.guard(&tests);
    check.defence(&tests);
    if let Some((message, fix)) = unproven {
        check.found("OIDC301", message, fix);
    }
    report.statements.push(Description {
        path: role.path.clone(),
        line: role.line,
        resource: role.resource.clone(),
        statement: name.to_owned(),
        issuer: check.host_path.clone(),
        admits: if check.admits_nothing.is_empty() {
            words(&check.issuer_name, preset, &tests)
        } else {
            format!("nothing: {}", check.admits_nothing.join("; "))
        },
    });
    report.findings.extend(check.findings);
}

/// The values lint knows of a list (an unknown value, or a policy variable, is judged apart).
fn known(values: &[String]) -> impl Iterator<Item = &String> {
    values
        .iter()
        .filter(|v| !unknown::in_text(v) && !v.contains("${"))
}

/// Whether a sub value names an owner before any wildcard: `repo:acme/...`, or a claim the issuer
/// sets that names one (`repository_owner_id:12:...`).
fn pins_owner(preset: &Preset, value: &str, pattern: bool) -> bool {
    let fixed = match value.find(['*', '?']) {
        Some(first) if pattern => &value[..first],
        _ => value,
    };
    let named = preset.owner_fields.iter().any(|(prefix, end)| {
        fixed
            .strip_prefix(prefix)
            .and_then(|rest| rest.split_once(*end))
            .is_some_and(|(owner, _)| !owner.is_empty())
    });
    named
        || preset.owner_claims.iter().any(|claim| {
            fixed
                .strip_prefix(claim)
                .and_then(|rest| rest.strip_prefix(':'))
                .is_some_and(|rest| {
                    let id = rest.split(':').next().unwrap_or("");
                    !id.is_empty()
                        && (rest.len() > id.len() || !pattern || value.len() == fixed.len())
                })
        })
}

/// For a sub pattern with a wildcard right after part of a repository's name and nothing after it
/// that ends the name (`repo:acme/app*`), the pattern that ends the name first (`repo:acme/app:*`).
fn crosses_repository(preset: &Preset, value: &str) -> Option<String> {
    let end = preset.repository_end?;
    let first = value.find(['*', '?'])?;
    let fixed = &value[..first];
    preset.owner_fields.iter().find_map(|(prefix, owner_end)| {
        let (_, name) = fixed.strip_prefix(prefix)?.split_once(*owner_end)?;
        let after = &value[first..];
        (!name.is_empty() && !name.contains(end) && !after.contains(end))
            .then(|| format!("{fixed}{end}*"))
    })
}

/// The claim a public issuer's statement must test, for the issuers anyone can get a token of.
fn public_claim(host_path: &str) -> Option<&'static str> {
    PUBLIC_ISSUERS
        .iter()
        .find(|(host, _)| host.eq_ignore_ascii_case(host_path))
        .map(|(_, claim)| *claim)
}

/// `*` or `{"AWS": "*"}` as the principal: who it names, as written.
fn any_principal(statement: &Value) -> Option<String> {
    let principal = statement.get("Principal")?;
    let star = |v: &Value| match v {
        Value::String(s) => s == "*",
        Value::Array(list) => list.iter().any(|i| i.as_str() == Some("*")),
        _ => false,
    };
    match principal {
        Value::String(s) if s == "*" => Some("*".into()),
        Value::Object(map) => map
            .iter()
            .find(|(_, v)| star(v))
            .map(|(kind, _)| format!("{{\"{}\": \"*\"}}", crate::shown::value(kind))),
        _ => None,
    }
}

/// The unknown values a statement (or a whole policy) depends on: (as written, why unknown). The
/// account and partition of a provider's ARN do not count, nor a Sid.
pub fn unknowns(statement: &Value) -> Vec<(String, String)> {
    let mut judged = statement.clone();
    let bare = |arn: &Value| match arn.as_str().and_then(|a| a.split_once(":oidc-provider/")) {
        Some((_, host)) if !unknown::in_text(host) => {
            Value::String(format!("arn:aws:iam::0:oidc-provider/{host}"))
        }
        _ => arn.clone(),
    };
    let statements: Vec<&mut Value> = match judged.get_mut("Statement") {
        Some(Value::Array(list)) => list.iter_mut().collect(),
        Some(one) => vec![one],
        None => vec![&mut judged],
    };
    for statement in statements {
        if let Some(map) = statement.as_object_mut() {
            map.remove("Sid");
        }
        // A provider the statement's required condition keys name: only its tokens carry them.
        let named = condition_keys(statement)
            .into_iter()
            .find_map(|(operator, key, _)| {
                let operator = Operator::parse(&operator);
                let required = operator.required();
                let (host, _) = key.rsplit_once(':')?;
                (required && !unknown::in_text(host)).then(|| host.to_owned())
            });
        if let Some(federated) = statement.pointer_mut("/Principal/Federated") {
            let replaced = match &*federated {
                Value::Array(list) => Value::Array(list.iter().map(bare).collect()),
                Value::String(arn) if unknown::is_whole(arn) && named.is_some() => {
                    Value::String(format!(
                        "arn:aws:iam::0:oidc-provider/{}",
                        named.as_deref().unwrap_or_default()
                    ))
                }
                one => bare(one),
            };
            *federated = replaced;
        }
    }
    unknown::reasons(&judged)
}

/// Whether what a statement admits depends on values lint cannot know, or on a policy variable in
/// a condition's expected value: (message, fix). The account and partition of a provider's ARN do
/// not count: whoever's provider it is, it is the issuer's tokens that get in.
fn unproven(statement: &Value) -> Option<(String, String)> {
    let reasons = unknowns(statement);
    let variables: Vec<String> = condition_keys(statement)
        .into_iter()
        .flat_map(|(_, key, values)| values.into_iter().map(move |v| (key.clone(), v)))
        .filter(|(_, v)| !unknown::in_text(v) && v.contains("${"))
        .map(|(key, v)| format!("{} on {}", bounded::quoted(&v), crate::shown::value(&key)))
        .collect();
    if reasons.is_empty() && variables.is_empty() {
        return None;
    }
    let mut parts = Vec::new();
    if !reasons.is_empty() {
        parts.push(format!(
            "admits whatever {} {}: {}",
            reasons
                .iter()
                .map(|(written, _)| crate::shown::value(written).into_owned())
                .collect::<Vec<_>>()
                .join(" and "),
            if reasons.len() == 1 { "is" } else { "are" },
            reasons
                .iter()
                .map(|(_, reason)| reason.as_str())
                .collect::<Vec<_>>()
                .join("; ")
        ));
    }
    if !variables.is_empty() {
        parts.push(format!(
            "compares with a policy variable ({}), whose value is the request's, not one the policy names",
            variables.join(", ")
        ));
    }
    let fix = match reasons.first() {
        Some((written, _)) if written.starts_with("var.") => format!(
            "give --var {}=... (or a tfvars file), or lint the plan (terraform show -json PLAN)",
            crate::shown::value(&written["var.".len()..])
        ),
        Some((_, reason)) if reason.starts_with("parameter ") => format!(
            "give --parameter {}=..., or lint the deployed role (aws iam get-role)",
            reason["parameter ".len()..]
                .split(' ')
                .next()
                .unwrap_or("NAME")
        ),
        Some(_) => {
            "lint the plan (terraform show -json PLAN) or the deployed role (aws iam get-role)"
                .into()
        }
        None => "compare with the values the workloads' tokens carry".into(),
    };
    Some((parts.join("; "), fix))
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

/// The issuer's subject shapes (their prefixes, from `owner_fields`) a sub value can match: a
/// pattern's text before its first wildcard must agree with the prefix as far as both go.
fn shapes_matched(preset: &Preset, value: &str, pattern: bool) -> Vec<String> {
    let fixed = match value.find(['*', '?']) {
        Some(first) if pattern => &value[..first],
        _ => value,
    };
    preset
        .owner_fields
        .iter()
        .filter(|(prefix, _)| prefix.starts_with(fixed) || fixed.starts_with(prefix))
        .map(|(prefix, _)| bounded::quoted(prefix.trim_end_matches(':')))
        .collect()
}

/// What the statement admits, in words.
fn words(issuer: &str, preset: Option<&Preset>, tests: &[Test]) -> String {
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
                .map(|v| bounded::quoted(&unknown::display(v)))
                .collect::<Vec<_>>()
                .join(" or ")
        ));
    }
    if !tests
        .iter()
        .any(|t| t.claim == "sub" && t.operator.positive())
    {
        let shapes = preset.map_or(0, |p| p.owner_fields.len());
        let audience = tests
            .iter()
            .find(|t| t.claim == "aud" && t.operator.positive() && !t.values.is_empty());
        let whose = match audience {
            Some(test) if preset.is_some_and(|p| p.audience_names_owner) => format!(
                "the {issuer} organization the audience {} names",
                test.values
                    .iter()
                    .map(|v| bounded::quoted(&unknown::display(v)))
                    .collect::<Vec<_>>()
                    .join(" or ")
            ),
            _ => issuer.to_owned(),
        };
        let issuer = whose.as_str();
        parts.push(if shapes > 1 {
            let prefixes = preset.into_iter().flat_map(|p| p.owner_fields.iter());
            format!(
                "any sub, so every workload of {issuer}, of all {shapes} token shapes ({})",
                prefixes
                    .map(|(prefix, _)| format!("{prefix}..."))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        } else {
            format!("any sub, so every workload of {issuer}")
        });
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
        // CloudFormation's `Fn::Sub` of the ARN with the partition and account as variables.
        Some(Value::Object(sub)) => match sub.get("Fn::Sub") {
            Some(Value::String(arn)) => vec![arn.as_str()],
            Some(Value::Array(list)) => list.first().and_then(Value::as_str).into_iter().collect(),
            // Other intrinsic functions (Fn::If, Ref, Fn::GetAtt) are computed when deployed.
            _ => Vec::new(),
        },
        _ => Vec::new(),
    };
    arns.into_iter().find_map(|arn| {
        match arn.strip_prefix("arn:") {
            Some(arn) => arn
                .split_once(":oidc-provider/")
                .map(|(_, host_path)| host_path.to_owned()),
            // A public issuer is named by its host: accounts.google.com.
            None => public_claim(arn).map(|_| arn.to_ascii_lowercase()),
        }
        .filter(|host_path| !unknown::in_text(host_path))
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
