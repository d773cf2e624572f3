//! The provider thumbprint, exactly as AWS documents it: fetch the discovery document, connect with
//! TLS (and SNI) to the `jwks_uri` host, take the **last certificate the server sends**, and hash its
//! DER encoding with SHA-1. When the discovery document is on another host, that host's thumbprint
//! is added too, as current AWS guidance asks.

use std::io;
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::{ClientConfig, ClientConnection, DigitallySignedStruct, SignatureScheme};
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use serde::Serialize;
use sha1::{Digest, Sha1};
use url::{Host, Url};
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::discovery;
use crate::error::{Error, Result};
use crate::model::{MAX_THUMBPRINTS, dedup};
use crate::trust::{TrustAnchors, crypto_provider};

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

/// Computes the issuer's thumbprints live. Every connection is verified against `anchors`.
pub fn lookup(issuer: &Url, anchors: &TrustAnchors, timeout: Duration) -> Result<Report> {
    let discovery = discovery::fetch(issuer, anchors, timeout)?;
    let mut warnings = discovery.warnings;

    let mut targets = vec![("jwks_uri", &discovery.jwks_uri)];
    if host_and_port(&discovery.document_url) != host_and_port(&discovery.jwks_uri) {
        targets.push(("discovery", &discovery.document_url));
    }

    let mut endpoints = Vec::new();
    let mut thumbprints = Vec::new();
    for (purpose, url) in targets {
        let (host, port) = host_and_port(url);
        let chain = fetch_chain(url, anchors, timeout)?;
        let selected =
            thumbprint_certificate(&chain).expect("a verified TLS connection has a certificate");
        thumbprints.push(sha1_hex(selected));
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

    let thumbprints = dedup(thumbprints);
    if thumbprints.len() > MAX_THUMBPRINTS {
        return Err(Error::Discovery {
            issuer: issuer.as_str().trim_end_matches('/').to_owned(),
            problem: format!("it needs {} thumbprints", thumbprints.len()),
            hint: "IAM accepts at most 5; pass the ones to keep with --thumbprint",
            source: None,
        });
    }
    Ok(Report {
        issuer: issuer.as_str().trim_end_matches('/').to_owned(),
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

fn host_and_port(url: &Url) -> (String, u16) {
    let host = match url.host() {
        Some(Host::Ipv6(ip)) => ip.to_string(),
        Some(host) => host.to_string(),
        None => String::new(),
    };
    (host, url.port_or_known_default().unwrap_or(443))
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

/// Connects to `url`'s host and port, completes a verified TLS handshake with SNI, and returns the
/// certificates the server sent, in server order.
pub fn fetch_chain(
    url: &Url,
    anchors: &TrustAnchors,
    timeout: Duration,
) -> Result<Vec<CertificateDer<'static>>> {
    let (host, port) = host_and_port(url);
    let deadline = Instant::now() + timeout;
    let fail = |problem: String, hint: &'static str, source: Option<io::Error>| Error::Tls {
        host: host.clone(),
        port,
        problem,
        hint,
        source: source.map(|e| Box::new(e) as _),
    };
    let network_hint = "check the network (and HTTPS_PROXY), raise --timeout, or pass --thumbprint or --no-thumbprint";

    let server_name = match url.host() {
        Some(Host::Domain(domain)) => ServerName::try_from(domain.to_owned()).map_err(|e| {
            fail(
                format!("{domain:?} is not a valid TLS server name ({e})"),
                "check the URL",
                None,
            )
        })?,
        Some(Host::Ipv4(ip)) => ServerName::IpAddress(std::net::IpAddr::V4(ip).into()),
        Some(Host::Ipv6(ip)) => ServerName::IpAddress(std::net::IpAddr::V6(ip).into()),
        None => return Err(fail("the URL has no host".into(), "check the URL", None)),
    };

    let provider = crypto_provider();
    let inner = WebPkiServerVerifier::builder_with_provider(
        Arc::new(anchors.root_store()),
        provider.clone(),
    )
    .build()
    .map_err(|e| {
        fail(
            format!("no trust anchors are available ({e})"),
            "install the system CA certificates or pass --ca-file",
            None,
        )
    })?;
    let verifier = Arc::new(RecordingVerifier {
        inner,
        seen: Mutex::new(Vec::new()),
    });
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("ring supports the default protocol versions")
        .dangerous() // Only to record the chain: every decision is delegated to the WebPKI verifier.
        .with_custom_certificate_verifier(verifier.clone())
        .with_no_client_auth();

    let mut socket = connect(&host, port, deadline).map_err(|e| {
        let problem = format!("cannot connect: {e}");
        fail(problem, network_hint, Some(e))
    })?;
    let mut connection = ClientConnection::new(Arc::new(config), server_name)
        .map_err(|e| fail(format!("cannot start TLS: {e}"), "check the URL", None))?;
    while connection.is_handshaking() {
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Err(fail(
                format!("the handshake took longer than {timeout:?}"),
                network_hint,
                None,
            ));
        }
        socket
            .set_read_timeout(Some(remaining))
            .and_then(|()| socket.set_write_timeout(Some(remaining)))
            .map_err(|e| fail(format!("cannot set a timeout: {e}"), network_hint, None))?;
        if let Err(e) = connection.complete_io(&mut socket) {
            return Err(handshake_error(
                e,
                &verifier.seen.lock().expect("not poisoned"),
                &fail,
            ));
        }
    }
    let chain: Vec<CertificateDer<'static>> = connection
        .peer_certificates()
        .map(|certs| certs.iter().map(|c| c.clone().into_owned()).collect())
        .unwrap_or_default();
    connection.send_close_notify();
    let _ = connection.complete_io(&mut socket);
    if chain.is_empty() {
        return Err(fail(
            "the server sent no certificate".into(),
            "check the URL",
            None,
        ));
    }
    Ok(chain)
}

fn handshake_error(
    error: io::Error,
    seen: &[CertificateDer<'static>],
    fail: &dyn Fn(String, &'static str, Option<io::Error>) -> Error,
) -> Error {
    let tls_error = error
        .get_ref()
        .and_then(|e| e.downcast_ref::<rustls::Error>())
        .cloned();
    match tls_error {
        Some(rustls::Error::InvalidCertificate(reason)) => {
            let sent: Vec<String> = seen
                .iter()
                .map(|der| {
                    let info = describe_certificate(der);
                    format!(
                        "{} (issued by {}, expires {}, sha1 {})",
                        info.subject, info.issuer, info.not_after, info.sha1
                    )
                })
                .collect();
            fail(
                format!(
                    "the server's certificate was refused ({reason:?}); it sent: {}",
                    if sent.is_empty() {
                        "nothing".into()
                    } else {
                        sent.join("; ")
                    }
                ),
                "if the issuer uses a private CA, pass that CA with --ca-file; verification is never skipped",
                None,
            )
        }
        Some(other) => fail(
            format!("TLS error: {other}"),
            "check the URL and that the server speaks TLS 1.2 or 1.3",
            None,
        ),
        None if matches!(
            error.kind(),
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
        ) =>
        {
            fail(
                "the server did not complete the handshake in time".into(),
                "check the URL and the network, or raise --timeout",
                Some(error),
            )
        }
        None => {
            let problem = format!("the handshake failed: {error}");
            fail(
                problem,
                "check the URL and that the server speaks TLS",
                Some(error),
            )
        }
    }
}

/// A TCP connection to the first address of `host` that answers before `deadline`.
fn connect(host: &str, port: u16, deadline: Instant) -> io::Result<TcpStream> {
    let mut last_error = io::Error::new(io::ErrorKind::NotFound, format!("{host} has no address"));
    for address in (host, port).to_socket_addrs()? {
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "timed out connecting",
            ));
        }
        match TcpStream::connect_timeout(&address, remaining) {
            Ok(stream) => return Ok(stream),
            Err(e) => last_error = e,
        }
    }
    Err(last_error)
}

/// Delegates every decision to the WebPKI verifier and remembers the chain it was shown, so that a
/// refused server's chain can be reported.
#[derive(Debug)]
struct RecordingVerifier {
    inner: Arc<WebPkiServerVerifier>,
    seen: Mutex<Vec<CertificateDer<'static>>>,
}

impl ServerCertVerifier for RecordingVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        *self.seen.lock().expect("not poisoned") = std::iter::once(end_entity)
            .chain(intermediates)
            .map(|c| c.clone().into_owned())
            .collect();
        self.inner
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
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
