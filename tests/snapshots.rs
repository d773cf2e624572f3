//! Snapshots of every format for representative inputs, of `--help`, and of the errors users see.
//! They pin the output; the real-tool tests prove it is right.

mod common;

use std::path::Path;

use common::{
    ChainShape, LocalIssuer, TestChain, TestIssuer, fixtures, oidc_gen, regex_escape, settings,
    text, tree,
};
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
        for format in Format::all() {
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
    let main = [Format::Terraform, Format::CloudFormation, Format::Pulumi];
    for (name, args) in fixtures() {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        // ESC's file when the role admits ESC tokens, the Deployments settings when it admits
        // Deployments tokens (every fixture gives the account id both need).
        let extra: &[Format] = match name {
            "all_shapes" => &[Format::Esc, Format::Deployments],
            "deployments_only" => &[Format::Deployments],
            "github" => &[],
            "github_preset" => &[Format::Ci("github")],
            "gitlab_preset" => &[Format::Ci("gitlab")],
            "hcp_terraform_preset" => &[Format::Ci("hcp_terraform")],
            "buildkite_preset" => &[Format::Ci("buildkite")],
            "circleci_preset" => &[Format::Ci("circleci")],
            _ => &[Format::Esc],
        };
        snapshot_formats(name, &args, settings(), &[&main[..], extra].concat());
    }
}

#[test]
fn simulate() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("role.json");
    // What `aws iam get-role` prints for a role whose policy uses an operator simulate lacks.
    std::fs::write(
        &policy,
        serde_json::json!({"Role": {"RoleName": "r", "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"Federated": "arn:aws:iam::123456789012:oidc-provider/api.pulumi.com/oidc"},
             "Action": "sts:AssumeRoleWithWebIdentity",
             "Condition": {"StringEquals": {"api.pulumi.com/oidc:aud": "acme"}, "DateLessThan": {"api.pulumi.com/oidc:sub": "*"}}}
        ]}}})
        .to_string(),
    )
    .unwrap();
    let policy = policy.to_str().unwrap();
    // A token from Pulumi Cloud's issuer, evaluated against a self-hosted issuer's role.
    let encode = |v: serde_json::Value| {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    };
    let jwt = format!(
        "{}.{}.signature",
        encode(serde_json::json!({"alg": "RS256", "typ": "JWT"})),
        encode(
            serde_json::json!({"iss": "https://api.pulumi.com/oidc", "aud": "aws:acme", "sub": "pulumi:environments:org:acme:env:platform/prod"})
        )
    );
    let cases: [(&str, Vec<&str>, i32); 5] = [
        (
            "simulate_allow",
            vec![
                "--org",
                "acme",
                "--env",
                "platform/*",
                "--aud",
                "aws:acme",
                "--sub",
                "pulumi:environments:org:acme:env:platform/prod",
            ],
            0,
        ),
        (
            // A legacy pattern does not reach a named project's environment.
            "simulate_deny_legacy_pattern",
            vec![
                "--org",
                "acme",
                "--env",
                "dev*",
                "--aud",
                "aws:acme",
                "--sub",
                "pulumi:environments:org:acme:env:devtools/prod",
            ],
            1,
        ),
        (
            "simulate_deny_audience",
            vec![
                "--org",
                "acme",
                "--env",
                "platform/prod",
                "--deploy",
                "infra/prod",
                "--aud",
                "acme",
                "--sub",
                "pulumi:environments:org:acme:env:platform/prod",
            ],
            1,
        ),
        (
            "simulate_deny_other_issuer",
            vec![
                "--org",
                "acme",
                "--issuer",
                "https://pulumi.example.com/oidc",
                "--token",
                &jwt,
            ],
            1,
        ),
        (
            "error_simulate_operator",
            vec!["--policy", policy, "--aud", "acme", "--sub", "x"],
            2,
        ),
    ];
    let mut insta_settings = settings();
    insta_settings.add_filter(&regex_escape(policy), "[POLICY]");
    insta_settings.bind(|| {
        for (name, args, code) in cases {
            let output = oidc_gen(dir.path(), &[&["simulate"], &args[..]].concat());
            assert_eq!(
                output.status.code(),
                Some(code),
                "{name}: {}",
                text(&output).1
            );
            let (stdout, stderr) = text(&output);
            insta::assert_snapshot!(name, format!("{stdout}{stderr}"));
        }
    });
}

#[test]
fn help() {
    let dir = tempfile::tempdir().unwrap();
    settings().bind(|| {
        for (name, args) in [
            ("help", vec!["--help"]),
            ("thumbprint_help", vec!["thumbprint", "--help"]),
            ("simulate_help", vec!["simulate", "--help"]),
            ("issuers", vec!["issuers"]),
            ("issuers_json", vec!["issuers", "--json"]),
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
    let github = "https://token.actions.githubusercontent.com";
    let cases: [(&str, &[&str]); 17] = [
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
        (
            "error_github_without_claims",
            &["--issuer", github, "--org", "acme", "--no-thumbprint"],
        ),
        (
            "error_bare_subject",
            &[
                "--issuer",
                github,
                "--audience",
                "sts.amazonaws.com",
                "--subject",
                "*",
                "--no-thumbprint",
            ],
        ),
        (
            "error_audience_without_subject",
            &[
                "--issuer",
                github,
                "--audience",
                "sts.amazonaws.com",
                "--no-thumbprint",
            ],
        ),
        (
            "error_generic_with_env",
            &[
                "--issuer",
                github,
                "--audience",
                "a",
                "--subject",
                "repo:o/r:*",
                "--env",
                "p/e",
                "--no-thumbprint",
            ],
        ),
        (
            "error_user_without_attribute",
            &["--org", "acme", "--user", "alice", "--no-thumbprint"],
        ),
        (
            "error_deploy",
            &["--org", "acme", "--deploy", "infra", "--no-thumbprint"],
        ),
        (
            "error_deploy_operation_without_deploy",
            &[
                "--org",
                "acme",
                "--deploy-operation",
                "update",
                "--no-thumbprint",
            ],
        ),
        (
            "error_deployments_without_deploy",
            &[
                "--org",
                "acme",
                "--account-id",
                "123456789012",
                "--format",
                "deployments",
                "--no-thumbprint",
            ],
        ),
        (
            "error_session_policy_arn",
            &[
                "--org",
                "acme",
                "--session-policy-arn",
                "ReadOnlyAccess",
                "--no-thumbprint",
            ],
        ),
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

/// `simulate`'s reasons in each CI system's terms.
#[test]
fn simulate_reasons_of_ci_systems() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [&[&str]; 4] = [
        &[
            "--github",
            "acme/app",
            "--github-ref",
            "refs/heads/main",
            "--aud",
            "sts.amazonaws.com",
            "--sub",
            "repo:acme/app:environment:prod",
        ],
        &[
            "--github",
            "acme/app",
            "--github-ref",
            "refs/heads/main",
            "--aud",
            "sts.amazonaws.com",
            "--sub",
            "repo:acme@11/app@22:ref:refs/heads/main",
        ],
        &[
            "--github",
            "acme@11/app@22",
            "--aud",
            "sts.amazonaws.com",
            "--sub",
            "repo:acme@11/app@23:ref:refs/heads/main",
            "--claim",
            "repository_id=23",
            "--claim",
            "repository_owner_id=11",
        ],
        &[
            "--gitlab",
            "acme/app",
            "--gitlab-ref-type",
            "branch",
            "--gitlab-protected",
            "--aud",
            "https://gitlab.com",
            "--sub",
            "project_path:acme/app:ref_type:tag:ref:v1",
            "--claim",
            "ref_protected=false",
        ],
    ];
    let mut text_out = String::new();
    for args in cases {
        let output = oidc_gen(dir.path(), &[&["simulate"], args].concat());
        assert_eq!(output.status.code(), Some(1));
        text_out.push_str(&format!(
            "$ oidc-gen simulate {}\n{}\n",
            args.join(" "),
            text(&output).0
        ));
    }
    settings().bind(|| insta::assert_snapshot!("simulate_ci_reasons", text_out));
}

/// Every file `--cloud gcp` and `--cloud azure` write, for a GitHub repository, a GitLab project,
/// HCP Terraform workspaces and Pulumi's ESC environments and Deployments, as
/// `cloud_{case}__{path}`; and the notes on stderr.
#[test]
fn every_cloud_file() {
    const TENANT: &str = "11111111-2222-3333-4444-555555555555";
    let gcp = [
        "--cloud",
        "gcp",
        "--gcp-project-number",
        "123456789012",
        "--gcp-service-account",
        "deploy@acme-prod.iam.gserviceaccount.com",
    ];
    let azure = ["--cloud", "azure", "--azure-tenant-id", TENANT];
    let cases: Vec<(&str, Vec<&[&str]>)> = vec![
        (
            "github",
            vec![
                &[
                    "--github",
                    "acme@42/app@7",
                    "--github-ref",
                    "refs/heads/main",
                    "--github-ref",
                    "refs/heads/release-*",
                ],
                &gcp,
            ],
        ),
        (
            "github_azure",
            vec![
                &[
                    "--github",
                    "acme@42/app@7",
                    "--github",
                    "acme/web",
                    "--github-environment",
                    "prod",
                ],
                &azure,
            ],
        ),
        (
            "gitlab",
            vec![
                &[
                    "--gitlab",
                    "acme/app",
                    "--gitlab-ref",
                    "main",
                    "--gitlab-ref-type",
                    "branch",
                ],
                &gcp,
                &azure,
                &["--azure-identity", "gitlab-deploy"],
            ],
        ),
        (
            "hcp_terraform",
            vec![
                &[
                    "--hcp-terraform",
                    "acme/infra/prod",
                    "--hcp-run-phase",
                    "apply",
                ],
                &gcp,
                &azure,
                &["--azure-application", TENANT],
            ],
        ),
        (
            "pulumi",
            vec![
                &[
                    "--org",
                    "acme",
                    "--env",
                    "platform/prod",
                    "--env",
                    "legacy",
                    "--deploy",
                    "infra/prod",
                ],
                &gcp,
                &azure,
                &[
                    "--azure-application",
                    TENANT,
                    "--azure-subscription-id",
                    TENANT,
                ],
            ],
        ),
        (
            "pulumi_every_environment",
            vec![
                &[
                    "--org",
                    "acme",
                    "--subject-attribute",
                    "currentEnvironment.name",
                ],
                &gcp,
            ],
        ),
    ];
    for (case, parts) in cases {
        let dir = tempfile::tempdir().unwrap();
        let args = [parts.concat(), vec!["--no-thumbprint", "--out", "out"]].concat();
        let output = oidc_gen(dir.path(), &args);
        let (_, stderr) = text(&output);
        assert!(output.status.success(), "{case}: {stderr}");
        let out = dir.path().join("out");
        let files: Vec<(String, std::path::PathBuf)> = tree(&out)
            .into_iter()
            .filter(|(path, _)| {
                oidc_gen::clouds::CLOUDS.iter().any(|c| path.starts_with(c))
                    && out.join(path).is_file()
            })
            .map(|(path, _)| {
                (
                    path.to_string_lossy().replace(['/', '.'], "_"),
                    out.join(path),
                )
            })
            .collect();
        assert!(files.len() >= 2, "{case}: {files:?}");
        assert!(
            !dir.path().join("out/terraform").exists(),
            "{case}: AWS's files are written only with --cloud aws"
        );
        settings().bind(|| {
            for (name, path) in files {
                let contents = std::fs::read_to_string(path).unwrap();
                insta::assert_snapshot!(format!("cloud_{case}__{name}"), contents);
            }
            insta::assert_snapshot!(format!("cloud_{case}__stderr"), stderr);
        });
    }
}
