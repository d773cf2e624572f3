//! The spec file (`--config oidc-gen.yaml`): many roles in many accounts, committed next to the
//! code it generates. Every generation flag has a field (`--policy-arn` -> `policy_arns`); each
//! role is checked by the same rules as the command line, and an error names the file, the line
//! and the field.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::bounded;
use crate::claims::{Attribute, Operation};
use crate::error::{Error, Result};
use crate::fleet::{Account, DEFAULT_ACCESS_ROLE, DEFAULT_REGION, Fleet, Organization};
use crate::issuer::{Issuer, PULUMI_CLOUD};
use crate::issuers::{self, CiRequest};
use crate::request::{
    self, DEFAULT_DURATION, DEFAULT_SESSION_NAME, DEFAULT_TRUST_POLICY_QUOTA, Partition, Request,
    RoleOptions, ThumbprintChoice, TrustRequest,
};

/// The spec as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Spec {
    org: Option<String>,
    issuer: Option<String>,
    partition: Option<String>,
    thumbprint: Option<ThumbprintSpec>,
    templates: Option<PathBuf>,
    trust_policy_quota: Option<usize>,
    roles: Vec<RoleSpec>,
    accounts: Vec<AccountSpec>,
    organization: Option<OrganizationSpec>,
}

/// `live`, `none`, or a list of thumbprints.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum ThumbprintSpec {
    Word(String),
    Given(Vec<String>),
}

#[derive(Debug, Deserialize)]
struct RoleSpec {
    name: String,
    #[serde(default)]
    envs: Vec<String>,
    #[serde(default)]
    deploy: Vec<String>,
    #[serde(default)]
    deploy_operations: Vec<String>,
    #[serde(default)]
    subject_attributes: Vec<String>,
    #[serde(default)]
    root_envs: Vec<String>,
    #[serde(default)]
    users: Vec<String>,
    #[serde(default)]
    audiences: Vec<String>,
    #[serde(default)]
    subjects: Vec<String>,
    #[serde(default)]
    policy_arns: Vec<String>,
    #[serde(default)]
    session_policy_arns: Vec<String>,
    duration: Option<String>,
    session_name: Option<String>,
    max_session_duration: Option<String>,
    path: Option<String>,
    permissions_boundary: Option<String>,
    #[serde(default, deserialize_with = "unique_keys")]
    tags: BTreeMap<String, String>,
    /// The CI systems' fields (`github:`, ...); a key that is neither a role's field nor a CI
    /// system's is refused there.
    #[serde(flatten)]
    ci: CiRequest,
    /// Keys that are neither: a flattened struct ignores what it does not know, so they are
    /// gathered here and refused.
    #[serde(flatten)]
    unknown: BTreeMap<String, serde_yaml::Value>,
}

/// A role's fields, for the message about one it does not have.
const ROLE_FIELDS: &str = "name, envs, deploy, deploy_operations, subject_attributes, root_envs, users, \
                           audiences, subjects, policy_arns, session_policy_arns, duration, session_name, \
                           max_session_duration, path, permissions_boundary, tags";

/// A mapping whose keys are all different: YAML forbids duplicate keys, and a kept last value
/// would hide the first.
fn unique_keys<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> std::result::Result<BTreeMap<String, String>, D::Error> {
    struct Unique;
    impl<'de> serde::de::Visitor<'de> for Unique {
        type Value = BTreeMap<String, String>;

        fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
            formatter.write_str("a mapping of strings")
        }

        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            mut map: A,
        ) -> std::result::Result<Self::Value, A::Error> {
            let mut values = BTreeMap::new();
            while let Some((key, value)) = map.next_entry::<String, String>()? {
                if values.contains_key(&key) {
                    return Err(serde::de::Error::custom(format!(
                        "duplicate key {}",
                        bounded::quoted(&key)
                    )));
                }
                values.insert(key, value);
            }
            Ok(values)
        }
    }
    deserializer.deserialize_map(Unique)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AccountSpec {
    id: String,
    name: String,
    #[serde(default)]
    existing_provider: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OrganizationSpec {
    #[serde(default)]
    ou_ids: Vec<String>,
    region: Option<String>,
    access_role: Option<String>,
}

/// Where in the spec a problem is, for the error message.
struct Place<'a> {
    file: &'a Path,
    text: &'a str,
}

impl Place<'_> {
    /// An error about `field` of the `index`-th item of the top-level list `list`.
    fn item(&self, list: &str, index: usize, field: &str, message: String) -> Error {
        let field = if field.is_empty() {
            format!("{list}[{index}]")
        } else {
            format!("{list}[{index}].{field}")
        };
        Error::Spec {
            file: self.file.to_path_buf(),
            line: item_lines(self.text, list).get(index).copied(),
            field,
            message,
        }
    }

    /// An error about the key `key` of the `index`-th item of `list`, on the key's own line.
    fn item_key(&self, list: &str, index: usize, key: &str, message: String) -> Error {
        let lines = item_lines(self.text, list);
        let error = self.item(list, index, key, message);
        let (
            Some(&start),
            Error::Spec {
                file,
                field,
                message,
                ..
            },
        ) = (lines.get(index), error)
        else {
            unreachable!("item() makes a spec error")
        };
        let end = lines.get(index + 1).copied().unwrap_or(usize::MAX);
        let line = self
            .text
            .lines()
            .enumerate()
            .map(|(i, text)| (i + 1, text.trim_start().trim_start_matches("- ")))
            .filter(|(number, _)| (start..end).contains(number))
            .find(|(_, text)| text.starts_with(&format!("{key}:")))
            .map_or(start, |(number, _)| number);
        Error::Spec {
            file,
            line: Some(line),
            field,
            message,
        }
    }

    /// An error about the top-level `field`.
    fn top(&self, field: &str, message: String) -> Error {
        self.under(field, "", message)
    }

    /// An error about `field` of the top-level mapping `parent` (the line is the parent's).
    fn under(&self, parent: &str, field: &str, message: String) -> Error {
        Error::Spec {
            file: self.file.to_path_buf(),
            line: key_line(self.text, parent),
            field: [parent, field]
                .into_iter()
                .filter(|part| !part.is_empty())
                .collect::<Vec<_>>()
                .join("."),
            message,
        }
    }
}

/// Reads and checks the spec at `path`.
pub fn load(path: &Path) -> Result<Fleet> {
    let text = bounded::read_text(path, bounded::SPEC_BYTES).map_err(|error| Error::Spec {
        file: path.to_path_buf(),
        line: None,
        field: String::new(),
        message: format!("cannot read the spec: {error}"),
    })?;
    bounded::check_yaml(&text).map_err(|refusal| Error::Spec {
        file: path.to_path_buf(),
        line: Some(refusal.line),
        field: String::new(),
        message: refusal.message,
    })?;
    let spec: Spec = serde_yaml::from_str(&text).map_err(|error| {
        let location = error.location();
        // serde_yaml's message ends with " at line L column C"; the line is told up front instead.
        let message = error.to_string();
        let message = match message.rfind(" at line ") {
            Some(at) => message[..at].to_owned(),
            None => message,
        };
        let (field, message) = match message.split_once(": ") {
            Some((field, rest)) if !field.contains(' ') => (field.to_owned(), rest.to_owned()),
            _ => (String::new(), message),
        };
        Error::Spec {
            file: path.to_path_buf(),
            line: location.map(|l| l.line()),
            field,
            message,
        }
    })?;
    let place = Place {
        file: path,
        text: &text,
    };
    let base = path.parent().unwrap_or(Path::new(""));
    spec.check(&place, base, path)
}

impl Spec {
    fn check(self, place: &Place, base: &Path, path: &Path) -> Result<Fleet> {
        let partition = match &self.partition {
            None => Partition::Aws,
            Some(name) => Partition::parse(name).ok_or_else(|| {
                place.top(
                    "partition",
                    format!("{name:?} is not a partition; write aws, aws-us-gov or aws-cn"),
                )
            })?,
        };
        // Each role's issuer: a CI system's own (or the spec's issuer when it is one of that
        // system's, such as GitHub Enterprise Cloud's), else the spec's, else Pulumi Cloud's.
        if let Some(url) = &self.issuer {
            Issuer::parse(url).map_err(|e| place.top("issuer", e.to_string()))?;
        }
        let role_issuers: Vec<String> = self
            .roles
            .iter()
            .map(|role| match role.ci.given().first() {
                Some(system) => match &self.issuer {
                    Some(url)
                        if Issuer::parse(url)
                            .is_ok_and(|i| issuers::check_issuer(system.preset, &i).is_ok()) =>
                    {
                        url.clone()
                    }
                    _ => system.default_issuer(),
                },
                None => self
                    .issuer
                    .clone()
                    .unwrap_or_else(|| PULUMI_CLOUD.to_owned()),
            })
            .collect();
        let thumbprints = match self.thumbprint {
            None => ThumbprintChoice::Live,
            Some(ThumbprintSpec::Word(word)) if word == "live" => ThumbprintChoice::Live,
            Some(ThumbprintSpec::Word(word)) if word == "none" => ThumbprintChoice::Omit,
            Some(ThumbprintSpec::Word(word)) => {
                return Err(place.top(
                    "thumbprint",
                    format!(
                        "{word:?} is not live, none or a list of thumbprints (40 hex digits each)"
                    ),
                ));
            }
            Some(ThumbprintSpec::Given(given)) => ThumbprintChoice::Given(
                request::normalize_thumbprints(&given)
                    .map_err(|e| place.top("thumbprint", e.to_string()))?,
            ),
        };
        let quota = self
            .trust_policy_quota
            .unwrap_or(DEFAULT_TRUST_POLICY_QUOTA);
        let templates = self.templates.map(|dir| base.join(dir));
        if self.roles.is_empty() {
            return Err(place.top(
                "roles",
                "list at least one role (name, and who may assume it)".into(),
            ));
        }
        if self.accounts.is_empty() {
            return Err(place.top("accounts", "list at least one account (id and name)".into()));
        }

        let mut roles = Vec::new();
        for (index, role) in self.roles.into_iter().enumerate() {
            if let Some(first) = roles
                .iter()
                .position(|r: &request::Inputs| r.role_name().eq_ignore_ascii_case(&role.name))
            {
                return Err(place.item(
                    "roles",
                    index,
                    "name",
                    format!(
                        "{:?} is the name of roles[{first}] too (IAM role names ignore case); give each \
                         role its own name",
                        role.name
                    ),
                ));
            }
            if let Some(key) = role.unknown.keys().next() {
                return Err(place.item_key(
                    "roles",
                    index,
                    key,
                    format!(
                        "unknown field {}: a role has {ROLE_FIELDS}, and a CI system's field ({})",
                        bounded::quoted(key),
                        issuers::CI_SYSTEMS.join(", ")
                    ),
                ));
            }
            if role.names_no_tokens() {
                return Err(place.item(
                    "roles",
                    index,
                    "",
                    "the role names no tokens that may assume it: list envs (\"*/*\" and \"*\" for every \
                     environment), deploy, github, or audiences and subjects"
                        .into(),
                ));
            }
            let request = role.request(
                &role_issuers[index],
                self.org.clone(),
                partition,
                quota,
                templates.clone(),
            );
            let request =
                request.map_err(|(field, message)| place.item("roles", index, &field, message))?;
            let mut inputs = request
                .validate()
                .map_err(|error| in_spec(place, index, error))?;
            // The notes speak of the spec's fields, not of the flags.
            for note in &mut inputs.trust.notes {
                *note = with_fields(note);
            }
            roles.push(inputs);
        }
        let org_needed = roles.iter().any(|r| r.trust.pulumi().is_some());
        if !org_needed && self.org.is_some() {
            return Err(place.top(
                "org",
                "every role names another issuer's audiences and subjects; org is for Pulumi Cloud's tokens"
                    .into(),
            ));
        }

        let mut accounts: Vec<Account> = Vec::new();
        for (index, account) in self.accounts.into_iter().enumerate() {
            let problem =
                |field: &str, message: String| place.item("accounts", index, field, message);
            if account.id.len() != 12 || !account.id.bytes().all(|b| b.is_ascii_digit()) {
                return Err(problem(
                    "id",
                    format!(
                        "{:?} is not an AWS account id: write its 12 digits in quotes, e.g. \"012345678901\"",
                        account.id
                    ),
                ));
            }
            if !is_account_name(&account.name) {
                return Err(problem(
                    "name",
                    format!(
                        "{:?} cannot name an account here: it names folders and Terraform blocks, so use 1-64 \
                         letters, digits, '-' or '_', starting with a letter",
                        account.name
                    ),
                ));
            }
            for (field, value, taken) in [
                (
                    "id",
                    &account.id,
                    accounts.iter().position(|a| a.id == account.id),
                ),
                (
                    "name",
                    &account.name,
                    accounts.iter().position(|a| a.name == account.name),
                ),
            ] {
                if let Some(first) = taken {
                    return Err(problem(
                        field,
                        format!(
                            "{} is the {field} of accounts[{first}] too; list each account once",
                            bounded::quoted(value)
                        ),
                    ));
                }
            }
            accounts.push(Account {
                id: account.id,
                name: account.name,
                existing_provider: account.existing_provider,
            });
        }

        let organization = match self.organization {
            None => Organization::default(),
            Some(organization) => organization.check(place, partition)?,
        };
        let mut issuers: Vec<Issuer> = Vec::new();
        for role in &roles {
            if !issuers.contains(&role.trust.issuer) {
                issuers.push(role.trust.issuer.clone());
            }
        }
        if issuers.len() > 1 && matches!(thumbprints, ThumbprintChoice::Given(_)) {
            return Err(place.top(
                "thumbprint",
                format!(
                    "the roles trust {} issuers, and a list of thumbprints cannot say whose it is; write live or none",
                    issuers.len()
                ),
            ));
        }
        Ok(Fleet {
            spec: path.to_path_buf(),
            issuers,
            partition,
            roles,
            accounts,
            organization,
            thumbprints,
            templates,
        })
    }
}

impl OrganizationSpec {
    fn check(self, place: &Place, partition: Partition) -> Result<Organization> {
        let field = |name: &str, message: String| place.under("organization", name, message);
        for ou in &self.ou_ids {
            if !is_ou_id(ou) {
                return Err(field(
                    "ou_ids",
                    format!(
                        "{ou:?} is not an organizational unit id (ou-xxxx-xxxxxxxx; aws organizations \
                         list-organizational-units-for-parent shows them), or r-xxxx for the root"
                    ),
                ));
            }
        }
        if partition == Partition::AwsCn && !self.ou_ids.is_empty() {
            return Err(field(
                "ou_ids",
                "StackSets with service-managed permissions need Organizations trusted access, which the \
                 China regions do not have; remove ou_ids and apply the member template per account"
                    .into(),
            ));
        }
        let region = self.region.unwrap_or_else(|| DEFAULT_REGION.into());
        let region_ok = region.split('-').count() >= 3
            && region
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !region_ok {
            return Err(field(
                "region",
                format!("{region:?} is not an AWS region such as us-east-1"),
            ));
        }
        let access_role = self
            .access_role
            .unwrap_or_else(|| DEFAULT_ACCESS_ROLE.into());
        request::validate_iam_name("access_role", &access_role, 1, 64)
            .map_err(|e| field("access_role", e.to_string()))?;
        Ok(Organization {
            ou_ids: self.ou_ids,
            region,
            access_role,
        })
    }
}

impl RoleSpec {
    /// Whether the role lists none of the workloads that may assume it. On the command line that
    /// means every ESC environment of the org; in a spec of many roles it must be said.
    fn names_no_tokens(&self) -> bool {
        [&self.envs, &self.deploy, &self.audiences, &self.subjects]
            .iter()
            .all(|values| values.is_empty())
            && self.ci.given().is_empty()
    }

    /// The role as a command-line request; an unknown operation or attribute is `(field, message)`.
    fn request(
        self,
        issuer: &str,
        org: Option<String>,
        partition: Partition,
        trust_policy_quota: usize,
        templates: Option<PathBuf>,
    ) -> std::result::Result<Request, (String, String)> {
        let deploy_operations = self
            .deploy_operations
            .iter()
            .map(|name| {
                Operation::ALL
                    .into_iter()
                    .find(|op| op.as_str() == name)
                    .ok_or_else(|| {
                        (
                            "deploy_operations".to_owned(),
                            format!("{name:?} is not preview, update, refresh or destroy"),
                        )
                    })
            })
            .collect::<std::result::Result<Vec<_>, _>>()?;
        let subject_attributes = self
            .subject_attributes
            .iter()
            .map(|name| {
                Attribute::ALL
                    .into_iter()
                    .find(|a| a.as_str() == name)
                    .ok_or_else(|| {
                        (
                            "subject_attributes".to_owned(),
                            format!(
                                "{name:?} is not rootEnvironment.name, currentEnvironment.name, \
                                 pulumi.user.login or pulumi.organization.login"
                            ),
                        )
                    })
            })
            .collect::<std::result::Result<Vec<_>, _>>()?;
        // The spec's org is Pulumi Cloud's: roles of another issuer do not take it.
        let generic =
            !self.audiences.is_empty() || !self.subjects.is_empty() || !self.ci.given().is_empty();
        Ok(Request {
            trust: TrustRequest {
                issuer: issuer.to_owned(),
                org: if generic { None } else { org },
                envs: self.envs,
                deploy: self.deploy,
                deploy_operations,
                subject_attributes,
                root_envs: self.root_envs,
                users: self.users,
                audiences: self.audiences,
                subjects: self.subjects,
                ci: self.ci,
                partition,
            },
            role_name: self.name,
            account_id: None,
            policy_arns: self.policy_arns,
            role: RoleOptions {
                path: self.path,
                permissions_boundary: self.permissions_boundary,
                tags: self.tags.into_iter().collect(),
                max_session_duration: self.max_session_duration,
                esc_environment: None,
            },
            session_policy_arns: self.session_policy_arns,
            duration: self.duration.unwrap_or_else(|| DEFAULT_DURATION.into()),
            session_name: self
                .session_name
                .unwrap_or_else(|| DEFAULT_SESSION_NAME.into()),
            thumbprints: ThumbprintChoice::Omit,
            existing_provider: false,
            trust_policy_quota,
            templates,
        })
    }
}

/// The spec's field for each command-line flag a role's checks may name, longest flag first so
/// that a flag is never taken for the start of a longer one.
const FIELDS: [(&str, &str); 21] = [
    ("--max-session-duration", "max_session_duration"),
    ("--permissions-boundary", "permissions_boundary"),
    ("--session-policy-arn", "session_policy_arns"),
    ("--trust-policy-quota", "trust_policy_quota"),
    ("--subject-attribute", "subject_attributes"),
    ("--deploy-operation", "deploy_operations"),
    ("--session-name", "session_name"),
    ("--policy-arn", "policy_arns"),
    ("--role-name", "name"),
    ("--role-path", "path"),
    ("--root-env", "root_envs"),
    ("--audience", "audiences"),
    ("--duration", "duration"),
    ("--subject", "subjects"),
    ("--deploy", "deploy"),
    ("--partition", "partition"),
    ("--issuer", "issuer"),
    ("--user", "users"),
    ("--env", "envs"),
    ("--org", "org"),
    ("--tag", "tags"),
];

/// A role's check failed: the same message, told in the spec's field names.
fn in_spec(place: &Place, index: usize, error: Error) -> Error {
    match error {
        Error::Invalid { what, value, hint } => {
            let field = FIELDS
                .iter()
                .chain(&issuers::fields())
                .find(|(flag, _)| *flag == what)
                .map_or(what, |(_, field)| field);
            place.item(
                "roles",
                index,
                field,
                format!("invalid {value:?}: {}", with_fields(&hint)),
            )
        }
        other => place.item("roles", index, "", with_fields(&other.to_string())),
    }
}

/// `text` with every flag replaced by its field.
pub(crate) fn with_fields(text: &str) -> String {
    let mut out = text.to_owned();
    for (flag, field) in FIELDS.iter().chain(&issuers::fields()) {
        let mut result = String::with_capacity(out.len());
        let mut rest = out.as_str();
        while let Some(at) = rest.find(flag) {
            let after = rest[at + flag.len()..].chars().next();
            let whole = !after.is_some_and(|c| c.is_ascii_alphanumeric() || c == '-');
            result.push_str(&rest[..at]);
            result.push_str(if whole { field } else { flag });
            rest = &rest[at + flag.len()..];
        }
        result.push_str(rest);
        out = result;
    }
    out
}

fn is_account_name(name: &str) -> bool {
    name.len() <= 64
        && name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// `ou-` + 4-32 lowercase letters or digits + `-` + 8-32 of them; or a root, `r-` + 4-32.
fn is_ou_id(id: &str) -> bool {
    let part = |s: &str, min: usize| {
        (min..=32).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    };
    if let Some(root) = id.strip_prefix("r-") {
        return part(root, 4);
    }
    id.strip_prefix("ou-")
        .and_then(|rest| rest.split_once('-'))
        .is_some_and(|(root, unit)| part(root, 4) && part(unit, 8))
}

/// The 1-based line of the top-level `key:`.
fn key_line(text: &str, key: &str) -> Option<usize> {
    text.lines()
        .position(|line| {
            line.strip_prefix(key)
                .is_some_and(|rest| rest.trim_start().starts_with(':'))
        })
        .map(|index| index + 1)
}

/// The 1-based lines where the items of the top-level block list `key` start (none for a flow
/// list `key: [...]`, whose items are not told apart here).
fn item_lines(text: &str, key: &str) -> Vec<usize> {
    let Some(start) = key_line(text, key) else {
        return Vec::new();
    };
    let mut lines = Vec::new();
    let mut indent = None;
    for (index, line) in text.lines().enumerate().skip(start) {
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let depth = line.len() - trimmed.len();
        if depth == 0 && !trimmed.starts_with('-') {
            break;
        }
        if trimmed.starts_with('-') && *indent.get_or_insert(depth) == depth {
            lines.push(index + 1);
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_become_fields() {
        assert_eq!(
            with_fields("--deploy-operation narrows --deploy; name --env or --subject-attribute x"),
            "deploy_operations narrows deploy; name envs or subject_attributes x"
        );
    }

    #[test]
    fn ou_ids() {
        assert!(is_ou_id("ou-abcd-12345678"));
        assert!(is_ou_id("r-ab12"));
        for bad in [
            "ou-abcd-1234",
            "ou-ABCD-12345678",
            "abcd-12345678",
            "ou-abcd",
            "r-a",
        ] {
            assert!(!is_ou_id(bad), "{bad}");
        }
    }

    #[test]
    fn lines_of_list_items() {
        let text = "org: a\n# roles below\nroles:\n  - name: a\n    envs: [x]\n\n  - name: b\naccounts:\n- id: '1'\n";
        assert_eq!(key_line(text, "roles"), Some(3));
        assert_eq!(item_lines(text, "roles"), [4, 7]);
        assert_eq!(item_lines(text, "accounts"), [9]);
        assert!(item_lines("roles: [{name: a}]\n", "roles").is_empty());
    }
}
