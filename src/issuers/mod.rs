//! What oidc-gen knows of each issuer that logs into AWS, as data: one module per issuer, each a
//! [`Preset`], registered by name in [`registry!`]'s one line. `oidc-gen issuers` prints them.

use serde::Serialize;

use crate::issuer::Issuer;

/// One issuer: where its tokens come from, what they carry, and what AWS can check of them.
#[derive(Debug, Serialize)]
pub struct Preset {
    /// A short name, e.g. `github`.
    pub id: &'static str,
    /// Who runs it, e.g. `GitHub Actions`.
    pub name: &'static str,
    /// Its issuer URLs (`<...>` marks a part that varies).
    pub issuers: &'static [&'static str],
    /// Whether an issuer URL is one of this preset's.
    #[serde(skip)]
    pub matches: fn(&Issuer) -> bool,
    /// The audience its tokens carry by default, or how it is chosen.
    pub audience: &'static str,
    /// The subject grammar.
    pub subject: &'static str,
    /// The claims the subject is built from, in order.
    pub subject_fields: &'static [&'static str],
    /// How a value is escaped inside the subject.
    pub escaping: &'static str,
    /// Claims besides `aud` and `sub` that AWS STS maps to condition keys
    /// (`<issuer without https://>:<claim>`); a condition on any other claim never matches.
    pub mapped_claims: &'static [&'static str],
    /// The claim IAM's shared-issuer guard requires a new trust policy to test, if any.
    pub required_claim: Option<&'static str>,
    /// What makes the workload use the role.
    pub consumer: &'static str,
    /// An audience for an example command.
    pub example_audience: &'static str,
    /// A subject pattern for an example command.
    pub example_subject: &'static str,
    /// Why a token's `sub` may not be what the role lists (the subjects its policy tests), in
    /// this issuer's terms; empty when there is nothing to say.
    #[serde(skip)]
    pub explain: fn(&str, &[String]) -> Vec<String>,
}

/// Declares the issuer modules and lists their presets in [`ALL`], in this order.
macro_rules! registry {
    ($($module:ident),* $(,)?) => {
        $(pub mod $module;)*
        /// Every preset, in the order `oidc-gen issuers` prints them.
        pub const ALL: &[&Preset] = &[$(&$module::PRESET),*];
    };
}

registry!(
    pulumi,
    github,
    gitlab,
    hcp_terraform,
    buildkite,
    circleci,
    bitbucket
);

/// The preset whose issuer `issuer` is, if any. A self-hosted Pulumi Cloud is not recognised.
pub fn find(issuer: &Issuer) -> Option<&'static Preset> {
    ALL.iter().copied().find(|preset| (preset.matches)(issuer))
}

impl Preset {
    /// The preset as `oidc-gen issuers` prints it.
    pub fn describe(&self) -> String {
        let list = |items: &[&str]| match items {
            [] => "none".to_owned(),
            items => items.join(", "),
        };
        let rows = [
            ("issuer", list(self.issuers)),
            ("audience", self.audience.to_owned()),
            ("subject", self.subject.to_owned()),
            ("subject fields", list(self.subject_fields)),
            ("escaping", self.escaping.to_owned()),
            (
                "condition keys",
                ["aud", "sub"]
                    .iter()
                    .chain(self.mapped_claims)
                    .copied()
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            (
                "required claim",
                self.required_claim
                    .map_or("none known".to_owned(), str::to_owned),
            ),
            ("consumer", self.consumer.to_owned()),
        ];
        let mut text = format!("{} ({})\n", self.name, self.id);
        for (label, value) in rows {
            text.push_str(&format!("  {label:<15} {value}\n"));
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issuer(url: &str) -> Issuer {
        Issuer::parse(url).unwrap()
    }

    #[test]
    fn each_issuer_url_finds_its_preset() {
        for (url, id) in [
            ("https://api.pulumi.com/oidc", Some("pulumi")),
            (
                "https://token.actions.githubusercontent.com",
                Some("github"),
            ),
            (
                "https://token.actions.githubusercontent.com/acme",
                Some("github"),
            ),
            ("https://token.actions.acme.ghe.com", Some("github")),
            ("https://gitlab.com", Some("gitlab")),
            ("https://app.terraform.io", Some("hcp_terraform")),
            ("https://agent.buildkite.com", Some("buildkite")),
            ("https://oidc.circleci.com/org/0f3e", Some("circleci")),
            (
                "https://api.bitbucket.org/2.0/workspaces/w/pipelines-config/identity/oidc",
                Some("bitbucket"),
            ),
            ("https://pulumi.example.com/oidc", None),
            ("https://gitlab.example.com", None),
            ("https://evil.ghe.com", None),
            ("https://token.actions.githubusercontent.com.evil.com", None),
            ("https://token.actions.githubusercontent.com:8443", None),
            ("https://token.actions.githubusercontent.com/a/b", None),
        ] {
            assert_eq!(find(&issuer(url)).map(|p| p.id), id, "{url}");
        }
    }

    #[test]
    fn every_preset_is_whole_and_its_own() {
        let mut ids: Vec<&str> = ALL.iter().map(|p| p.id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), ALL.len(), "two presets share an id");
        for preset in ALL {
            assert!(!preset.issuers.is_empty() && !preset.subject_fields.is_empty());
            // Each preset's first issuer URL, with its variable parts filled in, is its own.
            let url = preset.issuers[0]
                .replace("<org-id>", "0f3e")
                .replace("<workspace>", "w");
            assert_eq!(find(&issuer(&url)).map(|p| p.id), Some(preset.id), "{url}");
            assert!(preset.describe().starts_with(preset.name));
        }
    }
}
