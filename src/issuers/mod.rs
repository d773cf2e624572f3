//! What oidc-gen knows of each issuer that logs into AWS, as data: one module per issuer, each a
//! [`Preset`], registered by name in [`registry!`]'s one line. `oidc-gen issuers` prints them.
//!
//! A CI system's module also holds its `Request` (its flags, which clap flattens, and its field
//! in a spec's role, which serde reads: one struct) and the [`Workloads`] it checks them into:
//! the trust statements, the command line that gives them again, and the job that uses the role.
//! Nothing outside the module names a CI system.

use std::fmt;
use std::sync::Arc;

mod family;
pub mod git;

use serde::Serialize;

use crate::error::Result;
use crate::escape::Language;
use crate::issuer::Issuer;
use crate::policy::Statement;

/// One issuer: where its tokens come from, what they carry, and what AWS can check of them.
#[derive(Debug, Serialize)]
pub struct Preset {
    /// A short name, e.g. `github`.
    pub id: &'static str,
    /// Who runs it, e.g. `GitHub Actions`.
    pub name: &'static str,
    /// Its issuer URLs (`<...>` marks a part that varies).
    pub issuers: &'static [&'static str],
    /// Whether an issuer URL is one of this preset's.
    #[serde(skip)]
    pub matches: fn(&Issuer) -> bool,
    /// The audience its tokens carry by default, or how it is chosen.
    pub audience: &'static str,
    /// The subject grammar.
    pub subject: &'static str,
    /// The claims the subject is built from, in order.
    pub subject_fields: &'static [&'static str],
    /// How a value is escaped inside the subject.
    pub escaping: &'static str,
    /// Claims besides `aud` and `sub` that AWS STS maps to condition keys
    /// (`<issuer without https://>:<claim>`); a condition on any other claim never matches.
    pub mapped_claims: &'static [&'static str],
    /// The claim IAM's shared-issuer guard requires a new trust policy to test, if any.
    pub required_claim: Option<&'static str>,
    /// Where a subject names the owner (organization, group, account) whose workloads it admits:
    /// the text before the owner and the character that ends it, one pair per subject shape. A
    /// wildcard before that character admits other owners' workloads.
    #[serde(skip)]
    pub owner_fields: &'static [(&'static str, char)],
    /// Whether the issuer lets its users choose the subject's grammar (GitHub's subject
    /// templates), so that a subject outside `owner_fields`' shapes may still be one it issues.
    pub custom_subjects: bool,
    /// Claims the issuer sets that name the owner (or a repository of it), which a statement may
    /// test instead of naming the owner in `sub`; with custom subjects, one of them or the owner
    /// in `sub` is what keeps other owners out.
    #[serde(skip)]
    pub owner_claims: &'static [&'static str],
    /// The character that ends the repository (project) after the owner in a subject, where
    /// subjects name one: a wildcard inside the name before it (`repo:acme/app*`) admits other
    /// repositories whose names start the same.
    #[serde(skip)]
    pub repository_end: Option<char>,
    /// Whether the audience its tokens carry names the owner (Pulumi's organization, CircleCI's
    /// organization id): a statement that tests only the audience admits every workload of that
    /// owner, not of the whole issuer.
    #[serde(skip)]
    pub audience_names_owner: bool,
    /// The audience its tokens carry when they are exchanged in another cloud (`gcp`, `azure`),
    /// given the one the AWS statement admits; `None` when the job chooses it, so that the
    /// cloud's own is used (the GCP provider's name, Azure's `api://AzureADTokenExchange`).
    #[serde(skip)]
    pub cloud_audience: fn(&str, &str) -> Option<String>,
    /// What makes the workload use the role.
    pub consumer: &'static str,
    /// An audience for an example command.
    pub example_audience: &'static str,
    /// A subject pattern for an example command.
    pub example_subject: &'static str,
    /// Why a denied token may not be what the role expects, in this issuer's terms: given the
    /// token's claims (`sub` among them) and the values the policy tests for each claim; empty
    /// when there is nothing to say.
    #[serde(skip)]
    pub explain: fn(&Claims, &Listed) -> Vec<String>,
    /// The role's name when `--role-name` is not given.
    #[serde(skip)]
    pub role_name: &'static str,
    /// Whether `--issuer` may name a self-hosted instance (one no preset knows).
    #[serde(skip)]
    pub self_hosted: bool,
    /// The file that makes the CI system's job use the role, if oidc-gen writes one.
    #[serde(skip)]
    pub consumer_file: Option<ConsumerFile>,
}

/// A token's claims, by name, as text.
pub type Claims = std::collections::BTreeMap<String, String>;
/// The values a policy tests for each claim of the issuer, by claim name.
pub type Listed = std::collections::BTreeMap<String, Vec<String>>;

/// The file that makes a CI system's job use the role.
#[derive(Debug)]
pub struct ConsumerFile {
    /// Its `--format` name, e.g. `github`, and its template's folder (`templates/github/`,
    /// holding one template: the file is its name without `.j2`).
    pub format: &'static str,
    /// What it is, for `--help`.
    pub description: &'static str,
    /// The language the file is written in.
    pub language: Language,
}

/// A CI system's workloads as given: its flags, or its field of a spec's role.
pub trait Given {
    /// The issuer its tokens come from when `--issuer` is not given (checked later, with the
    /// values it is made of).
    fn default_issuer(&self) -> String;
    /// Checks the values for `issuer`; `notes` gets what the user should know of how they were
    /// read.
    fn validate(&self, issuer: &Issuer, notes: &mut Vec<String>) -> Result<Ci>;
}

/// A CI system whose flags are given: its preset, and its request.
#[derive(Clone, Copy)]
pub struct GivenSystem<'a> {
    /// The system's preset.
    pub preset: &'static Preset,
    /// Its flags or spec field.
    pub request: &'a (dyn Given + 'a),
}

impl<'a> std::ops::Deref for GivenSystem<'a> {
    type Target = dyn Given + 'a;

    fn deref(&self) -> &Self::Target {
        self.request
    }
}

/// A CI system's workloads, checked.
pub trait Workloads: fmt::Debug + Send + Sync {
    /// The issuer's preset.
    fn preset(&self) -> &'static Preset;
    /// The trust statements that admit them on `issuer`, and the provider's client IDs.
    fn statements(&self, issuer: &Issuer) -> (Vec<Statement>, Vec<String>);
    /// The command-line arguments that give them again.
    fn args(&self) -> Vec<String>;
    /// The issuer the flags imply when `--issuer` is not given.
    fn default_issuer(&self) -> String;
    /// What the consumer file's template reads (under the preset's id), for the role `role_arn`.
    fn consumer(&self, role_arn: &str) -> serde_json::Value;
}

/// One CI system's workloads, checked.
#[derive(Debug, Clone)]
pub struct Ci(pub Arc<dyn Workloads>);

impl PartialEq for Ci {
    fn eq(&self, other: &Self) -> bool {
        self.0.preset().id == other.0.preset().id && self.0.args() == other.0.args()
    }
}

impl Eq for Ci {}

impl Ci {
    /// The context of the consumer file at `path` for the role `role_arn`: the generator, the
    /// system's values under its preset id, and the file's name.
    pub fn context(
        &self,
        generator: &impl Serialize,
        role_arn: &str,
        path: &str,
    ) -> serde_json::Value {
        let file = path.rsplit('/').next().unwrap_or(path);
        serde_json::json!({
            "generator": generator,
            self.preset().id: self.consumer(role_arn),
            "file": file,
        })
    }
}

impl std::ops::Deref for Ci {
    type Target = dyn Workloads;

    fn deref(&self) -> &Self::Target {
        &*self.0
    }
}

/// Declares the issuer modules and lists their presets in [`ALL`], in this order: Pulumi Cloud,
/// the CI systems (whose `Request`s make [`CiRequest`]), then issuers known without flags.
macro_rules! registry {
    ($pulumi:ident; $($ci:ident),*; $($known:ident),* $(,)?) => {
        pub mod $pulumi;
        $(pub mod $ci;)*
        $(pub mod $known;)*
        /// Every preset, in the order `oidc-gen issuers` prints them.
        pub const ALL: &[&Preset] = &[&$pulumi::PRESET, $(&$ci::PRESET,)* $(&$known::PRESET),*];

        /// The CI systems' ids, which are also the ids of their flags' groups.
        pub const CI_SYSTEMS: &[&str] = &[$(stringify!($ci)),*];

        /// Every CI system's flags (clap flattens them) and spec fields (`github:`, ...).
        #[derive(Debug, Clone, Default, PartialEq, Eq, clap::Args, serde::Deserialize)]
        #[group(skip)]
        #[serde(deny_unknown_fields)]
        pub struct CiRequest {
            $(
                #[command(flatten)]
                #[serde(default)]
                #[allow(missing_docs)]
                pub $ci: $ci::Request,
            )*
        }

        impl CiRequest {
            /// The CI systems whose flags are given (any field not its default).
            pub fn given(&self) -> Vec<GivenSystem<'_>> {
                let mut given = Vec::new();
                $(
                    if self.$ci != $ci::Request::default() {
                        given.push(GivenSystem { preset: &$ci::PRESET, request: &self.$ci });
                    }
                )*
                given
            }
        }
    };
}

registry!(pulumi; github, gitlab, hcp_terraform, buildkite, circleci; bitbucket);

/// Refuses an `--issuer` whose tokens are not `preset`'s: another preset's issuer, or any other
/// URL when the preset has no self-hosted form.
pub fn check_issuer(preset: &Preset, issuer: &Issuer) -> Result<()> {
    let other = find(issuer).filter(|p| p.id != preset.id);
    if (preset.matches)(issuer) || (preset.self_hosted && other.is_none()) {
        return Ok(());
    }
    let whose = match other {
        Some(other) => format!("it is the issuer of {}, not of {}", other.name, preset.name),
        None => format!("it is not an issuer of {}", preset.name),
    };
    Err(crate::error::Error::invalid(
        "issuer",
        issuer.as_str(),
        format!(
            "{whose}: leave --issuer out, or give one of {}",
            preset.issuers.join(", ")
        ),
    ))
}

/// The preset whose issuer `issuer` is, if any. A self-hosted Pulumi Cloud is not recognised.
pub fn find(issuer: &Issuer) -> Option<&'static Preset> {
    ALL.iter().copied().find(|preset| (preset.matches)(issuer))
}

impl Preset {
    /// The preset as `oidc-gen issuers` prints it.
    pub fn describe(&self) -> String {
        let list = |items: &[&str]| match items {
            [] => "none".to_owned(),
            items => items.join(", "),
        };
        let rows = [
            ("issuer", list(self.issuers)),
            ("audience", self.audience.to_owned()),
            ("subject", self.subject.to_owned()),
            ("subject fields", list(self.subject_fields)),
            ("escaping", self.escaping.to_owned()),
            (
                "condition keys",
                ["aud", "sub"]
                    .iter()
                    .chain(self.mapped_claims)
                    .copied()
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            (
                "required claim",
                self.required_claim
                    .map_or("none known".to_owned(), str::to_owned),
            ),
            ("consumer", self.consumer.to_owned()),
        ];
        let mut text = format!("{} ({})\n", self.name, self.id);
        for (label, value) in rows {
            text.push_str(&format!("  {label:<15} {value}\n"));
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issuer(url: &str) -> Issuer {
        Issuer::parse(url).unwrap()
    }

    #[test]
    fn each_issuer_url_finds_its_preset() {
        for (url, id) in [
            ("https://api.pulumi.com/oidc", Some("pulumi")),
            (
                "https://token.actions.githubusercontent.com",
                Some("github"),
            ),
            (
                "https://token.actions.githubusercontent.com/acme",
                Some("github"),
            ),
            ("https://token.actions.acme.ghe.com", Some("github")),
            ("https://gitlab.com", Some("gitlab")),
            ("https://app.terraform.io", Some("hcp_terraform")),
            ("https://agent.buildkite.com", Some("buildkite")),
            ("https://oidc.circleci.com/org/0f3e", Some("circleci")),
            (
                "https://api.bitbucket.org/2.0/workspaces/w/pipelines-config/identity/oidc",
                Some("bitbucket"),
            ),
            ("https://pulumi.example.com/oidc", None),
            ("https://gitlab.example.com", None),
            ("https://evil.ghe.com", None),
            ("https://token.actions.githubusercontent.com.evil.com", None),
            ("https://token.actions.githubusercontent.com:8443", None),
            ("https://token.actions.githubusercontent.com/a/b", None),
        ] {
            assert_eq!(find(&issuer(url)).map(|p| p.id), id, "{url}");
        }
    }

    #[test]
    fn every_preset_is_whole_and_its_own() {
        let mut ids: Vec<&str> = ALL.iter().map(|p| p.id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), ALL.len(), "two presets share an id");
        for preset in ALL {
            assert!(!preset.issuers.is_empty() && !preset.subject_fields.is_empty());
            // Each preset's first issuer URL, with its variable parts filled in, is its own.
            let url = preset.issuers[0]
                .replace("<org-id>", "0f3e")
                .replace("<workspace>", "w");
            assert_eq!(find(&issuer(&url)).map(|p| p.id), Some(preset.id), "{url}");
            assert!(preset.describe().starts_with(preset.name));
        }
    }
}
