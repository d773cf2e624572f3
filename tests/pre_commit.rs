//! The `--check` gates others drop in: the pre-commit hook in `.pre-commit-hooks.yaml`, validated by
//! pre-commit itself and run as pre-commit runs it (its entry, then the user's args), and the
//! GitHub Actions step in the README, which runs the committed example's command.

mod common;

use std::path::Path;
use std::process::Command;

use common::{oidc_gen, skip, text};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// The generation options of the committed example, from `out/README.md`.
fn example_args() -> Vec<String> {
    let readme = std::fs::read_to_string(Path::new(ROOT).join("out/README.md")).unwrap();
    let command = readme
        .lines()
        .find(|line| line.starts_with("oidc-gen "))
        .unwrap();
    shell_words::split(command).unwrap()[1..].to_vec()
}

#[test]
fn the_hook_definition_is_valid_for_pre_commit() {
    let program = std::env::var("PRE_COMMIT").unwrap_or_else(|_| "pre-commit".into());
    let Ok(output) = Command::new(&program)
        .args(["validate-manifest", ".pre-commit-hooks.yaml"])
        .current_dir(ROOT)
        .output()
    else {
        return skip("pre-commit is not installed (PRE_COMMIT)");
    };
    assert!(output.status.success(), "{}", text(&output).0);

    // The validator can fail: a hook without its language is refused.
    let dir = tempfile::tempdir().unwrap();
    let hooks = std::fs::read_to_string(Path::new(ROOT).join(".pre-commit-hooks.yaml")).unwrap();
    let broken = dir.path().join("hooks.yaml");
    std::fs::write(&broken, hooks.replace("  language: rust\n", "")).unwrap();
    let refused = Command::new(&program)
        .arg("validate-manifest")
        .arg(&broken)
        .output()
        .unwrap();
    assert!(!refused.status.success());
}

#[test]
fn the_hook_runs_the_real_binary_and_fails_on_a_stale_folder() {
    let hooks: serde_yaml::Value = serde_yaml::from_str(
        &std::fs::read_to_string(Path::new(ROOT).join(".pre-commit-hooks.yaml")).unwrap(),
    )
    .unwrap();
    let hook = &hooks[0];
    assert_eq!(hook["id"], "oidc-gen-check");
    assert_eq!(hook["pass_filenames"], false);
    let entry = shell_words::split(hook["entry"].as_str().unwrap()).unwrap();
    assert_eq!(entry[0], "oidc-gen", "the hook runs the oidc-gen binary");

    // pre-commit runs the entry, then the args of the user's configuration.
    let dir = tempfile::tempdir().unwrap();
    let args = example_args();
    let generate: Vec<&str> = args.iter().map(String::as_str).collect();
    assert!(oidc_gen(dir.path(), &generate).status.success());
    let hook_command: Vec<&str> = entry[1..]
        .iter()
        .map(String::as_str)
        .chain(generate.iter().copied())
        .collect();
    let clean = oidc_gen(dir.path(), &hook_command);
    assert_eq!(clean.status.code(), Some(0), "{}", text(&clean).1);
    std::fs::write(dir.path().join("out/terraform/main.tf"), "# edited\n").unwrap();
    let stale = oidc_gen(dir.path(), &hook_command);
    assert_eq!(stale.status.code(), Some(1));
    assert!(text(&stale).0.contains("unowned: out/terraform/main.tf"));
}

#[test]
fn the_readme_actions_step_runs_the_committed_example_check() {
    let readme = std::fs::read_to_string(Path::new(ROOT).join("README.md")).unwrap();
    let step = readme
        .lines()
        .map(str::trim)
        .find_map(|line| line.strip_prefix("- run: oidc-gen "))
        .expect("the README has a GitHub Actions step that runs oidc-gen");
    let mut expected = example_args();
    expected.push("--check".into());
    assert_eq!(shell_words::split(step).unwrap(), expected);
    let args: Vec<&str> = expected.iter().map(String::as_str).collect();
    let output = oidc_gen(Path::new(ROOT), &args);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output).1);
}

/// The lint hook, run as pre-commit runs it: its entry with the staged files its `files` pattern
/// selects. Files that are not trust policies (a package.json, a GitLab pipeline, a tsconfig.json
/// with comments) never fail it; a role that trusts every GitHub repository does, and is named.
#[test]
fn the_lint_hook_passes_over_other_files_and_fails_on_a_bad_role() {
    let hooks: serde_yaml::Value = serde_yaml::from_str(
        &std::fs::read_to_string(Path::new(ROOT).join(".pre-commit-hooks.yaml")).unwrap(),
    )
    .unwrap();
    let hook = hooks
        .as_sequence()
        .unwrap()
        .iter()
        .find(|h| h["id"] == "oidc-gen-lint")
        .expect("an oidc-gen-lint hook");
    assert_ne!(hook["pass_filenames"], false, "pre-commit passes the files");
    let entry = shell_words::split(hook["entry"].as_str().unwrap()).unwrap();
    assert_eq!(entry[..2], ["oidc-gen", "lint"]);
    assert_eq!(
        entry.last().map(String::as_str),
        Some("--"),
        "the entry ends lint's options, so that a staged file named like an option is a path"
    );
    let files = regex::Regex::new(hook["files"].as_str().unwrap()).unwrap();

    let dir = tempfile::tempdir().unwrap();
    let staged = [
        (
            "package.json",
            "{\"name\": \"x\", \"scripts\": {\"test\": \"jest\"}}",
        ),
        (
            "tsconfig.json",
            "{\n  // comments are not JSON\n  \"compilerOptions\": {}\n}\n",
        ),
        (
            ".gitlab-ci.yml",
            "build:\n  script: [make]\n  only: !reference [.rules, only]\n",
        ),
        ("README.md", "Statement: a word lint never reads here\n"),
        (
            "iam.tf",
            "resource \"aws_iam_role\" \"ci\" {\n  assume_role_policy = jsonencode({\n    Statement = [{\n\
             Effect = \"Allow\"\n Action = \"sts:AssumeRoleWithWebIdentity\"\n\
             Principal = { Federated = \"arn:aws:iam::1:oidc-provider/token.actions.githubusercontent.com\" }\n\
             Condition = { StringEquals = { \"token.actions.githubusercontent.com:aud\" = \"sts.amazonaws.com\" },\n\
             StringLike = { \"token.actions.githubusercontent.com:sub\" = \"repo:*\" } }\n }]\n  })\n}\n",
        ),
    ];
    for (name, text) in staged {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let run = |names: &[&str]| {
        let selected: Vec<&str> = names
            .iter()
            .copied()
            .filter(|n| files.is_match(n))
            .collect();
        let args: Vec<&str> = entry[1..]
            .iter()
            .map(String::as_str)
            .chain(selected)
            .collect();
        oidc_gen(dir.path(), &args)
    };
    let others = [
        "package.json",
        "tsconfig.json",
        ".gitlab-ci.yml",
        "README.md",
    ];
    let clean = run(&others);
    assert_eq!(clean.status.code(), Some(0), "{}", text(&clean).0);
    let mut all = others.to_vec();
    all.push("iam.tf");
    let bad = run(&all);
    let stdout = text(&bad).0;
    assert_eq!(bad.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("iam.tf:2: aws_iam_role.ci") && stdout.contains("OIDC002"),
        "{stdout}"
    );

    // Files named like options are linted, not obeyed: without the entry's `--`, -h.json
    // printed help and exited 0 with nothing linted.
    let role = std::fs::read_to_string(dir.path().join("iam.tf")).unwrap();
    for name in ["-h.tf", "--help.tf", "--version.tf", "--format=json.tf"] {
        std::fs::write(dir.path().join(name), &role).unwrap();
        let named = run(&[name, "package.json"]);
        let stdout = text(&named).0;
        assert_eq!(named.status.code(), Some(1), "{name}: {stdout}");
        assert!(
            stdout.contains(&format!("{name}:2: aws_iam_role.ci")) && stdout.contains("OIDC002"),
            "{name}: {stdout}"
        );
    }
}
