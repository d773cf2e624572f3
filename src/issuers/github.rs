//! GitHub Actions, on github.com and GitHub Enterprise Cloud.

use super::Preset;

/// GitHub Actions' issuer.
pub const PRESET: Preset = Preset {
    id: "github",
    name: "GitHub Actions",
    issuers: &[
        "https://token.actions.githubusercontent.com",
        "https://token.actions.githubusercontent.com/<enterprise>",
        "https://token.actions.<subdomain>.ghe.com",
    ],
    matches: |issuer| {
        let url = issuer.host_path();
        let enterprise = url
            .strip_prefix("token.actions.githubusercontent.com/")
            .is_some_and(|name| !name.is_empty() && !name.contains('/'));
        let ghe = url.starts_with("token.actions.") && url.ends_with(".ghe.com") && !url.contains('/');
        url == "token.actions.githubusercontent.com" || enterprise || ghe
    },
    audience: "sts.amazonaws.com (configure-aws-credentials' default)",
    subject: "repo:<owner>/<repo>:ref:<full ref> | :environment:<name> (when the job names one) | \
              :pull_request; repositories created, renamed or transferred on github.com since \
              2026-07-15: repo:<owner>@<owner id>/<repo>@<repo id>:...",
    subject_fields: &["repo", "context"],
    escaping: "':' inside a value is written %3A",
    mapped_claims: &[
        "actor",
        "actor_id",
        "enterprise_id",
        "environment",
        "job_workflow_ref",
        "ref",
        "repository",
        "repository_id",
        "repository_owner_id",
        "workflow",
    ],
    required_claim: Some("sub (or job_workflow_ref)"),
    consumer: "a workflow job with permissions: id-token: write that runs \
               aws-actions/configure-aws-credentials with role-to-assume and audience",
    example_audience: "sts.amazonaws.com",
    example_subject: "repo:OWNER/REPO:ref:refs/heads/main",
};
