//! Issuers that misbehave on purpose. Each ends in exit 3 within a bounded time, with a message
//! naming the URL and the problem, and the output folder exactly as it was; the ones that are
//! merely unusual (TLS 1.2 or 1.3 only, IPv6, a trailing slash) work.

mod common;

use std::path::Path;
use std::time::Duration;

use common::{
    ChainShape, LeafFlaw, Reply, ServerOptions, TestChain, TestIssuer, discovery_document,
    oidc_gen_command, run_bounded, text, tree, well_behaved,
};

/// A run never takes longer than this, whatever the server does.
const LIMIT: Duration = Duration::from_secs(30);

/// Runs `oidc-gen --org acme` against `issuer` (trusting `chain`'s root) with a 2 s timeout, in a
/// folder whose `out/` already holds a file; returns the exit code and stderr, after checking that
/// the folder is exactly as it was.
fn generate_against(issuer: &str, chain: &TestChain) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().unwrap();
    let root = chain.write_root(dir.path());
    std::fs::create_dir_all(dir.path().join("out/terraform")).unwrap();
    std::fs::write(dir.path().join("out/terraform/main.tf"), "# mine\n").unwrap();
    let before = tree(dir.path());
    let args = [
        "--org",
        "acme",
        "--issuer",
        issuer,
        "--ca-file",
        root.to_str().unwrap(),
        "--timeout",
        "2",
    ];
    let (output, _) = run_bounded(oidc_gen_command(dir.path(), &args), LIMIT);
    let (_, stderr) = text(&output);
    if !output.status.success() {
        assert_eq!(
            tree(dir.path()),
            before,
            "a failed run changed the output folder: {stderr}"
        );
    }
    (output.status.code(), stderr)
}

/// An issuer whose discovery path answers `reply(base)`.
fn issuer_replying(chain: &TestChain, reply: fn(&str) -> Reply) -> TestIssuer {
    TestIssuer::start_with(chain, ServerOptions::default(), |base| {
        let base = base.to_owned();
        Box::new(move |path: &str| match path {
            "/oidc/.well-known/openid-configuration" => reply(&base),
            other => well_behaved(&base, &base, other),
        })
    })
}

fn assert_fails(case: &str, issuer: &TestIssuer, chain: &TestChain, expected: &[&str]) {
    let (code, stderr) = generate_against(&issuer.url, chain);
    eprintln!("{case}: {stderr}");
    assert_eq!(code, Some(3), "{case}: {stderr}");
    assert!(
        stderr.contains(&format!("127.0.0.1:{}", issuer.port)),
        "{case} names the URL: {stderr}"
    );
    for part in expected {
        assert!(
            stderr.contains(part),
            "{case}: expected {part:?} in: {stderr}"
        );
    }
    // A timeout is told once, in words; ureq's own "timeout: global" adds nothing.
    assert!(!stderr.contains("caused by: timeout"), "{case}: {stderr}");
}

#[test]
fn a_server_that_never_speaks_tls_times_out() {
    let chain = TestChain::new(ChainShape::RootNotSent);
    let options = ServerOptions {
        silent: true,
        ..ServerOptions::default()
    };
    let issuer =
        TestIssuer::start_with(&chain, options, |_| Box::new(|_: &str| Reply::status(500)));
    let (code, stderr) = generate_against(&issuer.url, &chain);
    assert_eq!(code, Some(3), "{stderr}");
    assert!(
        stderr.contains("did not complete the handshake within 2 s"),
        "{stderr}"
    );
    assert!(stderr.contains("--timeout"), "{stderr}");
}

/// A case: its name, the discovery reply for a base URL, and what the error must say.
type Case = (&'static str, fn(&str) -> Reply, &'static [&'static str]);

#[test]
fn broken_discovery_responses() {
    let chain = TestChain::new(ChainShape::RootNotSent);
    let cases: [Case; 10] = [
        (
            "silence after the handshake",
            |_| Reply::Hang,
            &["did not answer within 2 s"],
        ),
        (
            "a body that never ends",
            |_| Reply::Drip,
            &["did not send the whole document within 2 s"],
        ),
        (
            "a body over the size cap",
            |_| Reply::json(" ".repeat(1024 * 1024)),
            &["larger than"],
        ),
        ("HTTP 404", |_| Reply::status(404), &["returned HTTP 404"]),
        ("HTTP 503", |_| Reply::status(503), &["returned HTTP 503"]),
        (
            "not JSON",
            |_| Reply::json("<html>hello</html>"),
            &["is not a JSON discovery document"],
        ),
        (
            "no jwks_uri",
            |base| Reply::json(serde_json::json!({ "issuer": format!("{base}/oidc") })),
            &["has no \"jwks_uri\""],
        ),
        (
            "an http jwks_uri",
            |base| {
                Reply::json(serde_json::json!({
                    "issuer": format!("{base}/oidc"),
                    "jwks_uri": format!("{}/oidc/jwks", base.replace("https:", "http:")),
                }))
            },
            &["not https"],
        ),
        (
            "another issuer",
            |base| {
                Reply::json(discovery_document(
                    &base.replace("127.0.0.1", "localhost"),
                    base,
                ))
            },
            &["names another issuer", "localhost"],
        ),
        (
            "a redirect loop",
            |base| Reply::redirect(format!("{base}/oidc/.well-known/openid-configuration")),
            &["redirects"],
        ),
    ];
    for (case, reply, expected) in cases {
        let issuer = issuer_replying(&chain, reply);
        assert_fails(case, &issuer, &chain, expected);
    }
}

#[test]
fn a_redirect_to_http_is_refused() {
    let chain = TestChain::new(ChainShape::RootNotSent);
    let issuer = issuer_replying(&chain, |base| {
        Reply::redirect(format!("{}/elsewhere", base.replace("https:", "http:")))
    });
    assert_fails("redirect to http", &issuer, &chain, &["non-https"]);
}

#[test]
fn bad_certificates_are_refused() {
    for (flaw, expected) in [
        (LeafFlaw::Expired, "it has expired"),
        (LeafFlaw::WrongName, "not valid for this host name"),
    ] {
        let chain = TestChain::with_flaw(ChainShape::RootNotSent, flaw);
        let issuer = TestIssuer::start(&chain);
        assert_fails(
            &format!("{flaw:?}"),
            &issuer,
            &chain,
            &["TLS to 127.0.0.1", expected],
        );
    }
}

#[test]
fn a_jwks_host_that_never_answers_times_out() {
    let chain = TestChain::new(ChainShape::RootNotSent);
    let options = ServerOptions {
        silent: true,
        ..ServerOptions::default()
    };
    let jwks = TestIssuer::start_with(&chain, options, |_| Box::new(|_: &str| Reply::status(500)));
    let jwks_base = jwks.base.clone();
    let issuer = TestIssuer::start_with(&chain, ServerOptions::default(), move |base| {
        let base = base.to_owned();
        Box::new(move |path: &str| well_behaved(&base, &jwks_base, path))
    });
    let (code, stderr) = generate_against(&issuer.url, &chain);
    assert_eq!(code, Some(3), "{stderr}");
    assert!(
        stderr.contains(&format!("TLS to 127.0.0.1:{}", jwks.port)),
        "{stderr}"
    );
}

/// `oidc-gen thumbprint` against `issuer`, trusting `chain`'s root; must succeed.
fn thumbprint_of(issuer: &str, chain: &TestChain, dir: &Path) -> (String, String) {
    let root = chain.write_root(dir);
    let args = [
        "thumbprint",
        "--issuer",
        issuer,
        "--ca-file",
        root.to_str().unwrap(),
        "--timeout",
        "5",
    ];
    let (output, _) = run_bounded(oidc_gen_command(dir, &args), LIMIT);
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{issuer}: {stderr}");
    (stdout, stderr)
}

#[test]
fn tls_1_2_only_and_1_3_only_servers_work() {
    for version in [&rustls::version::TLS12, &rustls::version::TLS13] {
        let chain = TestChain::new(ChainShape::RootNotSent);
        let options = ServerOptions {
            versions: Some(version),
            ..ServerOptions::default()
        };
        let issuer = TestIssuer::start_with(&chain, options, |base| {
            let base = base.to_owned();
            Box::new(move |path: &str| well_behaved(&base, &base, path))
        });
        let dir = tempfile::tempdir().unwrap();
        let (stdout, _) = thumbprint_of(&issuer.url, &chain, dir.path());
        assert_eq!(
            stdout.trim(),
            oidc_gen::thumbprint::sha1_hex(&chain.sent[1]),
            "{version:?}"
        );
    }
}

#[test]
fn an_ipv6_literal_issuer_works() {
    let chain = TestChain::new(ChainShape::RootSent);
    let options = ServerOptions {
        ipv6: true,
        ..ServerOptions::default()
    };
    let issuer = TestIssuer::start_with(&chain, options, |base| {
        let base = base.to_owned();
        Box::new(move |path: &str| well_behaved(&base, &base, path))
    });
    assert!(issuer.url.starts_with("https://[::1]:"));
    let dir = tempfile::tempdir().unwrap();
    let (stdout, stderr) = thumbprint_of(&issuer.url, &chain, dir.path());
    assert_eq!(
        stdout.trim(),
        oidc_gen::thumbprint::sha1_hex(&chain.sent[2])
    );
    assert!(
        stderr.contains(&format!("host ::1:{}", issuer.port)),
        "{stderr}"
    );
}

#[test]
fn a_trailing_slash_difference_is_a_warning() {
    let chain = TestChain::new(ChainShape::RootNotSent);
    let issuer = issuer_replying(&chain, |base| {
        Reply::json(serde_json::json!({
            "issuer": format!("{base}/oidc/"),
            "jwks_uri": format!("{base}/oidc/.well-known/jwks"),
        }))
    });
    let dir = tempfile::tempdir().unwrap();
    let (stdout, stderr) = thumbprint_of(&issuer.url, &chain, dir.path());
    assert_eq!(stdout.trim().len(), 40);
    assert!(
        stderr.contains("warning:") && stderr.contains("trailing slash"),
        "{stderr}"
    );
}
