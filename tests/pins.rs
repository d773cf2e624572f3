//! Every action oidc-gen's files use is pinned to the commit `src/pins.rs` names, with its tag in
//! a comment: the generated workflow, the Action, the release workflow and dist's settings, which
//! would otherwise drift apart when one of them is updated.

mod common;

use std::path::Path;

use oidc_gen::pins::{CHECKED, PINS};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// The `uses:` of a workflow or action: (action, commit, comment).
fn uses(text: &str) -> Vec<(String, String, String)> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| line.trim_start_matches("- ").strip_prefix("uses: "))
        .map(|rest| {
            let (reference, comment) = rest.split_once(" # ").unwrap_or((rest, ""));
            let (action, commit) = reference.split_once('@').unwrap_or((reference, ""));
            (
                action.to_owned(),
                commit.to_owned(),
                comment.trim().to_owned(),
            )
        })
        .collect()
}

fn assert_pinned(file: &str, text: &str) -> usize {
    let found = uses(text);
    for (action, commit, comment) in &found {
        if action.starts_with("./") {
            continue;
        }
        let pin = PINS
            .iter()
            .find(|pin| pin.action == action)
            .unwrap_or_else(|| panic!("{file}: {action} is not in src/pins.rs"));
        assert_eq!(commit, pin.commit, "{file}: {action}");
        assert_eq!(
            comment, pin.tag,
            "{file}: {action} names its tag in a comment"
        );
    }
    found.len()
}

#[test]
fn every_action_is_pinned_as_the_table_says() {
    assert!(
        CHECKED.len() == 10 && CHECKED.starts_with("20"),
        "{CHECKED}"
    );
    for pin in PINS {
        assert_eq!(pin.commit.len(), 40, "{}", pin.action);
        assert!(
            pin.commit.bytes().all(|b| b.is_ascii_hexdigit()),
            "{}",
            pin.action
        );
        assert_eq!(
            pin.runtime, "node24",
            "{} runs on a runtime GitHub supports",
            pin.action
        );
    }
    let mut checked = 0;
    for file in ["action.yml", ".github/workflows/release.yml"] {
        checked += assert_pinned(
            file,
            &std::fs::read_to_string(Path::new(ROOT).join(file)).unwrap(),
        );
    }
    // The workflow oidc-gen generates.
    let dir = tempfile::tempdir().unwrap();
    let output = common::oidc_gen(
        dir.path(),
        &[
            "--github",
            "acme/app",
            "--account-id",
            "123456789012",
            "--no-thumbprint",
            "--format",
            "github",
            "--out",
            "-",
        ],
    );
    assert!(output.status.success(), "{}", common::text(&output).1);
    let generated = common::text(&output).0;
    assert_eq!(assert_pinned("the generated workflow", &generated), 1);
    checked += 1;
    assert!(checked > 10, "{checked}");

    // dist's settings, which `dist generate` writes the release workflow from.
    let manifest: toml::Value =
        toml::from_str(&std::fs::read_to_string(Path::new(ROOT).join("Cargo.toml")).unwrap())
            .unwrap();
    let commits = manifest["workspace"]["metadata"]["dist"]["github-action-commits"]
        .as_table()
        .unwrap();
    for (action, commit) in commits {
        let pin = PINS
            .iter()
            .find(|pin| pin.action == action)
            .expect("dist's action is pinned");
        assert_eq!(commit.as_str(), Some(pin.commit), "Cargo.toml: {action}");
    }
}
