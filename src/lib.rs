//! oidc-gen generates reviewable infrastructure code for Pulumi Cloud's OIDC issuer on AWS: an IAM
//! OpenID Connect provider, an IAM role that trusts it, and the Pulumi ESC environment that logs in
//! with that role, as Terraform, CloudFormation, Pulumi YAML and ESC files. It never calls AWS.
//!
//! The pipeline reads top to bottom: [`model::Request`] → [`model::Inputs`] (validated) →
//! thumbprints ([`thumbprint::lookup`], unless given or omitted) → [`model::Model`] →
//! [`render::Renderer`] → [`output::write_all`] or [`output::check`].

#![deny(missing_docs)]

pub mod connect;
pub mod discovery;
pub mod error;
pub mod escape;
pub mod model;
pub mod output;
pub mod render;
pub mod thumbprint;
pub mod tls;
pub mod trust;

use std::path::PathBuf;
use std::time::Duration;

pub use error::{Error, Result};
use model::{Inputs, ThumbprintChoice};
use render::{Format, RenderedFile, Renderer};
use thumbprint::Report;
use trust::TrustAnchors;

/// How to reach the issuer for a live thumbprint.
#[derive(Debug, Clone)]
pub struct Network {
    /// Extra trust anchors, added to the system's.
    pub ca_file: Option<PathBuf>,
    /// The longest any one network step may take.
    pub timeout: Duration,
}

impl Network {
    /// Computes the issuer's thumbprints live.
    pub fn lookup(&self, issuer: &url::Url) -> Result<Report> {
        let anchors = TrustAnchors::load(self.ca_file.as_deref())?;
        thumbprint::lookup(issuer, &anchors, self.timeout)
    }
}

/// Which formats were asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// Every format; the ESC environment only when an account id is known.
    All,
    /// Exactly these formats.
    Only(Vec<Format>),
}

/// The files to write, and what the live look-up found.
#[derive(Debug, Clone)]
pub struct Generation {
    /// The rendered files, in [`Format::ALL`] order.
    pub files: Vec<RenderedFile>,
    /// The chain report, when the thumbprints were computed live.
    pub report: Option<Report>,
}

/// Decides the formats to render. Asking for ESC by name without an account id is an error; with
/// `all` it is left out with a note.
pub fn plan(selection: &Selection, inputs: &Inputs) -> Result<(Vec<Format>, Vec<String>)> {
    let mut notes = Vec::new();
    let formats = match selection {
        Selection::Only(formats) => {
            if formats.contains(&Format::Esc) && !inputs.has_account_id() {
                return Err(Error::Usage(
                    "--format esc needs --account-id: the ESC environment names the role by its ARN \
                     (aws sts get-caller-identity shows the account id)"
                        .into(),
                ));
            }
            Format::ALL
                .into_iter()
                .filter(|f| formats.contains(f))
                .collect()
        }
        Selection::All if inputs.has_account_id() => Format::ALL.to_vec(),
        Selection::All => {
            notes.push(
                "esc/environment.yaml was not written: it needs the role's ARN. Pass --account-id, or after \
                 terraform apply take it from: terraform output -raw esc_environment"
                    .into(),
            );
            Format::ALL
                .into_iter()
                .filter(|f| *f != Format::Esc)
                .collect()
        }
    };
    if inputs.policy_count() > model::POLICY_ATTACHMENTS.0 {
        notes.push(format!(
            "the role gets {} managed policies; IAM attaches at most {} unless the account's quota was raised",
            inputs.policy_count(),
            model::POLICY_ATTACHMENTS.0
        ));
    }
    if inputs.uses_existing_provider() {
        notes.push(format!(
            "the role trusts the account's existing OIDC provider for the issuer. Pulumi ESC tokens carry \
             two audiences that the provider must list as client IDs; add any it lacks with:\n  {}",
            inputs.add_client_id_commands().join("\n  ")
        ));
    }
    Ok((formats, notes))
}

/// Resolves the thumbprints (live when asked) and renders `formats`.
pub fn generate(inputs: &Inputs, formats: &[Format], network: &Network) -> Result<Generation> {
    let (thumbprints, report) = match &inputs.thumbprints {
        ThumbprintChoice::Given(given) => (given.clone(), None),
        ThumbprintChoice::Omit => (Vec::new(), None),
        ThumbprintChoice::Live => {
            let report = network.lookup(&inputs.issuer)?;
            (report.thumbprints.clone(), Some(report))
        }
    };
    let model = inputs.model(&thumbprints);
    let renderer = Renderer::new(inputs.templates());
    let files = formats
        .iter()
        .map(|format| renderer.render(*format, &model))
        .collect::<Result<Vec<_>>>()?;
    Ok(Generation { files, report })
}
