//! Validated inputs, and the context every template sees.
//!
//! Everything that ends up in a generated file is checked here first, against the rules of AWS IAM,
//! Pulumi ESC and Pulumi Cloud's tokens (see the README, "What the trust policy allows"). Composite
//! strings such as ARNs, condition keys and subject patterns are built here, never in templates.

use std::path::PathBuf;

use serde::Serialize;
use url::Url;

use crate::error::{Error, Result};

/// Pulumi Cloud's OIDC issuer.
pub const DEFAULT_ISSUER: &str = "https://api.pulumi.com/oidc";
/// The role name used when `--role-name` is not given.
pub const DEFAULT_ROLE_NAME: &str = "pulumi-esc-oidc";
/// The STS session name used when `--session-name` is not given (ESC's own default).
pub const DEFAULT_SESSION_NAME: &str = "pulumi-environments-session";
/// The ESC login duration used when `--duration` is not given.
pub const DEFAULT_DURATION: &str = "1h";

/// IAM accepts at most this many thumbprints per OIDC provider.
pub const MAX_THUMBPRINTS: usize = 5;
/// IAM's default limit on a role trust policy's size, in characters without whitespace.
pub const DEFAULT_TRUST_POLICY_QUOTA: usize = 2048;
/// The highest that limit can be raised to.
pub const MAX_TRUST_POLICY_QUOTA: usize = 4096;
/// Managed policies a role can have attached by default, and at most with a raised quota.
pub const POLICY_ATTACHMENTS: (usize, usize) = (10, 20);

/// The shortest web-identity session STS grants, in seconds.
const MIN_SESSION_SECONDS: u32 = 900;
/// The range of an IAM role's `MaxSessionDuration`, in seconds.
const ROLE_MAX_SESSION_RANGE: (u32, u32) = (3600, 43200);
/// The AWS partition of generated ARNs.
const PARTITION: &str = "aws";

/// Where the provider's thumbprints come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ThumbprintChoice {
    /// Computed live from the issuer's TLS chain.
    Live,
    /// Given on the command line (`--thumbprint`); no network is used.
    Given(Vec<String>),
    /// Left out (`--no-thumbprint`): IAM then checks the issuer's chain against its trusted CAs.
    Omit,
}

/// What the user asked for, as given on the command line and not yet checked.
#[derive(Debug, Clone)]
pub struct Request {
    /// The OIDC issuer URL.
    pub issuer: String,
    /// The Pulumi organization.
    pub org: String,
    /// The IAM role name.
    pub role_name: String,
    /// The AWS account that will hold the role, needed for the ESC environment's role ARN.
    pub account_id: Option<String>,
    /// Managed policies to attach to the role.
    pub policy_arns: Vec<String>,
    /// ESC environments allowed to assume the role: `project/env`, or `env` in the legacy default project.
    pub envs: Vec<String>,
    /// The ESC login duration, e.g. `1h` or `1h30m`.
    pub duration: String,
    /// The STS session name ESC uses.
    pub session_name: String,
    /// Where thumbprints come from.
    pub thumbprints: ThumbprintChoice,
    /// Trust the account's existing OIDC provider for the issuer instead of creating one.
    pub existing_provider: bool,
    /// The account's limit on a trust policy's size (2048 unless the quota was raised).
    pub trust_policy_quota: usize,
    /// A folder of templates tried before the built-in ones.
    pub templates: Option<PathBuf>,
}

/// A request whose every value has been checked.
#[derive(Debug, Clone)]
pub struct Inputs {
    /// The issuer URL, in canonical form, without a trailing slash.
    pub issuer: Url,
    org: String,
    role_name: String,
    account_id: Option<String>,
    policy_arns: Vec<String>,
    envs: Vec<String>,
    duration: String,
    duration_seconds: u32,
    session_name: String,
    /// Where thumbprints come from; given ones are lowercase, unique and at most five. Always
    /// `Omit` with an existing provider, which oidc-gen does not write.
    pub thumbprints: ThumbprintChoice,
    existing_provider: bool,
    trust_policy_quota: usize,
    templates: Option<PathBuf>,
}

impl Request {
    /// Checks every value, reporting the first that is invalid.
    pub fn validate(self) -> Result<Inputs> {
        let issuer = parse_issuer(&self.issuer)?;
        validate_org(&self.org)?;
        validate_iam_name("--role-name", &self.role_name, 1, 64)?;
        if let Some(account) = &self.account_id {
            validate_account_id(account)?;
        }
        for arn in &self.policy_arns {
            validate_policy_arn(arn)?;
        }
        for env in &self.envs {
            validate_env(env)?;
        }
        let duration_seconds = parse_duration(&self.duration)?;
        validate_iam_name("--session-name", &self.session_name, 2, 64)?;
        let thumbprints = match self.thumbprints {
            _ if self.existing_provider => ThumbprintChoice::Omit,
            ThumbprintChoice::Given(given) => {
                ThumbprintChoice::Given(normalize_thumbprints(&given)?)
            }
            other => other,
        };
        if self.policy_arns.len() > POLICY_ATTACHMENTS.1 {
            return Err(Error::Limit(format!(
                "{} --policy-arn values, but IAM attaches at most {} managed policies to a role (10 unless the \
                 quota was raised); combine them into fewer policies",
                self.policy_arns.len(),
                POLICY_ATTACHMENTS.1
            )));
        }
        if !(DEFAULT_TRUST_POLICY_QUOTA..=MAX_TRUST_POLICY_QUOTA).contains(&self.trust_policy_quota)
        {
            return Err(Error::invalid(
                "--trust-policy-quota",
                &self.trust_policy_quota.to_string(),
                format!(
                    "IAM's limit is {DEFAULT_TRUST_POLICY_QUOTA}, or up to {MAX_TRUST_POLICY_QUOTA} when raised"
                ),
            ));
        }
        let inputs = Inputs {
            issuer,
            org: self.org,
            role_name: self.role_name,
            account_id: self.account_id,
            policy_arns: dedup(self.policy_arns),
            envs: dedup(self.envs),
            duration: self.duration,
            duration_seconds,
            session_name: self.session_name,
            thumbprints,
            existing_provider: self.existing_provider,
            trust_policy_quota: self.trust_policy_quota,
            templates: self.templates,
        };
        let size = inputs.trust_policy_size();
        if size > inputs.trust_policy_quota {
            return Err(Error::Limit(format!(
                "the role's trust policy would be {size} characters (IAM counts them without whitespace), over \
                 the limit of {}; allow fewer environments, or wider ones with '*' (e.g. --env 'project/*'), \
                 or, if the account's quota was raised, pass --trust-policy-quota {MAX_TRUST_POLICY_QUOTA}",
                inputs.trust_policy_quota
            )));
        }
        Ok(inputs)
    }
}

impl Inputs {
    /// The user's template folder, if any.
    pub fn templates(&self) -> Option<&std::path::Path> {
        self.templates.as_deref()
    }

    /// Whether an AWS account id was given (the ESC environment needs one).
    pub fn has_account_id(&self) -> bool {
        self.account_id.is_some()
    }

    /// Builds the template context, with the thumbprints that will be written (empty to omit them).
    pub fn model(&self, thumbprints: &[String]) -> Model {
        let issuer = issuer_string(&self.issuer);
        let host_path = self.host_path();
        Model {
            generator: Generator {
                name: env!("CARGO_PKG_NAME"),
                version: env!("CARGO_PKG_VERSION"),
                command: self.command(thumbprints),
            },
            org: self.org.clone(),
            provider: Provider {
                url: issuer,
                existing: self.existing_provider,
                host_path,
                client_ids: self.audiences(),
                thumbprints: thumbprints.to_vec(),
            },
            role: Role {
                name: self.role_name.clone(),
                description: format!(
                    "Assumed by Pulumi ESC environments of the Pulumi organization {} through OIDC",
                    self.org
                ),
                max_session_duration: self.duration_seconds.max(ROLE_MAX_SESSION_RANGE.0),
                policy_arns: self.policy_arns.clone(),
                conditions: self.conditions(),
            },
            esc: Esc {
                role_arn: self.account_id.as_ref().map(|account| {
                    format!("arn:{PARTITION}:iam::{account}:role/{}", self.role_name)
                }),
                session_name: self.session_name.clone(),
                duration: self.duration.clone(),
            },
        }
    }

    /// The commands that add the client IDs ESC needs to an existing provider; harmless when they
    /// are there already.
    pub fn add_client_id_commands(&self) -> Vec<String> {
        let arn = self.provider_arn(self.account_id.as_deref().unwrap_or("ACCOUNT_ID"));
        self.audiences()
            .iter()
            .map(|client_id| {
                shell_words::join([
                    "aws",
                    "iam",
                    "add-client-id-to-open-id-connect-provider",
                    "--open-id-connect-provider-arn",
                    &arn,
                    "--client-id",
                    client_id,
                ])
            })
            .collect()
    }

    /// How many managed policies the role gets.
    pub fn policy_count(&self) -> usize {
        self.policy_arns.len()
    }

    /// Whether the role trusts an existing provider rather than one oidc-gen creates.
    pub fn uses_existing_provider(&self) -> bool {
        self.existing_provider
    }

    /// The issuer URL without its scheme, as IAM stores it and as condition keys start.
    fn host_path(&self) -> String {
        issuer_string(&self.issuer)
            .trim_start_matches("https://")
            .to_owned()
    }

    /// The ARN IAM gives the issuer's provider in `account`.
    fn provider_arn(&self, account: &str) -> String {
        format!(
            "arn:{PARTITION}:iam::{account}:oidc-provider/{}",
            self.host_path()
        )
    }

    /// The audiences ESC tokens carry, which are the provider's client IDs: `<org>` and `aws:<org>`.
    fn audiences(&self) -> Vec<String> {
        vec![self.org.clone(), format!("aws:{}", self.org)]
    }

    /// The trust policy's `Condition` block: `aud` and `sub`, StringLike only where a pattern
    /// needs it, so that exact subjects are compared exactly.
    fn conditions(&self) -> Vec<ConditionGroup> {
        let host_path = self.host_path();
        let aud = ConditionKey {
            variable: format!("{host_path}:aud"),
            values: self.audiences(),
        };
        let sub = ConditionKey {
            variable: format!("{host_path}:sub"),
            values: self.subjects(),
        };
        if sub.values.iter().any(|s| s.contains('*')) {
            vec![
                ConditionGroup {
                    test: "StringEquals",
                    keys: vec![aud],
                },
                ConditionGroup {
                    test: "StringLike",
                    keys: vec![sub],
                },
            ]
        } else {
            vec![ConditionGroup {
                test: "StringEquals",
                keys: vec![aud, sub],
            }]
        }
    }

    /// The trust policy's size as IAM counts it (characters, whitespace excluded), with the
    /// longest provider ARN the account id allows.
    pub fn trust_policy_size(&self) -> usize {
        let provider = self.provider_arn(self.account_id.as_deref().unwrap_or("000000000000"));
        let condition: serde_json::Map<String, serde_json::Value> = self
            .conditions()
            .into_iter()
            .map(|group| {
                let keys = group
                    .keys
                    .into_iter()
                    .map(|k| (k.variable, k.values.into()));
                (
                    group.test.to_owned(),
                    serde_json::Value::Object(keys.collect()),
                )
            })
            .collect();
        let policy = serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Principal": { "Federated": provider },
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": condition,
            }],
        });
        policy
            .to_string()
            .chars()
            .filter(|c| !c.is_whitespace())
            .count()
    }

    /// The `sub` values the role trusts: every ESC environment of the org unless `--env` narrows it.
    fn subjects(&self) -> Vec<String> {
        let prefix = format!("pulumi:environments:org:{}:env:", self.org);
        if self.envs.is_empty() {
            return vec![format!("{prefix}*")];
        }
        self.envs
            .iter()
            .map(|env| format!("{prefix}{env}"))
            .collect()
    }

    /// The command line that reproduces these files byte for byte, without the network.
    fn command(&self, thumbprints: &[String]) -> String {
        let mut args: Vec<String> = vec![env!("CARGO_PKG_NAME").into()];
        let mut push = |flag: &str, value: &str| {
            args.push(flag.into());
            args.push(value.into());
        };
        let issuer = issuer_string(&self.issuer);
        if issuer != DEFAULT_ISSUER {
            push("--issuer", &issuer);
        }
        push("--org", &self.org);
        if self.role_name != DEFAULT_ROLE_NAME {
            push("--role-name", &self.role_name);
        }
        if let Some(account) = &self.account_id {
            push("--account-id", account);
        }
        for env in &self.envs {
            push("--env", env);
        }
        for arn in &self.policy_arns {
            push("--policy-arn", arn);
        }
        if self.duration != DEFAULT_DURATION {
            push("--duration", &self.duration);
        }
        if self.session_name != DEFAULT_SESSION_NAME {
            push("--session-name", &self.session_name);
        }
        for thumbprint in thumbprints {
            push("--thumbprint", thumbprint);
        }
        if let Some(dir) = &self.templates {
            push("--templates", &dir.to_string_lossy());
        }
        if self.trust_policy_quota != DEFAULT_TRUST_POLICY_QUOTA {
            push("--trust-policy-quota", &self.trust_policy_quota.to_string());
        }
        if self.existing_provider {
            args.push("--existing-provider".into());
        } else if thumbprints.is_empty() {
            args.push("--no-thumbprint".into());
        }
        shell_words::join(args)
    }
}

/// The context every template is rendered with.
#[derive(Debug, Clone, Serialize)]
pub struct Model {
    /// Who generated the files, and how to do it again.
    pub generator: Generator,
    /// The Pulumi organization.
    pub org: String,
    /// The IAM OIDC identity provider.
    pub provider: Provider,
    /// The IAM role ESC assumes.
    pub role: Role,
    /// The ESC environment's login settings.
    pub esc: Esc,
}

/// The generator's name, version and the command that reproduces the output.
#[derive(Debug, Clone, Serialize)]
pub struct Generator {
    /// `oidc-gen`.
    pub name: &'static str,
    /// The crate version.
    pub version: &'static str,
    /// A shell command line that writes the same files again.
    pub command: String,
}

/// The IAM OIDC identity provider.
#[derive(Debug, Clone, Serialize)]
pub struct Provider {
    /// The issuer URL, e.g. `https://api.pulumi.com/oidc`.
    pub url: String,
    /// Whether the provider already exists in the account, to be looked up rather than created.
    pub existing: bool,
    /// The URL without its scheme, as IAM stores it and as condition keys start.
    pub host_path: String,
    /// The client IDs (audiences): `<org>` and `aws:<org>`.
    pub client_ids: Vec<String>,
    /// Lowercase hex SHA-1 thumbprints; empty when they are left out.
    pub thumbprints: Vec<String>,
}

/// The IAM role and its trust policy's conditions.
#[derive(Debug, Clone, Serialize)]
pub struct Role {
    /// The role name.
    pub name: String,
    /// The role description.
    pub description: String,
    /// `MaxSessionDuration` in seconds, at least the ESC duration.
    pub max_session_duration: u32,
    /// Managed policies to attach.
    pub policy_arns: Vec<String>,
    /// The trust policy's `Condition` block, one group per operator.
    pub conditions: Vec<ConditionGroup>,
}

/// One condition operator and the keys it tests.
#[derive(Debug, Clone, Serialize)]
pub struct ConditionGroup {
    /// `StringEquals` or `StringLike`.
    pub test: &'static str,
    /// The keys tested with this operator.
    pub keys: Vec<ConditionKey>,
}

/// One condition key and the values it accepts.
#[derive(Debug, Clone, Serialize)]
pub struct ConditionKey {
    /// E.g. `api.pulumi.com/oidc:aud`.
    pub variable: String,
    /// Any of these values matches.
    pub values: Vec<String>,
}

/// The ESC environment's `aws-login` settings.
#[derive(Debug, Clone, Serialize)]
pub struct Esc {
    /// The role's ARN; known only when an account id was given.
    pub role_arn: Option<String>,
    /// The STS session name.
    pub session_name: String,
    /// The login duration, as ESC writes it.
    pub duration: String,
}

/// The issuer as a string, without the trailing slash `Url` adds to a bare host.
fn issuer_string(url: &Url) -> String {
    url.as_str().trim_end_matches('/').to_owned()
}

/// Checks an issuer URL: https, canonical, no trailing slash, query, fragment or credentials.
pub fn parse_issuer(value: &str) -> Result<Url> {
    let what = "--issuer";
    let url = Url::parse(value).map_err(|e| {
        Error::invalid(
            what,
            value,
            format!("{e}; give an https URL such as {DEFAULT_ISSUER}"),
        )
    })?;
    if url.scheme() != "https" {
        return Err(Error::invalid(
            what,
            value,
            "the issuer must be an https URL",
        ));
    }
    if url.host().is_none() {
        return Err(Error::invalid(what, value, "the issuer URL has no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::invalid(
            what,
            value,
            "remove the user name and password from the URL",
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(Error::invalid(
            what,
            value,
            "IAM refuses an issuer URL with a query or fragment; remove it",
        ));
    }
    if value.contains('$') {
        return Err(Error::invalid(
            what,
            value,
            "a '$' in the issuer URL would be read as an interpolation by Pulumi YAML and ESC; remove it",
        ));
    }
    if value.len() > 1 && value.ends_with('/') {
        return Err(Error::invalid(
            what,
            value,
            "remove the trailing slash: tokens name the issuer without it",
        ));
    }
    let canonical = issuer_string(&url);
    if canonical != value {
        return Err(Error::invalid(
            what,
            value,
            format!("write it in canonical form, as tokens name it: {canonical}"),
        ));
    }
    Ok(url)
}

/// Pulumi organization, project and environment names: letters, digits, `-`, `_` and `.`.
fn is_pulumi_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')
}

fn validate_org(value: &str) -> Result<()> {
    if value.is_empty() || value.len() > 100 || !value.chars().all(is_pulumi_name_char) {
        return Err(Error::invalid(
            "--org",
            value,
            "a Pulumi organization name has 1-100 letters, digits, '-', '_' or '.'",
        ));
    }
    Ok(())
}

/// `project/env`, or `env` alone for the legacy default project; `*` matches any run of characters.
fn validate_env(value: &str) -> Result<()> {
    let parts: Vec<&str> = value.split('/').collect();
    let well_formed = parts.len() <= 2
        && parts.iter().all(|part| {
            !part.is_empty()
                && part.len() <= 100
                && part.chars().all(|c| is_pulumi_name_char(c) || c == '*')
        });
    if !well_formed {
        return Err(Error::invalid(
            "--env",
            value,
            "give PROJECT/ENV (or ENV for the legacy default project); names have letters, digits, \
             '-', '_' or '.', and '*' matches any characters",
        ));
    }
    Ok(())
}

/// IAM names (roles, session names): `[\w+=,.@-]` between `min` and `max` characters.
fn validate_iam_name(what: &'static str, value: &str, min: usize, max: usize) -> Result<()> {
    let valid_chars = value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '+' | '=' | ',' | '.' | '@' | '-'));
    if !(min..=max).contains(&value.len()) || !valid_chars {
        return Err(Error::invalid(
            what,
            value,
            format!("IAM allows {min}-{max} characters, each a letter, digit or one of _+=,.@-"),
        ));
    }
    Ok(())
}

fn validate_account_id(value: &str) -> Result<()> {
    if value.len() != 12 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::invalid(
            "--account-id",
            value,
            "an AWS account id is exactly 12 digits (aws sts get-caller-identity shows it)",
        ));
    }
    Ok(())
}

/// `arn:<partition>:iam::<aws|account>:policy/<path/name>`.
fn validate_policy_arn(value: &str) -> Result<()> {
    let hint = "give a managed policy ARN such as arn:aws:iam::aws:policy/ReadOnlyAccess \
                or arn:aws:iam::123456789012:policy/MyPolicy";
    let parts: Vec<&str> = value.splitn(6, ':').collect();
    let [arn, partition, service, region, account, resource] = parts[..] else {
        return Err(Error::invalid("--policy-arn", value, hint));
    };
    let partition_ok = partition.starts_with("aws")
        && partition
            .chars()
            .all(|c| c.is_ascii_lowercase() || c == '-');
    let account_ok =
        account == "aws" || (account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()));
    let name = resource.strip_prefix("policy/").unwrap_or_default();
    let name_ok = !name.is_empty()
        && !name.ends_with('/')
        && name.len() <= 512
        && name.chars().all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, '_' | '+' | '=' | ',' | '.' | '@' | '-' | '/')
        });
    if arn != "arn"
        || !partition_ok
        || service != "iam"
        || !region.is_empty()
        || !account_ok
        || !name_ok
    {
        return Err(Error::invalid("--policy-arn", value, hint));
    }
    Ok(())
}

/// Parses ESC's duration syntax (`^([0-9]+h)?([0-9]+m)?([0-9]+s)?$`) into seconds, within STS's range.
fn parse_duration(value: &str) -> Result<u32> {
    let (min, max) = (MIN_SESSION_SECONDS, ROLE_MAX_SESSION_RANGE.1);
    let bad = || {
        Error::invalid(
            "--duration",
            value,
            "write hours, minutes and seconds such as 1h, 1h30m or 45m, between 15m and 12h",
        )
    };
    let mut seconds: u64 = 0;
    let mut rest = value;
    for (unit, factor) in [('h', 3600), ('m', 60), ('s', 1)] {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0 && rest[digits..].starts_with(unit) {
            let amount: u64 = rest[..digits].parse().map_err(|_| bad())?;
            seconds = seconds.saturating_add(amount.saturating_mul(factor));
            rest = &rest[digits + 1..];
        }
    }
    if value.is_empty() || !rest.is_empty() {
        return Err(bad());
    }
    match u32::try_from(seconds) {
        Ok(s) if (min..=max).contains(&s) => Ok(s),
        _ => Err(bad()),
    }
}

fn normalize_thumbprints(given: &[String]) -> Result<Vec<String>> {
    let mut thumbprints = Vec::new();
    for value in given {
        if value.len() != 40 || !value.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(Error::invalid(
                "--thumbprint",
                value,
                "a thumbprint is the SHA-1 of a certificate: 40 hex digits (oidc-gen thumbprint prints it)",
            ));
        }
        thumbprints.push(value.to_ascii_lowercase());
    }
    let thumbprints = dedup(thumbprints);
    if thumbprints.len() > MAX_THUMBPRINTS {
        return Err(Error::invalid(
            "--thumbprint",
            &thumbprints.join(","),
            format!("IAM accepts at most {MAX_THUMBPRINTS} thumbprints per provider; give fewer"),
        ));
    }
    Ok(thumbprints)
}

/// Removes repeated values, keeping the first of each in order.
pub(crate) fn dedup(values: Vec<String>) -> Vec<String> {
    let mut seen = std::collections::BTreeSet::new();
    values
        .into_iter()
        .filter(|v| seen.insert(v.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn request() -> Request {
        Request {
            issuer: DEFAULT_ISSUER.into(),
            org: "acme".into(),
            role_name: DEFAULT_ROLE_NAME.into(),
            account_id: None,
            policy_arns: vec![],
            envs: vec![],
            duration: DEFAULT_DURATION.into(),
            session_name: DEFAULT_SESSION_NAME.into(),
            thumbprints: ThumbprintChoice::Omit,
            existing_provider: false,
            trust_policy_quota: DEFAULT_TRUST_POLICY_QUOTA,
            templates: None,
        }
    }

    #[test]
    fn durations() {
        let cases = [
            ("1h", Some(3600)),
            ("15m", Some(900)),
            ("1h30m", Some(5400)),
            ("1h0m30s", Some(3630)),
            ("12h", Some(43200)),
            ("3600s", Some(3600)),
            ("12h1s", None),
            ("14m59s", None),
            ("", None),
            ("1", None),
            ("h", None),
            ("1m1h", None),
            ("1h ", None),
            ("99999999999999999999h", None),
            ("-1h", None),
        ];
        for (input, expected) in cases {
            assert_eq!(parse_duration(input).ok(), expected, "duration {input:?}");
        }
    }

    #[test]
    fn issuers() {
        let cases = [
            ("https://api.pulumi.com/oidc", true),
            ("https://127.0.0.1:8443/oidc", true),
            ("https://[::1]:8443", true),
            ("http://api.pulumi.com/oidc", false),
            ("https://api.pulumi.com/oidc/", false),
            ("https://api.pulumi.com/oidc?x=1", false),
            ("https://api.pulumi.com/oidc#f", false),
            ("https://user@api.pulumi.com/oidc", false),
            ("https://API.pulumi.com/oidc", false),
            ("https://api.pulumi.com:443/oidc", false),
            ("api.pulumi.com/oidc", false),
        ];
        for (input, valid) in cases {
            assert_eq!(parse_issuer(input).is_ok(), valid, "issuer {input:?}");
        }
    }

    #[test]
    fn names_and_arns() {
        assert!(validate_iam_name("--role-name", "a", 1, 64).is_ok());
        assert!(validate_iam_name("--role-name", &"a".repeat(64), 1, 64).is_ok());
        assert!(validate_iam_name("--role-name", &"a".repeat(65), 1, 64).is_err());
        assert!(validate_iam_name("--role-name", "has space", 1, 64).is_err());
        assert!(validate_iam_name("--role-name", "a${b}", 1, 64).is_err());
        assert!(validate_iam_name("--session-name", "x", 2, 64).is_err());
        assert!(validate_org("acme-corp_1.x").is_ok());
        assert!(validate_org("acme/corp").is_err());
        assert!(validate_org("").is_err());
        assert!(validate_env("proj/dev").is_ok());
        assert!(validate_env("dev").is_ok());
        assert!(validate_env("proj/*").is_ok());
        assert!(validate_env("a/b/c").is_err());
        assert!(validate_env("proj/").is_err());
        assert!(validate_env("proj/${x}").is_err());
        assert!(validate_account_id("123456789012").is_ok());
        assert!(validate_account_id("12345678901").is_err());
        assert!(validate_account_id("12345678901x").is_err());
        for ok in [
            "arn:aws:iam::aws:policy/ReadOnlyAccess",
            "arn:aws:iam::123456789012:policy/team/MyPolicy",
            "arn:aws-us-gov:iam::aws:policy/ReadOnlyAccess",
        ] {
            assert!(validate_policy_arn(ok).is_ok(), "{ok}");
        }
        for bad in [
            "ReadOnlyAccess",
            "arn:aws:iam::aws:role/x",
            "arn:aws:s3:::bucket",
            "arn:aws:iam:us-east-1:aws:policy/x",
            "arn:aws:iam::aws:policy/",
            "arn:aws:iam::12345:policy/x",
            "arn:aws:iam::aws:policy/a\"b",
        ] {
            assert!(validate_policy_arn(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn thumbprints_are_lowercased_deduplicated_and_limited() {
        let upper = "A".repeat(40);
        let got = normalize_thumbprints(&[upper.clone(), "a".repeat(40)]).unwrap();
        assert_eq!(got, vec!["a".repeat(40)]);
        let six: Vec<String> = (0..6).map(|i| format!("{i:040x}")).collect();
        assert!(normalize_thumbprints(&six).is_err());
        assert!(normalize_thumbprints(&six[..5]).is_ok());
        assert!(normalize_thumbprints(&["g".repeat(40)]).is_err());
        assert!(normalize_thumbprints(&["a".repeat(39)]).is_err());
    }

    #[test]
    fn subjects_default_to_every_environment_of_the_org() {
        let model = request().validate().unwrap().model(&[]);
        let groups: Vec<_> = model.role.conditions.iter().map(|g| g.test).collect();
        assert_eq!(groups, ["StringEquals", "StringLike"]);
        assert_eq!(
            model.role.conditions[0].keys[0].variable,
            "api.pulumi.com/oidc:aud"
        );
        assert_eq!(
            model.role.conditions[0].keys[0].values,
            ["acme", "aws:acme"]
        );
        assert_eq!(
            model.role.conditions[1].keys[0].variable,
            "api.pulumi.com/oidc:sub"
        );
        assert_eq!(
            model.role.conditions[1].keys[0].values,
            ["pulumi:environments:org:acme:env:*"]
        );
    }

    #[test]
    fn exact_environments_are_compared_exactly() {
        let mut req = request();
        req.envs = vec!["proj/dev".into(), "legacy".into(), "proj/dev".into()];
        let model = req.validate().unwrap().model(&[]);
        assert_eq!(model.role.conditions.len(), 1);
        assert_eq!(model.role.conditions[0].test, "StringEquals");
        assert_eq!(
            model.role.conditions[0].keys[1].values,
            [
                "pulumi:environments:org:acme:env:proj/dev",
                "pulumi:environments:org:acme:env:legacy"
            ]
        );
    }

    #[test]
    fn max_session_duration_covers_the_esc_duration() {
        let mut req = request();
        req.duration = "2h30m".into();
        assert_eq!(
            req.validate().unwrap().model(&[]).role.max_session_duration,
            9000
        );
        assert_eq!(
            request()
                .validate()
                .unwrap()
                .model(&[])
                .role
                .max_session_duration,
            3600
        );
        let mut short = request();
        short.duration = "20m".into();
        assert_eq!(
            short
                .validate()
                .unwrap()
                .model(&[])
                .role
                .max_session_duration,
            3600
        );
    }

    #[test]
    fn an_existing_provider_needs_no_thumbprint_and_gets_client_id_commands() {
        let mut req = request();
        req.existing_provider = true;
        req.thumbprints = ThumbprintChoice::Live;
        req.account_id = Some("123456789012".into());
        let inputs = req.validate().unwrap();
        assert_eq!(inputs.thumbprints, ThumbprintChoice::Omit);
        assert!(inputs.model(&[]).provider.existing);
        assert!(
            inputs
                .model(&[])
                .generator
                .command
                .ends_with(" --existing-provider")
        );
        assert_eq!(
            inputs.add_client_id_commands(),
            [
                "aws iam add-client-id-to-open-id-connect-provider --open-id-connect-provider-arn \
                 arn:aws:iam::123456789012:oidc-provider/api.pulumi.com/oidc --client-id acme",
                "aws iam add-client-id-to-open-id-connect-provider --open-id-connect-provider-arn \
                 arn:aws:iam::123456789012:oidc-provider/api.pulumi.com/oidc --client-id aws:acme",
            ]
        );
    }

    #[test]
    fn trust_policy_size_is_counted_and_limited() {
        // The size of the smallest policy, counted by hand from its compact JSON.
        let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::000000000000:oidc-provider/api.pulumi.com/oidc"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"api.pulumi.com/oidc:aud":["acme","aws:acme"]},"StringLike":{"api.pulumi.com/oidc:sub":["pulumi:environments:org:acme:env:*"]}}}]}"#;
        assert_eq!(
            request().validate().unwrap().trust_policy_size(),
            policy.len()
        );

        let mut many = request();
        many.envs = (0..60)
            .map(|i| format!("project-{i:02}/environment"))
            .collect();
        let error = many.clone().validate().unwrap_err();
        assert_eq!(error.exit_code(), 2);
        assert!(
            error.to_string().contains("over the limit of 2048"),
            "{error}"
        );
        many.trust_policy_quota = MAX_TRUST_POLICY_QUOTA;
        let raised = many.validate().unwrap();
        assert!(raised.trust_policy_size() > DEFAULT_TRUST_POLICY_QUOTA);
        assert!(
            raised
                .model(&[])
                .generator
                .command
                .contains("--trust-policy-quota 4096")
        );
    }

    #[test]
    fn command_reproduces_the_request() {
        let mut req = request();
        req.account_id = Some("123456789012".into());
        req.envs = vec!["p/e".into()];
        req.role_name = "x+y".into();
        let inputs = req.validate().unwrap();
        assert_eq!(
            inputs.model(&["ab".repeat(20)]).generator.command,
            format!(
                "oidc-gen --org acme --role-name x+y --account-id 123456789012 --env p/e --thumbprint {}",
                "ab".repeat(20)
            )
        );
        assert!(
            inputs
                .model(&[])
                .generator
                .command
                .ends_with(" --no-thumbprint")
        );
    }
}
