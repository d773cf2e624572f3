//! The one generation flow: roles in accounts, every value checked -> the formats that apply and
//! the notes -> thumbprints (live once per issuer) -> the rendered files.
//!
//! The command line's flags make one role, in the account `--account-id` names (if any), written
//! as one file per format: `terraform/main.tf`, `cloudformation/template.json`,
//! `pulumi/Pulumi.yaml`, `esc/environment.yaml`, `deployments/settings.json` and the CI system's
//! file. A spec makes many roles in many accounts: in each account one provider per issuer, which
//! the roles of that issuer trust, rolled out by a CloudFormation StackSet over organizational
//! units, or by Terraform and Pulumi with one AWS provider per account. Its files:
//! `terraform/main.tf` (one module call and one provider per account) and the module
//! `terraform/modules/pulumi-oidc/main.tf`; `cloudformation/template.json` (the member template)
//! and, with organizational units, `cloudformation/stackset.json`; `pulumi/Pulumi.yaml`;
//! `esc/<account>/<role>.yaml`; `deployments/<account>/<role>.json`; `<ci>/<account>/<role>.*`.

use std::path::PathBuf;

use serde::Serialize;

use crate::context::{Generator, Login, Provider, Role};
use crate::error::{Error, Result};
use crate::issuer::Issuer;
use crate::issuers;
use crate::render::{Format, Overrides, RenderedFile, Renderer};
use crate::request::{self, Inputs, Partition, ThumbprintChoice};
use crate::{Generation, Network, Selection};

/// The Terraform module's folder name and the StackSet's name.
pub const MODULE_NAME: &str = "pulumi-oidc";
/// The most a StackSet's `TemplateBody` may hold, in bytes.
pub const MAX_TEMPLATE_BODY: usize = 51_200;

/// The member template's file, which the StackSet carries.
const MEMBER_TEMPLATE: &str = "cloudformation/template.json";
/// The StackSet's file, rendered after the member template it carries.
const STACK_SET: &str = "cloudformation/stackset.json";

/// Where the roles come from, which decides how the files are laid out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The command line's flags: one role, one file per format.
    Flags,
    /// A spec file (as given on the command line): a module and a file per account and role.
    Spec(PathBuf),
}

/// Roles and accounts, every value checked: what one run generates.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Where the roles come from.
    pub source: Source,
    /// The issuers the roles trust, in the order roles first name them; each account gets a
    /// provider for each.
    pub issuers: Vec<Issuer>,
    /// The accounts' partition.
    pub partition: Partition,
    /// The roles, each made in every account.
    pub roles: Vec<Inputs>,
    /// The accounts; none when the command line's role names none.
    pub accounts: Vec<Account>,
    /// How the accounts are reached, and the StackSet's targets.
    pub organization: Organization,
    /// Where thumbprints come from.
    pub thumbprints: ThumbprintChoice,
    /// A folder of templates tried before the built-in ones.
    pub templates: Option<Overrides>,
    /// The other clouds' projects and subscriptions a spec writes every role for.
    pub clouds: Vec<crate::clouds::Target>,
}

/// An AWS account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Account {
    /// The 12-digit id.
    pub id: String,
    /// A short name: folders, Terraform aliases and Pulumi names use it.
    pub name: String,
    /// The account has an OIDC provider for the issuer already.
    pub existing_provider: bool,
}

/// The role Organizations creates in the accounts it creates, and what Terraform and Pulumi
/// assume in each account unless the spec names another.
pub const DEFAULT_ACCESS_ROLE: &str = "OrganizationAccountAccessRole";
/// The region StackSets deploy to unless the spec names another (IAM is global: one is enough).
pub const DEFAULT_REGION: &str = "us-east-1";

/// The organization's side: the StackSet's targets, and the role Terraform and Pulumi assume.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organization {
    /// Organizational units (or the root) the StackSet deploys to; none for no StackSet.
    pub ou_ids: Vec<String>,
    /// The one region stack instances go to.
    pub region: String,
    /// The role assumed in each account.
    pub access_role: String,
}

impl Default for Organization {
    fn default() -> Self {
        Organization {
            ou_ids: Vec::new(),
            region: DEFAULT_REGION.into(),
            access_role: DEFAULT_ACCESS_ROLE.into(),
        }
    }
}

/// What the spec's templates see.
#[derive(Debug, Clone, Serialize)]
pub struct FleetModel {
    /// Who generated the files, and the command that does it again.
    pub generator: Generator,
    /// The Pulumi organization, when the roles admit Pulumi Cloud's tokens.
    pub org: Option<String>,
    /// The accounts' partition, e.g. `aws`.
    pub partition: Partition,
    /// The providers each account gets (or has), one per issuer.
    pub providers: Vec<FleetProvider>,
    /// The roles each account gets.
    pub roles: Vec<FleetRole>,
    /// The accounts.
    pub accounts: Vec<FleetAccount>,
    /// The region API calls and stack instances go to.
    pub region: String,
    /// The Terraform module's folder and the StackSet's name.
    pub module: &'static str,
    /// The StackSet, when the spec names organizational units.
    pub stack_set: Option<StackSet>,
}

/// One issuer's provider in every account, and the names it goes by.
#[derive(Debug, Clone, Serialize)]
pub struct FleetProvider {
    /// The provider.
    #[serde(flatten)]
    pub provider: Provider,
    /// Its CloudFormation logical id.
    pub logical_id: String,
    /// What its Pulumi resource names add to `<account>-oidc-provider`.
    pub suffix: String,
}

/// A role, with the names each language gives it.
#[derive(Debug, Clone, Serialize)]
pub struct FleetRole {
    /// The index of the provider it trusts, in [`FleetModel::providers`].
    pub provider: usize,
    /// The role itself.
    #[serde(flatten)]
    pub role: Role,
    /// Its CloudFormation logical id, e.g. `PulumiAdminRole`.
    pub logical_id: String,
    /// The name with only letters, digits, `-` and `_`, for Pulumi's resource names.
    pub slug: String,
    /// ESC's login settings, without the role ARN (it differs per account).
    pub esc: Option<Login>,
    /// The Deployments settings, without the role ARN.
    pub deployments: Option<Login>,
}

/// An account, with the role Terraform and Pulumi assume in it.
#[derive(Debug, Clone, Serialize)]
pub struct FleetAccount {
    /// The account.
    #[serde(flatten)]
    pub account: Account,
    /// The ARN of the role assumed in it.
    pub access_role_arn: String,
    /// The access role's name.
    pub access_role: String,
}

/// The StackSet's settings.
#[derive(Debug, Clone, Serialize)]
pub struct StackSet {
    /// Its targets.
    pub ou_ids: Vec<String>,
    /// Accounts in those units that have a provider already.
    pub existing_provider_accounts: Vec<String>,
    /// The member template, compact.
    pub template_body: String,
}

impl Plan {
    /// Whether some role admits ESC tokens.
    fn admits_esc(&self) -> bool {
        self.roles.iter().any(Inputs::admits_esc)
    }

    /// Whether some role admits Deployments tokens.
    fn admits_deployments(&self) -> bool {
        self.roles.iter().any(Inputs::admits_deployments)
    }

    /// The audiences of the roles that trust `issuer`: its provider's client IDs.
    fn client_ids(&self, issuer: &Issuer) -> Vec<String> {
        let mut ids: Vec<String> = self
            .roles
            .iter()
            .filter(|role| role.trust.issuer == *issuer)
            .flat_map(|role| role.trust.claims.client_ids.iter().cloned())
            .collect();
        ids.sort();
        ids.dedup();
        ids
    }

    /// The command line's one role, in the account `--account-id` names (if any).
    pub fn of_role(role: Inputs) -> Plan {
        Plan {
            source: Source::Flags,
            issuers: vec![role.trust.issuer.clone()],
            partition: role.trust.partition,
            accounts: role
                .account_id
                .iter()
                .map(|id| Account {
                    id: id.clone(),
                    name: "account".into(),
                    existing_provider: role.existing_provider,
                })
                .collect(),
            organization: Organization::default(),
            thumbprints: role.thumbprints.clone(),
            templates: role.templates().map(Overrides::given),
            roles: vec![role],
            clouds: Vec::new(),
        }
    }

    /// Decides the formats to render, and the notes to show. A format asked for by name that
    /// cannot be written is an error; with `all` it is left out, with a note when it could be
    /// had.
    pub fn formats(&self, selection: &Selection) -> Result<(Vec<Format>, Vec<String>)> {
        let one_role = self.source == Source::Flags;
        let mut notes: Vec<String> = Vec::new();
        let mut note = |role: &Inputs, note: &str| {
            let note = match one_role {
                true => note.to_owned(),
                false => format!("role {}: {note}", role.role_name()),
            };
            if !notes.contains(&note) {
                notes.push(note);
            }
        };
        for role in &self.roles {
            for text in &role.trust.notes {
                note(role, text);
            }
        }
        // The files that log in with a role: whether some role admits their tokens, and why not.
        let mut logins = vec![
            (
                Format::Esc,
                self.admits_esc(),
                match one_role {
                    true => "the role admits no ESC tokens (give --env, or leave out --deploy)",
                    false => "no role admits ESC tokens",
                }
                .to_owned(),
                "esc_environment",
            ),
            (
                Format::Deployments,
                self.admits_deployments(),
                match one_role {
                    true => "the role admits no Deployments tokens (give --deploy PROJECT/STACK)",
                    false => "no role has deploy",
                }
                .to_owned(),
                "deployment_settings",
            ),
        ];
        for format in Format::all() {
            if let Format::Ci(id) = format {
                let preset = issuers::ALL.iter().find(|p| p.id == id).expect("a preset");
                let admitted = self
                    .roles
                    .iter()
                    .any(|role| role.ci().is_some_and(|ci| ci.preset().id == id));
                let why_not = match one_role {
                    true => format!("the role admits no tokens of {}", preset.name),
                    false => format!("no role admits {}'s tokens", format.name()),
                };
                logins.push((format, admitted, why_not, "role_arn"));
            }
        }
        // Only the command line's role can lack an account, and with it the role's ARN.
        let no_account = self.accounts.is_empty();
        let formats = match selection {
            Selection::Only(formats) => {
                for (format, admitted, why_not, _) in &logins {
                    if !formats.contains(format) {
                        continue;
                    }
                    if !admitted {
                        return Err(Error::Usage(format!(
                            "--format {} cannot be written: {why_not}",
                            format.name()
                        )));
                    }
                    if no_account {
                        return Err(Error::Usage(format!(
                            "--format {} needs --account-id: it names the role by its ARN (aws sts \
                             get-caller-identity shows the account id)",
                            format.name()
                        )));
                    }
                }
                Format::all()
                    .into_iter()
                    .filter(|f| formats.contains(f))
                    .collect()
            }
            Selection::All => {
                let mut formats = Format::all();
                for (format, admitted, _, output) in &logins {
                    if !admitted || no_account {
                        formats.retain(|f| f != format);
                    }
                    if *admitted && no_account {
                        notes.push(format!(
                            "{} was not written: it needs the role's ARN. Pass --account-id, or after \
                             terraform apply take it from: terraform output -raw {output}",
                            format.path()
                        ));
                    }
                }
                formats
            }
        };
        for role in &self.roles {
            if role.policy_count() > request::POLICY_ATTACHMENTS.0 {
                let text = format!(
                    "the role gets {} managed policies; IAM attaches at most {} unless the account's quota was \
                     raised",
                    role.policy_count(),
                    request::POLICY_ATTACHMENTS.0
                );
                notes.push(match one_role {
                    true => text,
                    false => format!("role {}: {text}", role.role_name()),
                });
            }
        }
        match one_role {
            true if self.roles[0].uses_existing_provider() => notes.push(format!(
                "the role trusts the account's existing OIDC provider for the issuer. It must list the audiences \
                 the tokens carry as client IDs; add any it lacks with:\n  {}",
                self.roles[0].add_client_id_commands().join("\n  ")
            )),
            true => {}
            false => {
                let existing: Vec<&Account> = self
                    .accounts
                    .iter()
                    .filter(|a| a.existing_provider)
                    .collect();
                if !existing.is_empty() {
                    let mut commands = Vec::new();
                    for account in existing {
                        for issuer in &self.issuers {
                            let role = self.roles.iter().find(|r| r.trust.issuer == *issuer);
                            let arn = role
                                .expect("every issuer is a role's")
                                .trust
                                .provider_arn(&account.id);
                            for client_id in self.client_ids(issuer) {
                                commands.push(request::add_client_id_command(&arn, &client_id));
                            }
                        }
                    }
                    notes.push(format!(
                        "accounts with existing_provider keep their OIDC provider. It must list the audiences \
                         the tokens carry as client IDs; add any it lacks with:\n  {}",
                        commands.join("\n  ")
                    ));
                }
            }
        }
        Ok((formats, notes))
    }

    /// Who generated the files, and the command line that writes them again.
    fn generator(&self) -> Generator {
        Generator {
            name: env!("CARGO_PKG_NAME"),
            version: env!("CARGO_PKG_VERSION"),
            command: shell_words::join([
                env!("CARGO_PKG_NAME"),
                "--config",
                &match &self.source {
                    Source::Spec(path) => path.to_string_lossy(),
                    Source::Flags => unreachable!("a spec's generator"),
                },
            ]),
        }
    }

    /// The context of the spec's templates (the StackSet's template body still empty), with each
    /// issuer's thumbprints.
    pub fn model(&self, thumbprints: &[Vec<String>]) -> FleetModel {
        let mut logical_ids: Vec<String> = Vec::new();
        let mut slugs: Vec<String> = Vec::new();
        let roles = self
            .roles
            .iter()
            .map(|inputs| {
                let model = inputs.model(&[]);
                FleetRole {
                    provider: self
                        .issuers
                        .iter()
                        .position(|i| *i == inputs.trust.issuer)
                        .expect("every role's issuer is listed"),
                    role: model.role,
                    logical_id: unique(logical_id(inputs.role_name()), "", &mut logical_ids),
                    slug: unique(slug(inputs.role_name()), "-", &mut slugs),
                    esc: model.esc,
                    deployments: model.deployments,
                }
            })
            .collect();
        let accounts = self
            .accounts
            .iter()
            .map(|account| FleetAccount {
                account: account.clone(),
                access_role_arn: format!(
                    "arn:{}:iam::{}:role/{}",
                    self.partition.as_str(),
                    account.id,
                    self.organization.access_role
                ),
                access_role: self.organization.access_role.clone(),
            })
            .collect();
        let stack_set = (!self.organization.ou_ids.is_empty()).then(|| StackSet {
            ou_ids: self.organization.ou_ids.clone(),
            existing_provider_accounts: self
                .accounts
                .iter()
                .filter(|a| a.existing_provider)
                .map(|a| a.id.clone())
                .collect(),
            template_body: String::new(),
        });
        FleetModel {
            generator: self.generator(),
            org: self
                .roles
                .iter()
                .find_map(|r| r.trust.pulumi().map(|p| p.org.clone())),
            partition: self.partition,
            providers: self
                .issuers
                .iter()
                .enumerate()
                .map(|(index, issuer)| FleetProvider {
                    provider: Provider {
                        url: issuer.as_str().to_owned(),
                        existing: false,
                        host_path: issuer.host_path().to_owned(),
                        client_ids: self.client_ids(issuer),
                        thumbprints: thumbprints.get(index).cloned().unwrap_or_default(),
                    },
                    // The first issuer keeps the names one issuer always had.
                    logical_id: match index {
                        0 => "PulumiOidcProvider".to_owned(),
                        _ => format!(
                            "OidcProvider{}",
                            logical_id(issuer.host_path()).trim_end_matches("Role")
                        ),
                    },
                    suffix: match index {
                        0 => String::new(),
                        _ => format!("-{}", slug(issuer.host_path())),
                    },
                })
                .collect(),
            roles,
            accounts,
            region: self.organization.region.clone(),
            module: MODULE_NAME,
            stack_set,
        }
    }

    /// Resolves the thumbprints (live once per issuer, whatever the number of accounts) and
    /// renders `formats`.
    pub fn generate(&self, formats: &[Format], network: &Network) -> Result<Generation> {
        let (thumbprints, report) = match &self.thumbprints {
            ThumbprintChoice::Given(given) => (vec![given.clone()], None),
            ThumbprintChoice::Omit => (Vec::new(), None),
            ThumbprintChoice::Live => {
                let mut thumbprints = Vec::new();
                let mut first = None;
                for issuer in &self.issuers {
                    let report = network.lookup(issuer)?;
                    thumbprints.push(report.thumbprints.clone());
                    first.get_or_insert(report);
                }
                (thumbprints, first)
            }
        };
        let renderer = Renderer::new(self.templates.as_ref());
        let files = match self.source {
            Source::Flags => self.render_role(&renderer, formats, thumbprints.first())?,
            Source::Spec(_) => self.render_spec(&renderer, formats, &thumbprints)?,
        };
        Ok(Generation { files, report })
    }

    /// The command line's role: one file per format.
    fn render_role(
        &self,
        renderer: &Renderer,
        formats: &[Format],
        thumbprints: Option<&Vec<String>>,
    ) -> Result<Vec<RenderedFile>> {
        let role = &self.roles[0];
        let model = role.model(thumbprints.map_or(&[], Vec::as_slice));
        formats
            .iter()
            .map(|format| match (format, role.ci(), role.role_arn()) {
                (Format::Ci(_), Some(ci), Some(arn)) => {
                    let context = ci.context(&model.generator, &arn, format.path());
                    renderer.render_as(format.template(), *format, format.path().into(), &context)
                }
                _ => renderer.render(*format, &model),
            })
            .collect()
    }

    /// The other clouds' files of a spec: every role in every project (or subscription), under
    /// `<cloud>/<target>/<role>/`, each file saying the spec writes it again; and the notes.
    pub fn render_clouds(&self, selection: &Selection) -> Result<(Vec<RenderedFile>, Vec<String>)> {
        if self.clouds.is_empty() {
            return Ok((Vec::new(), Vec::new()));
        }
        let renderer = Renderer::new(self.templates.as_ref());
        let command = self.generator().command;
        let mut files = Vec::new();
        let mut notes = Vec::new();
        for target in &self.clouds {
            for role in &self.roles {
                let (rendered, said) = crate::clouds::files(
                    target.cloud(),
                    role,
                    selection,
                    false,
                    &renderer,
                    Some(&command),
                )
                .map_err(|e| {
                    Error::Usage(format!("{} for role {}: {e}", target.at, role.role_name()))
                })?;
                let prefix = format!("{}/", target.cloud);
                files.extend(rendered.into_iter().map(|file| RenderedFile {
                    path: match file.path.strip_prefix(&prefix) {
                        Some(rest) => {
                            format!("{prefix}{}/{}/{rest}", target.name, role.role_name())
                        }
                        None => file.path,
                    },
                    ..file
                }));
                notes.extend(
                    said.into_iter()
                        .map(|note| format!("{} role {}: {note}", target.at, role.role_name())),
                );
            }
        }
        Ok((files, notes))
    }

    /// A spec's roles: a module and a file per account and role.
    fn render_spec(
        &self,
        renderer: &Renderer,
        formats: &[Format],
        thumbprints: &[Vec<String>],
    ) -> Result<Vec<RenderedFile>> {
        let mut model = self.model(thumbprints);
        let mut files = Vec::new();
        // The templates under templates/spec/, format by format, the StackSet after its member.
        let mut once: Vec<(Format, &str, String)> = Vec::new();
        for format in formats {
            let mut templates = format.spec_templates();
            templates.sort_by_key(|(_, path)| path == STACK_SET);
            once.extend(
                templates
                    .into_iter()
                    .map(|(template, path)| (*format, template, path)),
            );
        }
        for (format, template, path) in once {
            if path == STACK_SET {
                let Some(stack_set) = &mut model.stack_set else {
                    continue;
                };
                let member: &RenderedFile = files
                    .iter()
                    .find(|f: &&RenderedFile| f.path == MEMBER_TEMPLATE)
                    .expect("the member template is rendered before the StackSet");
                stack_set.template_body = crate::render::reformat_json(
                    &member.contents,
                    serde_json::ser::CompactFormatter,
                )
                .expect("rendered JSON parses");
                if stack_set.template_body.len() > MAX_TEMPLATE_BODY {
                    return Err(Error::Limit(format!(
                        "the member template is {} bytes, over the {MAX_TEMPLATE_BODY} a StackSet's \
                         TemplateBody takes; use fewer roles or statements",
                        stack_set.template_body.len()
                    )));
                }
            }
            files.push(renderer.render_as(template, format, path, &model)?);
        }
        for account in &self.accounts {
            for (inputs, role) in self.roles.iter().zip(&model.roles) {
                let logins = [
                    (Format::Esc, &role.esc, "yaml"),
                    (Format::Deployments, &role.deployments, "json"),
                ];
                for (format, login, extension) in logins {
                    let Some(login) = login.as_ref().filter(|_| formats.contains(&format)) else {
                        continue;
                    };
                    let path = format!(
                        "{}/{}/{}.{extension}",
                        format.name(),
                        account.name,
                        inputs.role_name()
                    );
                    let context = LoginContext {
                        generator: model.generator.clone(),
                        login: Login {
                            role_arn: Some(inputs.role_arn_in(&account.id)),
                            ..login.clone()
                        },
                    }
                    .view(format, &path);
                    files.push(renderer.render_as(format.template(), format, path, &context)?);
                }
                if let Some(ci) = inputs.ci() {
                    let format = Format::Ci(ci.preset().id);
                    if formats.contains(&format) {
                        let extension = format.path().rsplit('.').next().unwrap_or_default();
                        let path = format!(
                            "{}/{}/{}.{extension}",
                            format.name(),
                            account.name,
                            inputs.role_name()
                        );
                        let context =
                            ci.context(&model.generator, &inputs.role_arn_in(&account.id), &path);
                        files.push(renderer.render_as(
                            format.template(),
                            format,
                            path,
                            &context,
                        )?);
                    }
                }
            }
        }
        Ok(files)
    }
}

/// The context of one ESC or Deployments file.
struct LoginContext {
    generator: Generator,
    login: Login,
}

impl LoginContext {
    /// What the single-role template reads: `esc` or `deployments`, and the file's name.
    fn view(self, format: Format, path: &str) -> serde_json::Value {
        let key = if format == Format::Esc {
            "esc"
        } else {
            "deployments"
        };
        let file = path.rsplit('/').next().unwrap_or(path);
        serde_json::json!({ "generator": self.generator, key: self.login, "file": file })
    }
}

/// A CloudFormation logical id for the role called `name`: its letters and digits in CamelCase,
/// then `Role` (`pulumi-esc-readonly` -> `PulumiEscReadonlyRole`).
fn logical_id(name: &str) -> String {
    let mut id: String = name
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            let first = chars.next().map(|c| c.to_ascii_uppercase());
            first.into_iter().chain(chars).collect::<String>()
        })
        .collect();
    id.push_str("Role");
    id
}

/// `name`, or `name` with a number after `separator` when `taken` holds it already (two role
/// names that differ only in punctuation); the result is added to `taken`.
fn unique(name: String, separator: &str, taken: &mut Vec<String>) -> String {
    let mut candidate = name.clone();
    let mut number = 2;
    while taken.contains(&candidate) {
        candidate = format!("{name}{separator}{number}");
        number += 1;
    }
    taken.push(candidate.clone());
    candidate
}

/// `name` with every character but letters, digits, `-` and `_` replaced by `-`.
fn slug(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_collide_get_a_number() {
        let mut taken = Vec::new();
        let ids: Vec<String> = ["a-b", "a.b", "a_b"]
            .into_iter()
            .map(|name| unique(logical_id(name), "", &mut taken))
            .collect();
        assert_eq!(ids, ["ABRole", "ABRole2", "ABRole3"]);
        let mut taken = vec!["x-2".to_owned()];
        assert_eq!(unique("x".into(), "-", &mut taken), "x");
        assert_eq!(unique("x".into(), "-", &mut taken), "x-3");
    }

    #[test]
    fn logical_ids_are_camel_case() {
        assert_eq!(logical_id("pulumi-esc-readonly"), "PulumiEscReadonlyRole");
        assert_eq!(logical_id("a.b+c@d"), "ABCDRole");
        assert_eq!(logical_id("Admin"), "AdminRole");
    }
}
