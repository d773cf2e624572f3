//! The provider thumbprint, exactly as AWS documents it: fetch the discovery document, connect with
//! TLS (and SNI) to the `jwks_uri` host, take the **last certificate the server sends**, and hash its
//! DER encoding with SHA-1. When the discovery document is on another host, that host's thumbprint
//! is added too, as current AWS guidance asks.

use std::time::Duration;

use serde::Serialize;

pub use crate::cert::{CertificateInfo, describe_certificate, sha1_hex, thumbprint_certificate};
use crate::connect::host_and_port;
use crate::discovery;
use crate::error::{Error, Result};
use crate::issuer::Issuer;
use crate::session::Session;
use crate::trust::TrustAnchors;

/// IAM accepts at most this many thumbprints per OIDC provider.
pub const MAX_THUMBPRINTS: usize = 5;

/// What a live look-up found: the thumbprints and the chains they come from.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The issuer URL.
    pub issuer: String,
    /// The `jwks_uri` of its discovery document.
    pub jwks_uri: String,
    /// The thumbprints, lowercase hex, the `jwks_uri` host's first.
    pub thumbprints: Vec<String>,
    /// Each TLS endpoint the thumbprints come from.
    pub endpoints: Vec<Endpoint>,
    /// Things that work but deserve the user's attention.
    pub warnings: Vec<String>,
}

/// One TLS endpoint and the chain it sent.
#[derive(Debug, Clone, Serialize)]
pub struct Endpoint {
    /// Why it was contacted: `jwks_uri` or `discovery`.
    pub purpose: &'static str,
    /// The host name or IP address.
    pub host: String,
    /// The port.
    pub port: u16,
    /// The certificates in the order the server sent them, leaf first.
    pub chain: Vec<CertificateInfo>,
    /// The index in `chain` of the certificate the thumbprint is taken from.
    pub selected: usize,
}

/// Computes the issuer's thumbprints live. Every connection is verified against `anchors`.
pub fn lookup(issuer: &Issuer, anchors: &TrustAnchors, timeout: Duration) -> Result<Report> {
    let session = Session::new(anchors.clone(), timeout);
    let discovery = discovery::fetch(issuer, &session)?;
    let mut warnings = discovery.warnings;

    let mut targets = vec![("jwks_uri", &discovery.jwks_uri)];
    if host_and_port(&discovery.document_url) != host_and_port(&discovery.jwks_uri) {
        targets.push(("discovery", &discovery.document_url));
    }

    let mut endpoints = Vec::new();
    let mut thumbprints = Vec::new();
    for (purpose, url) in targets {
        let (host, port) = host_and_port(url);
        let peer = session.chain(url)?;
        let chain = peer.certificates;
        let selected =
            thumbprint_certificate(&chain).expect("a verified TLS connection has a certificate");
        thumbprints.push(sha1_hex(selected));
        if !peer.publicly_trusted {
            warnings.push(format!(
                "{host}:{port}'s chain is trusted only through a CA you supplied (--ca-file, SSL_CERT_FILE or the \
                 system store), not through the public web roots. If the issuer is public, this looks like TLS \
                 interception: AWS connects directly and will see another chain, so do not use this thumbprint \
                 (use --no-thumbprint, or run oidc-gen thumbprint where traffic is not intercepted)"
            ));
        }
        if chain.len() == 1 {
            warnings.push(format!(
                "{host}:{port} sent only its own (leaf) certificate, so the thumbprint pins the leaf and will break \
                 when it is renewed; ask the issuer's operator to send the intermediate, or use --no-thumbprint"
            ));
        }
        endpoints.push(Endpoint {
            purpose,
            host,
            port,
            selected: chain.len() - 1,
            chain: chain.iter().map(|der| describe_certificate(der)).collect(),
        });
    }

    let mut seen = Vec::new();
    thumbprints.retain(|t| {
        let first = !seen.contains(t);
        seen.push(t.clone());
        first
    });
    if thumbprints.len() > MAX_THUMBPRINTS {
        return Err(Error::Limit(format!(
            "{issuer} needs {} thumbprints, but IAM accepts at most {MAX_THUMBPRINTS} per provider; pass the \
             ones to keep with --thumbprint, or --no-thumbprint",
            thumbprints.len()
        )));
    }
    Ok(Report {
        issuer: issuer.to_string(),
        jwks_uri: discovery.jwks_uri.to_string(),
        thumbprints,
        endpoints,
        warnings,
    })
}

impl Report {
    /// The chain report for humans: each endpoint's certificates and which one was selected.
    pub fn describe(&self) -> String {
        let mut text = String::new();
        for endpoint in &self.endpoints {
            text.push_str(&format!(
                "{} host {}:{} sent {} certificate(s), in server order:\n",
                endpoint.purpose,
                endpoint.host,
                endpoint.port,
                endpoint.chain.len()
            ));
            for (index, cert) in endpoint.chain.iter().enumerate() {
                let marker = if index == endpoint.selected {
                    "  <- thumbprint (last certificate sent)"
                } else {
                    ""
                };
                text.push_str(&format!(
                    "  [{index}] subject: {}\n      issuer:  {}\n      expires: {}\n      sha1:    {}{marker}\n",
                    cert.subject, cert.issuer, cert.not_after, cert.sha1
                ));
            }
        }
        text
    }
}
