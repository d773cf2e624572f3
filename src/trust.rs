//! The trust anchors every TLS connection is verified against: the system's roots (which honour
//! `SSL_CERT_FILE` and `SSL_CERT_DIR`) plus those of `--ca-file`. Verification is never turned off.

use std::path::Path;
use std::sync::Arc;

use rustls::RootCertStore;
use rustls::crypto::CryptoProvider;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

use crate::error::{Error, Result};

/// The certificates TLS connections to the issuer are verified against.
#[derive(Debug, Clone)]
pub struct TrustAnchors {
    certs: Arc<Vec<CertificateDer<'static>>>,
}

impl TrustAnchors {
    /// The system's roots, plus every certificate in the PEM file `ca_file`.
    pub fn load(ca_file: Option<&Path>) -> Result<Self> {
        let mut certs = rustls_native_certs::load_native_certs().certs;
        if let Some(path) = ca_file {
            certs.extend(read_pem_certificates(path)?);
        }
        Ok(TrustAnchors {
            certs: Arc::new(certs),
        })
    }

    /// The anchors as a rustls root store.
    pub fn root_store(&self) -> RootCertStore {
        let mut store = RootCertStore::empty();
        store.add_parsable_certificates(self.certs.iter().cloned());
        store
    }

    /// The anchors in the form ureq takes.
    pub fn ureq_roots(&self) -> ureq::tls::RootCerts {
        self.certs
            .iter()
            .map(|der| ureq::tls::Certificate::from_der(der.as_ref()).to_owned())
            .into()
    }
}

/// The one crypto provider of the process (ring, as ureq uses), passed explicitly everywhere.
pub fn crypto_provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn read_pem_certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>> {
    let ca_error = |reason: String| Error::CaFile {
        path: path.to_path_buf(),
        reason,
    };
    let bytes =
        std::fs::read(path).map_err(|e| ca_error(format!("{e}; give a readable PEM file")))?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| {
            ca_error(format!(
                "not valid PEM ({e}); give PEM certificates (-----BEGIN CERTIFICATE-----)"
            ))
        })?;
    if certs.is_empty() {
        return Err(ca_error(
            "it holds no PEM certificate; give a file with -----BEGIN CERTIFICATE----- blocks"
                .into(),
        ));
    }
    Ok(certs)
}
