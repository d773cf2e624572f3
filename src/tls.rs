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
    let route = Route::for_url(url);
    let deadline = Instant::now() + timeout;
    let (mut connection, handshake) = Handshake::start(url, anchors, timeout, &route)?;
    let network_hint = "check the network (and HTTPS_PROXY, NO_PROXY), raise --timeout, or pass --thumbprint or --no-thumbprint";
    let mut socket = connect(&route, &handshake.host, handshake.port, deadline).map_err(|e| {
        let problem = format!("cannot connect: {e}");
        handshake.fail(problem, network_hint, Some(e))
    })?;
    while connection.is_handshaking() {
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            let problem = format!(
                "{}:{} did not complete the handshake within {} s",
                handshake.host,
                handshake.port,
                timeout.as_secs()
            );
            return Err(handshake.fail(problem, network_hint, None));
        }
        socket
            .set_read_timeout(Some(remaining))
            .and_then(|()| socket.set_write_timeout(Some(remaining)))
            .map_err(|e| {
                handshake.fail(format!("cannot set a timeout: {e}"), network_hint, None)
            })?;
        if let Err(e) = connection.complete_io(&mut socket) {
            return Err(handshake.refusal(&e));
        }
    }
    let chain = handshake.finish(&connection);
    connection.send_close_notify();
    let _ = connection.complete_io(&mut socket);
    chain
}

/// One TLS handshake with an issuer host: the names it uses, and the verifier that records the
/// chain the server shows, for the report or for the error when it is refused.
pub(crate) struct Handshake {
    host: String,
    port: u16,
    server_name: ServerName<'static>,
    route: String,
    timeout: Duration,
    verifier: Arc<RecordingVerifier>,
}

impl Handshake {
    /// A client connection to `url`'s host, ready to run over any stream, and its handshake.
    pub(crate) fn start(
        url: &Url,
        anchors: &TrustAnchors,
        timeout: Duration,
        route: &Route,
    ) -> Result<(ClientConnection, Handshake)> {
        let (host, port) = host_and_port(url);
        let fail = |problem: String, hint: &'static str| Error::Tls {
            host: host.clone(),
            port,
            problem: format!("{problem}{}", route.describe()),
            hint,
            source: None,
        };
        let server_name = server_name(url).map_err(|problem| fail(problem, "check the URL"))?;
        let (config, verifier) = recording_config(anchors);
        let connection = ClientConnection::new(config, server_name.clone())
            .map_err(|e| fail(format!("cannot start TLS: {e}"), "check the URL"))?;
        let handshake = Handshake {
            host,
            port,
            server_name,
            route: route.describe(),
            timeout,
            verifier,
        };
        Ok((connection, handshake))
    }

    /// The error for a handshake that failed with `error`, showing the chain a refused server sent.
    pub(crate) fn refusal(&self, error: &io::Error) -> Error {
        handshake_error(error, &self.verifier.seen(), self)
    }

    /// The chain of a completed handshake.
    pub(crate) fn finish(&self, connection: &ClientConnection) -> Result<PeerChain> {
        let certificates: Vec<CertificateDer<'static>> = connection
            .peer_certificates()
            .map(|certs| certs.iter().map(|c| c.clone().into_owned()).collect())
            .unwrap_or_default();
        PeerChain::new(certificates, &self.server_name).ok_or_else(|| {
            self.fail(
                "the server sent no certificate".into(),
                "check the URL",
                None,
            )
        })
    }

    fn fail(&self, problem: String, hint: &'static str, source: Option<io::Error>) -> Error {
        Error::Tls {
            host: self.host.clone(),
            port: self.port,
            problem: format!("{problem}{}", self.route),
            hint,
            source: source.map(|e| Box::new(e) as _),
        }
    }
}

impl PeerChain {
    /// The chain a verified server sent; `None` when it sent none.
    fn new(certificates: Vec<CertificateDer<'static>>, name: &ServerName<'_>) -> Option<Self> {
        let (leaf, intermediates) = certificates.split_first()?;
        let publicly_trusted = webpki_verifier(public_roots()).is_ok_and(|public| {
            public
                .verify_server_cert(leaf, intermediates, name, &[], UnixTime::now())
                .is_ok()
        });
        Some(PeerChain {
            certificates,
            publicly_trusted,
        })
    }
}

/// A client configuration that verifies against `anchors` and records the chain it was shown.
fn recording_config(anchors: &TrustAnchors) -> (Arc<ClientConfig>, Arc<RecordingVerifier>) {
    let verifier = Arc::new(RecordingVerifier {
        anchors: anchors.clone(),
        provider: crypto_provider(),
        seen: Mutex::new(Vec::new()),
    });
    let config = ClientConfig::builder_with_provider(crypto_provider())
        .with_safe_default_protocol_versions()
        .expect("ring supports the default protocol versions")
        .dangerous() // Only to record the chain: every decision is delegated to the WebPKI verifier.
        .with_custom_certificate_verifier(verifier.clone())
        .with_no_client_auth();
    (Arc::new(config), verifier)
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
    error: &io::Error,
    seen: &[CertificateDer<'static>],
    handshake: &Handshake,
) -> Error {
    let fail = |problem, hint, source| handshake.fail(problem, hint, source);
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
        ) || error
            .get_ref()
            .and_then(|e| e.downcast_ref::<ureq::Error>())
            .is_some_and(|e| matches!(e, ureq::Error::Timeout(_))) =>
        {
            fail(
                format!(
                    "{}:{} did not complete the handshake within {} s",
                    handshake.host,
                    handshake.port,
                    handshake.timeout.as_secs()
                ),
                "check the URL and the network, or raise --timeout",
                None,
            )
        }
        None => {
            let problem = format!("the handshake failed: {error}");
            fail(
                problem,
                "check the URL and that the server speaks TLS",
                None,
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

/// Verifies a chain with the WebPKI verifier and remembers it, so that a refused server's chain
/// can be reported. The verifier gets the anchors that can have issued a certificate of the chain
/// (those whose encoding holds the issuer's name, which WebPKI compares byte for byte), so that only
/// those few are parsed, from each [`Scope`](crate::trust::Scope) in turn until one accepts the chain.
#[derive(Debug)]
struct RecordingVerifier {
    anchors: TrustAnchors,
    provider: Arc<rustls::crypto::CryptoProvider>,
    seen: Mutex<Vec<CertificateDer<'static>>>,
}

impl RecordingVerifier {
    /// The chain of the last certificate check, leaf first.
    fn seen(&self) -> Vec<CertificateDer<'static>> {
        self.seen.lock().expect("not poisoned").clone()
    }
}

/// The raw issuer names of a chain's certificates.
fn issuer_names(chain: &[CertificateDer<'_>]) -> Vec<Vec<u8>> {
    use x509_parser::prelude::{FromDer, X509Certificate};
    chain
        .iter()
        .filter_map(|der| X509Certificate::from_der(der).ok())
        .map(|(_, cert)| cert.issuer().as_raw().to_vec())
        .collect()
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
        let chain: Vec<CertificateDer<'static>> = std::iter::once(end_entity)
            .chain(intermediates)
            .map(|c| c.clone().into_owned())
            .collect();
        *self.seen.lock().expect("not poisoned") = chain.clone();
        let issuers = issuer_names(&chain);
        let verify = |store: RootCertStore| match webpki_verifier(store) {
            Ok(verifier) => verifier.verify_server_cert(
                end_entity,
                intermediates,
                server_name,
                ocsp_response,
                now,
            ),
            // No anchor could have issued the chain.
            Err(_) => Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::UnknownIssuer,
            )),
        };
        // Each scope holds the one before, so a later one never refuses what an earlier accepts.
        let mut verdict = Err(rustls::Error::InvalidCertificate(
            rustls::CertificateError::UnknownIssuer,
        ));
        for scope in self.anchors.scopes() {
            verdict = verify(self.anchors.issuers_of(&issuers, scope));
            if verdict.is_ok() {
                break;
            }
        }
        verdict
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}
