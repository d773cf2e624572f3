//! CircleCI: an issuer per organization.

use std::sync::Arc;

use serde::Serialize;

use super::family::Family;
use super::{Ci, ConsumerFile, Given, Preset, Workloads};
use crate::error::{Error, Result};
use crate::escape::Language;
use crate::issuer::Issuer;
use crate::policy::{Statement, dedup};

/// CircleCI's issuers.
pub const PRESET: Preset = Preset {
    id: "circleci",
    name: "CircleCI",
    issuers: &["https://oidc.circleci.com/org/<org-id>"],
    matches: |issuer| {
        let path = issuer.host_path();
        path.strip_prefix("oidc.circleci.com/org/")
            .is_some_and(|org| !org.is_empty() && !org.contains('/'))
    },
    audience: "<org-id>",
    subject: "org/<org-id>/project/<project-id>/user/<user-id> (token v2 adds /vcs-origin/<origin>/vcs-ref/<ref>)",
    subject_fields: &["org", "project", "user"],
    escaping: "none",
    mapped_claims: &["oidc.circleci.com/project-id"],
    required_claim: None,
    owner_fields: &[("org/", '/')],
    custom_subjects: false,
    owner_claims: &[],
    repository_end: None,
    audience_names_owner: true,
    cloud_audience: |aws, _| Some(aws.to_owned()),
    consumer: "a job that passes $CIRCLE_OIDC_TOKEN to the aws-cli orb's setup with role_arn",
    example_audience: "ORG_ID",
    example_subject: "org/ORG_ID/project/PROJECT_ID/user/*",
    explain: |_, _| Vec::new(),
    role_name: "circleci-oidc",
    self_hosted: false,
    consumer_file: Some(ConsumerFile {
        format: "circleci",
        description: "A CircleCI job that assumes the role: circleci/config.yml (needs --circleci and \
                      --account-id)",
        language: Language::Yaml,
    }),
};

/// The aws-cli orb, pinned to a release.
const ORB: &str = "circleci/aws-cli@4.1.3";

const HEADING: &str = "Who may assume the role: CircleCI";

/// CircleCI's workloads as given: the `--circleci*` flags, and a spec role's `circleci:` field.
#[derive(Debug, Clone, Default, PartialEq, Eq, clap::Args, serde::Deserialize)]
#[group(id = "circleci", multiple = true)]
#[serde(deny_unknown_fields, default)]
pub struct Request {
    /// The CircleCI organization's ID (a UUID, in Organization Settings): its issuer is
    /// https://oidc.circleci.com/org/ORG_ID and its tokens' audience the ID.
    #[arg(id = "circleci_org", long = "circleci", value_name = "ORG_ID", help_heading = HEADING)]
    pub org: Option<String>,

    /// A project whose jobs may assume the role, by its ID (a UUID, in Project Settings), tested
    /// on the subject and on the project-id claim AWS maps. Repeatable. Default: every project of
    /// the organization.
    #[arg(id = "circleci_projects", long = "circleci-project", value_name = "PROJECT_ID", requires = "circleci_org", help_heading = HEADING)]
    pub projects: Vec<String>,
}

/// CircleCI's workloads the role admits, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Circleci {
    org: String,
    projects: Vec<String>,
}

/// A CircleCI ID: a UUID, lowercase.
fn is_uuid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12])
        && groups
            .iter()
            .all(|g| g.chars().all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)))
}

impl Given for Request {
    fn default_issuer(&self) -> String {
        format!("https://oidc.circleci.com/org/{}", self.org.as_deref().unwrap_or_default())
    }

    fn validate(&self, issuer: &Issuer, notes: &mut Vec<String>) -> Result<Ci> {
        let Some(org) = &self.org else {
            return Err(Error::Usage(
                "--circleci ORG_ID names the organization whose jobs may assume the role".into(),
            ));
        };
        if !is_uuid(org) {
            return Err(Error::invalid(
                "circleci.org",
                org,
                "the organization ID is a UUID such as 0f3e1a2b-0000-4000-8000-00000000abcd (Organization Settings, \
                 Overview)",
            ));
        }
        if issuer.as_str() != self.default_issuer() {
            return Err(Error::invalid(
                "issuer",
                issuer.as_str(),
                format!("CircleCI's tokens for this organization come from {}: leave --issuer out", self.default_issuer()),
            ));
        }
        for project in &self.projects {
            if !is_uuid(project) {
                return Err(Error::invalid(
                    "circleci.projects",
                    project,
                    "a project ID is a UUID (Project Settings, Overview); a wildcard would admit other projects",
                ));
            }
        }
        if self.projects.is_empty() {
            notes.push(format!(
                "the role admits every project of the CircleCI organization {org}; narrow it with --circleci-project"
            ));
        }
        Ok(Ci(Arc::new(Circleci {
            org: org.clone(),
            projects: dedup(self.projects.clone()),
        })))
    }
}

/// What the generated job needs.
#[derive(Debug, Clone, Serialize)]
struct Job {
    role_arn: String,
    orb: &'static str,
}

impl Workloads for Circleci {
    fn preset(&self) -> &'static Preset {
        &PRESET
    }

    fn statements(&self, issuer: &Issuer) -> (Vec<Statement>, Vec<String>) {
        let mut statements = Vec::new();
        let org = &self.org;
        if self.projects.is_empty() {
            Family {
                sid: "CircleciAllProjects".into(),
                audiences: vec![org.clone()],
                subjects: vec![format!("org/{org}/project/*")],
                claims: Vec::new(),
                separator: '/',
                guard: false,
                part_name: |_| String::new(),
            }
            .write(issuer, &mut statements);
        }
        for (index, project) in self.projects.iter().enumerate() {
            Family {
                sid: format!("CircleciProject{}", index + 1),
                audiences: vec![org.clone()],
                subjects: vec![format!("org/{org}/project/{project}/user/*")],
                claims: vec![("oidc.circleci.com/project-id", vec![project.clone()])],
                separator: '/',
                guard: false,
                part_name: |_| String::new(),
            }
            .write(issuer, &mut statements);
        }
        (statements, vec![org.clone()])
    }

    fn args(&self) -> Vec<String> {
        let mut args = vec!["--circleci".to_owned(), self.org.clone()];
        for project in &self.projects {
            args.extend(["--circleci-project".to_owned(), project.clone()]);
        }
        args
    }

    fn default_issuer(&self) -> String {
        format!("https://oidc.circleci.com/org/{}", self.org)
    }

    fn consumer(&self, role_arn: &str) -> serde_json::Value {
        serde_json::to_value(Job {
            role_arn: role_arn.to_owned(),
            orb: ORB,
        })
        .expect("a job serializes")
    }
}
