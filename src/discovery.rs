//! Fetching and checking the issuer's OpenID Connect discovery document.

use std::time::Duration;

use serde::Deserialize;
use url::Url;

use crate::connect::Route;
use crate::error::{Error, Result};
use crate::issuer::Issuer;
use crate::session::Session;

/// At most this many redirects are followed, each to https only.
const MAX_REDIRECTS: u32 = 3;
/// A discovery document larger than this is refused (real ones are a few KiB).
const MAX_BODY_BYTES: u64 = 256 * 1024;
/// ureq's buffer for what the issuer sends: the response head must fit (it grows for the body).
const INPUT_BUFFER: usize = 32 * 1024;
/// ureq's buffer for the request: one GET and its headers.
const OUTPUT_BUFFER: usize = 8 * 1024;

/// The parts of a discovery document oidc-gen uses.
#[derive(Debug, Clone)]
pub struct Discovery {
    /// The URL the document was fetched from.
    pub document_url: Url,
    /// The `jwks_uri` it names.
    pub jwks_uri: Url,
    /// Things that work but deserve the user's attention.
    pub warnings: Vec<String>,
}

#[derive(Deserialize)]
struct Document {
    issuer: Option<String>,
    jwks_uri: Option<String>,
}

/// Fetches the issuer's discovery document over verified TLS and checks `issuer` and `jwks_uri`.
pub fn fetch(issuer: &Issuer, session: &Session) -> Result<Discovery> {
    let url = issuer.discovery_url();
    let route = crate::connect::Route::for_url(&url).describe();
    let issuer_text = issuer.as_str();
    let fail =
        |problem: String, hint: &'static str, source: Option<ureq::Error>| Error::Discovery {
            issuer: issuer_text.to_owned(),
            problem,
            hint,
            source: source.map(|e| Box::new(e) as _),
        };

    if let Some(problem) = Route::for_url(&url).unsupported() {
        return Err(fail(
            problem,
            "the handshake AWS documents needs a tunnel",
            None,
        ));
    }
    let timeout = session.timeout();
    let agent = session.agent(
        ureq::Agent::config_builder()
            // ureq zero-fills its buffers (128 KiB each by default) before the first request;
            // a discovery exchange needs far less, and every page written costs a fault.
            .input_buffer_size(INPUT_BUFFER)
            .output_buffer_size(OUTPUT_BUFFER)
            .https_only(true)
            .max_redirects(MAX_REDIRECTS)
            .http_status_as_error(false)
            .timeout_global(Some(timeout))
            .build(),
    );

    let mut response = agent
        .get(url.as_str())
        .header("Accept", "application/json")
        .call()
        .map_err(|e| {
            // A refused handshake is told with the chain the server sent.
            if let Some(refused) = session.take_refusal() {
                return refused;
            }
            let (problem, hint) = describe_request_error(&e, &url, timeout, "answer");
            fail(
                format!("GET {url}{route} failed: {problem}"),
                hint,
                cause(e),
            )
        })?;
    let status = response.status();
    if !status.is_success() {
        return Err(fail(
            format!("GET {url} returned HTTP {status}"),
            "check the issuer URL (Pulumi Cloud's is https://api.pulumi.com/oidc)",
            None,
        ));
    }
    let body = response
        .body_mut()
        .with_config()
        .limit(MAX_BODY_BYTES)
        .read_to_vec()
        .map_err(|e| {
            let (problem, hint) =
                describe_request_error(&e, &url, timeout, "send the whole document");
            fail(
                format!("reading {url}{route} failed: {problem}"),
                hint,
                cause(e),
            )
        })?;
    let document: Document = serde_json::from_slice(&body).map_err(|e| {
        fail(
            format!("{url} is not a JSON discovery document ({e})"),
            "check the issuer URL; it must serve /.well-known/openid-configuration",
            None,
        )
    })?;

    let mut warnings = Vec::new();
    match document.issuer.as_deref() {
        Some(named) if named == issuer_text => {}
        Some(named) if named.trim_end_matches('/') == issuer_text => warnings.push(format!(
            "the discovery document names the issuer {named:?}, which differs from {issuer_text:?} only by a trailing \
             slash; tokens carry the document's form, so check which one IAM should trust"
        )),
        Some(named) => {
            return Err(fail(
                format!("{url} names another issuer, {named:?}"),
                "pass the issuer exactly as the document names it",
                None,
            ));
        }
        None => {
            return Err(fail(
                format!("{url} has no \"issuer\" field"),
                "check the issuer URL; this is not an OpenID Connect discovery document",
                None,
            ));
        }
    }
    let jwks = document.jwks_uri.ok_or_else(|| {
        fail(
            format!("{url} has no \"jwks_uri\" field"),
            "the issuer must publish its signing keys; check the issuer URL",
            None,
        )
    })?;
    let jwks_uri = Url::parse(&jwks).map_err(|e| {
        fail(
            format!("{url} names a jwks_uri that is not a URL, {jwks:?} ({e})"),
            "fix the issuer's discovery document",
            None,
        )
    })?;
    if jwks_uri.scheme() != "https" || jwks_uri.host().is_none() {
        return Err(fail(
            format!("{url} names a jwks_uri that is not https, {jwks:?}"),
            "IAM fetches signing keys over https only; fix the issuer's discovery document",
            None,
        ));
    }
    Ok(Discovery {
        document_url: url,
        jwks_uri,
        warnings,
    })
}

/// The error under a failed request, worth a `caused by:` line; a timeout's (`timeout: global`)
/// says nothing the message does not.
fn cause(error: ureq::Error) -> Option<ureq::Error> {
    (!matches!(error, ureq::Error::Timeout(_))).then_some(error)
}

/// What went wrong with a request, in words, and what to try; a timeout says that the host did
/// not `what` within the limit.
fn describe_request_error(
    error: &ureq::Error,
    url: &Url,
    timeout: Duration,
    what: &str,
) -> (String, &'static str) {
    let network_hint = "check the issuer URL and the network (HTTPS_PROXY is honoured), raise --timeout, \
                        or pass --thumbprint or --no-thumbprint to skip the network";
    match error {
        ureq::Error::Timeout(_) => (
            format!(
                "{} did not {what} within {} s",
                url.host_str().unwrap_or_default(),
                timeout.as_secs()
            ),
            network_hint,
        ),
        ureq::Error::RequireHttpsOnly(to) => (
            format!("it redirected to a non-https URL ({to})"),
            "the issuer must be served over https at every step",
        ),
        ureq::Error::TooManyRedirects => (
            format!("more than {MAX_REDIRECTS} redirects"),
            "pass the issuer URL the redirects end at",
        ),
        ureq::Error::BodyExceedsLimit(limit) => (
            format!("the body is larger than {limit} bytes"),
            "check the issuer URL; discovery documents are small",
        ),
        ureq::Error::Rustls(e) => (
            format!("TLS failed: {e}"),
            "if the issuer uses a private CA, pass it with --ca-file",
        ),
        other => (other.to_string(), network_hint),
    }
}
