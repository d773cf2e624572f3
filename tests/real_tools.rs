//! The generated files, judged by the real tools: `terraform fmt`, cfn-lint, checkov, and for
//! the CI systems' files check-jsonschema's vendored schemas and zizmor.
//! A missing tool skips the test with a printed reason, unless IAC_TOOLS_REQUIRED=1.

mod common;

use std::path::Path;
use std::process::Command;

use common::{checkov, checkov_reports, fixtures, have_tool, oidc_gen, text};

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
    let every_issuer = vec![
        "--config".to_owned(),
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/every-issuer.yaml"
        )
        .to_owned(),
    ];
    fixtures()
        .into_iter()
        .chain([("organization", spec), ("every_issuer", every_issuer)])
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
        // HCP Terraform's workspace variables are Terraform too.
        let hcp = out.join("hcp-terraform");
        if hcp.is_dir() {
            let output = Command::new("terraform")
                .args(["fmt", "-check", "-diff", "-no-color"])
                .arg(&hcp)
                .env("TF_CLI_CONFIG_FILE", &config)
                .env("CHECKPOINT_DISABLE", "1")
                .output()
                .unwrap();
            let (stdout, stderr) = text(&output);
            assert!(
                output.status.success(),
                "{name}: hcp-terraform:\n{stdout}{stderr}"
            );
        }
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
        fixtures().len() + 4,
        "the specs' two templates each are linted"
    );
}

/// checkov once over every fixture's folder: no failed check, both frameworks scanned in each
/// folder, and its GitHub OIDC check (CKV_AWS_393, inline trust policies) run on GitHub's roles.
#[test]
fn checkov_finds_no_failed_checks() {
    let Some(checkov) = checkov() else { return };
    let root = tempfile::tempdir().unwrap();
    let fixtures = generate_fixtures(root.path());
    let (reports, status) = checkov_reports(&checkov, root.path(), &[]);
    let mut scanned = std::collections::BTreeSet::new();
    let mut github_checked = std::collections::BTreeSet::new();
    for report in &reports {
        let check_type = report["check_type"].as_str().unwrap();
        let failed: Vec<String> = report["results"]["failed_checks"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| {
                format!(
                    "{} {} ({} in {})",
                    c["check_id"], c["check_name"], c["resource"], c["file_path"]
                )
            })
            .collect();
        assert!(
            failed.is_empty(),
            "checkov failed checks:\n{}",
            failed.join("\n")
        );
        for check in report["results"]["passed_checks"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let path = check["file_path"].as_str().unwrap().trim_start_matches('/');
            let fixture = path.split('/').next().unwrap().to_owned();
            scanned.insert((fixture.clone(), check_type.to_owned()));
            if check["check_id"] == "CKV_AWS_393" && fixture.starts_with("github") {
                github_checked.insert(fixture);
            }
        }
    }
    for (name, _) in &fixtures {
        for framework in ["cloudformation", "terraform"] {
            assert!(
                scanned.contains(&(name.to_string(), framework.to_owned())),
                "{name}: checkov passed no {framework} check there"
            );
        }
    }
    assert_eq!(
        github_checked.into_iter().collect::<Vec<_>>(),
        ["github", "github_preset"],
        "CKV_AWS_393 ran on GitHub's roles"
    );
    assert!(status.success(), "checkov: {status}");
}

/// A tool from the CI-file checkers' virtualenv (`CI_CHECKERS` names its bin folder) or PATH.
fn ci_checker(name: &str) -> Option<String> {
    let program = match std::env::var("CI_CHECKERS") {
        Ok(dir) => format!("{dir}/{name}"),
        Err(_) => name.to_owned(),
    };
    have_tool(&program, "--version").then_some(program)
}

/// zizmor, as an auditor and offline, finds nothing at any severity in `repository`'s workflows
/// and actions.
fn assert_zizmor_clean(zizmor: &str, repository: &Path, what: &str) {
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

/// Every CI system's generated file fits the system's own schema (check-jsonschema's vendored
/// copies); GitHub's workflows also pass zizmor (as an auditor, offline) with no finding: the
/// action is pinned to a commit, permissions are the least needed and explained.
#[test]
fn ci_files_pass_their_schemas_and_zizmor() {
    let (Some(schema), Some(zizmor)) = (ci_checker("check-jsonschema"), ci_checker("zizmor"))
    else {
        return;
    };
    let root = tempfile::tempdir().unwrap();
    let mut checked = Vec::new();
    for (name, out) in generate_fixtures(root.path()) {
        for (file, vendor) in [
            ("github/workflow.yml", "vendor.github-workflows"),
            ("gitlab/.gitlab-ci.yml", "vendor.gitlab-ci"),
            ("buildkite/pipeline.yml", "vendor.buildkite"),
            ("circleci/config.yml", "vendor.circle-ci"),
        ] {
            let path = out.join(file);
            if !path.is_file() {
                continue;
            }
            let output = Command::new(&schema)
                .args(["--builtin-schema", vendor])
                .arg(&path)
                .output()
                .unwrap();
            let (stdout, stderr) = text(&output);
            assert!(output.status.success(), "{name} {file}: {stdout}{stderr}");
            checked.push(file);
        }
        let workflow = out.join("github/workflow.yml");
        if !workflow.is_file() {
            continue;
        }
        // zizmor audits workflows where GitHub keeps them.
        let repository = root.path().join(format!("{name}-repo"));
        let folder = repository.join(".github/workflows");
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::copy(&workflow, folder.join("aws.yml")).unwrap();
        assert_zizmor_clean(&zizmor, &repository, name);
    }
    checked.sort();
    checked.dedup();
    assert_eq!(
        checked,
        [
            "buildkite/pipeline.yml",
            "circleci/config.yml",
            "github/workflow.yml",
            "gitlab/.gitlab-ci.yml"
        ],
        "every CI system's file is checked"
    );
}

/// The repository's GitHub Action (`action.yml`) and its release workflow (dist's, hardened) fit
/// GitHub's schemas and pass zizmor with no finding at any severity; a copy of the action without
/// its `runs` fails the schema, so the check can fail.
#[test]
fn the_action_and_the_release_workflow_pass_their_schemas_and_zizmor() {
    let (Some(schema), Some(zizmor)) = (ci_checker("check-jsonschema"), ci_checker("zizmor"))
    else {
        return;
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let action = root.join("action.yml");
    let release = root.join(".github/workflows/release.yml");
    let dir = tempfile::tempdir().unwrap();
    let text_of = std::fs::read_to_string(&action).unwrap();
    let broken = dir.path().join("broken/action.yml");
    std::fs::create_dir_all(broken.parent().unwrap()).unwrap();
    let runs = text_of.find("\nruns:").expect("the action has runs");
    std::fs::write(&broken, &text_of[..runs]).unwrap();
    for (path, vendor, valid) in [
        (&action, "vendor.github-actions", true),
        (&broken, "vendor.github-actions", false),
        (&release, "vendor.github-workflows", true),
    ] {
        let output = Command::new(&schema)
            .args(["--builtin-schema", vendor])
            .arg(path)
            .output()
            .unwrap();
        let (stdout, stderr) = text(&output);
        assert_eq!(
            output.status.success(),
            valid,
            "{}: {stdout}{stderr}",
            path.display()
        );
    }
    let repository = dir.path().join("repo");
    std::fs::create_dir_all(repository.join(".github/workflows")).unwrap();
    std::fs::copy(&action, repository.join("action.yml")).unwrap();
    std::fs::copy(&release, repository.join(".github/workflows/release.yml")).unwrap();
    assert_zizmor_clean(&zizmor, &repository, "action.yml and release.yml");
}
