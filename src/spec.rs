//! The spec file (`--config oidc-gen.yaml`): many roles in many accounts, committed next to the
//! code it generates. Every generation flag has a field (`--policy-arn` -> `policy_arns`); each
//! role is checked by the same rules as the command line, and an error names the file, the line
//! and the field.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::bounded;
use crate::error::{Error, Result};
use crate::issuer::{Issuer, PULUMI_CLOUD};
use crate::issuers;
use crate::plan::{Account, DEFAULT_ACCESS_ROLE, DEFAULT_REGION, Organization, Plan, Source};
use crate::render::Overrides;
use crate::request::{self, DEFAULT_TRUST_POLICY_QUOTA, Partition, Request, ThumbprintChoice};
use crate::role::{self, RoleFields, with_fields};

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
    #[serde(default)]
    clouds: crate::clouds::CloudTargets,
}

/// `live`, `none`, or a list of thumbprints.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum ThumbprintSpec {
    Word(String),
    Given(Vec<String>),
}

/// A role: its fields, declared with the flags they replace, and any other key, gathered to be
/// refused (a struct with a flattened field ignores what it does not know).
#[derive(Debug, Deserialize)]
struct RoleSpec {
    #[serde(flatten)]
    fields: RoleFields,
    #[serde(flatten)]
    other: BTreeMap<String, serde_yaml::Value>,
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
pub fn load(path: &Path) -> Result<Plan> {
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
    let place = Place {
        file: path,
        text: &text,
    };
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
        // A role's field read through the flattened declaration tells its own name first.
        let role_field = field
            .strip_prefix("roles[")
            .and_then(|rest| rest.strip_suffix(']'))
            .and_then(|index| index.parse::<usize>().ok())
            .zip(
                message
                    .split_once(": ")
                    .filter(|(key, _)| is_field_name(key)),
            );
        if let Some((index, (key, rest))) = role_field {
            return place.item_key("roles", index, key, rest.to_owned());
        }
        Error::Spec {
            file: path.to_path_buf(),
            line: location.map(|l| l.line()),
            field,
            message,
        }
    })?;
    let base = path.parent().unwrap_or(Path::new(""));
    spec.check(&place, base, path)
}

impl Spec {
    fn check(self, place: &Place, base: &Path, path: &Path) -> Result<Plan> {
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
            .map(|role| match role.fields.ci.given().first() {
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
        let templates = match &self.templates {
            None => None,
            Some(dir) => Some(Overrides::in_spec(base, dir).ok_or_else(|| {
                place.top(
                    "templates",
                    format!(
                        "{} is not a folder inside the spec's folder: write a relative path without .. \
                         (templates/ beside the spec), or give --templates DIR on the command line for \
                         a folder elsewhere",
                        crate::shown::path(dir)
                    ),
                )
            })?),
        };
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
            let Some(name) = role.fields.name.clone() else {
                return Err(place.item(
                    "roles",
                    index,
                    "",
                    "the role has no name: give it one (name: ROLE), unique in the spec".into(),
                ));
            };
            if let Some(first) = roles
                .iter()
                .position(|r: &request::Inputs| r.role_name().eq_ignore_ascii_case(&name))
            {
                return Err(place.item(
                    "roles",
                    index,
                    "name",
                    format!(
                        "{} is the name of roles[{first}] too (IAM role names ignore case); give each \
                         role its own name",
                        bounded::quoted(&name)
                    ),
                ));
            }
            let fields = role::field_ids();
            if let Some(key) = role.other.keys().find(|key| !fields.contains(key)) {
                return Err(place.item_key(
                    "roles",
                    index,
                    key,
                    format!(
                        "unknown field {}: a role has {}",
                        bounded::quoted(key),
                        fields.join(", ")
                    ),
                ));
            }
            if role.fields.esc_environment.is_some() {
                return Err(place.item_key(
                    "roles",
                    index,
                    "esc_environment",
                    "the spec's Pulumi program does not create ESC environments; create each from \
                     esc/ACCOUNT/ROLE.yaml, or generate the role alone with --esc-environment"
                        .into(),
                ));
            }
            let role = role.fields;
            if role.names_no_workloads() {
                return Err(place.item(
                    "roles",
                    index,
                    "",
                    "the role names no tokens that may assume it: list envs (\"*/*\" and \"*\" for every \
                     environment), deploy, github, or audiences and subjects"
                        .into(),
                ));
            }
            // The spec's org is Pulumi Cloud's: roles of another issuer do not take it.
            let generic = !role.audiences.is_empty()
                || !role.subjects.is_empty()
                || !role.ci.given().is_empty();
            let request = Request {
                issuer: Some(role_issuers[index].clone()),
                org: if generic { None } else { self.org.clone() },
                partition,
                trust_policy_quota: quota,
                templates: templates.as_ref().map(Overrides::path),
                thumbprints: ThumbprintChoice::Omit,
                role,
                ..Request::default()
            };
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
        let clouds = self.clouds.targets().map_err(|(at, message)| Error::Spec {
            file: path.to_path_buf(),
            line: key_line(place.text, "clouds"),
            field: at,
            message,
        })?;
        let mut names: Vec<(&str, &str)> = Vec::new();
        for target in &clouds {
            let valid = !target.name.is_empty()
                && target.name.len() <= 64
                && target
                    .name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            let problem = if !valid {
                Some(format!(
                    "the name {} is a folder's: 1 to 64 letters, digits, '-' and '_'",
                    bounded::quoted(&target.name)
                ))
            } else if names.contains(&(target.cloud, target.name.as_str())) {
                Some(format!(
                    "{} names another {} too; give each its own name",
                    bounded::quoted(&target.name),
                    target.cloud
                ))
            } else {
                None
            };
            if let Some(message) = problem {
                return Err(Error::Spec {
                    file: path.to_path_buf(),
                    line: key_line(place.text, "clouds"),
                    field: format!("{}.name", target.at),
                    message,
                });
            }
            names.push((target.cloud, target.name.as_str()));
        }
        Ok(Plan {
            clouds,
            source: Source::Spec(path.to_path_buf()),
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

/// A role's check failed: the spec names the field (the check returned the reason and the
/// field), and the message's flags become fields.
fn in_spec(place: &Place, index: usize, error: Error) -> Error {
    match error {
        Error::Invalid { what, value, hint } => place.item(
            "roles",
            index,
            what,
            format!("invalid {value:?}: {}", with_fields(&hint)),
        ),
        other => place.item("roles", index, "", with_fields(&other.to_string())),
    }
}

/// Whether `text` is a field's name (lowercase words joined by `_`).
fn is_field_name(text: &str) -> bool {
    !text.is_empty() && text.chars().all(|c| c.is_ascii_lowercase() || c == '_')
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
