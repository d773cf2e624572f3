//! The shared test harness: a local OIDC issuer over TLS with generated certificate chains, a
//! runner for the built binary, and the insta settings every snapshot uses.
#![allow(dead_code)] // Each test crate uses its own part of the harness.

pub mod artifacts;
pub mod aws;
pub mod certs;
pub mod clouds;
pub mod evaluator;
pub mod servers;

#[allow(unused_imports)] // Each test crate uses its own part of the harness.
pub use certs::{ChainShape, LeafFlaw, TestChain};
#[allow(unused_imports)]
pub use servers::{Reply, ServerOptions, TestIssuer, TestProxy, discovery_document, well_behaved};

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// insta settings shared by every snapshot: files in the top-level `snapshots/`, and filters for
/// values that legitimately vary between runs.
pub fn settings() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(concat!(env!("CARGO_MANIFEST_DIR"), "/snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.add_filter(&regex_escape(env!("CARGO_PKG_VERSION")), "[VERSION]");
    settings.add_filter(r"https://127\.0\.0\.1:\d+", "https://127.0.0.1:[PORT]");
    settings.add_filter(r"127\.0\.0\.1:\d+", "127.0.0.1:[PORT]");
    settings
}

/// `text` as a regex that matches it literally.
pub fn regex_escape(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            if c.is_ascii_alphanumeric() {
                vec![c]
            } else {
                vec!['\\', c]
            }
        })
        .collect()
}

/// A thumbprint for fixtures that use no network.
pub const THUMBPRINT: &str = "9e99a48a9960b14926bb7f3b02e22da2b0ab7280";

/// Offline inputs that the snapshot and real-tool tests share: a name and the arguments.
pub fn fixtures() -> Vec<(&'static str, Vec<String>)> {
    let second_thumbprint = THUMBPRINT.to_uppercase().replace('9', "1");
    let fixtures: [(&str, Vec<&str>); 16] = [
        (
            "scoped",
            vec![
                "--org",
                "acme",
                "--account-id",
                "123456789012",
                "--env",
                "platform/prod",
                "--env",
                "legacy-env",
                "--policy-arn",
                "arn:aws:iam::aws:policy/ReadOnlyAccess",
                "--policy-arn",
                "arn:aws:iam::123456789012:policy/esc/Deploy",
                "--role-name",
                "esc-deployer",
                "--duration",
                "2h",
                "--thumbprint",
                THUMBPRINT,
            ],
        ),
        (
            "patterns",
            vec![
                "--org",
                "acme",
                "--account-id",
                "123456789012",
                "--env",
                "platform/*",
                "--env",
                "shared/prod",
                "--thumbprint",
                THUMBPRINT,
                "--thumbprint",
                &second_thumbprint,
            ],
        ),
        (
            "no_thumbprint",
            vec![
                "--org",
                "acme",
                "--account-id",
                "123456789012",
                "--no-thumbprint",
            ],
        ),
        (
            "existing_provider",
            vec![
                "--org",
                "acme",
                "--account-id",
                "123456789012",
                "--env",
                "platform/prod",
                "--policy-arn",
                "arn:aws:iam::aws:policy/ReadOnlyAccess",
                "--existing-provider",
            ],
        ),
        (
            // Every Pulumi token shape at once: named and legacy ESC environments (a pattern
            // among them), Deployments with two operations, and session policies.
            "all_shapes",
            vec![
                "--org",
                "acme",
                "--account-id",
                "123456789012",
                "--env",
                "platform/prod",
                "--env",
                "legacy-*",
                "--env",
                "default/ops",
                "--deploy",
                "infra/prod",
                "--deploy",
                "web/*",
                "--deploy-operation",
                "update",
                "--deploy-operation",
                "preview",
                "--policy-arn",
                "arn:aws:iam::aws:policy/PowerUserAccess",
                "--session-policy-arn",
                "arn:aws:iam::aws:policy/ReadOnlyAccess",
                "--role-name",
                "pulumi-all",
                "--thumbprint",
                THUMBPRINT,
            ],
        ),
        (
            "subject_attributes",
            vec![
                "--org",
                "acme",
                "--account-id",
                "123456789012",
                "--subject-attribute",
                "currentEnvironment.name",
                "--subject-attribute",
                "pulumi.user.login",
                "--env",
                "platform/*",
                "--env",
                "legacy",
                "--user",
                "alice",
                "--user",
                "bot-*",
                "--no-thumbprint",
            ],
        ),
        (
            "deployments_only",
            vec![
                "--org",
                "acme",
                "--account-id",
                "123456789012",
                "--deploy",
                "infra/prod",
                "--role-name",
                "pulumi-deploy",
                "--policy-arn",
                "arn:aws:iam::123456789012:policy/deploy/Infra",
                "--no-thumbprint",
            ],
        ),
        (
            "self_hosted",
            vec![
                "--issuer",
                "https://pulumi.example.com/oidc",
                "--org",
                "acme",
                "--account-id",
                "123456789012",
                "--env",
                "platform/prod",
                "--thumbprint",
                THUMBPRINT,
            ],
        ),
        (
            // The role's own settings: path, boundary, tags and a longer session than the login's.
            "role_options",
            vec![
                "--org",
                "acme",
                "--account-id",
                "123456789012",
                "--env",
                "platform/*",
                "--role-name",
                "esc-platform",
                "--role-path",
                "/pulumi/esc/",
                "--permissions-boundary",
                "arn:aws:iam::aws:policy/PowerUserAccess",
                "--policy-arn",
                "arn:aws:iam::aws:policy/ReadOnlyAccess",
                "--tag",
                "team=platform",
                "--tag",
                "cost center=4 2",
                "--duration",
                "2h",
                "--max-session-duration",
                "4h",
                "--no-thumbprint",
            ],
        ),
        (
            "github",
            vec![
                "--issuer",
                "https://token.actions.githubusercontent.com",
                "--audience",
                "sts.amazonaws.com",
                "--subject",
                "repo:acme/infra:ref:refs/heads/main",
                "--subject",
                "repo:acme/infra:environment:*",
                "--role-name",
                "github-deploy",
                "--account-id",
                "123456789012",
                "--no-thumbprint",
            ],
        ),
        (
            // GitHub's preset: a repository moving to immutable subjects, a release tag pattern,
            // an environment, pull requests, and a reusable workflow every job must run.
            "github_preset",
            vec![
                "--github",
                "acme/infra",
                "--github",
                "acme@1342004/infra@892375110",
                "--github-ref",
                "refs/heads/main",
                "--github-ref",
                "refs/tags/v*",
                "--github-environment",
                "prod",
                "--github-pull-request",
                "--github-workflow",
                "acme/shared/.github/workflows/deploy.yml@refs/heads/main",
                "--policy-arn",
                "arn:aws:iam::aws:policy/ReadOnlyAccess",
                "--account-id",
                "123456789012",
                "--no-thumbprint",
            ],
        ),
        (
            // The Pulumi program also creates the ESC environment.
            "pulumi_creates_esc",
            vec![
                "--org",
                "acme",
                "--account-id",
                "123456789012",
                "--env",
                "platform/prod",
                "--esc-environment",
                "platform/prod",
                "--session-policy-arn",
                "arn:aws:iam::aws:policy/ReadOnlyAccess",
                "--no-thumbprint",
            ],
        ),
        (
            "gitlab_preset",
            vec![
                "--gitlab",
                "acme/platform/infra",
                "--gitlab-ref-type",
                "branch",
                "--gitlab-ref",
                "main",
                "--gitlab-ref",
                "release-*",
                "--gitlab-protected",
                "--account-id",
                "123456789012",
                "--no-thumbprint",
            ],
        ),
        (
            "hcp_terraform_preset",
            vec![
                "--hcp-terraform",
                "acme/Default Project/prod",
                "--hcp-terraform",
                "acme/infra/stage-*",
                "--account-id",
                "123456789012",
                "--no-thumbprint",
            ],
        ),
        (
            "buildkite_preset",
            vec![
                "--buildkite",
                "acme/deploy",
                "--buildkite-branch",
                "main",
                "--account-id",
                "123456789012",
                "--no-thumbprint",
            ],
        ),
        (
            "circleci_preset",
            vec![
                "--circleci",
                "0f3e1a2b-0000-4000-8000-00000000abcd",
                "--circleci-project",
                "11111111-2222-4333-8444-555555555555",
                "--account-id",
                "123456789012",
                "--no-thumbprint",
            ],
        ),
    ];
    fixtures
        .into_iter()
        .map(|(name, args)| (name, args.into_iter().map(String::from).collect()))
        .collect()
}

/// Runs the built `oidc-gen` with `args`, in `dir`, isolated from the caller's environment.
pub fn oidc_gen(dir: &Path, args: &[&str]) -> Output {
    oidc_gen_command(dir, args)
        .output()
        .expect("the oidc-gen binary runs")
}

/// The command `oidc_gen` runs, for tests that add to its environment.
pub fn oidc_gen_command(dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_oidc-gen"));
    command.args(args).current_dir(dir);
    for var in [
        "OIDC_GEN_ISSUER",
        "SSL_CERT_FILE",
        "SSL_CERT_DIR",
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "ALL_PROXY",
        "all_proxy",
        "NO_PROXY",
        "no_proxy",
    ] {
        command.env_remove(var);
    }
    command
}

/// A well-behaved local issuer with a fresh chain, and a folder that holds its root.
pub struct LocalIssuer {
    /// The chain the issuer serves.
    pub chain: TestChain,
    /// The issuer.
    pub issuer: TestIssuer,
    /// A folder for the run, holding `root.pem`.
    pub dir: tempfile::TempDir,
    root: String,
}

impl LocalIssuer {
    /// Starts an issuer serving a chain of `shape`.
    pub fn start(shape: ChainShape) -> Self {
        let chain = TestChain::new(shape);
        let issuer = TestIssuer::start(&chain);
        let dir = tempfile::tempdir().unwrap();
        let root = chain.write_root(dir.path()).to_str().unwrap().to_owned();
        LocalIssuer {
            chain,
            issuer,
            dir,
            root,
        }
    }

    /// `args`, then `--issuer` and `--ca-file` for this issuer.
    pub fn args<'a>(&'a self, args: &[&'a str]) -> Vec<&'a str> {
        let mut all = args.to_vec();
        all.extend(["--issuer", &self.issuer.url, "--ca-file", &self.root]);
        all
    }

    /// Runs oidc-gen in the folder with `args`, against this issuer and trusting its root.
    pub fn run(&self, args: &[&str]) -> Output {
        oidc_gen(self.dir.path(), &self.args(args))
    }
}

/// Standard output and error as text.
pub fn text(output: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Every file below `dir`, relative, sorted: to prove what a run wrote or left alone.
pub fn tree(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        for entry in std::fs::read_dir(&current).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                files.push((path.strip_prefix(dir).unwrap().to_path_buf(), Vec::new()));
                pending.push(path);
            } else {
                files.push((
                    path.strip_prefix(dir).unwrap().to_path_buf(),
                    std::fs::read(&path).unwrap(),
                ));
            }
        }
    }
    files.sort();
    files
}

/// Runs `command`, killing it if it has not ended after `limit`; returns its output and how
/// long it took.
pub fn run_bounded(mut command: Command, limit: Duration) -> (Output, Duration) {
    let started = Instant::now();
    let mut child = command
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > limit {
            let _ = child.kill();
            let output = child.wait_with_output().unwrap();
            panic!(
                "still running after {limit:?}, killed:\n{}",
                text(&output).1
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    (child.wait_with_output().unwrap(), started.elapsed())
}

/// `default` property-test cases, or as many as `PROPTEST_CASES` asks for.
pub fn proptest_cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Whether `.ci/run` said that every external tool the tests use must be present.
pub fn tools_required() -> bool {
    std::env::var("IAC_TOOLS_REQUIRED").is_ok_and(|v| v == "1")
}

/// Whether `program` can be run; when it cannot, the test skips (see [`skip`]).
pub fn have_tool(program: &str, version_arg: &str) -> bool {
    let found = Command::new(program)
        .arg(version_arg)
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        skip(&format!("{program} is not installed"));
    }
    found
}

/// checkov, from its own virtualenv (`CHECKOV` names the binary) or PATH.
pub fn checkov() -> Option<String> {
    let program = std::env::var("CHECKOV").unwrap_or_else(|_| "checkov".to_owned());
    have_tool(&program, "--version").then_some(program)
}

/// checkov's reports (one per framework) over `dir`'s Terraform and CloudFormation, offline,
/// with `args` added (`--check ...`), and its exit status.
pub fn checkov_reports(
    checkov: &str,
    dir: &Path,
    args: &[&str],
) -> (Vec<serde_json::Value>, std::process::ExitStatus) {
    let output = Command::new(checkov)
        .arg("--directory")
        .arg(dir)
        .args(["--framework", "terraform", "cloudformation"])
        .args(["--skip-download", "--output", "json"])
        .args(args)
        .output()
        .unwrap();
    let (stdout, stderr) = text(&output);
    let reports: serde_json::Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("checkov printed no JSON ({e}):\n{stdout}\n{stderr}"));
    let reports = match reports {
        serde_json::Value::Array(reports) => reports,
        single => vec![single],
    };
    (reports, output.status)
}

/// Records that the running test does not do its real-tool part, and why; fails instead when
/// `.ci/run` said every tool is required. cargo hides a passing test's output, so the reason is
/// also left where `tests/zz_skipped.rs`, which runs last, finds it and prints a summary.
pub fn skip(reason: &str) {
    assert!(
        !tools_required(),
        "{reason}, but every tool is required here (IAC_TOOLS_REQUIRED=1)"
    );
    skip_without_root(reason);
}

/// Records that the running test skips a part that needs root (which no install can give), and
/// why; the summary of `tests/zz_skipped.rs` shows it, in CI too.
pub fn skip_without_root(reason: &str) {
    eprintln!("skipped: {reason}");
    let test = std::thread::current()
        .name()
        .unwrap_or("a test")
        .replace("::", "-");
    let folder = skipped_folder(std::os::unix::process::parent_id());
    let _ = std::fs::create_dir_all(&folder);
    let _ = std::fs::write(
        folder.join(format!("{}--{test}", env!("CARGO_CRATE_NAME"))),
        reason,
    );
}

/// Where the tests of one `cargo test` run (the process `run`) leave their skip reasons.
pub fn skipped_folder(run: u32) -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("skipped")
        .join(run.to_string())
}

/// A tool from the CI-file checkers' virtualenv (`CI_CHECKERS` names its bin folder) or PATH.
pub fn ci_checker(name: &str) -> Option<String> {
    let program = match std::env::var("CI_CHECKERS") {
        Ok(dir) => format!("{dir}/{name}"),
        Err(_) => name.to_owned(),
    };
    have_tool(&program, "--version").then_some(program)
}

/// zizmor, as an auditor and offline, finds nothing at any severity in `repository`'s workflows
/// and actions.
pub fn assert_zizmor_clean(zizmor: &str, repository: &Path, what: &str) {
    let output = Command::new(zizmor)
        .args(["--offline", "--persona", "auditor", "--no-progress"])
        .arg(repository)
        .output()
        .unwrap();
    let (stdout, stderr) = text(&output);
    assert!(
        output.status.success() && stdout.contains("No findings"),
        "{what}: zizmor:\n{stdout}{stderr}"
    );
}

/// check-jsonschema finds `path` valid against its vendored schema `vendor`.
pub fn assert_schema(schema: &str, vendor: &str, path: &Path, what: &str) {
    let output = Command::new(schema)
        .args(["--builtin-schema", vendor])
        .arg(path)
        .output()
        .unwrap();
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{what}: {stdout}{stderr}");
}
