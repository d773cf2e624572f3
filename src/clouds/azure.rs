//! Azure, federated identity credentials: on an app registration (made here, or one given by
//! its client id) or on a user-assigned managed identity made here.
//!
//! A credential matches issuer, subject and audience exactly, so a clause becomes one credential
//! per exact subject. A pattern, or a claim beside the subject, needs a flexible credential
//! (`claims['sub'] matches 'repo:acme/*' and claims['repository_owner_id'] eq '42'`: `and` only,
//! no `or`, no `not`), which Entra offers for GitHub, GitLab and HCP Terraform only, on app
//! registrations only (in Terraform), and for GitHub only with an owner or repository ID in the
//! expression. Anything else is refused with the clause, why, and what to do.

use serde::Serialize;

use super::{Clause, Cloud, Intent, Match, Token, Verdict, Written, refuse};
use crate::error::{Error, Result};

/// The audience Entra expects unless the issuer fixes its own.
pub const AUDIENCE: &str = "api://AzureADTokenExchange";
/// The most federated credentials an app registration or identity holds.
pub const MAX_CREDENTIALS: usize = 20;
/// The most characters of an issuer, subject or audience.
pub const MAX_VALUE: usize = 600;

const HEADING: &str = "Azure (--cloud azure)";

/// What Entra's flexible credentials accept from an issuer: its preset, the claims an expression
/// may test, and the claims one of which it must test.
struct Flexible {
    preset: &'static str,
    /// The issuer hosts Entra takes (self-managed instances elsewhere are not).
    hosts: fn(&str) -> bool,
    claims: &'static [&'static str],
    requires_one_of: &'static [&'static str],
}

const FLEXIBLE: &[Flexible] = &[
    Flexible {
        preset: "github",
        hosts: |host| host == "token.actions.githubusercontent.com",
        claims: &["sub", "job_workflow_ref", "repository_id", "repository_owner_id"],
        requires_one_of: &["repository_id", "repository_owner_id"],
    },
    Flexible {
        preset: "gitlab",
        hosts: |host| {
            host == "gitlab.com"
                || host.strip_prefix("gitlab.").is_some_and(|rest| {
                    let name = rest.trim_end_matches(".com").trim_end_matches(".ca");
                    (rest.ends_with(".com") || rest.ends_with(".ca"))
                        && !name.is_empty()
                        && !name.contains('.')
                })
        },
        claims: &["sub", "project_id", "namespace_id", "user_id"],
        requires_one_of: &[],
    },
    Flexible {
        preset: "hcp_terraform",
        hosts: |host| host == "app.terraform.io" || host == "app.eu.terraform.io",
        claims: &["sub"],
        requires_one_of: &[],
    },
];

/// The flags (and spec fields) Azure needs.
#[derive(Debug, Clone, Default, PartialEq, Eq, clap::Args, serde::Deserialize)]
#[group(skip)]
#[serde(default)]
pub struct Request {
    /// The Entra tenant's id (a UUID).
    #[arg(long = "azure-tenant-id", value_name = "UUID", help_heading = HEADING)]
    pub tenant_id: Option<String>,

    /// The subscription the workloads use (a UUID): the ESC environment's subscriptionId.
    #[arg(long = "azure-subscription-id", value_name = "UUID", help_heading = HEADING)]
    pub subscription_id: Option<String>,

    /// Make a user-assigned managed identity of this name and give it the credentials [default:
    /// make an app registration named after the role].
    #[arg(long = "azure-identity", value_name = "NAME", conflicts_with = "application", help_heading = HEADING)]
    pub identity: Option<String>,

    /// Give the credentials to this existing app registration, by its client (application) id.
    #[arg(long = "azure-application", value_name = "CLIENT_ID", help_heading = HEADING)]
    pub application: Option<String>,
}

/// What the templates under `templates/clouds/azure/` read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Model {
    /// The tenant's id.
    pub tenant_id: String,
    /// The subscription's id, if given.
    pub subscription_id: Option<String>,
    /// Who holds the credentials.
    pub holder: Holder,
    /// Terraform and Pulumi's name for the resources, after the issuer (`github`).
    pub name: String,
    /// The issuer URL.
    pub issuer: String,
    /// The credentials.
    pub credentials: Vec<Credential>,
    /// Whether some credential is flexible.
    pub flexible: bool,
}

/// Who holds the credentials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Holder {
    /// An app registration made here, with its service principal.
    NewApplication {
        /// Its display name.
        display_name: String,
    },
    /// An existing app registration.
    Application {
        /// Its client id.
        client_id: String,
    },
    /// A user-assigned managed identity made here.
    ManagedIdentity {
        /// Its name.
        name: String,
    },
}

/// One federated identity credential.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Credential {
    /// Its name (and display name).
    pub name: String,
    /// The exact subject, for a standard credential.
    pub subject: Option<String>,
    /// The claims matching expression, for a flexible one.
    pub expression: Option<String>,
    /// The one audience.
    pub audience: String,
}

impl Request {
    /// Checks the flags and renders `intent` for Azure.
    pub fn check(&self, intent: &Intent) -> Result<Model> {
        let tenant_id = self.tenant_id.clone().ok_or_else(|| {
            Error::Usage(
                "--cloud azure needs --azure-tenant-id UUID (az account show --query tenantId shows it)"
                    .into(),
            )
        })?;
        check_uuid("--azure-tenant-id", &tenant_id)?;
        if let Some(id) = &self.subscription_id {
            check_uuid("--azure-subscription-id", id)?;
        }
        let holder = match (&self.identity, &self.application) {
            (Some(name), _) => {
                let valid = (3..=128).contains(&name.len())
                    && name.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
                    && name
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
                if !valid {
                    return Err(Error::invalid(
                        "--azure-identity",
                        name,
                        "a managed identity's name is 3 to 128 letters, digits, '-' and '_', starting with a letter or digit",
                    ));
                }
                Holder::ManagedIdentity { name: name.clone() }
            }
            (None, Some(client_id)) => {
                check_uuid("--azure-application", client_id)?;
                Holder::Application {
                    client_id: client_id.clone(),
                }
            }
            (None, None) => Holder::NewApplication {
                display_name: intent.role_name.to_owned(),
            },
        };
        let issuer = intent.issuer.as_str().to_owned();
        let host = intent.issuer.host_path();
        let flexible = FLEXIBLE
            .iter()
            .find(|f| Some(f.preset) == intent.preset.map(|p| p.id) && (f.hosts)(host));
        let mut credentials = Vec::new();
        for clause in &intent.clauses {
            let audiences = intent.clause_audiences(clause, "azure");
            let audience = match audiences.as_slice() {
                [] => AUDIENCE.to_owned(),
                [one] => one.clone(),
                _ => {
                    return Err(refuse(
                        "azure",
                        clause,
                        "a credential admits one audience",
                        "admit one audience per role",
                    ));
                }
            };
            // With nothing but the subject to test, each exact subject is a standard
            // credential, and only the patterns need flexible ones.
            let mut rest = clause.clone();
            if clause.refused.is_empty() && clause.claims.is_empty() {
                rest.subjects.retain(|m| matches!(m, Match::Pattern(_)));
                for subject in &clause.subjects {
                    if let Match::Exact(sub) = subject {
                        credentials.push(Credential {
                            name: String::new(),
                            subject: Some(sub.clone()),
                            expression: None,
                            audience: audience.clone(),
                        });
                    }
                }
                if rest.subjects.is_empty() {
                    continue;
                }
            }
            let expressions = flexible_expressions(&rest, flexible, &self.identity)?;
            credentials.extend(expressions.into_iter().map(|expression| Credential {
                name: String::new(),
                subject: None,
                expression: Some(expression),
                audience: audience.clone(),
            }));
        }
        if credentials.len() > MAX_CREDENTIALS {
            return Err(Error::Limit(format!(
                "the role needs {} federated credentials, over the {MAX_CREDENTIALS} an app registration or \
                 managed identity holds; admit fewer subjects (a pattern of GitHub, GitLab or HCP Terraform \
                 makes one flexible credential) or split the role",
                credentials.len()
            )));
        }
        let prefix = intent.issuer_id().replace('_', "-");
        for (index, credential) in credentials.iter_mut().enumerate() {
            credential.name = format!("{prefix}-{}", index + 1);
            for value in [&credential.audience, &issuer]
                .into_iter()
                .chain(credential.subject.as_ref())
                .chain(credential.expression.as_ref())
            {
                if value.chars().count() > MAX_VALUE {
                    return Err(Error::Limit(format!(
                        "{} is {} characters; an Azure federated credential's issuer, subject and \
                         audience hold at most {MAX_VALUE}",
                        crate::shown::quoted(value),
                        value.chars().count()
                    )));
                }
            }
        }
        Ok(Model {
            tenant_id,
            subscription_id: self.subscription_id.clone(),
            holder,
            name: intent.issuer_id().replace('-', "_"),
            flexible: credentials.iter().any(|c| c.expression.is_some()),
            issuer,
            credentials,
        })
    }
}

/// The flexible credentials of a clause, one per subject, or why there can be none.
fn flexible_expressions(
    clause: &Clause,
    flexible: Option<&Flexible>,
    identity: &Option<String>,
) -> Result<Vec<String>> {
    let Some(flexible) = flexible else {
        return Err(refuse(
            "azure",
            clause,
            "a credential matches its subject exactly, and Entra's flexible credentials (patterns, \
             other claims) take only the tokens of GitHub (github.com), GitLab (gitlab.com, \
             gitlab.NAME.com or .ca) and HCP Terraform (app.terraform.io, app.eu.terraform.io)",
            "name each subject exactly",
        ));
    };
    if identity.is_some() {
        return Err(refuse(
            "azure",
            clause,
            "it needs a flexible credential, which Terraform gives only app registrations",
            "leave out --azure-identity (an app registration is made), or name each subject exactly",
        ));
    }
    if !clause.refused.is_empty() {
        return Err(refuse(
            "azure",
            clause,
            "a flexible credential's expression has no `not`",
            "name the subjects exactly",
        ));
    }
    for (name, _) in &clause.claims {
        if !flexible.claims.contains(&name.as_str()) {
            return Err(refuse(
                "azure",
                clause,
                &format!(
                    "a flexible credential cannot test {name}; it tests only {}",
                    flexible.claims.join(", ")
                ),
                "leave the claim out of the role, or admit it in AWS or GCP",
            ));
        }
    }
    let tests_required = flexible.requires_one_of.is_empty()
        || clause.claims.iter().any(|(name, values)| {
            flexible.requires_one_of.contains(&name.as_str())
                && values.iter().all(|v| matches!(v, Match::Exact(_)))
        });
    if !tests_required {
        return Err(refuse(
            "azure",
            clause,
            &format!(
                "Entra takes a flexible credential for this issuer only when its expression also tests {}",
                flexible.requires_one_of.join(" or ")
            ),
            "use GitHub's immutable IDs (--github OWNER@OWNER_ID/REPO@REPO_ID), or name the branches \
             (--github-ref refs/heads/main) so that each subject is exact",
        ));
    }
    let mut expressions = Vec::new();
    let terms = |name: &str, m: &Match| -> Result<String> {
        if m.text().contains('\'') {
            return Err(refuse(
                "azure",
                clause,
                "a value holds a quote, which an expression cannot write",
                "admit it in AWS or GCP",
            ));
        }
        Ok(match m {
            Match::Exact(v) => format!("claims['{name}'] eq '{v}'"),
            Match::Pattern(p) => format!("claims['{name}'] matches '{p}'"),
        })
    };
    // Each claim beyond the subject with one value; several values would need `or`.
    let mut fixed = Vec::new();
    for (name, values) in &clause.claims {
        match values.as_slice() {
            [one] => fixed.push(terms(name, one)?),
            _ => {
                return Err(refuse(
                    "azure",
                    clause,
                    &format!("{name} may take several values, and an expression has no `or`"),
                    "admit one value per role",
                ));
            }
        }
    }
    for sub in &clause.subjects {
        let mut parts = vec![terms("sub", sub)?];
        parts.extend(fixed.iter().cloned());
        expressions.push(parts.join(" and "));
    }
    Ok(expressions)
}

impl Model {
    /// Whether Entra admits a token: some credential's issuer, audience and subject (or
    /// expression, read from its text) match.
    pub fn judge(&self, iss: &str, aud: &str, sub: &str, claims: &[(String, String)]) -> Verdict {
        if iss.trim_end_matches('/') != self.issuer.trim_end_matches('/') {
            return Verdict::Refused(vec![format!(
                "iss {} is not the credentials' issuer {}",
                crate::shown::quoted(iss),
                crate::shown::quoted(&self.issuer)
            )]);
        }
        let mut reasons = Vec::new();
        for credential in &self.credentials {
            if credential.audience != aud {
                reasons.push(format!(
                    "{}: aud {} is not {}",
                    credential.name,
                    crate::shown::quoted(aud),
                    crate::shown::quoted(&credential.audience)
                ));
                continue;
            }
            let matched = match (&credential.subject, &credential.expression) {
                (Some(subject), _) => Ok(subject == sub),
                (None, Some(expression)) => expression_holds(expression, sub, claims),
                (None, None) => Ok(false),
            };
            match matched {
                Ok(true) => return Verdict::Admitted(credential.name.clone()),
                Ok(false) => reasons.push(match (&credential.subject, &credential.expression) {
                    (Some(subject), _) => format!(
                        "{}: sub is not {}",
                        credential.name,
                        crate::shown::quoted(subject)
                    ),
                    (_, expression) => format!(
                        "{}: {} is false",
                        credential.name,
                        expression.as_deref().unwrap_or_default()
                    ),
                }),
                Err(why) => reasons.push(format!("{}: {why}", credential.name)),
            }
        }
        Verdict::Refused(reasons)
    }
}

impl Cloud for Request {
    fn name(&self) -> &'static str {
        "azure"
    }

    fn model(&self, intent: &Intent) -> Result<Box<dyn Written>> {
        Ok(Box::new(self.check(intent)?))
    }

    fn args(&self) -> Vec<String> {
        let mut args = vec!["--cloud".to_owned(), "azure".to_owned()];
        let given = [
            ("--azure-tenant-id", &self.tenant_id),
            ("--azure-subscription-id", &self.subscription_id),
            ("--azure-identity", &self.identity),
            ("--azure-application", &self.application),
        ];
        for (flag, value) in given {
            if let Some(value) = value {
                args.extend([flag.to_owned(), value.clone()]);
            }
        }
        args
    }
}

impl Written for Model {
    fn context(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("the model serializes")
    }

    fn evaluate(&self, token: &Token) -> Verdict {
        self.judge(&token.iss, &token.aud, &token.sub, &token.claims)
    }

    fn needs(&self, format: &str) -> Option<String> {
        if format != "esc" {
            return None;
        }
        let mut missing = Vec::new();
        if !matches!(self.holder, Holder::Application { .. }) {
            missing.push("the client id, known once the app registration exists (give --azure-application CLIENT_ID, from terraform output -raw client_id)");
        }
        if self.subscription_id.is_none() {
            missing.push("--azure-subscription-id");
        }
        (!missing.is_empty()).then(|| format!("ESC's azure-login needs {}", missing.join(" and ")))
    }

    fn notes(&self) -> Vec<String> {
        match self.flexible {
            true => vec![
                "Entra's flexible federated credentials are in preview; the azuread provider has them from 3.7.0 (Terraform) and 6.9 (Pulumi)"
                    .to_owned(),
            ],
            false => Vec::new(),
        }
    }
}

/// Evaluates a claims matching expression (Entra's language version 1): terms
/// `claims['NAME'] matches 'GLOB'` or `claims['NAME'] eq 'VALUE'` joined by `and`.
pub fn expression_holds(
    expression: &str,
    sub: &str,
    claims: &[(String, String)],
) -> std::result::Result<bool, String> {
    let value = |name: &str| match name {
        "sub" => Some(sub),
        _ => claims
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str()),
    };
    let mut rest = expression.trim();
    let mut holds = true;
    loop {
        let term = rest
            .strip_prefix("claims['")
            .ok_or_else(|| format!("expected claims['...'] at {}", crate::shown::quoted(rest)))?;
        let (name, term) = term
            .split_once("'] ")
            .ok_or_else(|| "a claim's name is not closed".to_owned())?;
        let (operator, term) = term
            .split_once(" '")
            .ok_or_else(|| "expected an operator and a quoted value".to_owned())?;
        let (literal, term) = term
            .split_once('\'')
            .ok_or_else(|| "a value is not closed".to_owned())?;
        let claim = value(name);
        holds &= match operator {
            "eq" => claim == Some(literal),
            "matches" => claim.is_some_and(|v| crate::policy::string_like(literal, v)),
            other => return Err(format!("unknown operator {}", crate::shown::quoted(other))),
        };
        rest = term.trim_start();
        if rest.is_empty() {
            return Ok(holds);
        }
        rest = rest
            .strip_prefix("and ")
            .ok_or_else(|| format!("expected `and` at {}", crate::shown::quoted(rest)))?;
    }
}


fn check_uuid(what: &'static str, value: &str) -> Result<()> {
    let groups: Vec<&str> = value.split('-').collect();
    let lengths: Vec<usize> = groups.iter().map(|g| g.len()).collect();
    let valid = lengths == [8, 4, 4, 4, 12]
        && groups
            .iter()
            .all(|g| g.bytes().all(|b| b.is_ascii_hexdigit()));
    match valid {
        true => Ok(()),
        false => Err(Error::invalid(
            what,
            value,
            "write it as a UUID: 8-4-4-4-12 hexadecimal digits",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Entra's documented examples of the expression language.
    #[test]
    fn expressions_are_read_as_entra_documents_them() {
        let claims = [("repository_owner_id".to_owned(), "42".to_owned())];
        let expression = "claims['sub'] matches 'repo:contoso/*' and claims['repository_owner_id'] eq '42'";
        assert_eq!(expression_holds(expression, "repo:contoso/app:ref:refs/heads/main", &claims), Ok(true));
        assert_eq!(expression_holds(expression, "repo:other/app:ref:refs/heads/main", &claims), Ok(false));
        assert_eq!(expression_holds(expression, "repo:contoso/app", &[]), Ok(false));
        assert_eq!(
            expression_holds("claims['sub'] matches 'repo:contoso/app:ref:refs/heads/releases/v?'", "repo:contoso/app:ref:refs/heads/releases/v2", &[]),
            Ok(true)
        );
        assert!(expression_holds("claims['sub'] or 'x'", "x", &[]).is_err());
        assert!(expression_holds("claims['sub'] eq 'a' or claims['sub'] eq 'b'", "a", &[]).is_err());
    }
}
