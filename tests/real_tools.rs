//! The generated files, judged by the real tools: `terraform fmt`, cfn-lint, checkov, and for
//! the CI systems' files check-jsonschema's vendored schemas and zizmor.
//! A missing tool skips the test with a printed reason, unless IAC_TOOLS_REQUIRED=1.

mod common;

use std::path::Path;
use std::process::Command;

use common::{
    assert_schema, assert_zizmor_clean, checkov, checkov_reports, ci_checker, fixtures, have_tool,
    oidc_gen, text,
};

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
            assert_schema(&schema, vendor, &path, &format!("{name} {file}"));
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

/// A value given for a CI system's file is refused by the system's grammar, or lands in the file
/// as exactly itself: GitHub evaluates nothing of it (zizmor's template-injection audit, its
/// schema), GitLab's `rules:if` tests the ref and nothing else (its expression read by GitLab's
/// lexer), Buildkite interpolates nothing of it (`$` written `$$`).
#[test]
fn hostile_values_in_ci_files_are_refused_or_inert() {
    let checkers = (ci_checker("check-jsonschema"), ci_checker("zizmor"));
    let root = tempfile::tempdir().unwrap();
    let generate = |name: &str, args: &[&str], format: &str| {
        let out = root.path().join(name);
        let mut all = args.to_vec();
        all.extend([
            "--account-id",
            "123456789012",
            "--no-thumbprint",
            "--format",
            format,
            "--out",
        ]);
        all.push(out.to_str().unwrap());
        let output = oidc_gen(root.path(), &all);
        match output.status.code() {
            Some(0) => Some(out),
            Some(2) => {
                let stderr = text(&output).1;
                assert!(stderr.starts_with("error: invalid --"), "{name}: {stderr}");
                assert!(!out.exists(), "{name}: written anyway");
                None
            }
            code => panic!("{name}: exit {code:?}: {}", text(&output).1),
        }
    };
    let schema_ok = |file: &Path, vendor: &str| {
        if let Some(schema) = &checkers.0 {
            let output = Command::new(schema)
                .args(["--builtin-schema", vendor])
                .arg(file)
                .output()
                .unwrap();
            assert!(
                output.status.success(),
                "{}: {}",
                file.display(),
                text(&output).0
            );
        }
    };
    let yaml = |file: &Path| -> serde_yaml::Value {
        serde_yaml::from_str(&std::fs::read_to_string(file).unwrap()).unwrap()
    };

    // GitHub: the environment and the refs.
    let injections = [
        "prod${{ github.event.pull_request.title }}",
        "x${{github.head_ref}}",
        "prod\" || true #",
        "a: b",
        "{x}",
        "[x]",
        "&a *b",
        "'q'",
        "| >",
        "!tag",
        "%x @y `z`",
        "a\nb",
        "a\u{202e}b",
        "a#b",
    ];
    let mut written = 0;
    for (index, value) in injections.iter().enumerate() {
        let environment = [
            &["--github", "acme/app", "--github-environment"][..],
            &[value],
        ]
        .concat();
        let reference = format!("refs/heads/{value}");
        let branch = [
            &["--github", "acme/app", "--github-ref"][..],
            &[reference.as_str()],
        ]
        .concat();
        for (kind, args) in [("environment", environment), ("ref", branch)] {
            let Some(out) = generate(&format!("github-{kind}-{index}"), &args, "github") else {
                continue;
            };
            written += 1;
            let file = out.join("github/workflow.yml");
            let text = std::fs::read_to_string(&file).unwrap();
            let expressions = text.matches("${{").count();
            assert_eq!(expressions, 2, "only the concurrency group's own: {text}");
            let workflow = yaml(&file);
            match kind {
                // A pattern names no one environment: the job names none.
                "environment" if value.contains(['*', '?']) => {
                    assert!(workflow["jobs"]["aws"]["environment"].is_null(), "{text}")
                }
                "environment" => {
                    assert_eq!(workflow["jobs"]["aws"]["environment"], *value, "{text}")
                }
                _ => assert_eq!(
                    workflow["on"]["push"]["branches"]
                        .as_sequence()
                        .unwrap()
                        .len(),
                    1,
                    "{text}"
                ),
            }
            schema_ok(&file, "vendor.github-workflows");
            if let Some(zizmor) = &checkers.1 {
                let repository = out.join("repo");
                std::fs::create_dir_all(repository.join(".github/workflows")).unwrap();
                std::fs::copy(&file, repository.join(".github/workflows/aws.yml")).unwrap();
                assert_zizmor_clean(zizmor, &repository, value);
            }
        }
    }
    assert!(
        written >= 10,
        "most values are names GitHub allows: {written}"
    );

    // GitLab: every rule is `$CI_COMMIT_* <op> <literal>` (and the protected test), and the
    // literal names the ref, whatever quotes and operators the ref holds.
    let refs = [
        "x\"||\"1\"==\"1",
        "x'||'1'=='1",
        "a\"b'c",
        "$CI_JOB_TOKEN",
        "a&&b",
        "(x)",
        "é/ü",
        "*\"*",
        "re/*'",
        "a//b",
    ];
    let mut args = vec!["--gitlab", "acme/app", "--gitlab-protected"];
    for reference in &refs {
        args.extend(["--gitlab-ref", reference]);
    }
    assert!(
        generate("gitlab-bad", &args, "gitlab").is_none(),
        "a//b is no git ref"
    );
    args.truncate(args.len() - 2);
    let out = generate("gitlab", &args, "gitlab").expect("git allows these names");
    let file = out.join("gitlab/.gitlab-ci.yml");
    schema_ok(&file, "vendor.gitlab-ci");
    let rules = yaml(&file)["assume-aws-role"]["rules"]
        .as_sequence()
        .unwrap()
        .clone();
    assert_eq!(
        rules.len(),
        2 * (refs.len() - 1),
        "a rule per ref type and ref"
    );
    let named = &refs[..refs.len() - 1];
    for (rule, reference) in rules.iter().zip(named.iter().chain(named)) {
        let condition = rule["if"].as_str().unwrap();
        let tokens = gitlab_tokens(condition);
        let [variable, op, literal, and, protected, equals, truth] = &tokens[..] else {
            panic!("{condition:?}: {tokens:?}");
        };
        assert!(
            matches!(variable, Token::Variable(v) if v == "CI_COMMIT_BRANCH" || v == "CI_COMMIT_TAG"),
            "{condition}"
        );
        assert_eq!(
            (and, protected, equals, truth),
            (
                &Token::Op("&&".into()),
                &Token::Variable("CI_COMMIT_REF_PROTECTED".into()),
                &Token::Op("==".into()),
                &Token::Text("true".into())
            ),
            "{condition}"
        );
        let admits = |name: &str| match (op, literal) {
            (Token::Op(op), Token::Text(text)) if op == "==" => text == name,
            (Token::Op(op), Token::Pattern(pattern)) if op == "=~" => {
                regex::Regex::new(pattern).unwrap().is_match(name)
            }
            _ => panic!("{condition}: {op:?} {literal:?}"),
        };
        let example = reference.replace('*', "zz");
        assert!(admits(&example), "{condition} admits {example:?}");
        assert!(
            !admits(&format!("{example}x")) || reference.ends_with('*'),
            "{condition}"
        );
        assert!(!admits("main"), "{condition} admits main");
    }

    // Buildkite: nothing of a branch is interpolated on upload.
    for branch in [
        "main$BUILDKITE_AGENT_ACCESS_TOKEN",
        "${BUILDKITE_AGENT_ACCESS_TOKEN}",
        "a$$b",
        "\"q\"",
        "a#b",
        "{x}",
    ] {
        let args = [
            "--buildkite",
            "acme/deploy",
            "--buildkite-branch",
            branch,
            "--buildkite-branch",
            "main",
        ];
        let out = generate("buildkite", &args, "buildkite").expect("git allows the name");
        let file = out.join("buildkite/pipeline.yml");
        schema_ok(&file, "vendor.buildkite");
        let written = yaml(&file)["steps"][0]["branches"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(
            buildkite_uninterpolated(&written),
            Some(format!("{branch} main")),
            "{written}"
        );
        std::fs::remove_dir_all(&out).unwrap();
    }
    let args = ["--buildkite", "acme/deploy", "--buildkite-branch", "!main"];
    assert!(
        generate("buildkite-not", &args, "buildkite").is_none(),
        "a leading ! negates"
    );
}

/// A token of a GitLab CI `rules:if` expression, as GitLab's lexer reads it: `$NAME`, a string in
/// double or single quotes (no escapes), a `/regexp/`, an operator.
#[derive(Debug, PartialEq)]
enum Token {
    Variable(String),
    Text(String),
    Pattern(String),
    Op(String),
}

fn gitlab_tokens(expression: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut rest = expression.trim_start();
    while !rest.is_empty() {
        let (token, len) = if let Some(after) = rest.strip_prefix('$') {
            let len = after
                .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            (Token::Variable(after[..len].to_owned()), len + 1)
        } else if rest.starts_with(['"', '\'']) {
            let quote = rest.chars().next().unwrap();
            let end = rest[1..].find(quote).expect("a closed string") + 1;
            (Token::Text(rest[1..end].to_owned()), end + 1)
        } else if rest.starts_with('/') {
            // GitLab's pattern ends at the first `/` not escaped by a backslash.
            let bytes = rest.as_bytes();
            let mut end = 1;
            while bytes[end] != b'/' {
                end += if bytes[end] == b'\\' { 2 } else { 1 };
            }
            (Token::Pattern(rest[1..end].to_owned()), end + 1)
        } else {
            let op = ["==", "!=", "=~", "!~", "&&", "||", "(", ")"]
                .into_iter()
                .find(|op| rest.starts_with(op))
                .unwrap_or_else(|| panic!("no token at {rest:?} in {expression:?}"));
            (Token::Op(op.to_owned()), op.len())
        };
        tokens.push(token);
        rest = rest[len..].trim_start();
    }
    tokens
}

/// What Buildkite's upload makes of `text`: `$$` is `$`; `None` if it would interpolate.
fn buildkite_uninterpolated(text: &str) -> Option<String> {
    let mut out = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' {
            match chars.next() {
                Some('$') => out.push('$'),
                _ => return None,
            }
        } else {
            out.push(c);
        }
    }
    Some(out)
}
