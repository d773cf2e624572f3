//! The generated files, judged by the real tools: `terraform fmt`, cfn-lint, checkov, and for
//! the CI systems' files check-jsonschema's vendored schemas and zizmor.
//! A missing tool skips the test with a printed reason, unless IAC_TOOLS_REQUIRED=1.

mod common;

use std::path::Path;
use std::process::Command;

use common::{fixtures, have_tool, oidc_gen, text};

/// Generates every offline fixture, and the spec of many accounts, into its own folder under `root`.
fn generate_fixtures(root: &Path) -> Vec<(&'static str, std::path::PathBuf)> {
    let spec = vec![
        "--config".to_owned(),
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/organization.yaml"
        )
        .to_owned(),
    ];
    fixtures()
        .into_iter()
        .chain([("organization", spec)])
        .map(|(name, args)| {
            let out = root.join(name);
            let mut args: Vec<&str> = args.iter().map(String::as_str).collect();
            let out_arg = out.to_str().unwrap().to_owned();
            args.extend(["--out", &out_arg]);
            let output = oidc_gen(root, &args);
            assert!(output.status.success(), "{name}: {}", text(&output).1);
            (name, out)
        })
        .collect()
}

/// The CloudFormation templates in a generated folder: the template, and the StackSet's.
fn cloudformation_templates(out: &Path) -> Vec<std::path::PathBuf> {
    ["template.json", "stackset.json"]
        .iter()
        .map(|file| out.join("cloudformation").join(file))
        .filter(|path| path.is_file())
        .collect()
}

#[test]
fn terraform_output_is_what_terraform_fmt_writes() {
    if !have_tool("terraform", "version") {
        return;
    }
    let root = tempfile::tempdir().unwrap();
    let config = root.path().join("terraform.rc");
    std::fs::write(&config, "").unwrap();
    for (name, out) in generate_fixtures(root.path()) {
        let output = Command::new("terraform")
            .args(["fmt", "-check", "-diff", "-no-color", "-recursive"])
            .arg(out.join("terraform"))
            .env("TF_CLI_CONFIG_FILE", &config)
            .env("CHECKPOINT_DISABLE", "1")
            .output()
            .unwrap();
        let (stdout, stderr) = text(&output);
        assert!(
            output.status.success(),
            "{name}: terraform fmt would change the file:\n{stdout}{stderr}"
        );
    }
}

#[test]
fn cloudformation_template_has_no_cfn_lint_findings() {
    if !have_tool("cfn-lint", "--version") {
        return;
    }
    let root = tempfile::tempdir().unwrap();
    let mut linted = 0;
    for (name, out) in generate_fixtures(root.path()) {
        let templates = cloudformation_templates(&out);
        linted += templates.len();
        let output = Command::new("cfn-lint")
            .args(["--format", "json", "--"])
            .args(&templates)
            .output()
            .unwrap();
        let (stdout, stderr) = text(&output);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{name}: cfn-lint findings:\n{stdout}{stderr}"
        );
        assert_eq!(stdout.trim(), "[]", "{name}");
    }
    assert_eq!(
        linted,
        fixtures().len() + 2,
        "the spec's two templates are linted"
    );
}

/// checkov, from its own virtualenv (`CHECKOV` names the binary) or PATH.
fn checkov() -> Option<String> {
    let program = std::env::var("CHECKOV").unwrap_or_else(|_| "checkov".to_owned());
    have_tool(&program, "--version").then_some(program)
}

#[test]
fn checkov_finds_no_failed_checks() {
    let Some(checkov) = checkov() else { return };
    let root = tempfile::tempdir().unwrap();
    for (name, out) in generate_fixtures(root.path()) {
        let output = Command::new(&checkov)
            .arg("--directory")
            .arg(&out)
            .args([
                "--framework",
                "terraform",
                "cloudformation",
                "--skip-download",
                "--output",
                "json",
            ])
            .output()
            .unwrap();
        let (stdout, stderr) = text(&output);
        let reports: serde_json::Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
            panic!("{name}: checkov printed no JSON ({e}):\n{stdout}\n{stderr}")
        });
        let reports = match reports {
            serde_json::Value::Array(reports) => reports,
            single => vec![single],
        };
        let mut scanned: Vec<&str> = reports
            .iter()
            .map(|r| r["check_type"].as_str().unwrap())
            .collect();
        scanned.sort();
        assert_eq!(
            scanned,
            ["cloudformation", "terraform"],
            "{name}: both files are scanned"
        );
        for report in &reports {
            let summary = &report["summary"];
            assert!(summary["passed"].as_u64().unwrap() > 0, "{name}: {summary}");
            let failed: Vec<String> = report["results"]["failed_checks"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|c| format!("{} {} ({})", c["check_id"], c["check_name"], c["resource"]))
                .collect();
            assert!(
                failed.is_empty(),
                "{name}: checkov failed checks:\n{}",
                failed.join("\n")
            );
            // checkov's GitHub OIDC check (inline trust policies) looked at GitHub's roles.
            if name.starts_with("github") && report["check_type"] == "terraform" {
                let passed = report["results"]["passed_checks"].as_array().unwrap();
                assert!(
                    passed.iter().any(|c| c["check_id"] == "CKV_AWS_393"),
                    "{name}: CKV_AWS_393 did not run"
                );
            }
        }
        assert_eq!(output.status.code(), Some(0), "{name}: {stderr}");
    }
}

/// A tool from the CI-file checkers' virtualenv (`CI_CHECKERS` names its bin folder) or PATH.
fn ci_checker(name: &str) -> Option<String> {
    let program = match std::env::var("CI_CHECKERS") {
        Ok(dir) => format!("{dir}/{name}"),
        Err(_) => name.to_owned(),
    };
    have_tool(&program, "--version").then_some(program)
}

/// Every generated GitHub workflow fits GitHub's schema, and zizmor (as an auditor, offline)
/// finds nothing in it: the action is pinned to a commit, permissions are the least needed and
/// explained.
#[test]
fn github_workflows_pass_the_schema_and_zizmor() {
    let (Some(schema), Some(zizmor)) = (ci_checker("check-jsonschema"), ci_checker("zizmor"))
    else {
        return;
    };
    let root = tempfile::tempdir().unwrap();
    let mut checked = 0;
    for (name, out) in generate_fixtures(root.path()) {
        let workflow = out.join("github/workflow.yml");
        if !workflow.is_file() {
            continue;
        }
        // zizmor audits workflows where GitHub keeps them.
        let repository = root.path().join(format!("{name}-repo"));
        let folder = repository.join(".github/workflows");
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::copy(&workflow, folder.join("aws.yml")).unwrap();
        let output = Command::new(&schema)
            .args(["--builtin-schema", "vendor.github-workflows"])
            .arg(folder.join("aws.yml"))
            .output()
            .unwrap();
        let (stdout, stderr) = text(&output);
        assert!(output.status.success(), "{name}: {stdout}{stderr}");
        let output = Command::new(&zizmor)
            .args(["--offline", "--persona", "auditor", "--no-progress"])
            .arg(&repository)
            .output()
            .unwrap();
        let (stdout, stderr) = text(&output);
        assert!(
            output.status.success() && stdout.contains("No findings"),
            "{name}: zizmor:\n{stdout}{stderr}"
        );
        checked += 1;
    }
    assert!(checked >= 1, "no fixture writes a GitHub workflow");
}
