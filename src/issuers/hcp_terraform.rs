//! HCP Terraform (Terraform Enterprise is its own issuer, with --issuer).

use std::sync::Arc;

use serde::Serialize;

use super::family::{Family, words};
use super::{Ci, ConsumerFile, Given, Preset, Workloads};
use crate::error::{Error, Result};
use crate::escape::Language;
use crate::issuer::Issuer;
use crate::policy::{self, Statement, dedup};

/// HCP Terraform's issuer.
pub const PRESET: Preset = Preset {
    id: "hcp_terraform",
    name: "HCP Terraform",
    issuers: &["https://app.terraform.io", "https://<TFE host> (Terraform Enterprise, with --issuer)"],
    matches: |issuer| issuer.host_path() == "app.terraform.io",
    audience: "aws.workload.identity (TFC_AWS_WORKLOAD_IDENTITY_AUDIENCE changes it)",
    subject: "organization:<org>:project:<project>:workspace:<workspace>:run_phase:<plan|apply>",
    subject_fields: &["organization", "project", "workspace", "run_phase"],
    escaping: "none",
    mapped_claims: &[],
    required_claim: Some("sub"),
    owner_fields: &[("organization:", ':')],
    custom_subjects: false,
    owner_claims: &[],
    repository_end: None,
    audience_names_owner: false,
    cloud_audience: |_, _| None,
    consumer: "workspace variables TFC_AWS_PROVIDER_AUTH=true and TFC_AWS_RUN_ROLE_ARN \
               (or TFC_AWS_PLAN_ROLE_ARN and TFC_AWS_APPLY_ROLE_ARN)",
    example_audience: "aws.workload.identity",
    example_subject: "organization:ORG:project:PROJECT:workspace:WORKSPACE:run_phase:*",
    explain: |_, _| Vec::new(),
    role_name: "hcp-terraform-oidc",
    self_hosted: true,
    consumer_file: Some(ConsumerFile {
        format: "hcp-terraform",
        description: "The HCP Terraform workspace variables that make runs assume the role, as Terraform for \
                      the tfe provider: hcp-terraform/variables.tf (needs --hcp-terraform and --account-id)",
        language: Language::Hcl,
    }),
};

/// HCP Terraform's issuer.
pub const ISSUER: &str = "https://app.terraform.io";
/// The audience HCP Terraform's AWS dynamic credentials ask for by default.
pub const AUDIENCE: &str = "aws.workload.identity";

const HEADING: &str = "Who may assume the role: HCP Terraform";

/// HCP Terraform's workloads as given: the `--hcp-*` flags, and a spec role's `hcp_terraform:` field.
#[derive(Debug, Clone, Default, PartialEq, Eq, clap::Args, serde::Deserialize)]
#[group(id = "hcp_terraform", multiple = true)]
#[serde(deny_unknown_fields, default)]
pub struct Request {
    /// An HCP Terraform workspace whose runs may assume the role, as ORG/PROJECT/WORKSPACE; '*'
    /// matches any characters within the project or the workspace (Default Project is the
    /// default project's name). Repeatable. Issuer: https://app.terraform.io unless --issuer names
    /// a Terraform Enterprise host.
    #[arg(id = "hcp_terraform_workspaces", long = "hcp-terraform", value_name = "ORG/PROJECT/WORKSPACE", help_heading = HEADING)]
    pub workspaces: Vec<String>,

    /// Admit only this run phase, plan or apply (repeatable). Default: both, each listed exactly.
    #[arg(id = "hcp_terraform_run_phases", long = "hcp-run-phase", value_name = "PHASE", value_parser = ["plan", "apply"], help_heading = HEADING)]
    pub run_phases: Vec<String>,
}

/// One workspace (or pattern), split.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
struct Workspace {
    organization: String,
    project: String,
    workspace: String,
}

/// HCP Terraform's workloads the role admits, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HcpTerraform {
    issuer: String,
    workspaces: Vec<Workspace>,
    run_phases: Vec<String>,
}

impl Given for Request {
    fn default_issuer(&self) -> String {
        ISSUER.into()
    }

    fn validate(&self, issuer: &Issuer, _notes: &mut Vec<String>) -> Result<Ci> {
        super::check_issuer(&PRESET, issuer)?;
        if self.workspaces.is_empty() {
            return Err(Error::Usage(
                "--hcp-terraform ORG/PROJECT/WORKSPACE names the workspaces whose runs may assume the role".into(),
            ));
        }
        let workspaces = self
            .workspaces
            .iter()
            .map(|value| parse_workspace(value))
            .collect::<Result<Vec<_>>>()?;
        let mut run_phases = dedup(self.run_phases.clone());
        if run_phases.is_empty() {
            run_phases = vec!["plan".into(), "apply".into()];
        }
        Ok(Ci(Arc::new(HcpTerraform {
            issuer: issuer.as_str().to_owned(),
            workspaces,
            run_phases,
        })))
    }
}

/// `ORG/PROJECT/WORKSPACE`, with `*` allowed inside the project and the workspace.
fn parse_workspace(value: &str) -> Result<Workspace> {
    let invalid = |hint: &str| Error::invalid("hcp_terraform.workspaces", value, hint.to_owned());
    let parts: Vec<&str> = value.split('/').collect();
    let [organization, project, workspace] = parts[..] else {
        return Err(invalid(
            "write ORG/PROJECT/WORKSPACE (the default project is Default Project); '*' may stand in the project \
             or the workspace",
        ));
    };
    let name_ok = |part: &str, space: bool, pattern: bool| {
        !part.is_empty()
            && part.len() <= 90
            && part.chars().all(|c| {
                c.is_ascii_alphanumeric()
                    || matches!(c, '-' | '_')
                    || (space && c == ' ')
                    || (pattern && matches!(c, '*' | '?'))
            })
    };
    if !name_ok(organization, false, false) {
        return Err(invalid(
            "the organization is a name of letters, digits, '-' or '_', without wildcards: a role for every \
             organization would admit anyone's runs",
        ));
    }
    if !name_ok(project, true, true) || !name_ok(workspace, false, true) {
        return Err(invalid(
            "projects hold letters, digits, spaces, '-' and '_'; workspaces letters, digits, '-' and '_'; '*' and \
             '?' are wildcards",
        ));
    }
    Ok(Workspace {
        organization: organization.to_owned(),
        project: project.to_owned(),
        workspace: workspace.to_owned(),
    })
}

/// What the generated variables need.
#[derive(Debug, Clone, Serialize)]
struct Variables {
    role_arn: String,
    /// A name for the resources, from the role's name.
    slug: String,
    /// The variable holding the role's ARN: TFC_AWS_RUN_ROLE_ARN, or one phase's.
    role_variable: &'static str,
    audience: &'static str,
    /// The workspaces named exactly; patterns get a comment instead.
    workspaces: Vec<Workspace>,
    patterns: Vec<String>,
}

impl Workloads for HcpTerraform {
    fn preset(&self) -> &'static Preset {
        &PRESET
    }

    fn statements(&self, issuer: &Issuer) -> (Vec<Statement>, Vec<String>) {
        let mut statements = Vec::new();
        for w in &self.workspaces {
            let subjects = self
                .run_phases
                .iter()
                .map(|phase| {
                    format!(
                        "organization:{}:project:{}:workspace:{}:run_phase:{phase}",
                        w.organization, w.project, w.workspace
                    )
                })
                .collect();
            let name = format!("{} {} {}", w.organization, w.project, w.workspace).replace('*', "Any");
            Family {
                sid: format!("HcpTerraform{}", words(&name)),
                audiences: vec![AUDIENCE.into()],
                subjects,
                claims: Vec::new(),
                separator: ':',
                guard: true,
                part_name: |_| String::new(),
            }
            .write(issuer, &mut statements);
        }
        (statements, vec![AUDIENCE.to_owned()])
    }

    fn args(&self) -> Vec<String> {
        let mut args = Vec::new();
        for w in &self.workspaces {
            args.extend([
                "--hcp-terraform".to_owned(),
                format!("{}/{}/{}", w.organization, w.project, w.workspace),
            ]);
        }
        if self.run_phases.len() == 1 {
            args.extend(["--hcp-run-phase".to_owned(), self.run_phases[0].clone()]);
        }
        args
    }

    fn default_issuer(&self) -> String {
        ISSUER.into()
    }

    fn consumer(&self, role_arn: &str) -> serde_json::Value {
        let role_name = role_arn.rsplit('/').next().unwrap_or(role_arn);
        let role_variable = match &self.run_phases[..] {
            [only] if only == "plan" => "TFC_AWS_PLAN_ROLE_ARN",
            [only] if only == "apply" => "TFC_AWS_APPLY_ROLE_ARN",
            _ => "TFC_AWS_RUN_ROLE_ARN",
        };
        let (exact, patterns): (Vec<&Workspace>, Vec<&Workspace>) = self
            .workspaces
            .iter()
            .partition(|w| !policy::is_pattern(&w.project) && !policy::is_pattern(&w.workspace));
        serde_json::to_value(Variables {
            role_arn: role_arn.to_owned(),
            slug: role_name.replace(|c: char| !c.is_ascii_alphanumeric(), "_").to_ascii_lowercase(),
            role_variable,
            audience: AUDIENCE,
            workspaces: exact.into_iter().cloned().collect(),
            patterns: patterns
                .into_iter()
                .map(|w| format!("{}/{}/{}", w.organization, w.project, w.workspace))
                .collect(),
        })
        .expect("variables serialize")
    }
}
