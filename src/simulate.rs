//! `oidc-gen simulate`: would IAM let this token assume the role, and if not, why?
//!
//! Evaluates one web-identity request (`sts:AssumeRoleWithWebIdentity` from the issuer's provider,
//! with the token's `aud` and `sub` as the condition keys `<issuer>:aud` and `<issuer>:sub`)
//! against a trust policy, with IAM's rules: statements OR together and an explicit `Deny` wins;
//! inside a statement every condition must hold; a list of values matches if any value does;
//! string operators are case-sensitive, condition keys and actions are not; `StringLike`'s `*`
//! matches any run of characters, `/` and `:` included, and `?` one character. An operator or
//! element it does not implement is an error, never a guess.

use std::collections::BTreeMap;
use std::path::Path;

use base64::Engine;
use serde_json::Value;

use crate::bounded;
use crate::error::{Error, Result};
use crate::issuer::Issuer;
use crate::issuers;
use crate::policy::{ASSUME_ACTION, policy_size, string_like};
use crate::request::{MAX_TRUST_POLICY_QUOTA, Request, TrustInputs};

/// The token `simulate` evaluates, as given.
#[derive(Debug, Clone)]
pub enum TokenInput {
    /// A whole JWT, or `-` to read it from standard input.
    Jwt(String),
    /// Its audience, subject and other claims.
    Claims {
        /// The audience.
        aud: String,
        /// The subject.
        sub: String,
        /// Other claims, as `(name, value)`: those the issuer's provider maps to condition keys
        /// (GitHub's `repository_id`, `job_workflow_ref`, ...) are evaluated.
        claims: Vec<(String, String)>,
    },
}

/// The policy `simulate` evaluates.
#[derive(Debug, Clone)]
pub enum PolicyInput {
    /// A file ([`load_policy`]), and the issuer when its conditions do not name one.
    File {
        /// The file.
        path: std::path::PathBuf,
        /// The issuer URL given with `--issuer`.
        issuer: Option<String>,
    },
    /// The policy these options would generate.
    Generated(Box<Request>),
    /// The policy of a role already checked (a spec's).
    Checked(Box<TrustInputs>),
}

/// What `simulate` answers.
#[derive(Debug, Clone)]
pub struct Answer {
    /// IAM's decision.
    pub verdict: Verdict,
    /// The decision in words, for stdout.
    pub text: String,
    /// Notes for stderr.
    pub notes: Vec<String>,
}

impl TokenInput {
    /// The token's claims, and a note when it was decoded from a JWT (unverified).
    pub fn read(&self, notes: &mut Vec<String>) -> Result<Token> {
        let token = match self {
            TokenInput::Jwt(jwt) => {
                notes.push(
                "the token was decoded, not verified: its signature and expiry were not checked"
                    .into(),
            );
                if jwt == "-" {
                    let text = bounded::read_text(Path::new("-"), bounded::TOKEN_BYTES).map_err(
                        |source| Error::Input {
                            what: "--token",
                            path: "standard input".into(),
                            source,
                        },
                    )?;
                    Token::from_jwt(text.trim())?
                } else {
                    Token::from_jwt(jwt)?
                }
            }
            TokenInput::Claims { aud, sub, claims } => {
                let values = claims.iter().map(|(_, value)| ("--claim", value));
                for (what, value) in [("--aud", aud), ("--sub", sub)].into_iter().chain(values) {
                    if value.len() as u64 > bounded::TOKEN_BYTES {
                        return Err(Error::invalid(
                            what,
                            value,
                            format!(
                                "a claim cannot be longer than the token, and STS takes tokens of at most {} characters",
                                bounded::TOKEN_BYTES
                            ),
                        ));
                    }
                }
                Token {
                    iss: None,
                    aud: aud.clone(),
                    sub: sub.clone(),
                    claims: claims.iter().cloned().collect(),
                }
            }
        };
        Ok(token)
    }
}

/// Evaluates `token` against `policy` as IAM would for the token's issuer (or the policy's).
pub fn run(token: &TokenInput, policy: &PolicyInput) -> Result<Answer> {
    let mut notes = Vec::new();
    let token = token.read(&mut notes)?;
    let (document, policy_issuer) = match policy {
        PolicyInput::File { path, issuer } => {
            let document = load_policy(path)?;
            let issuer = match issuer {
                Some(url) => Some(Issuer::parse(url)?.host_path().to_owned()),
                None => policy_issuer(&document),
            };
            (document, issuer)
        }
        PolicyInput::Generated(request) => {
            let trust = request.trust()?;
            notes.extend(trust.notes.iter().cloned());
            let issuer = trust.issuer.host_path().to_owned();
            (trust.trust_policy(None), Some(issuer))
        }
        PolicyInput::Checked(trust) => {
            let issuer = trust.issuer.host_path().to_owned();
            (trust.trust_policy(None), Some(issuer))
        }
    };
    // A token names its issuer, and IAM hands it to that issuer's provider.
    let token_issuer = match token.iss.as_deref() {
        None => None,
        Some(iss) => match iss.strip_prefix("https://") {
            Some(host_path) => Some(host_path.trim_end_matches('/').to_owned()),
            None => {
                return Err(Error::invalid(
                    "--token",
                    iss,
                    "its \"iss\" claim is not an https:// URL, and IAM trusts only https issuers",
                ));
            }
        },
    };
    let Some(host_path) = token_issuer.or(policy_issuer) else {
        return Err(Error::Usage(
            "the policy's conditions name no single issuer; say which one issued the token with --issuer"
                .into(),
        ));
    };
    let verdict = evaluate(&document, &host_path, &token)?;
    let mut text = verdict.describe(&format!("https://{host_path}"), &token);
    if let (false, Some(preset)) = (verdict.allowed(), preset_of(&host_path)) {
        let mut claims = token.claims.clone();
        claims.insert("sub".into(), token.sub.clone());
        for reason in (preset.explain)(&claims, &listed_values(&document, &host_path)) {
            text.push_str(&format!("  why: {reason}\n"));
        }
    }
    Ok(Answer {
        verdict,
        text,
        notes,
    })
}

/// Evaluates `token` against the trust `request` generates, in each of `clouds` (and in AWS
/// when `aws` is set): each cloud's answer, from what it would be given (the GCP condition run
/// by a CEL interpreter and its members, the Azure credentials and their expressions), and the
/// issuer's explanation of a denial.
pub fn run_in_clouds(
    token: &TokenInput,
    request: &Request,
    clouds: &[&dyn crate::clouds::Cloud],
    aws: bool,
) -> Result<(bool, Answer)> {
    let mut notes = Vec::new();
    let token = token.read(&mut notes)?;
    let inputs = request.clone().validate()?;
    notes.extend(inputs.trust.notes.iter().cloned());
    let issuer = inputs.trust.issuer.clone();
    let host_path = issuer.host_path().to_owned();
    let document = inputs.trust.trust_policy(None);
    let mut text = String::new();
    let mut admitted = true;
    if aws {
        let verdict = evaluate(&document, &host_path, &token)?;
        admitted &= verdict.allowed();
        text.push_str("aws: ");
        text.push_str(&verdict.describe(issuer.as_str(), &token));
    }
    let intent = crate::clouds::Intent::of_role(&inputs);
    let claims: Vec<(String, String)> = token.claims.clone().into_iter().collect();
    let seen = crate::clouds::Token {
        iss: token
            .iss
            .clone()
            .unwrap_or_else(|| issuer.as_str().to_owned()),
        aud: token.aud.clone(),
        sub: token.sub.clone(),
        claims,
    };
    let shown = format!(
        "aud {}, sub {}",
        crate::shown::quoted(&token.aud),
        crate::shown::quoted(&token.sub)
    );
    for cloud in clouds {
        let written = cloud.model(&intent)?;
        match written.evaluate(&seen) {
            crate::clouds::Verdict::Admitted(by) => text.push_str(&format!(
                "{}: ALLOW: {} admits the token of {issuer} ({shown})\n",
                cloud.name(),
                crate::shown::value(&by)
            )),
            crate::clouds::Verdict::Refused(reasons) => {
                admitted = false;
                text.push_str(&format!(
                    "{}: DENY: the token of {issuer} ({shown}) is refused\n",
                    cloud.name()
                ));
                for reason in reasons {
                    text.push_str(&format!("  {reason}\n"));
                }
            }
        }
    }
    if let (false, Some(preset)) = (admitted, preset_of(&host_path)) {
        let mut claims = token.claims.clone();
        claims.insert("sub".into(), token.sub.clone());
        for reason in (preset.explain)(&claims, &listed_values(&document, &host_path)) {
            text.push_str(&format!("  why: {reason}\n"));
        }
    }
    let verdict = match admitted {
        true => Verdict::Allow {
            statement: String::new(),
        },
        false => Verdict::ImplicitDeny {
            reasons: Vec::new(),
        },
    };
    Ok((
        admitted,
        Answer {
            verdict,
            text,
            notes,
        },
    ))
}

/// The claims of a token that IAM tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// The issuer, when known (from a decoded token).
    pub iss: Option<String>,
    /// The audience.
    pub aud: String,
    /// The subject.
    pub sub: String,
    /// Its other claims that are strings, numbers or booleans, as text.
    pub claims: BTreeMap<String, String>,
}

impl Token {
    /// Reads `iss`, `aud` and `sub` from a JWT's payload. The token is decoded, not verified: the
    /// signature and expiry are not checked.
    pub fn from_jwt(jwt: &str) -> Result<Self> {
        let invalid = |hint: &str| Error::invalid("--token", &abbreviate(jwt), hint.to_owned());
        if jwt.len() as u64 > bounded::TOKEN_BYTES {
            return Err(invalid(&format!(
                "it is {} characters; STS takes at most {}",
                jwt.len(),
                bounded::TOKEN_BYTES
            )));
        }
        let payload = jwt.trim().split('.').nth(1).ok_or_else(|| {
            invalid("a JWT has three parts separated by '.'; paste the whole token")
        })?;
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload.trim_end_matches('='))
            .map_err(|_| invalid("its payload (the second part) is not base64url"))?;
        let claims: Value = std::str::from_utf8(&bytes)
            .ok()
            .and_then(|text| bounded::parse_json(text).ok())
            .ok_or_else(|| {
                invalid("its payload (the second part) is not JSON, or names a claim twice")
            })?;
        let text = |name: &str| claims.get(name).and_then(Value::as_str).map(str::to_owned);
        let aud = match claims.get("aud") {
            Some(Value::String(aud)) => aud.clone(),
            Some(Value::Array(list)) if list.len() == 1 && list[0].is_string() => {
                list[0].as_str().unwrap_or_default().to_owned()
            }
            Some(Value::Array(list)) if list.is_empty() => {
                return Err(invalid(
                    "its \"aud\" claim is an empty list: it names no audience",
                ));
            }
            Some(Value::Array(_)) => {
                return Err(invalid(
                    "it has several audiences; pass the one IAM sees with --aud and --sub",
                ));
            }
            _ => return Err(invalid("it has no \"aud\" claim")),
        };
        let sub = text("sub").ok_or_else(|| invalid("it has no \"sub\" claim"))?;
        let others = claims
            .as_object()
            .into_iter()
            .flatten()
            .filter_map(|(name, value)| {
                let text = match value {
                    Value::String(text) => text.clone(),
                    Value::Number(_) | Value::Bool(_) => value.to_string(),
                    _ => return None,
                };
                (!matches!(name.as_str(), "iss" | "aud" | "sub")).then(|| (name.clone(), text))
            });
        Ok(Token {
            iss: text("iss"),
            aud,
            sub,
            claims: others.collect(),
        })
    }
}

/// A long token shortened for an error message.
fn abbreviate(text: &str) -> String {
    match text.char_indices().nth(40) {
        Some((end, _)) => format!("{}...", &text[..end]),
        None => text.to_owned(),
    }
}

/// What IAM would decide.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// An `Allow` statement admits the token and no `Deny` refuses it.
    Allow {
        /// The statement that admits it.
        statement: String,
    },
    /// A `Deny` statement matches the token.
    ExplicitDeny {
        /// The statement that refuses it.
        statement: String,
    },
    /// No statement admits the token.
    ImplicitDeny {
        /// Each `Allow` statement, with the conditions it failed.
        reasons: Vec<(String, Vec<String>)>,
    },
}

impl Verdict {
    /// Whether the token gets in.
    pub fn allowed(&self) -> bool {
        matches!(self, Verdict::Allow { .. })
    }

    /// The answer in words: `ALLOW` or `DENY`, and why.
    pub fn describe(&self, issuer: &str, token: &Token) -> String {
        let claims = format!(
            "aud {}, sub {}",
            crate::shown::quoted(&token.aud),
            crate::shown::quoted(&token.sub)
        );
        let shown = |statement: &str| crate::shown::value(statement).into_owned();
        match self {
            Verdict::Allow { statement } => {
                let statement = shown(statement);
                format!("ALLOW: statement {statement} admits the token of {issuer} ({claims})\n")
            }
            Verdict::ExplicitDeny { statement } => {
                let statement = shown(statement);
                format!(
                    "DENY: statement {statement} denies the token of {issuer} ({claims}) explicitly\n"
                )
            }
            Verdict::ImplicitDeny { reasons } if reasons.is_empty() => format!(
                "DENY: the policy has no Allow statement, so nothing admits the token of {issuer} ({claims})\n"
            ),
            Verdict::ImplicitDeny { reasons } => {
                let mut text =
                    format!("DENY: no statement admits the token of {issuer} ({claims})\n");
                for (statement, failures) in reasons {
                    for failure in failures {
                        text.push_str(&format!("  {}: {failure}\n", shown(statement)));
                    }
                }
                text
            }
        }
    }
}

/// Evaluates the web-identity request of `token`, issued by `host_path` (the issuer URL without
/// `https://`), against `policy`.
pub fn evaluate(policy: &Value, host_path: &str, token: &Token) -> Result<Verdict> {
    let statements = statements(policy)?;
    let preset = preset_of(host_path);
    let mapped = preset.map_or(&[][..], |preset| preset.mapped_claims);
    let mut context = vec![
        (format!("{host_path}:aud"), token.aud.as_str()),
        (format!("{host_path}:sub"), token.sub.as_str()),
    ];
    // AWS maps amr for every issuer; for one oidc-gen does not know, the claims given are taken
    // as mapped.
    for (claim, value) in &token.claims {
        if preset.is_none() || claim == "amr" || mapped.contains(&claim.as_str()) {
            context.push((format!("{host_path}:{claim}"), value.as_str()));
        }
    }
    let mut allowed = None;
    let mut reasons = Vec::new();
    for (index, statement) in statements.iter().enumerate() {
        let name = match statement.get("Sid").and_then(Value::as_str) {
            Some(sid) if !sid.is_empty() => sid.to_owned(),
            _ => format!("#{}", index + 1),
        };
        let failures = failures(statement, host_path, mapped, &context)?;
        let effect = statement.get("Effect").and_then(Value::as_str);
        match (effect, failures.is_empty()) {
            (Some("Deny"), true) => return Ok(Verdict::ExplicitDeny { statement: name }),
            (Some("Deny"), false) => {}
            (Some("Allow"), true) => {
                allowed.get_or_insert(name);
            }
            (Some("Allow"), false) => reasons.push((name, failures)),
            (other, _) => {
                return Err(Error::Unsupported(format!(
                    "statement {name} has the Effect {other:?}; IAM knows \"Allow\" and \"Deny\""
                )));
            }
        }
    }
    Ok(match allowed {
        Some(statement) => Verdict::Allow { statement },
        None => Verdict::ImplicitDeny { reasons },
    })
}

/// The elements of a policy document.
const DOCUMENT_ELEMENTS: [&str; 3] = ["Version", "Id", "Statement"];
/// The elements of a statement that `simulate` evaluates.
const STATEMENT_ELEMENTS: [&str; 5] = ["Sid", "Effect", "Principal", "Action", "Condition"];

/// The statements of a policy document, a single statement object counting as a list of one.
/// An element `simulate` does not know is an error: leaving out a misspelled `Condition` would
/// admit every token.
fn statements(policy: &Value) -> Result<Vec<&Value>> {
    let Some(document) = policy.as_object() else {
        return Err(Error::Unsupported(
            "the policy is not a JSON object; give an IAM policy document".into(),
        ));
    };
    if let Some(unknown) = document
        .keys()
        .find(|k| !DOCUMENT_ELEMENTS.contains(&k.as_str()))
    {
        return Err(Error::Unsupported(format!(
            "the policy has the element {}, which IAM does not know; a policy document has {}",
            bounded::quoted(unknown),
            DOCUMENT_ELEMENTS.join(", ")
        )));
    }
    let size = policy_size(policy);
    if size > MAX_TRUST_POLICY_QUOTA {
        return Err(Error::Unsupported(format!(
            "the policy is {size} characters (without whitespace); IAM refuses a trust policy over \
             {MAX_TRUST_POLICY_QUOTA} (2048 unless the account's quota was raised), so no token gets in \
             through it"
        )));
    }
    let statements = match policy.get("Statement") {
        Some(Value::Array(list)) => Ok(list.iter().collect()),
        Some(one @ Value::Object(_)) => Ok(vec![one]),
        _ => Err(Error::Unsupported(
            "the policy has no \"Statement\"; give an IAM policy document".into(),
        )),
    }?;
    for (index, statement) in statements.iter().enumerate() {
        let Some(elements) = statement.as_object() else {
            return Err(Error::Unsupported(format!(
                "statement #{} is not a JSON object",
                index + 1
            )));
        };
        for element in elements.keys() {
            let hint = match element.as_str() {
                known if STATEMENT_ELEMENTS.contains(&known) => continue,
                "NotPrincipal" | "NotAction" | "NotResource" => {
                    "it is not implemented by oidc-gen simulate; evaluate this policy with the IAM policy simulator"
                        .to_owned()
                }
                "Resource" => "IAM refuses a Resource in a trust policy".to_owned(),
                _ => format!(
                    "IAM does not know it (check its spelling); a trust policy's statement has {}",
                    STATEMENT_ELEMENTS.join(", ")
                ),
            };
            return Err(Error::Unsupported(format!(
                "statement #{} has the element {}: {hint}",
                index + 1,
                bounded::quoted(element)
            )));
        }
    }
    Ok(statements)
}

/// Why a statement does not apply to the request; empty when it does.
fn failures(
    statement: &Value,
    host_path: &str,
    mapped: &[&str],
    context: &[(String, &str)],
) -> Result<Vec<String>> {
    // Another issuer's token goes to another provider: its conditions do not matter.
    if let Some(reason) = principal_failure(statement.get("Principal"), host_path) {
        return Ok(vec![reason]);
    }
    let mut failures = Vec::new();
    let actions = string_list(statement.get("Action"), "Action")?;
    if !actions
        .iter()
        .any(|a| string_like(&a.to_ascii_lowercase(), &ASSUME_ACTION.to_ascii_lowercase()))
    {
        failures.push(format!(
            "its Action {actions:?} does not include {ASSUME_ACTION}"
        ));
    }
    let Some(condition) = statement.get("Condition") else {
        return Ok(failures);
    };
    let Some(operators) = condition.as_object() else {
        return Err(Error::Unsupported("a Condition is not an object".into()));
    };
    for (operator, keys) in operators {
        let Some(keys) = keys.as_object() else {
            return Err(Error::Unsupported(format!(
                "the {operator} condition is not an object"
            )));
        };
        for (key, wanted) in keys {
            let wanted = string_list(Some(wanted), key)?;
            let actual = context
                .iter()
                .find(|(name, _)| name.eq_ignore_ascii_case(key))
                .map(|(_, value)| *value);
            if let Some(mut failure) = test(operator, key, &wanted, actual)? {
                if let Some(claim) = unmapped_claim(key, host_path, mapped) {
                    failure.push_str(&format!(
                        " (AWS does not map the claim {claim} of this issuer to a condition key, so a condition on it \
                         never matches; it maps aud, sub{})",
                        mapped.iter().map(|m| format!(", {m}")).collect::<String>()
                    ));
                }
                failures.push(failure);
            }
        }
    }
    Ok(failures)
}

/// The claim `key` tests, when it is the issuer's and not one AWS maps to a condition key.
fn unmapped_claim<'k>(key: &'k str, host_path: &str, mapped: &[&str]) -> Option<&'k str> {
    let claim = key
        .get(..host_path.len())
        .filter(|prefix| prefix.eq_ignore_ascii_case(host_path))
        .and_then(|_| key[host_path.len()..].strip_prefix(':'))?;
    let known = ["aud", "sub", "amr"].contains(&claim) || mapped.contains(&claim);
    (!known && preset_of(host_path).is_some()).then_some(claim)
}

/// The preset of the issuer at `host_path`, if it is one oidc-gen knows.
fn preset_of(host_path: &str) -> Option<&'static issuers::Preset> {
    Issuer::parse(&format!("https://{host_path}"))
        .ok()
        .and_then(|issuer| issuers::find(&issuer))
}

/// Every value the policy tests each of the issuer's claims against, whatever the operator.
fn listed_values(policy: &Value, host_path: &str) -> issuers::Listed {
    let mut listed = issuers::Listed::new();
    let prefix = format!("{}:", host_path.to_ascii_lowercase());
    for statement in statements(policy).unwrap_or_default() {
        let operators = statement.get("Condition").and_then(Value::as_object);
        for keys in operators
            .into_iter()
            .flat_map(|o| o.values())
            .filter_map(Value::as_object)
        {
            for (key, values) in keys {
                if let Some(claim) = key.to_ascii_lowercase().strip_prefix(&prefix) {
                    listed
                        .entry(claim.to_owned())
                        .or_default()
                        .extend(string_list(Some(values), key).unwrap_or_default());
                }
            }
        }
    }
    listed
}

/// One condition: `None` when it holds, else why not.
fn test(
    operator: &str,
    key: &str,
    wanted: &[String],
    actual: Option<&str>,
) -> Result<Option<String>> {
    // A token's claims are single values: a set operator tests the one value there is, and
    // ForAllValues (like IfExists) holds when the key is absent.
    if let Some(base) = operator
        .strip_prefix("ForAllValues:")
        .or_else(|| operator.strip_suffix("IfExists"))
    {
        if operator.starts_with("ForAllValues:") && base.ends_with("IfExists") {
            return test(base.trim_end_matches("IfExists"), key, wanted, actual)
                .map(|failure| failure.filter(|_| actual.is_some()));
        }
        return test(base, key, wanted, actual).map(|failure| failure.filter(|_| actual.is_some()));
    }
    if let Some(base) = operator.strip_prefix("ForAnyValue:") {
        return test(base, key, wanted, actual).map(|failure| {
            failure.or_else(|| {
                actual
                    .is_none()
                    .then(|| format!("{operator} {key}: the token does not set {key}"))
            })
        });
    }
    let (like, negated) = match operator {
        "StringEquals" => (false, false),
        "StringLike" => (true, false),
        "StringNotEquals" => (false, true),
        "StringNotLike" => (true, true),
        other => {
            return Err(Error::Unsupported(format!(
                "the condition operator {other} (on {key}) is not implemented by oidc-gen simulate, which \
                 knows StringEquals, StringNotEquals, StringLike and StringNotLike (with ForAllValues:, ForAnyValue: \
                 and IfExists); evaluate this policy with the IAM policy simulator"
            )));
        }
    };
    let matches = |w: &String, a: &str| if like { string_like(w, a) } else { w == a };
    let shown = |values: &[String]| {
        values
            .iter()
            .map(|v| format!("{v:?}"))
            .collect::<Vec<_>>()
            .join(" or ")
    };
    Ok(match (actual, negated) {
        (None, false) => Some(format!(
            "{operator} {key} wants {}; the token does not set {key}",
            shown(wanted)
        )),
        // A negated operator holds when the key is absent.
        (None, true) => None,
        (Some(actual), false) if !wanted.iter().any(|w| matches(w, actual)) => Some(format!(
            "{operator} {key} wants {}; the token has {actual:?}",
            shown(wanted)
        )),
        (Some(actual), true) => {
            let hits: Vec<String> = wanted
                .iter()
                .filter(|w| matches(w, actual))
                .cloned()
                .collect();
            (!hits.is_empty()).then(|| {
                format!(
                    "{operator} {key} refuses {}; the token has {actual:?}",
                    shown(&hits)
                )
            })
        }
        (Some(_), false) => None,
    })
}

/// Why the statement's principal is not the issuer's provider; `None` when it is.
fn principal_failure(principal: Option<&Value>, host_path: &str) -> Option<String> {
    let suffix = format!(":oidc-provider/{host_path}");
    let names_provider = |value: &Value| match value {
        Value::String(s) => s == "*" || s.ends_with(&suffix),
        // An intrinsic (CloudFormation Ref, Fn::If, ...) stands for the template's provider.
        Value::Object(_) => true,
        _ => false,
    };
    let federated = match principal {
        Some(Value::String(star)) if star == "*" => return None,
        Some(Value::Object(map)) => map.get("Federated"),
        _ => None,
    };
    let ok = match federated {
        Some(Value::Array(list)) => list.iter().any(names_provider),
        Some(one) => names_provider(one),
        None => false,
    };
    (!ok).then(|| {
        format!(
            "its Principal {} is not the OIDC provider of {host_path} (…:oidc-provider/{host_path})",
            principal.map(Value::to_string).unwrap_or_else(|| "(none)".into())
        )
    })
}

/// A string or a list of strings, as IAM allows for actions and condition values.
fn string_list(value: Option<&Value>, what: &str) -> Result<Vec<String>> {
    let bad = || Error::Unsupported(format!("{what} must be a string or a list of strings"));
    match value {
        Some(Value::String(s)) => Ok(vec![s.clone()]),
        Some(Value::Array(list)) => list
            .iter()
            .map(|v| v.as_str().map(str::to_owned).ok_or_else(bad))
            .collect(),
        Some(Value::Bool(b)) => Ok(vec![b.to_string()]),
        Some(Value::Number(n)) => Ok(vec![n.to_string()]),
        _ => Err(bad()),
    }
}

/// Reads a trust policy from a file: a policy document, the output of `aws iam get-role`, a
/// CloudFormation template or a Terraform configuration or plan with one role (what `lint` reads).
pub fn load_policy(path: &Path) -> Result<Value> {
    let policy = read_policy(path)?;
    // Every element is checked before any is used.
    statements(&policy)?;
    Ok(policy)
}

fn read_policy(path: &Path) -> Result<Value> {
    let text = bounded::read_text(path, bounded::POLICY_BYTES).map_err(|source| Error::Input {
        what: "--policy",
        path: path.to_path_buf(),
        source,
    })?;
    let unusable = |hint: String| Error::PolicyFile {
        path: path.to_path_buf(),
        hint,
    };
    let contents = crate::lint::roles_in(path, &text).map_err(unusable)?;
    let mut roles = contents.roles;
    match roles.len() {
        1 if !crate::lint::unknowns(&roles[0].policy).is_empty() => Err(unusable(format!(
            "the trust policy of {} depends on values this file does not give: {}; give the policy as \
             deployed (aws iam get-role, or the plan: terraform show -json PLAN)",
            roles[0].resource,
            crate::lint::unknowns(&roles[0].policy)
                .into_iter()
                .map(|(written, reason)| format!("{} ({reason})", crate::shown::value(&written)))
                .collect::<Vec<_>>()
                .join(", ")
        ))),
        1 => Ok(roles.remove(0).policy),
        0 => Err(unusable(match contents.unresolved.first() {
            Some(role) => format!("the trust policy of {}: {}", role.resource, role.reason),
            None => {
                "give a policy document (with \"Statement\"), the output of aws iam get-role, a \
                     CloudFormation template or a Terraform file with one role"
                    .into()
            }
        })),
        _ => Err(unusable(format!(
            "it has {} roles ({}); save the one to check as a policy document",
            roles.len(),
            roles
                .iter()
                .map(|role| role.resource.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// The issuer a policy is written for, when its condition keys and principals name exactly one.
pub fn policy_issuer(policy: &Value) -> Option<String> {
    let mut found = std::collections::BTreeSet::new();
    for statement in statements(policy).ok()? {
        if let Some(operators) = statement.get("Condition").and_then(Value::as_object) {
            for keys in operators.values().filter_map(Value::as_object) {
                for key in keys.keys() {
                    if let Some(prefix) = key
                        .strip_suffix(":aud")
                        .or_else(|| key.strip_suffix(":sub"))
                    {
                        found.insert(prefix.to_owned());
                    }
                }
            }
        }
    }
    let mut found = found.into_iter();
    match (found.next(), found.next()) {
        (Some(one), None) => Some(one),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn token(aud: &str, sub: &str) -> Token {
        Token {
            iss: None,
            aud: aud.into(),
            sub: sub.into(),
            claims: BTreeMap::new(),
        }
    }

    #[test]
    fn deny_wins_and_reasons_are_given() {
        let provider = "arn:aws:iam::123456789012:oidc-provider/issuer.example/oidc";
        let policy = json!({"Statement": [
            {"Sid": "Ok", "Effect": "Allow", "Principal": {"Federated": provider},
             "Action": "sts:AssumeRoleWithWebIdentity",
             "Condition": {"StringEquals": {"issuer.example/oidc:aud": "a"},
                           "StringLike": {"issuer.example/oidc:sub": ["x:*"]}}},
            {"Effect": "Deny", "Principal": "*", "Action": "sts:*",
             "Condition": {"StringEquals": {"ISSUER.example/oidc:SUB": "x:bad"}}}
        ]});
        let host = "issuer.example/oidc";
        assert!(
            matches!(evaluate(&policy, host, &token("a", "x:good")).unwrap(), Verdict::Allow { statement } if statement == "Ok")
        );
        assert!(
            matches!(evaluate(&policy, host, &token("a", "x:bad")).unwrap(), Verdict::ExplicitDeny { statement } if statement == "#2")
        );
        let Verdict::ImplicitDeny { reasons } = evaluate(&policy, host, &token("b", "y")).unwrap()
        else {
            panic!("denied");
        };
        assert_eq!(reasons.len(), 1);
        assert_eq!(reasons[0].1.len(), 2, "{reasons:?}");
        assert!(reasons[0].1[0].contains("wants \"a\""), "{reasons:?}");
        let other_issuer = evaluate(&policy, "other/oidc", &token("a", "x:good")).unwrap();
        assert!(!other_issuer.allowed());
    }

    #[test]
    fn unknown_operators_are_refused() {
        let policy = json!({"Statement": {"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"DateLessThan": {"h/oidc:sub": "*"}}}});
        let error = evaluate(&policy, "h/oidc", &token("a", "b")).unwrap_err();
        assert_eq!(error.exit_code(), 2);
        assert!(error.to_string().contains("DateLessThan"), "{error}");
    }

    #[test]
    fn set_operators_and_if_exists_test_the_one_value_a_claim_has() {
        let allowed = |operator: &str, key: &str| {
            let policy = json!({"Statement": {"Effect": "Allow", "Principal": "*",
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {operator: {key: "x*"}}}});
            evaluate(&policy, "h/oidc", &token("a", "xy"))
                .unwrap()
                .allowed()
        };
        // The key is there: each is the operator itself.
        for operator in [
            "ForAllValues:StringLike",
            "ForAnyValue:StringLike",
            "StringLikeIfExists",
        ] {
            assert!(allowed(operator, "h/oidc:sub"), "{operator}");
            assert!(
                !allowed(&operator.replace("Like", "NotLike"), "h/oidc:sub"),
                "{operator}"
            );
        }
        // The key is absent: ForAllValues and IfExists hold, ForAnyValue does not.
        assert!(allowed("ForAllValues:StringLike", "h/oidc:other"));
        assert!(allowed("StringLikeIfExists", "h/oidc:other"));
        assert!(!allowed("ForAnyValue:StringLike", "h/oidc:other"));
    }

    #[test]
    fn tokens_are_decoded() {
        let encode =
            |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
        let jwt = format!(
            "{}.{}.sig",
            encode(&json!({"alg": "RS256"})),
            encode(&json!({"iss": "https://api.pulumi.com/oidc", "aud": "aws:acme", "sub": "s"}))
        );
        let token = Token::from_jwt(&jwt).unwrap();
        assert_eq!(token.aud, "aws:acme");
        assert_eq!(token.iss.as_deref(), Some("https://api.pulumi.com/oidc"));
        assert!(Token::from_jwt("nodots").is_err());
        assert!(Token::from_jwt("a.!!!.c").is_err());
    }
}
