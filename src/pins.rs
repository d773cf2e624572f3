//! The GitHub Actions oidc-gen uses, each pinned to a full commit SHA (a tag can be moved; a
//! commit cannot): in the workflow it generates, in its own Action and in its release workflow.
//! One table: the generated workflow takes its pin from here, and a test holds `action.yml`,
//! `.github/workflows/` and Cargo.toml's dist settings to it.

/// One action at one release.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pin {
    /// `owner/repo` (or `owner/repo/path`).
    pub action: &'static str,
    /// The release's commit.
    pub commit: &'static str,
    /// The release's tag, written beside the commit as a comment.
    pub tag: &'static str,
    /// The runtime the release runs on: GitHub's runners drop Node 20 in 2026.
    pub runtime: &'static str,
}

/// When each pin was last checked against its project's releases.
pub const CHECKED: &str = "2026-12-05";

/// Every action oidc-gen pins.
pub const PINS: &[Pin] = &[
    Pin {
        action: "aws-actions/configure-aws-credentials",
        commit: "e6de054238d6b7531b4efff3b6587d9aade6a06c",
        tag: "v6.2.3",
        runtime: "node24",
    },
    Pin {
        action: "google-github-actions/auth",
        commit: "7c6bc770dae815cd3e89ee6cdf493a5fab2cc093",
        tag: "v3.0.0",
        runtime: "node24",
    },
    Pin {
        action: "actions/checkout",
        commit: "08c6903cd8c0fde910a37f88322edcfb5dd907a8",
        tag: "v5.0.0",
        runtime: "node24",
    },
    Pin {
        action: "actions/upload-artifact",
        commit: "b7c566a772e6b6bfb58ed0dc250532a479d7789f",
        tag: "v6.0.0",
        runtime: "node24",
    },
    Pin {
        action: "actions/download-artifact",
        commit: "37930b1c2abaa49bbe596cd826c3c89aef350131",
        tag: "v7.0.0",
        runtime: "node24",
    },
    Pin {
        action: "github/codeql-action/upload-sarif",
        commit: "5d4e8d1aca955e8d8589aabd499c5cae939e33c7",
        tag: "v4.31.9",
        runtime: "node24",
    },
];

/// The pin of `action`.
pub fn pin(action: &str) -> &'static Pin {
    PINS.iter()
        .find(|pin| pin.action == action)
        .unwrap_or_else(|| panic!("{action} is pinned in PINS"))
}

impl Pin {
    /// `owner/repo@commit`, as a workflow's `uses:` names it.
    pub fn uses(&self) -> String {
        format!("{}@{}", self.action, self.commit)
    }

    /// `uses` and `tag`, for a template.
    pub fn uses_and_tag(&self) -> serde_json::Value {
        serde_json::json!({ "uses": self.uses(), "tag": self.tag })
    }
}
