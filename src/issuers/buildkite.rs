//! Buildkite Pipelines.

use std::sync::Arc;

use serde::Serialize;

use super::family::{Family, words};
use super::{Ci, ConsumerFile, Given, Preset, Workloads};
use crate::error::{Error, Result};
use crate::escape::Language;
use crate::issuer::Issuer;
use crate::policy::{Statement, dedup};

/// Buildkite's issuer.
pub const PRESET: Preset = Preset {
    id: "buildkite",
    name: "Buildkite",
    issuers: &["https://agent.buildkite.com"],
    matches: |issuer| issuer.host_path() == "agent.buildkite.com",
    audience: "sts.amazonaws.com (the plugin's default; buildkite-agent oidc request-token --audience)",
    subject: "organization:<org>:pipeline:<pipeline>:ref:<ref>:commit:<sha>:step:<key>",
    subject_fields: &["organization", "pipeline", "ref", "commit", "step"],
    escaping: "none",
    mapped_claims: &[
        "build_branch",
        "cluster_id",
        "cluster_name",
        "organization_id",
        "organization_slug",
        "pipeline_id",
        "pipeline_slug",
    ],
    required_claim: Some("sub"),
    owner_fields: &[("organization:", ':')],
    custom_subjects: false,
    owner_claims: &[],
    repository_end: None,
    audience_names_owner: false,
    cloud_audience: |_, _| None,
    consumer: "a pipeline step with the aws-assume-role-with-web-identity plugin and the role ARN",
    example_audience: "sts.amazonaws.com",
    example_subject: "organization:ORG:pipeline:PIPELINE:ref:refs/heads/main:*",
    explain: |_, _| Vec::new(),
    role_name: "buildkite-oidc",
    self_hosted: false,
    consumer_file: Some(ConsumerFile {
        format: "buildkite",
        description: "A Buildkite pipeline step that assumes the role: buildkite/pipeline.yml (needs \
                      --buildkite and --account-id)",
        // Buildkite interpolates `$NAME` and `${NAME}` when the pipeline is uploaded; `$$` is `$`.
        language: Language::InterpolatedYaml,
    }),
};

/// Buildkite's issuer.
pub const ISSUER: &str = "https://agent.buildkite.com";
/// The audience the plugin asks for by default.
pub const AUDIENCE: &str = "sts.amazonaws.com";
/// The plugin that assumes the role, pinned to a release.
const PLUGIN: &str = "aws-assume-role-with-web-identity#v1.4.0";

const HEADING: &str = "Who may assume the role: Buildkite";

/// Buildkite's workloads as given: the `--buildkite*` flags, and a spec role's `buildkite:` field.
#[derive(Debug, Clone, Default, PartialEq, Eq, clap::Args, serde::Deserialize)]
#[group(id = "buildkite", multiple = true)]
#[serde(deny_unknown_fields, default)]
pub struct Request {
    /// A Buildkite pipeline whose jobs may assume the role, as ORG/PIPELINE (the slugs);
    /// ORG/* for every pipeline of the organization. Repeatable.
    #[arg(id = "buildkite_pipelines", long = "buildkite", value_name = "ORG/PIPELINE", help_heading = HEADING)]
    pub pipelines: Vec<String>,

    /// Admit only builds of this branch ('*' matches any characters), tested on the build_branch
    /// claim, which AWS maps to a condition key. Repeatable.
    #[arg(id = "buildkite_branches", long = "buildkite-branch", value_name = "BRANCH", help_heading = HEADING)]
    pub branches: Vec<String>,
}

/// Buildkite's workloads the role admits, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Buildkite {
    pipelines: Vec<(String, String)>,
    branches: Vec<String>,
}

fn is_slug(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 100
        && text.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_'))
}

impl Given for Request {
    fn default_issuer(&self) -> String {
        ISSUER.into()
    }

    fn validate(&self, issuer: &Issuer, notes: &mut Vec<String>) -> Result<Ci> {
        super::check_issuer(&PRESET, issuer)?;
        if self.pipelines.is_empty() {
            return Err(Error::Usage(
                "--buildkite ORG/PIPELINE names the pipelines whose jobs may assume the role".into(),
            ));
        }
        let mut pipelines = Vec::new();
        for value in &self.pipelines {
            let parsed = value
                .split_once('/')
                .filter(|(org, pipeline)| is_slug(org) && (*pipeline == "*" || is_slug(pipeline)));
            let Some((org, pipeline)) = parsed else {
                return Err(Error::invalid(
                    "buildkite.pipelines",
                    value,
                    "write ORG/PIPELINE with the slugs (lowercase letters, digits, '-'), or ORG/* for every pipeline \
                     of the organization; the organization takes no wildcard",
                ));
            };
            if pipeline == "*" {
                notes.push(format!(
                    "--buildkite {value} admits every pipeline of {org}, present and future"
                ));
            }
            pipelines.push((org.to_owned(), pipeline.to_owned()));
        }
        for branch in &self.branches {
            if let Some(rule) = super::git::broken_rule(branch, true) {
                return Err(Error::invalid(
                    "buildkite.branches",
                    branch,
                    format!("a branch name, as git allows it: {rule}"),
                ));
            }
            if branch.starts_with('!') {
                return Err(Error::invalid(
                    "buildkite.branches",
                    branch,
                    "Buildkite's branch filter reads a leading '!' as 'not', so the step could not name this branch: rename the branch"
                ));
            }
        }
        if self.branches.is_empty() {
            notes.push(
                "the role admits builds of every branch; narrow it with --buildkite-branch".to_owned(),
            );
        }
        pipelines.dedup();
        Ok(Ci(Arc::new(Buildkite {
            pipelines,
            branches: dedup(self.branches.clone()),
        })))
    }
}

/// What the generated step needs.
#[derive(Debug, Clone, Serialize)]
struct Step {
    role_arn: String,
    plugin: &'static str,
    pipelines: Vec<String>,
    /// Buildkite's branch filter (space-separated patterns), empty for every branch.
    branches: String,
}

impl Workloads for Buildkite {
    fn preset(&self) -> &'static Preset {
        &PRESET
    }

    fn statements(&self, issuer: &Issuer) -> (Vec<Statement>, Vec<String>) {
        let mut statements = Vec::new();
        let claims = match self.branches.is_empty() {
            true => Vec::new(),
            false => vec![("build_branch", self.branches.clone())],
        };
        for (org, pipeline) in &self.pipelines {
            // The subject's tail (ref, commit, step) is open; the pipeline is the last field named.
            let subject = match pipeline.as_str() {
                "*" => format!("organization:{org}:pipeline:*"),
                _ => format!("organization:{org}:pipeline:{pipeline}:*"),
            };
            Family {
                sid: format!("Buildkite{}", words(&format!("{org} {}", pipeline.replace('*', "All")))),
                audiences: vec![AUDIENCE.into()],
                subjects: vec![subject],
                claims: claims.clone(),
                separator: ':',
                guard: false,
                part_name: |_| String::new(),
            }
            .write(issuer, &mut statements);
        }
        (statements, vec![AUDIENCE.to_owned()])
    }

    fn args(&self) -> Vec<String> {
        let mut args = Vec::new();
        for (org, pipeline) in &self.pipelines {
            args.extend(["--buildkite".to_owned(), format!("{org}/{pipeline}")]);
        }
        for branch in &self.branches {
            args.extend(["--buildkite-branch".to_owned(), branch.clone()]);
        }
        args
    }

    fn default_issuer(&self) -> String {
        ISSUER.into()
    }

    fn consumer(&self, role_arn: &str) -> serde_json::Value {
        serde_json::to_value(Step {
            role_arn: role_arn.to_owned(),
            plugin: PLUGIN,
            pipelines: self.pipelines.iter().map(|(o, p)| format!("{o}/{p}")).collect(),
            branches: self.branches.join(" "),
        })
        .expect("a step serializes")
    }
}
