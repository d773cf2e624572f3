//! The thumbprint: the choice of certificate and its hash on fixed certificates, and the live path
//! against a local TLS issuer, checked against AWS's documented openssl procedure.

mod common;

use std::process::{Command, Stdio};

use common::{ChainShape, LocalIssuer, TestChain, TestIssuer, have_tool, oidc_gen, text, tree};
use oidc_gen::thumbprint::{sha1_hex, thumbprint_certificate};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

/// SHA-1 fingerprints of the fixture certificates, from `openssl x509 -noout -fingerprint -sha1`.
const LEAF_SHA1: &str = "ce8d7db228183f144d323057455e7a31ad561966";
const INTERMEDIATE_SHA1: &str = "91d801e81471e6a90ec9f78dd84da7049951cf6a";
const ROOT_SHA1: &str = "72cdbca2a316e93d0ef78263e0b1a2ce6d4e8647";

fn fixture(name: &str) -> CertificateDer<'static> {
    let path = format!("{}/tests/fixtures/{name}.pem", env!("CARGO_MANIFEST_DIR"));
    CertificateDer::from_pem_file(path).unwrap()
}

#[test]
fn fixed_chains_select_the_last_certificate_sent() {
    let (leaf, intermediate, root) = (fixture("leaf"), fixture("intermediate"), fixture("root"));
    let cases = [
        (vec![leaf.clone(), intermediate.clone()], INTERMEDIATE_SHA1),
        (
            vec![leaf.clone(), intermediate.clone(), root.clone()],
            ROOT_SHA1,
        ),
        (vec![leaf.clone()], LEAF_SHA1),
    ];
    for (chain, expected) in cases {
        assert_eq!(sha1_hex(thumbprint_certificate(&chain).unwrap()), expected);
    }
}

/// Runs `oidc-gen thumbprint` against a local issuer serving `shape`; returns the issuer (kept
/// alive for further checks) and what was printed.
fn live_thumbprint(shape: ChainShape) -> (LocalIssuer, String, String) {
    let local = LocalIssuer::start(shape);
    let output = local.run(&["thumbprint"]);
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stderr}");
    (local, stdout, stderr)
}

#[test]
fn live_root_not_sent_pins_the_intermediate() {
    let (local, stdout, stderr) = live_thumbprint(ChainShape::RootNotSent);
    assert_eq!(stdout.trim(), sha1_hex(&local.chain.sent[1]));
    assert!(stderr.contains("sent 2 certificate(s)"), "{stderr}");
    assert!(!stderr.contains("(leaf) certificate"), "{stderr}");
    // The test root is no public CA: the chain looks intercepted, and the user is told so.
    assert!(stderr.contains("looks like TLS interception"), "{stderr}");
}

#[test]
fn live_root_sent_pins_the_root() {
    let (local, stdout, _) = live_thumbprint(ChainShape::RootSent);
    assert_eq!(stdout.trim(), sha1_hex(&local.chain.sent[2]));
}

#[test]
fn live_leaf_only_pins_the_leaf_and_warns() {
    let (local, stdout, stderr) = live_thumbprint(ChainShape::LeafOnly);
    assert_eq!(stdout.trim(), sha1_hex(&local.chain.sent[0]));
    assert!(
        stderr.contains("warning:") && stderr.contains("leaf"),
        "{stderr}"
    );
}

#[test]
fn json_report_lists_the_chain_in_server_order() {
    let local = LocalIssuer::start(ChainShape::RootSent);
    let (chain, issuer) = (&local.chain, &local.issuer);
    let output = local.run(&["thumbprint", "--json"]);
    assert!(output.status.success(), "{}", text(&output).1);
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["issuer"], issuer.url);
    assert_eq!(
        report["jwks_uri"],
        format!("{}/.well-known/jwks", issuer.url)
    );
    assert_eq!(
        report["thumbprints"],
        serde_json::json!([sha1_hex(&chain.sent[2])])
    );
    let endpoint = &report["endpoints"][0];
    assert_eq!(endpoint["host"], "127.0.0.1");
    assert_eq!(endpoint["port"], issuer.port);
    let hashes: Vec<String> = chain.sent.iter().map(|c| sha1_hex(c)).collect();
    let reported: Vec<&str> = endpoint["chain"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["sha1"].as_str().unwrap())
        .collect();
    assert_eq!(reported, hashes);
    assert_eq!(endpoint["chain"][0]["subject"], "CN=oidc-gen test issuer");
    assert_eq!(
        endpoint["chain"][0]["issuer"],
        "CN=oidc-gen test intermediate"
    );
    assert!(
        endpoint["chain"][0]["not_after"]
            .as_str()
            .unwrap()
            .ends_with('Z')
    );
}

/// AWS's procedure: `openssl s_client -showcerts`, take the last certificate, SHA-1 fingerprint.
fn openssl_thumbprint(port: u16) -> String {
    let shown = Command::new("openssl")
        .args([
            "s_client",
            "-showcerts",
            "-connect",
            &format!("127.0.0.1:{port}"),
        ])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let shown = String::from_utf8_lossy(&shown.stdout);
    let begin = shown
        .rfind("-----BEGIN CERTIFICATE-----")
        .expect("openssl showed a certificate");
    let end = shown[begin..].find("-----END CERTIFICATE-----").unwrap() + begin + 25;
    let mut x509 = Command::new("openssl")
        .args(["x509", "-noout", "-fingerprint", "-sha1"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    x509.stdin
        .take()
        .unwrap()
        .write_all(shown[begin..end].as_bytes())
        .unwrap();
    let fingerprint = String::from_utf8(x509.wait_with_output().unwrap().stdout).unwrap();
    fingerprint
        .trim()
        .rsplit('=')
        .next()
        .unwrap()
        .replace(':', "")
        .to_lowercase()
}

#[test]
fn live_thumbprint_equals_the_openssl_procedure() {
    if !have_tool("openssl", "version") {
        return;
    }
    for shape in [
        ChainShape::RootNotSent,
        ChainShape::RootSent,
        ChainShape::LeafOnly,
    ] {
        let (local, stdout, _) = live_thumbprint(shape);
        assert_eq!(
            stdout.trim(),
            openssl_thumbprint(local.issuer.port),
            "{shape:?}"
        );
    }
}

#[test]
fn an_untrusted_chain_is_exit_3_and_writes_nothing() {
    let chain = TestChain::new(ChainShape::RootNotSent);
    let issuer = TestIssuer::start(&chain);
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("out")).unwrap();
    std::fs::write(dir.path().join("out/keep.txt"), "mine").unwrap();
    let before = tree(dir.path());
    let output = oidc_gen(dir.path(), &["--org", "acme", "--issuer", &issuer.url]);
    let (_, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains(&format!("TLS to 127.0.0.1:{}", issuer.port)),
        "{stderr}"
    );
    assert!(
        stderr.contains("CN=oidc-gen test issuer"),
        "the refused chain is reported: {stderr}"
    );
    assert!(stderr.contains("--ca-file"), "{stderr}");
    assert_eq!(tree(dir.path()), before);
}

#[test]
fn a_live_run_writes_the_thumbprint_into_every_format() {
    let local = LocalIssuer::start(ChainShape::RootNotSent);
    let output = local.run(&["--org", "acme", "--account-id", "123456789012"]);
    assert!(output.status.success(), "{}", text(&output).1);
    let (chain, dir) = (&local.chain, &local.dir);
    let expected = sha1_hex(&chain.sent[1]);
    for file in [
        "terraform/main.tf",
        "cloudformation/template.json",
        "pulumi/Pulumi.yaml",
    ] {
        let contents = std::fs::read_to_string(dir.path().join("out").join(file)).unwrap();
        assert!(contents.contains(&expected), "{file} lacks the thumbprint");
    }
}
