//! GitLab CI/CD on GitLab.com (a self-managed instance is its own issuer, with --issuer).

use std::sync::Arc;

use serde::Serialize;

use super::family::{Family, words};
use super::{Ci, Claims, ConsumerFile, Given, Listed, Preset, Workloads};
use crate::error::{Error, Result};
use crate::escape::Language;
use crate::issuer::Issuer;
use crate::policy::{self, Statement, dedup};

/// GitLab.com's issuer.
pub const PRESET: Preset = Preset {
    id: "gitlab",
    name: "GitLab.com",
    issuers: &["https://gitlab.com", "https://<instance> (self-managed, with --issuer)"],
    matches: |issuer| issuer.host_path() == "gitlab.com",
    audience: "the aud of the job's id_tokens; GitLab's AWS guide uses the instance URL, https://gitlab.com",
    subject: "project_path:<group>/<project>:ref_type:<branch|tag>:ref:<name>",
    subject_fields: &["project_path", "ref_type", "ref"],
    escaping: "none",
    mapped_claims: &[
        "namespace_id",
        "pipeline_source",
        "project_id",
        "ref_protected",
        "runner_environment",
        "user_access_level",
        "user_email",
        "user_id",
        "user_login",
    ],
    required_claim: Some("sub"),
    owner_fields: &[("project_path:", '/')],
    custom_subjects: false,
    owner_claims: &[],
    repository_end: Some(':'),
    audience_names_owner: false,
    cloud_audience: |_, _| None,
    consumer: "a .gitlab-ci.yml job with id_tokens: {NAME: {aud: ...}} that calls \
               aws sts assume-role-with-web-identity",
    example_audience: "https://gitlab.com",
    example_subject: "project_path:GROUP/PROJECT:ref_type:branch:ref:main",
    explain,
    role_name: "gitlab-oidc",
    self_hosted: true,
    consumer_file: Some(ConsumerFile {
        format: "gitlab",
        description: "A GitLab CI/CD job that assumes the role: gitlab/.gitlab-ci.yml (needs --gitlab and \
                      --account-id)",
        language: Language::Yaml,
    }),
};

/// GitLab.com's issuer.
pub const ISSUER: &str = "https://gitlab.com";

const HEADING: &str = "Who may assume the role: GitLab CI/CD";

/// GitLab's workloads as given: the `--gitlab*` flags, and a spec role's `gitlab:` field.
#[derive(Debug, Clone, Default, PartialEq, Eq, clap::Args, serde::Deserialize)]
#[group(id = "gitlab", multiple = true)]
#[serde(deny_unknown_fields, default)]
pub struct Request {
    /// A GitLab project whose pipelines may assume the role, as GROUP/PROJECT (subgroups
    /// included: GROUP/SUB/PROJECT); GROUP/* for every project of the group and its subgroups.
    /// Repeatable. Issuer: https://gitlab.com unless --issuer names a self-managed instance.
    #[arg(id = "gitlab_projects", long = "gitlab", value_name = "GROUP/PROJECT", help_heading = HEADING)]
    pub projects: Vec<String>,

    /// Admit only pipelines for branches, or only for tags. Default: both.
    #[arg(id = "gitlab_ref_type", long = "gitlab-ref-type", value_name = "TYPE", value_parser = ["branch", "tag"], help_heading = HEADING)]
    pub ref_type: Option<String>,

    /// Admit pipelines for this branch or tag name ('*' matches any characters). Repeatable.
    #[arg(id = "gitlab_refs", long = "gitlab-ref", value_name = "NAME", help_heading = HEADING)]
    pub refs: Vec<String>,

    /// Admit only pipelines for protected branches and tags (the ref_protected claim, which AWS
    /// maps for gitlab.com only).
    #[arg(id = "gitlab_protected", long = "gitlab-protected", help_heading = HEADING)]
    pub protected: bool,
}

/// GitLab's workloads the role admits, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gitlab {
    issuer: String,
    projects: Vec<String>,
    ref_types: Vec<&'static str>,
    refs: Vec<String>,
    protected: bool,
    /// Whether the flags name a ref type or a ref (else every pipeline of the projects).
    narrowed: bool,
}

impl Given for Request {
    fn default_issuer(&self) -> String {
        ISSUER.into()
    }

    fn validate(&self, issuer: &Issuer, notes: &mut Vec<String>) -> Result<Ci> {
        let gitlab_com = (PRESET.matches)(issuer);
        super::check_issuer(&PRESET, issuer)?;
        if self.projects.is_empty() {
            return Err(Error::Usage(
                "--gitlab GROUP/PROJECT names the projects whose pipelines may assume the role; the other \
                 --gitlab-* flags narrow it"
                    .into(),
            ));
        }
        for project in &self.projects {
            validate_project(project)?;
            if project.ends_with("/*") {
                notes.push(format!(
                    "--gitlab {project} admits every project of {} and of its subgroups, present and future",
                    project.trim_end_matches("/*")
                ));
            }
        }
        for name in &self.refs {
            if let Some(rule) = super::git::broken_rule(name, true).or((name.len() > 255).then_some("at most 255 bytes")) {
                return Err(Error::invalid(
                    "gitlab.refs",
                    name,
                    format!("a branch or tag name, as git allows it: {rule} (refs/heads/ is not part of it)"),
                ));
            }
            if name.starts_with("refs/") {
                return Err(Error::invalid(
                    "gitlab.refs",
                    name,
                    "GitLab's token names the branch or tag alone (main, v1.2), without refs/heads/ or refs/tags/",
                ));
            }
        }
        if self.protected && !gitlab_com {
            return Err(Error::Usage(format!(
                "--gitlab-protected tests the ref_protected claim, which AWS maps to a condition key for gitlab.com \
                 only, not for {issuer}: a condition on it would never match"
            )));
        }
        let ref_types = match self.ref_type.as_deref() {
            Some("branch") => vec!["branch"],
            Some("tag") => vec!["tag"],
            Some(other) => {
                return Err(Error::invalid("gitlab.ref_type", other, "write branch or tag"));
            }
            None => vec!["branch", "tag"],
        };
        let narrowed = self.ref_type.is_some() || !self.refs.is_empty();
        if !narrowed {
            notes.push(format!(
                "the role admits every pipeline of {} (any branch or tag){}; narrow it with --gitlab-ref-type or \
                 --gitlab-ref",
                self.projects.join(", "),
                if self.protected { " that is protected" } else { "" }
            ));
        }
        Ok(Ci(Arc::new(Gitlab {
            issuer: issuer.as_str().to_owned(),
            projects: dedup(self.projects.clone()),
            ref_types,
            refs: dedup(self.refs.clone()),
            protected: self.protected,
            narrowed,
        })))
    }
}

/// `GROUP/PROJECT` or `GROUP/SUB/.../PROJECT`, or `GROUP/*`.
fn validate_project(value: &str) -> Result<()> {
    let invalid = |hint: &str| Error::invalid("gitlab.projects", value, hint.to_owned());
    let parts: Vec<&str> = value.split('/').collect();
    if parts.len() < 2 {
        return Err(invalid("write the project's path: GROUP/PROJECT (or GROUP/* for all of a group's)"));
    }
    let name_ok = |part: &str| {
        !part.is_empty()
            && part.len() <= 255
            && part.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    let (last, groups) = parts.split_last().expect("two parts at least");
    if !groups.iter().all(|g| name_ok(g)) {
        return Err(invalid(
            "a group is named with letters, digits, '-', '_' or '.', without wildcards: name the group whose \
             projects may assume the role",
        ));
    }
    if *last != "*" && !name_ok(last) {
        return Err(invalid(
            "the project is a name of letters, digits, '-', '_' or '.', or * alone for every project of the group; \
             a partial wildcard (app*) would also admit other projects (app-evil)",
        ));
    }
    Ok(())
}

/// What the generated job needs.
#[derive(Debug, Clone, Serialize)]
struct Job {
    role_arn: String,
    audience: String,
    image: &'static str,
    projects: Vec<String>,
    /// `rules:` conditions, one per admitted ref (empty: every pipeline).
    rules: Vec<String>,
}

/// The AWS CLI's image, pinned to a version.
const AWS_CLI_IMAGE: &str = "amazon/aws-cli:2.15.0";

impl Workloads for Gitlab {
    fn preset(&self) -> &'static Preset {
        &PRESET
    }

    fn statements(&self, issuer: &Issuer) -> (Vec<Statement>, Vec<String>) {
        let mut statements = Vec::new();
        let tails: Vec<String> = match (self.narrowed, self.refs.is_empty()) {
            (false, _) => vec!["*".into()],
            (true, true) => self.ref_types.iter().map(|t| format!("ref_type:{t}:ref:*")).collect(),
            (true, false) => self
                .ref_types
                .iter()
                .flat_map(|t| self.refs.iter().map(move |r| format!("ref_type:{t}:ref:{r}")))
                .collect(),
        };
        let mut claims = Vec::new();
        if self.protected {
            claims.push(("ref_protected", vec!["true".to_owned()]));
        }
        for project in &self.projects {
            Family {
                sid: format!("GitLab{}", words(&project.replace('*', "All"))),
                audiences: vec![self.issuer.clone()],
                subjects: tails.iter().map(|tail| format!("project_path:{project}:{tail}")).collect(),
                claims: claims.clone(),
                separator: ':',
                guard: self.narrowed,
                part_name: |_| String::new(),
            }
            .write(issuer, &mut statements);
        }
        (statements, vec![self.issuer.clone()])
    }

    fn args(&self) -> Vec<String> {
        let mut args = Vec::new();
        for project in &self.projects {
            args.extend(["--gitlab".to_owned(), project.clone()]);
        }
        if let [only] = self.ref_types[..] {
            args.extend(["--gitlab-ref-type".to_owned(), only.to_owned()]);
        }
        for name in &self.refs {
            args.extend(["--gitlab-ref".to_owned(), name.clone()]);
        }
        if self.protected {
            args.push("--gitlab-protected".into());
        }
        args
    }

    fn default_issuer(&self) -> String {
        ISSUER.into()
    }

    fn consumer(&self, role_arn: &str) -> serde_json::Value {
        let variable = |t: &str| match t {
            "branch" => "$CI_COMMIT_BRANCH",
            _ => "$CI_COMMIT_TAG",
        };
        let mut rules: Vec<String> = Vec::new();
        if self.narrowed {
            for ref_type in &self.ref_types {
                if self.refs.is_empty() {
                    rules.push(variable(ref_type).to_owned());
                }
                for name in &self.refs {
                    let test = format!("{} {}", variable(ref_type), ref_test(name));
                    rules.push(test);
                }
            }
        }
        if self.protected {
            let protected = "$CI_COMMIT_REF_PROTECTED == \"true\"";
            rules = match rules.is_empty() {
                true => vec![protected.to_owned()],
                false => rules.into_iter().map(|r| format!("{r} && {protected}")).collect(),
            };
        }
        serde_json::to_value(Job {
            role_arn: role_arn.to_owned(),
            audience: self.issuer.clone(),
            image: AWS_CLI_IMAGE,
            projects: self.projects.clone(),
            rules,
        })
        .expect("a job serializes")
    }
}

/// IAM's pattern (`*`, `?`) as a regular expression for a GitLab rule.
fn glob_regex(pattern: &str) -> String {
    pattern
        .chars()
        .map(|c| match c {
            '*' => ".*".to_owned(),
            '?' => ".".to_owned(),
            c if c.is_alphanumeric() || c == '-' || c == '_' => c.to_string(),
            c if c.is_ascii() => format!("\\{c}"),
            c => c.to_string(),
        })
        .collect()
}

/// The right side of a `rules:if` test for the ref `name`: `== "name"` for a name (in single
/// quotes when it holds a double one: GitLab's strings have no escapes), else a regular
/// expression, which also takes a name with both quotes, every punctuation mark escaped.
fn ref_test(name: &str) -> String {
    match (policy::is_pattern(name), name.contains('"'), name.contains('\'')) {
        (false, false, _) => format!("== \"{name}\""),
        (false, true, false) => format!("== '{name}'"),
        _ => format!("=~ /^{}$/", glob_regex(name)),
    }
}

/// Why a GitLab token may not be what the role expects, in GitLab's terms.
fn explain(claims: &Claims, listed: &Listed) -> Vec<String> {
    let mut reasons = Vec::new();
    let sub = claims.get("sub").map_or("", String::as_str);
    let none = Vec::new();
    let subjects = listed.get("sub").unwrap_or(&none);
    for (ref_type, other) in [("branch", "tag"), ("tag", "branch")] {
        let names = |t: &str| subjects.iter().any(|s| s.contains(&format!(":ref_type:{t}:")));
        if sub.contains(&format!(":ref_type:{ref_type}:")) && !names(ref_type) && names(other) {
            reasons.push(format!(
                "this pipeline runs for a {ref_type}, and the role admits {other}es only (--gitlab-ref-type {other})"
            ));
        }
    }
    let wants_protected = listed.get("ref_protected").is_some_and(|v| v.iter().any(|v| v == "true"));
    if wants_protected && claims.get("ref_protected").map(String::as_str) != Some("true") {
        reasons.push(
            "the role admits protected branches and tags only (--gitlab-protected), and this pipeline's ref is not \
             protected"
                .into(),
        );
    }
    reasons
}
