//! Google Cloud, Workload Identity Federation: a pool with one OIDC provider for the issuer,
//! whose CEL `attribute_condition` admits exactly the role's clauses, and IAM members no wider
//! than it, bound to a service account (`roles/iam.workloadIdentityUser`) or to roles on the
//! project.
//!
//! The condition is one disjunction, a clause per AWS statement, written as a reviewer would:
//! `assertion.sub == '...'`, `assertion.sub.startsWith('...')` for a pattern that only ends in
//! `*`, `assertion.sub.matches('(?s)^...$')` for any other pattern (`*` is `.*`, `?` is `.`, a
//! regular expression's own characters escaped), several values joined by `||`. The pool is the role's own
//! and holds only this provider: a clause whose subjects are exact gets one `principal://`
//! member per subject; a pattern names no principal, so the condition is also mapped to
//! `attribute.admitted` and the member is the set of tokens it admits
//! (`principalSet://.../attribute.admitted/true`), never the whole pool.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{Clause, Cloud, Intent, Match, Token, Verdict, Written, refuse};
use crate::error::{Error, Result};

/// The most characters an `attribute_condition` may hold.
pub const MAX_CONDITION: usize = 4096;
/// The most bytes `google.subject` may hold.
pub const MAX_SUBJECT: usize = 127;
/// The most custom attributes a provider may map.
pub const MAX_ATTRIBUTES: usize = 50;
/// The most characters of one attribute mapping expression.
pub const MAX_MAPPING: usize = 2048;
/// The attribute that holds whether the role's condition admits a token.
const ADMITTED: &str = "attribute.admitted";

const HEADING: &str = "Google Cloud (--cloud gcp)";

/// The flags (and spec fields) Google Cloud needs.
#[derive(Debug, Clone, Default, PartialEq, Eq, clap::Args, serde::Deserialize)]
#[group(skip)]
#[serde(default)]
pub struct Request {
    /// The number (not the id) of the project that holds the workload identity pool.
    #[arg(long = "gcp-project-number", value_name = "NUMBER", help_heading = HEADING)]
    pub project_number: Option<String>,

    /// The workload identity pool's id [default: the role's name]: the pool is the role's own.
    #[arg(long = "gcp-pool", value_name = "ID", help_heading = HEADING)]
    pub pool: Option<String>,

    /// The pool provider's id [default: the issuer's, e.g. github].
    #[arg(long = "gcp-provider", value_name = "ID", help_heading = HEADING)]
    pub provider: Option<String>,

    /// A service account the workloads impersonate (they get roles/iam.workloadIdentityUser on
    /// it), e.g. deploy@acme-prod.iam.gserviceaccount.com.
    #[arg(long = "gcp-service-account", value_name = "EMAIL", help_heading = HEADING)]
    pub service_account: Option<String>,

    /// A role granted to the workloads directly on the project (repeatable), e.g.
    /// roles/storage.objectViewer; instead of --gcp-service-account.
    #[arg(long = "gcp-role", value_name = "ROLE", help_heading = HEADING)]
    pub roles: Vec<String>,
}

/// What the templates under `templates/clouds/gcp/` read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Model {
    /// The project's number.
    pub project_number: String,
    /// The pool's id.
    pub pool: String,
    /// The provider's id.
    pub provider: String,
    /// Terraform and Pulumi's name for the resources, after the issuer (`github`).
    pub name: String,
    /// The issuer URL.
    pub issuer_uri: String,
    /// The audiences the provider accepts.
    pub allowed_audiences: Vec<String>,
    /// The audience a job asks for.
    pub audience: String,
    /// `google.subject` and the attributes the members name.
    pub attribute_mapping: BTreeMap<String, String>,
    /// The CEL condition.
    pub condition: String,
    /// The members admitted.
    pub members: Vec<String>,
    /// The service account impersonated, if any.
    pub service_account: Option<String>,
    /// The roles granted on the project, if no service account.
    pub roles: Vec<String>,
    /// The provider's full resource name.
    pub provider_name: String,
    /// The pool's full resource name.
    pub pool_name: String,
}

impl Request {
    /// Checks the flags and renders `intent` for Google Cloud.
    pub fn check(&self, intent: &Intent) -> Result<Model> {
        let project_number = self.project_number.clone().ok_or_else(|| {
            Error::Usage(
                "--cloud gcp needs --gcp-project-number NUMBER (gcloud projects describe PROJECT \
                 --format='value(projectNumber)' shows it)"
                    .into(),
            )
        })?;
        if project_number.is_empty()
            || project_number.len() > 20
            || !project_number.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(Error::invalid(
                "--gcp-project-number",
                &project_number,
                "a project number is digits only (not the project id)",
            ));
        }
        let pool = match &self.pool {
            Some(pool) => check_id("--gcp-pool", pool)?,
            None => default_id(intent.role_name),
        };
        let provider = match &self.provider {
            Some(provider) => check_id("--gcp-provider", provider)?,
            None => default_id(intent.issuer_id()),
        };
        match (&self.service_account, self.roles.is_empty()) {
            (Some(_), false) => {
                return Err(Error::Usage(
                    "give --gcp-service-account or --gcp-role, not both: the workloads either \
                     impersonate the service account or hold the roles themselves"
                        .into(),
                ));
            }
            (None, true) => {
                return Err(Error::Usage(
                    "--cloud gcp needs what the workloads may do: --gcp-service-account EMAIL (they \
                     impersonate it) or --gcp-role ROLE (granted on the project)"
                        .into(),
                ));
            }
            _ => {}
        }
        if let Some(email) = &self.service_account {
            // Only what Google allows in a service account's address: nothing a workflow or a
            // template could read as an expression.
            let plain = |part: &str| {
                !part.is_empty()
                    && part
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-.".contains(&b))
            };
            let valid = email.len() <= 254
                && email.split_once('@').is_some_and(|(name, domain)| {
                    plain(name) && plain(domain) && domain.ends_with(".gserviceaccount.com")
                });
            if !valid {
                return Err(Error::invalid(
                    "--gcp-service-account",
                    email,
                    "a service account's email is NAME@PROJECT.iam.gserviceaccount.com, in lowercase letters, digits, '-' and '.'",
                ));
            }
        }
        for role in &self.roles {
            // roles/NAME, or projects/ID/roles/NAME and organizations/ID/roles/NAME (custom).
            let name_ok = |name: &str| {
                !name.is_empty()
                    && name
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"._".contains(&b))
            };
            let parts: Vec<&str> = role.split('/').collect();
            let valid = match parts[..] {
                ["roles", name] => name_ok(name),
                ["projects" | "organizations", owner, "roles", name] => {
                    name_ok(name)
                        && !owner.is_empty()
                        && owner
                            .bytes()
                            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                }
                _ => false,
            };
            if !valid {
                return Err(Error::invalid(
                    "--gcp-role",
                    role,
                    "a role is roles/NAME or projects/PROJECT/roles/NAME",
                ));
            }
        }
        let pool_name = format!("projects/{project_number}/locations/global/workloadIdentityPools/{pool}");
        let provider_name = format!("{pool_name}/providers/{provider}");
        let given = intent.audiences("gcp");
        let allowed_audiences = match given.is_empty() {
            true => vec![format!("https://iam.googleapis.com/{provider_name}")],
            false => given,
        };
        let check_audience = allowed_audiences.len() > 1;
        let mut terms = Vec::new();
        for clause in &intent.clauses {
            for sub in clause.subjects.iter() {
                if let Match::Exact(sub) = sub
                    && sub.len() > MAX_SUBJECT
                {
                    return Err(refuse(
                        "gcp",
                        clause,
                        &format!(
                            "the subject is {} bytes, and google.subject holds at most {MAX_SUBJECT}",
                            sub.len()
                        ),
                        "admit it in AWS or Azure, or name a shorter one",
                    ));
                }
            }
            let audiences = check_audience.then(|| intent.clause_audiences(clause, "gcp"));
            terms.push(clause_condition(clause, audiences.as_deref()));
        }
        let condition = match terms.len() {
            1 => terms.remove(0),
            _ => terms
                .iter()
                .map(|t| format!("({t})"))
                .collect::<Vec<_>>()
                .join(" || "),
        };
        if condition.chars().count() > MAX_CONDITION {
            return Err(Error::Limit(format!(
                "the GCP attribute condition is {} characters, over the {MAX_CONDITION} Google \
                 allows; admit fewer subjects or split the role",
                condition.chars().count()
            )));
        }
        let mut attribute_mapping = BTreeMap::new();
        attribute_mapping.insert("google.subject".to_owned(), "assertion.sub".to_owned());
        let mut members = Vec::new();
        let mut patterned = false;
        for clause in &intent.clauses {
            let exact: Option<Vec<&str>> = clause
                .subjects
                .iter()
                .map(|m| match m {
                    Match::Exact(sub) => Some(sub.as_str()),
                    Match::Pattern(_) => None,
                })
                .collect();
            match exact {
                Some(subjects) if clause.refused.is_empty() => members.extend(
                    subjects
                        .into_iter()
                        .map(|sub| format!("principal://iam.googleapis.com/{pool_name}/subject/{sub}")),
                ),
                _ => patterned = true,
            }
        }
        // A pattern names no principal: the role's own condition, mapped to an attribute, names
        // the set its tokens are in, whatever else the pool admits.
        if patterned {
            let admitted = format!("({condition}) ? 'true' : 'false'");
            if admitted.chars().count() > MAX_MAPPING {
                return Err(Error::Limit(format!(
                    "the GCP attribute mapping {ADMITTED} would be {} characters, over the {MAX_MAPPING} \
                     Google allows; admit fewer subjects or split the role",
                    admitted.chars().count()
                )));
            }
            attribute_mapping.insert(ADMITTED.to_owned(), admitted);
            members = vec![format!(
                "principalSet://iam.googleapis.com/{pool_name}/{ADMITTED}/true"
            )];
        }
        members.sort();
        members.dedup();
        let custom = attribute_mapping.keys().filter(|k| k.starts_with("attribute.")).count();
        if custom > MAX_ATTRIBUTES {
            return Err(Error::Limit(format!(
                "{custom} custom attributes, over the {MAX_ATTRIBUTES} a GCP provider maps"
            )));
        }
        Ok(Model {
            project_number,
            audience: allowed_audiences[0].clone(),
            allowed_audiences,
            pool,
            provider,
            name: intent.issuer_id().replace('-', "_"),
            issuer_uri: intent.issuer.as_str().to_owned(),
            attribute_mapping,
            condition,
            members,
            service_account: self.service_account.clone(),
            roles: self.roles.clone(),
            provider_name,
            pool_name,
        })
    }
}

impl Model {
    /// Whether Google Cloud admits a token: its audience is allowed, the condition holds, and a
    /// member names it; evaluated with the CEL interpreter, not with the clauses it was made
    /// from.
    pub fn judge(&self, aud: &str, sub: &str, claims: &[(String, String)]) -> Verdict {
        let mut reasons = Vec::new();
        if !self.allowed_audiences.iter().any(|a| a == aud) {
            reasons.push(format!(
                "aud {} is not among the provider's allowed audiences {}",
                crate::shown::quoted(aud),
                quoted_list(&self.allowed_audiences)
            ));
        }
        match condition_holds(&self.condition, sub, aud, claims) {
            Ok(true) => {}
            Ok(false) => reasons.push(format!(
                "the attribute condition is false for this token: {}",
                self.condition
            )),
            Err(why) => reasons.push(format!("the attribute condition fails: {why}")),
        }
        if sub.len() > MAX_SUBJECT {
            reasons.push(format!(
                "sub is {} bytes; google.subject holds at most {MAX_SUBJECT}",
                sub.len()
            ));
        }
        let subject = format!("principal://iam.googleapis.com/{}/subject/{sub}", self.pool_name);
        let set = format!("principalSet://iam.googleapis.com/{}/", self.pool_name);
        let member = self.members.iter().find(|m| {
            if **m == subject {
                return true;
            }
            let Some((name, value)) = m
                .strip_prefix(&set)
                .and_then(|rest| rest.strip_prefix("attribute."))
                .and_then(|rest| rest.split_once('/'))
            else {
                return false;
            };
            let mapping = self.attribute_mapping.get(&format!("attribute.{name}"));
            mapping.is_some_and(|expression| {
                evaluate_cel(expression, sub, aud, claims)
                    .is_ok_and(|v| v == cel_interpreter::Value::from(value.to_owned()))
            })
        });
        if member.is_none() {
            reasons.push(format!(
                "no member names it: the members are {}",
                quoted_list(&self.members)
            ));
        }
        match (reasons.is_empty(), member) {
            (true, Some(member)) => Verdict::Admitted(member.clone()),
            _ => Verdict::Refused(reasons),
        }
    }
}

impl Cloud for Request {
    fn name(&self) -> &'static str {
        "gcp"
    }

    fn model(&self, intent: &Intent) -> Result<Box<dyn Written>> {
        Ok(Box::new(self.check(intent)?))
    }

    fn args(&self) -> Vec<String> {
        let mut args = vec!["--cloud".to_owned(), "gcp".to_owned()];
        let mut push = |flag: &str, value: &Option<String>| {
            if let Some(value) = value {
                args.extend([flag.to_owned(), value.clone()]);
            }
        };
        push("--gcp-project-number", &self.project_number);
        push("--gcp-pool", &self.pool);
        push("--gcp-provider", &self.provider);
        push("--gcp-service-account", &self.service_account);
        for role in &self.roles {
            args.extend(["--gcp-role".to_owned(), role.clone()]);
        }
        args
    }
}

impl Written for Model {
    fn context(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("the model serializes")
    }

    fn evaluate(&self, token: &Token) -> Verdict {
        if token.iss.trim_end_matches('/') != self.issuer_uri.trim_end_matches('/') {
            return Verdict::Refused(vec![format!(
                "iss {} is not the provider's issuer {}",
                crate::shown::quoted(&token.iss),
                crate::shown::quoted(&self.issuer_uri)
            )]);
        }
        self.judge(&token.aud, &token.sub, &token.claims)
    }

    fn needs(&self, format: &str) -> Option<String> {
        (format == "esc" && self.service_account.is_none()).then(|| {
            "ESC's gcp-login impersonates a service account: give --gcp-service-account".to_owned()
        })
    }

    fn notes(&self) -> Vec<String> {
        match self.attribute_mapping.contains_key(ADMITTED) {
            true => vec![format!(
                "Google maps sub to google.subject, which holds at most {MAX_SUBJECT} bytes: a token whose \
                 sub is longer is refused in GCP even when the condition admits it"
            )],
            false => Vec::new(),
        }
    }
}

fn quoted_list(values: &[String]) -> String {
    values
        .iter()
        .map(|v| crate::shown::quoted(v))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Evaluates a CEL `condition` with `assertion` holding the token's claims.
pub fn condition_holds(
    condition: &str,
    sub: &str,
    aud: &str,
    claims: &[(String, String)],
) -> std::result::Result<bool, String> {
    match evaluate_cel(condition, sub, aud, claims)? {
        cel_interpreter::Value::Bool(holds) => Ok(holds),
        other => Err(format!("it is {other:?}, not a boolean")),
    }
}

/// The value of a CEL expression with `assertion` holding the token's claims; an error (a claim
/// the token lacks) refuses the token in Google Cloud.
fn evaluate_cel(
    expression: &str,
    sub: &str,
    aud: &str,
    claims: &[(String, String)],
) -> std::result::Result<cel_interpreter::Value, String> {
    use cel_interpreter::{Context, Program, Value};
    use std::collections::HashMap;
    let program = Program::compile(expression).map_err(|e| e.to_string())?;
    let mut assertion: HashMap<String, Value> = claims
        .iter()
        .map(|(name, value)| (name.clone(), Value::from(value.clone())))
        .collect();
    assertion.insert("sub".into(), Value::from(sub.to_owned()));
    assertion.insert("aud".into(), Value::from(aud.to_owned()));
    let mut context = Context::default();
    context.add_variable_from_value("assertion", assertion);
    program.execute(&context).map_err(|e| e.to_string())
}

/// One clause as a CEL conjunction.
fn clause_condition(clause: &Clause, audiences: Option<&[String]>) -> String {
    let mut parts = Vec::new();
    if let Some(audiences) = audiences {
        let exact: Vec<Match> = audiences.iter().cloned().map(Match::Exact).collect();
        parts.push(any_of("assertion.aud", &exact));
    }
    parts.push(any_of("assertion.sub", &clause.subjects));
    if !clause.refused.is_empty() {
        parts.push(format!("!({})", any_of("assertion.sub", &clause.refused)));
    }
    for (name, values) in &clause.claims {
        parts.push(any_of(&claim(name), values));
    }
    parts.join(" && ")
}

/// `assertion.NAME`, or `assertion['NAME']` for a name CEL cannot write bare.
fn claim(name: &str) -> String {
    let bare = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    match bare {
        true => format!("assertion.{name}"),
        false => format!("assertion[{}]", literal(name)),
    }
}

/// `expr` matching any of `values`.
fn any_of(expr: &str, values: &[Match]) -> String {
    let exact: Vec<&str> = values
        .iter()
        .filter_map(|m| match m {
            Match::Exact(v) => Some(v.as_str()),
            Match::Pattern(_) => None,
        })
        .collect();
    // `==` per value rather than `in [...]`: as plain to read, and what checkov's CKV_GCP_125
    // looks for.
    let mut terms: Vec<String> = exact
        .iter()
        .map(|value| format!("{expr} == {}", literal(value)))
        .collect();
    for value in values {
        if let Match::Pattern(pattern) = value {
            terms.push(pattern_term(expr, pattern));
        }
    }
    match terms.len() {
        1 => terms.remove(0),
        _ => format!("({})", terms.join(" || ")),
    }
}

/// A pattern as the plainest CEL that matches exactly what IAM's `StringLike` does.
fn pattern_term(expr: &str, pattern: &str) -> String {
    if let Some(prefix) = pattern.strip_suffix('*')
        && !prefix.contains(['*', '?'])
    {
        return format!("{expr}.startsWith({})", literal(prefix));
    }
    format!("{expr}.matches({})", literal(&glob_regex(pattern)))
}

/// An IAM pattern as an anchored RE2 expression in which `.` also matches a line break, as
/// IAM's `*` does: `*` is `.*`, `?` is `.`, and a regular expression's own characters are
/// escaped.
pub fn glob_regex(pattern: &str) -> String {
    let mut regex = String::from("(?s)^");
    for c in pattern.chars() {
        match c {
            '*' => regex.push_str(".*"),
            '?' => regex.push('.'),
            c if "\\.+()|[]{}^$".contains(c) => {
                regex.push('\\');
                regex.push(c);
            }
            c => regex.push(c),
        }
    }
    regex.push('$');
    regex
}

/// A CEL single-quoted string literal.
fn literal(value: &str) -> String {
    let mut out = String::from("'");
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}


/// A pool or provider id: 4 to 32 of `[a-z0-9-]`, not starting with `gcp-` or `-`.
fn check_id(what: &'static str, id: &str) -> Result<String> {
    let valid = (4..=32).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !id.starts_with('-')
        && !id.ends_with('-')
        && !id.starts_with("gcp-");
    match valid {
        true => Ok(id.to_owned()),
        false => Err(Error::invalid(
            what,
            id,
            "an id is 4 to 32 lowercase letters, digits and '-', not starting with gcp-",
        )),
    }
}

/// An id made from `name`: lowercase, other characters `-`, at most 32, at least 4.
fn default_id(name: &str) -> String {
    let mut id: String = name
        .to_ascii_lowercase()
        .chars()
        .map(|c| match c.is_ascii_alphanumeric() {
            true => c,
            false => '-',
        })
        .collect();
    id = id.trim_matches('-').chars().take(32).collect();
    id = id.trim_end_matches('-').to_owned();
    if id.starts_with("gcp-") {
        id = format!("wif-{}", &id[4..]).chars().take(32).collect();
    }
    while id.len() < 4 {
        id.push_str("-wif");
        id = id.trim_start_matches('-').to_owned();
    }
    id
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_become_the_plainest_cel() {
        assert_eq!(
            pattern_term("assertion.sub", "repo:acme/app:*"),
            "assertion.sub.startsWith('repo:acme/app:')"
        );
        assert_eq!(
            pattern_term("assertion.sub", "repo:acme/app:ref:refs/tags/v?.*"),
            "assertion.sub.matches('(?s)^repo:acme/app:ref:refs/tags/v.\\\\..*$')"
        );
        assert_eq!(literal("a'b\\c"), "'a\\'b\\\\c'");
        assert_eq!(default_id("oidc"), "oidc");
        assert_eq!(default_id("ab"), "ab-wif");
        assert_eq!(default_id("gcp-things"), "wif-things");
        assert_eq!(default_id("github-actions-oidc"), "github-actions-oidc");
    }

    #[test]
    fn the_condition_is_evaluated_as_cel() {
        let condition = "assertion.sub.startsWith('repo:acme/') && assertion.repository_id == '7'";
        let claims = [("repository_id".to_owned(), "7".to_owned())];
        assert_eq!(condition_holds(condition, "repo:acme/x:y", "a", &claims), Ok(true));
        assert_eq!(condition_holds(condition, "repo:other/x", "a", &claims), Ok(false));
        assert!(condition_holds(condition, "repo:acme/x", "a", &[]).is_err());
        let regex = format!("assertion.sub.matches('{}')", glob_regex("a*b?c"));
        assert_eq!(condition_holds(&regex, "a/x:bQc", "", &[]), Ok(true));
        assert_eq!(condition_holds(&regex, "a/x:bQcd", "", &[]), Ok(false));
        assert_eq!(condition_holds(&regex, "za/x:bQc", "", &[]), Ok(false));
    }
}
