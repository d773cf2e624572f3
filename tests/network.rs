//! The network paths that are not the plain one: the JWKS on another host than the discovery
//! document, and proxies (a CONNECT proxy started by the test) for both the discovery request and
//! the certificate handshake.

mod common;

use std::time::Duration;

use common::{
    ChainShape, ServerOptions, TestChain, TestIssuer, TestProxy, oidc_gen_command, run_bounded,
    text, well_behaved,
};
use oidc_gen::thumbprint::sha1_hex;

const LIMIT: Duration = Duration::from_secs(30);

/// An issuer at one address whose JWKS is served by `jwks`.
fn issuer_with_jwks_on(chain: &TestChain, jwks: &TestIssuer) -> TestIssuer {
    let jwks_base = jwks.base.clone();
    TestIssuer::start_with(chain, ServerOptions::default(), move |base| {
        let base = base.to_owned();
        Box::new(move |path: &str| well_behaved(&base, &jwks_base, path))
    })
}

/// Runs `oidc-gen thumbprint --json` with both chains' roots trusted and `env` set.
fn thumbprint_json(
    issuer: &str,
    roots: &[&TestChain],
    env: &[(&str, &str)],
) -> (Option<i32>, serde_json::Value, String) {
    let dir = tempfile::tempdir().unwrap();
    let pem: String = roots.iter().map(|c| c.root_pem.clone()).collect();
    std::fs::write(dir.path().join("roots.pem"), pem).unwrap();
    let mut command = oidc_gen_command(
        dir.path(),
        &[
            "thumbprint",
            "--json",
            "--issuer",
            issuer,
            "--ca-file",
            "roots.pem",
            "--timeout",
            "5",
        ],
    );
    command.envs(env.iter().copied());
    let (output, _) = run_bounded(command, LIMIT);
    let (stdout, stderr) = text(&output);
    let report = serde_json::from_str(&stdout).unwrap_or(serde_json::Value::Null);
    (output.status.code(), report, stderr)
}

#[test]
fn a_jwks_on_another_host_adds_that_hosts_thumbprint_first() {
    let (discovery_chain, jwks_chain) = (
        TestChain::new(ChainShape::RootNotSent),
        TestChain::new(ChainShape::RootSent),
    );
    let jwks = TestIssuer::start(&jwks_chain);
    let issuer = issuer_with_jwks_on(&discovery_chain, &jwks);
    let (code, report, stderr) =
        thumbprint_json(&issuer.url, &[&discovery_chain, &jwks_chain], &[]);
    assert_eq!(code, Some(0), "{stderr}");
    let expected = [
        sha1_hex(&jwks_chain.sent[2]),
        sha1_hex(&discovery_chain.sent[1]),
    ];
    assert_eq!(report["thumbprints"], serde_json::json!(expected));
    assert_eq!(report["endpoints"][0]["purpose"], "jwks_uri");
    assert_eq!(report["endpoints"][0]["port"], jwks.port);
    assert_eq!(report["endpoints"][1]["purpose"], "discovery");
    assert_eq!(report["endpoints"][1]["port"], issuer.port);
}

#[test]
fn the_same_chain_on_both_hosts_gives_one_thumbprint() {
    let chain = TestChain::new(ChainShape::RootNotSent);
    let jwks = TestIssuer::start(&chain);
    let issuer = issuer_with_jwks_on(&chain, &jwks);
    let (code, report, stderr) = thumbprint_json(&issuer.url, &[&chain], &[]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(
        report["thumbprints"],
        serde_json::json!([sha1_hex(&chain.sent[1])])
    );
    assert_eq!(report["endpoints"].as_array().unwrap().len(), 2);
    // Each host is contacted once.
    assert_eq!((issuer.accepted(), jwks.accepted()), (1, 1));
}

#[test]
fn a_same_host_issuer_is_reached_on_one_connection() {
    let chain = TestChain::new(ChainShape::RootNotSent);
    let issuer = TestIssuer::start(&chain);
    let (code, report, stderr) = thumbprint_json(&issuer.url, &[&chain], &[]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(
        report["thumbprints"],
        serde_json::json!([sha1_hex(&chain.sent[1])])
    );
    assert_eq!(issuer.accepted(), 1, "TLS connections the issuer accepted");
}

#[test]
fn the_proxy_carries_discovery_and_handshake_and_the_origin_chain_is_seen() {
    let chain = TestChain::new(ChainShape::RootNotSent);
    let issuer = TestIssuer::start(&chain);
    let proxy = TestProxy::start(None);
    for variable in ["HTTPS_PROXY", "ALL_PROXY"] {
        let before = proxy.seen().len();
        let (code, report, stderr) =
            thumbprint_json(&issuer.url, &[&chain], &[(variable, &proxy.url)]);
        assert_eq!(code, Some(0), "{variable}: {stderr}");
        assert_eq!(
            report["thumbprints"],
            serde_json::json!([sha1_hex(&chain.sent[1])]),
            "{variable}"
        );
        let target = format!("CONNECT 127.0.0.1:{}", issuer.port);
        let seen = proxy.seen()[before..].to_vec();
        // One tunnel carries the discovery request and the chain that is hashed.
        assert_eq!(seen, [target], "{variable}");
    }
}

#[test]
fn no_proxy_bypasses_the_proxy() {
    let chain = TestChain::new(ChainShape::RootNotSent);
    let issuer = TestIssuer::start(&chain);
    let proxy = TestProxy::start(None);
    let (code, _, stderr) = thumbprint_json(
        &issuer.url,
        &[&chain],
        &[("HTTPS_PROXY", &proxy.url), ("NO_PROXY", "127.0.0.1")],
    );
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(proxy.seen(), Vec::<String>::new());
}

#[test]
fn a_refusing_proxy_is_exit_3_naming_it() {
    let chain = TestChain::new(ChainShape::RootNotSent);
    let issuer = TestIssuer::start(&chain);
    let proxy = TestProxy::start(Some(407));
    let (code, _, stderr) = thumbprint_json(&issuer.url, &[&chain], &[("HTTPS_PROXY", &proxy.url)]);
    assert_eq!(code, Some(3), "{stderr}");
    assert!(stderr.contains(&issuer.url), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "through the proxy {}",
            proxy.url.trim_start_matches("http://")
        )),
        "{stderr}"
    );
    assert!(!proxy.seen().is_empty());
}

/// The system store is the CA bundle file, and the certificate directory for what the bundle
/// lacks: a root found only in `SSL_CERT_DIR` is trusted, one found nowhere is not.
#[test]
fn the_certificate_directory_is_consulted_for_what_the_bundle_lacks() {
    let chain = TestChain::new(ChainShape::RootNotSent);
    let other = TestChain::new(ChainShape::RootNotSent);
    let issuer = TestIssuer::start(&chain);
    let store = tempfile::tempdir().unwrap();
    std::fs::write(store.path().join("bundle.pem"), &other.root_pem).unwrap();
    let dir = store.path().join("certs");
    std::fs::create_dir(&dir).unwrap();
    let run = |certs_dir: &std::path::Path| {
        let mut command = oidc_gen_command(
            store.path(),
            &["thumbprint", "--issuer", &issuer.url, "--timeout", "5"],
        );
        command
            .env("SSL_CERT_FILE", store.path().join("bundle.pem"))
            .env("SSL_CERT_DIR", certs_dir);
        let (output, _) = run_bounded(command, LIMIT);
        (output.status.code(), text(&output))
    };
    let (code, (_, stderr)) = run(&dir);
    assert_eq!(code, Some(3), "no anchor anywhere: {stderr}");
    assert!(stderr.contains("was refused"), "{stderr}");
    std::fs::write(dir.join("root.pem"), &chain.root_pem).unwrap();
    let (code, (stdout, stderr)) = run(&dir);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(stdout.trim(), sha1_hex(&chain.sent[1]));
    assert_eq!(issuer.accepted(), 2, "one connection per run");
}

/// A SOCKS proxy cannot carry the handshake AWS documents: exit 3, naming the proxy, without
/// going around it.
#[test]
fn a_socks_proxy_is_refused_naming_it() {
    let chain = TestChain::new(ChainShape::RootNotSent);
    let issuer = TestIssuer::start(&chain);
    let (code, _, stderr) = thumbprint_json(
        &issuer.url,
        &[&chain],
        &[("ALL_PROXY", "socks5://127.0.0.1:1")],
    );
    assert_eq!(code, Some(3), "{stderr}");
    assert!(
        stderr.contains("127.0.0.1:1") && stderr.contains("(CONNECT) proxies only"),
        "{stderr}"
    );
    assert_eq!(
        issuer.accepted(),
        0,
        "the issuer was reached around the proxy"
    );
}

/// A spec of many accounts looks the thumbprint up once, and every account's provider gets it.
#[test]
fn a_spec_of_many_accounts_looks_the_thumbprint_up_once() {
    let chain = TestChain::new(ChainShape::RootNotSent);
    let issuer = TestIssuer::start(&chain);
    let dir = tempfile::tempdir().unwrap();
    let root = chain.write_root(dir.path());
    let accounts: String = (0..5)
        .map(|i| format!("  - {{id: \"10000000000{i}\", name: a{i}}}\n"))
        .collect();
    let spec = format!(
        "org: acme\nissuer: {}\nroles:\n  - name: r\n    envs: [p/e]\naccounts:\n{accounts}",
        issuer.url
    );
    std::fs::write(dir.path().join("oidc-gen.yaml"), spec).unwrap();
    let mut command = oidc_gen_command(
        dir.path(),
        &[
            "--config",
            "oidc-gen.yaml",
            "--ca-file",
            root.to_str().unwrap(),
            "--out",
            "out",
        ],
    );
    command.env_remove("OIDC_GEN_ISSUER");
    let (output, _) = run_bounded(command, LIMIT);
    assert!(output.status.success(), "{}", text(&output).1);
    assert_eq!(issuer.accepted(), 1, "TLS connections the issuer accepted");
    let module =
        std::fs::read_to_string(dir.path().join("out/terraform/modules/pulumi-oidc/main.tf"))
            .unwrap();
    let thumbprint = sha1_hex(&chain.sent[1]);
    assert!(
        module.contains(&format!("thumbprint_list = [\"{thumbprint}\"]")),
        "{module}"
    );
}
