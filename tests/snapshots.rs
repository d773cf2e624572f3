//! Snapshots of every format for representative inputs, of `--help`, and of the errors users see.
//! They pin the output; the real-tool tests prove it is right.

mod common;

use std::path::Path;

use common::{ChainShape, LocalIssuer, TestChain, TestIssuer, fixtures, oidc_gen, settings, text};
use oidc_gen::render::Format;

/// Generates into a fresh folder and snapshots each file whole, as `{fixture}__{format}`.
fn snapshot_formats(
    fixture: &str,
    args: &[&str],
    insta_settings: insta::Settings,
    expected: &[Format],
) {
    let dir = tempfile::tempdir().unwrap();
    let output = oidc_gen(dir.path(), args);
    let (_, stderr) = text(&output);
    assert!(output.status.success(), "{stderr}");
    insta_settings.bind(|| {
        for format in Format::ALL {
            let path = dir.path().join("out").join(format.path());
            assert_eq!(
                path.exists(),
                expected.contains(&format),
                "{}",
                path.display()
            );
            if let Ok(contents) = std::fs::read_to_string(&path) {
                let name = format!("{fixture}__{}", format_name(format));
                insta::assert_snapshot!(name, contents);
            }
        }
        insta::assert_snapshot!(format!("{fixture}__stderr"), stderr);
    });
}

fn format_name(format: Format) -> &'static str {
    Path::new(format.path()).parent().unwrap().to_str().unwrap()
}

#[test]
fn minimal_org_only_live() {
    let local = LocalIssuer::start(ChainShape::RootNotSent);
    let mut live = settings();
    live.add_filter(r"\b[0-9a-f]{40}\b", "[THUMBPRINT]");
    live.add_filter(r"expires: \S+", "expires: [DATE]");
    snapshot_formats(
        "minimal",
        &local.args(&["--org", "acme"]),
        live,
        &[Format::Terraform, Format::CloudFormation, Format::Pulumi],
    );
}

#[test]
fn offline_fixtures() {
    for (name, args) in fixtures() {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        snapshot_formats(name, &args, settings(), &Format::ALL);
    }
}

#[test]
fn help() {
    let dir = tempfile::tempdir().unwrap();
    settings().bind(|| {
        for (name, args) in [
            ("help", vec!["--help"]),
            ("thumbprint_help", vec!["thumbprint", "--help"]),
        ] {
            let output = oidc_gen(dir.path(), &args);
            assert!(output.status.success());
            insta::assert_snapshot!(name, text(&output).0);
        }
    });
}

#[test]
fn errors() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, &[&str]); 8] = [
        (
            "error_role_name",
            &[
                "--org",
                "acme",
                "--role-name",
                "has space",
                "--no-thumbprint",
            ],
        ),
        (
            "error_account_id",
            &["--org", "acme", "--account-id", "1234", "--no-thumbprint"],
        ),
        (
            "error_duration",
            &["--org", "acme", "--duration", "13h", "--no-thumbprint"],
        ),
        (
            "error_env",
            &["--org", "acme", "--env", "a/b/c", "--no-thumbprint"],
        ),
        (
            "error_thumbprint",
            &["--org", "acme", "--thumbprint", "abc"],
        ),
        (
            "error_esc_without_account",
            &["--org", "acme", "--format", "esc", "--no-thumbprint"],
        ),
        (
            "error_stdout_two_formats",
            &[
                "--org",
                "acme",
                "--out",
                "-",
                "--format",
                "terraform,pulumi",
                "--no-thumbprint",
            ],
        ),
        ("error_missing_org", &["--no-thumbprint"]),
    ];
    settings().bind(|| {
        for (name, args) in cases {
            let output = oidc_gen(dir.path(), args);
            assert_eq!(output.status.code(), Some(2), "{name}");
            insta::assert_snapshot!(name, text(&output).1);
        }
    });
    assert!(!dir.path().join("out").exists());
}

#[test]
fn error_untrusted_chain() {
    let chain = TestChain::new(ChainShape::RootNotSent);
    let issuer = TestIssuer::start(&chain);
    let dir = tempfile::tempdir().unwrap();
    let output = oidc_gen(dir.path(), &["--org", "acme", "--issuer", &issuer.url]);
    assert_eq!(output.status.code(), Some(3));
    let mut live = settings();
    live.add_filter(r"\b[0-9a-f]{40}\b", "[SHA1]");
    live.add_filter(r"expires \S+", "expires [DATE]");
    live.bind(|| insta::assert_snapshot!("error_untrusted_chain", text(&output).1));
}
