//! The TLS handshake with an issuer host, verified against the trust anchors, and the chain of
//! certificates the server sent, in the order it sent them.

use std::io;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::{
    ClientConfig, ClientConnection, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use url::{Host, Url};

use crate::cert::describe_certificate;
use crate::connect::{Route, connect, host_and_port};
use crate::error::{Error, Result};
use crate::trust::{TrustAnchors, crypto_provider};

/// The certificates a server sent, and whether the public web PKI alone would trust them.
#[derive(Debug, Clone)]
pub struct PeerChain {
    /// The certificates in the order the server sent them, leaf first.
    pub certificates: Vec<CertificateDer<'static>>,
    /// Whether the chain also verifies against the public web roots (Mozilla's, as webpki-roots
    /// ships them), rather than only through a user-supplied or system-local anchor.
    pub publicly_trusted: bool,
}

/// Connects to `url`'s host and port (through the environment's proxy, if any), completes a
/// verified TLS handshake with SNI, and returns the chain the server sent.
pub fn fetch_chain(url: &Url, anchors: &TrustAnchors, timeout: Duration) -> Result<PeerChain> {
    let (host, port) = host_and_port(url);
    let route = Route::for_url(url);
    let deadline = Instant::now() + timeout;
    let fail = |problem: String, hint: &'static str, source: Option<io::Error>| Error::Tls {
        host: host.clone(),
        port,
        problem: format!("{problem}{}", route.describe()),
        hint,
        source: source.map(|e| Box::new(e) as _),
    };
    let network_hint = "check the network (and HTTPS_PROXY, NO_PROXY), raise --timeout, or pass --thumbprint or --no-thumbprint";

    let server_name = server_name(url).map_err(|problem| fail(problem, "check the URL", None))?;
    let verifier = Arc::new(RecordingVerifier {
        inner: webpki_verifier(anchors.root_store()).map_err(|e| {
            fail(
                format!("no trust anchors are available ({e})"),
                "install the system CA certificates or pass --ca-file",
                None,
            )
        })?,
        seen: Mutex::new(Vec::new()),
    });
    let config = ClientConfig::builder_with_provider(crypto_provider())
        .with_safe_default_protocol_versions()
        .expect("ring supports the default protocol versions")
        .dangerous() // Only to record the chain: every decision is delegated to the WebPKI verifier.
        .with_custom_certificate_verifier(verifier.clone())
        .with_no_client_auth();

    let mut socket = connect(&route, &host, port, deadline).map_err(|e| {
        let problem = format!("cannot connect: {e}");
        fail(problem, network_hint, Some(e))
    })?;
    let mut connection = ClientConnection::new(Arc::new(config), server_name.clone())
        .map_err(|e| fail(format!("cannot start TLS: {e}"), "check the URL", None))?;
    while connection.is_handshaking() {
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            let problem = format!("the handshake took longer than {}s", timeout.as_secs());
            return Err(fail(problem, network_hint, None));
        }
        socket
            .set_read_timeout(Some(remaining))
            .and_then(|()| socket.set_write_timeout(Some(remaining)))
            .map_err(|e| fail(format!("cannot set a timeout: {e}"), network_hint, None))?;
        if let Err(e) = connection.complete_io(&mut socket) {
            let seen = verifier.seen.lock().expect("not poisoned").clone();
            return Err(handshake_error(e, &seen, timeout, &fail));
        }
    }
    let certificates: Vec<CertificateDer<'static>> = connection
        .peer_certificates()
        .map(|certs| certs.iter().map(|c| c.clone().into_owned()).collect())
        .unwrap_or_default();
    connection.send_close_notify();
    let _ = connection.complete_io(&mut socket);
    let Some((leaf, intermediates)) = certificates.split_first() else {
        return Err(fail(
            "the server sent no certificate".into(),
            "check the URL",
            None,
        ));
    };
    let publicly_trusted = webpki_verifier(public_roots()).is_ok_and(|public| {
        public
            .verify_server_cert(leaf, intermediates, &server_name, &[], UnixTime::now())
            .is_ok()
    });
    Ok(PeerChain {
        certificates,
        publicly_trusted,
    })
}

/// The TLS server name for a URL's host; IP literals are checked against IP SANs and send no SNI.
fn server_name(url: &Url) -> Result<ServerName<'static>, String> {
    match url.host() {
        Some(Host::Domain(domain)) => ServerName::try_from(domain.to_owned())
            .map_err(|e| format!("{domain:?} is not a valid TLS server name ({e})")),
        Some(Host::Ipv4(ip)) => Ok(ServerName::IpAddress(std::net::IpAddr::V4(ip).into())),
        Some(Host::Ipv6(ip)) => Ok(ServerName::IpAddress(std::net::IpAddr::V6(ip).into())),
        None => Err("the URL has no host".into()),
    }
}

fn webpki_verifier(
    roots: RootCertStore,
) -> Result<Arc<WebPkiServerVerifier>, rustls::client::VerifierBuilderError> {
    WebPkiServerVerifier::builder_with_provider(Arc::new(roots), crypto_provider()).build()
}

fn public_roots() -> RootCertStore {
    RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    }
}

fn handshake_error(
    error: io::Error,
    seen: &[CertificateDer<'static>],
    timeout: Duration,
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
            let sent = if sent.is_empty() {
                "nothing".to_owned()
            } else {
                sent.join("; ")
            };
            fail(
                format!(
                    "the server's certificate was refused: {}; it sent: {sent}",
                    refusal(&reason)
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
                format!(
                    "the server did not complete the handshake within {}s",
                    timeout.as_secs()
                ),
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

/// Why a certificate was refused, in words.
fn refusal(reason: &rustls::CertificateError) -> String {
    use rustls::CertificateError as Why;
    match reason {
        Why::UnknownIssuer => "no CA that oidc-gen trusts issued it".into(),
        Why::Expired | Why::ExpiredContext { .. } => "it has expired".into(),
        Why::NotValidYet | Why::NotValidYetContext { .. } => "it is not valid yet".into(),
        Why::NotValidForName | Why::NotValidForNameContext { .. } => {
            "it is not valid for this host name".into()
        }
        Why::Revoked => "it has been revoked".into(),
        other => format!("{other:?}"),
    }
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
