//! CircleCI: an issuer per organization.

use super::Preset;

/// CircleCI's issuers.
pub const PRESET: Preset = Preset {
    id: "circleci",
    name: "CircleCI",
    issuers: &["https://oidc.circleci.com/org/<org-id>"],
    matches: |issuer| {
        let path = issuer.host_path();
        path.strip_prefix("oidc.circleci.com/org/")
            .is_some_and(|org| !org.is_empty() && !org.contains('/'))
    },
    audience: "<org-id>",
    subject: "org/<org-id>/project/<project-id>/user/<user-id> (token v2 adds /vcs-origin/<origin>/vcs-ref/<ref>)",
    subject_fields: &["org", "project", "user"],
    escaping: "none",
    mapped_claims: &["oidc.circleci.com/project-id"],
    required_claim: None,
    consumer: "a job that passes $CIRCLE_OIDC_TOKEN to the aws-cli orb's setup with role_arn",
    example_audience: "ORG_ID",
    example_subject: "org/ORG_ID/project/PROJECT_ID/user/*",
    explain: |_, _| Vec::new(),
    role_name: "circleci-oidc",
    consumer_file: None,
};
