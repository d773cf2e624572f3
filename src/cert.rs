//! The certificate AWS pins: which one of the chain the server sent, its SHA-1, and how the chain
//! report describes a certificate.

use rustls_pki_types::CertificateDer;
use serde::Serialize;
use sha1::{Digest, Sha1};
use x509_parser::prelude::{FromDer, X509Certificate};

/// The certificate whose SHA-1 is the thumbprint: the last one the server sent, which is the top
/// intermediate or, when the server sends it, the root. `chain` is in server order, leaf first.
pub fn thumbprint_certificate<'a>(
    chain: &'a [CertificateDer<'a>],
) -> Option<&'a CertificateDer<'a>> {
    chain.last()
}

/// Lowercase hex SHA-1 of a certificate's DER encoding, as IAM stores thumbprints.
pub fn sha1_hex(der: &[u8]) -> String {
    Sha1::digest(der)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A certificate as the chain report shows it.
#[derive(Debug, Clone, Serialize)]
pub struct CertificateInfo {
    /// The subject's distinguished name.
    pub subject: String,
    /// The issuer's distinguished name.
    pub issuer: String,
    /// The end of its validity, RFC 3339 in UTC.
    pub not_after: String,
    /// Lowercase hex SHA-1 of its DER encoding.
    pub sha1: String,
}

/// Describes a certificate for the report; one that cannot be parsed is shown by its hash alone.
pub fn describe_certificate(der: &CertificateDer<'_>) -> CertificateInfo {
    let sha1 = sha1_hex(der);
    match X509Certificate::from_der(der) {
        Ok((_, cert)) => {
            let not_after = cert.validity().not_after.to_datetime();
            CertificateInfo {
                subject: cert.subject().to_string(),
                issuer: cert.issuer().to_string(),
                not_after: format!(
                    "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
                    not_after.year(),
                    u8::from(not_after.month()),
                    not_after.day(),
                    not_after.hour(),
                    not_after.minute(),
                    not_after.second()
                ),
                sha1,
            }
        }
        Err(e) => CertificateInfo {
            subject: format!("(unparsable certificate: {e})"),
            issuer: String::new(),
            not_after: String::new(),
            sha1,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_certificate_sent_is_selected() {
        let chain = [
            CertificateDer::from(vec![1u8]),
            CertificateDer::from(vec![2u8]),
            CertificateDer::from(vec![3u8]),
        ];
        assert_eq!(thumbprint_certificate(&chain).unwrap().as_ref(), &[3u8]);
        assert!(thumbprint_certificate(&[]).is_none());
    }

    #[test]
    fn sha1_is_lowercase_hex() {
        // SHA-1("abc") from FIPS 180-2, appendix A.1.
        assert_eq!(sha1_hex(b"abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
    }
}
