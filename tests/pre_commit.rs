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
