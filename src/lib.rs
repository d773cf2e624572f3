//! oidc-gen generates reviewable infrastructure code for Pulumi Cloud's OIDC issuer on AWS: an IAM
//! OpenID Connect provider, an IAM role that trusts it, and the Pulumi ESC environment that logs in
//! with that role, as Terraform, CloudFormation, Pulumi YAML and ESC files. It never calls AWS.
//!
//! The pipeline reads top to bottom: [`request::Request`] → [`request::Inputs`] (validated, with
//! the trust statements of [`claims`]) → thumbprints ([`thumbprint::lookup`], unless given or
//! omitted) → [`context::Model`] → [`render::Renderer`] → [`output::write_all`] or
//! [`output::check`]. [`simulate`] evaluates a token against a trust policy the way IAM does.

#![deny(missing_docs)]

pub mod bounded;
pub mod cert;
pub mod claims;
pub mod confined;
pub mod connect;
pub mod context;
pub mod discovery;
pub mod error;
pub mod escape;
pub mod fleet;
pub mod issuer;
pub mod issuers;
pub mod output;
pub mod policy;
pub mod render;
pub mod request;
pub mod role;
pub mod session;
pub mod simulate;
pub mod spec;
pub mod thumbprint;
pub mod tls;
pub mod trust;

use std::path::PathBuf;
use std::time::Duration;

pub use error::{Error, Result};
use issuer::Issuer;
use render::{Format, RenderedFile, Renderer};
use request::{Inputs, ThumbprintChoice};
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
    pub fn lookup(&self, issuer: &Issuer) -> Result<Report> {
        let anchors = TrustAnchors::load(self.ca_file.as_deref())?;
        thumbprint::lookup(issuer, &anchors, self.timeout)
    }
}

/// Which formats were asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// Every format that applies: ESC and Deployments settings only when the role admits those
    /// tokens and an account id is known.
    All,
    /// Exactly these formats.
    Only(Vec<Format>),
}

/// The files to write, and what the live look-up found.
#[derive(Debug, Clone)]
pub struct Generation {
    /// The rendered files, in [`Format::all`] order.
    pub files: Vec<RenderedFile>,
    /// The chain report, when the thumbprints were computed live.
    pub report: Option<Report>,
}

/// Decides the formats to render, and the notes to show. A format asked for by name that cannot
/// be written is an error; with `all` it is left out, with a note when it could be had.
pub fn plan(selection: &Selection, inputs: &Inputs) -> Result<(Vec<Format>, Vec<String>)> {
    let mut notes = inputs.trust.notes.clone();
    let mut login_files = vec![
        (
            Format::Esc,
            inputs.admits_esc(),
            "the role admits no ESC tokens (give --env, or leave out --deploy)".to_owned(),
            "esc/environment.yaml was not written: it needs the role's ARN. Pass --account-id, or after \
             terraform apply take it from: terraform output -raw esc_environment"
                .to_owned(),
        ),
        (
            Format::Deployments,
            inputs.admits_deployments(),
            "the role admits no Deployments tokens (give --deploy PROJECT/STACK)".to_owned(),
            "deployments/settings.json was not written: it needs the role's ARN. Pass --account-id, or after \
             terraform apply take it from: terraform output -raw deployment_settings"
                .to_owned(),
        ),
    ];
    for format in Format::all() {
        if let Format::Ci(id) = format {
            let preset = issuers::ALL.iter().find(|p| p.id == id).expect("a preset");
            login_files.push((
                format,
                inputs.ci().is_some_and(|ci| ci.preset().id == id),
                format!("the role admits no tokens of {}", preset.name),
                format!(
                    "{} was not written: it needs the role's ARN. Pass --account-id, or after terraform apply \
                     take it from: terraform output -raw role_arn",
                    format.path()
                ),
            ));
        }
    }
    let formats = match selection {
        Selection::Only(formats) => {
            for (format, admitted, why_not, _) in &login_files {
                if !formats.contains(format) {
                    continue;
                }
                if !admitted {
                    return Err(Error::Usage(format!(
                        "--format {} cannot be written: {why_not}",
                        format.name()
                    )));
                }
                if !inputs.has_account_id() {
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
            for (format, admitted, _, missing_account) in login_files {
                if !admitted || !inputs.has_account_id() {
                    formats.retain(|f| *f != format);
                }
                if admitted && !inputs.has_account_id() {
                    notes.push(missing_account);
                }
            }
            formats
        }
    };
    if inputs.policy_count() > request::POLICY_ATTACHMENTS.0 {
        notes.push(format!(
            "the role gets {} managed policies; IAM attaches at most {} unless the account's quota was raised",
            inputs.policy_count(),
            request::POLICY_ATTACHMENTS.0
        ));
    }
    if inputs.uses_existing_provider() {
        notes.push(format!(
            "the role trusts the account's existing OIDC provider for the issuer. It must list the audiences \
             the tokens carry as client IDs; add any it lacks with:\n  {}",
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
            let report = network.lookup(&inputs.trust.issuer)?;
            (report.thumbprints.clone(), Some(report))
        }
    };
    let model = inputs.model(&thumbprints);
    let renderer = Renderer::new(inputs.templates());
    let files = formats
        .iter()
        .map(|format| match (format, inputs.ci(), inputs.role_arn()) {
            (Format::Ci(_), Some(ci), Some(arn)) => {
                let context = ci.context(&model.generator, &arn, format.path());
                renderer.render_as(format.template(), *format, format.path().into(), &context)
            }
            _ => renderer.render(*format, &model),
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Generation { files, report })
}
