//! oidc-gen generates reviewable infrastructure code for Pulumi Cloud's OIDC issuer on AWS: an IAM
//! OpenID Connect provider, an IAM role that trusts it, and the Pulumi ESC environment that logs in
//! with that role, as Terraform, CloudFormation, Pulumi YAML and ESC files. It never calls AWS.
//!
//! The pipeline reads top to bottom: a role's fields ([`role::RoleFields`], from the flags or a
//! [`spec`]) → [`request::Request`] → [`request::Inputs`] (validated, with the trust statements of
//! [`claims`]) → a [`plan::Plan`] of roles in accounts → its formats and notes → thumbprints
//! ([`thumbprint::lookup`], unless given or omitted) → [`context::Model`] → [`render::Renderer`]
//! → [`output::write_all`] or [`output::check`]. [`simulate`] evaluates a token against a trust
//! policy the way IAM does.

#![deny(missing_docs)]

pub mod bounded;
pub mod cert;
pub mod claims;
pub mod clouds;
pub mod confined;
pub mod connect;
pub mod context;
pub mod discovery;
pub mod error;
pub mod escape;
pub mod issuer;
pub mod issuers;
pub mod lint;
pub mod output;
pub mod pins;
pub mod plan;
pub mod policy;
pub mod render;
pub mod request;
pub mod role;
pub mod session;
pub mod shown;
pub mod simulate;
pub mod spec;
pub mod thumbprint;
pub mod tls;
pub mod trust;

use std::path::PathBuf;
use std::time::Duration;

pub use error::{Error, Result};
use issuer::Issuer;
use render::{Format, RenderedFile};
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
