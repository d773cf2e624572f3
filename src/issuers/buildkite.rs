//! Buildkite Pipelines.

use super::Preset;

/// Buildkite's issuer.
pub const PRESET: Preset = Preset {
    id: "buildkite",
    name: "Buildkite",
    issuers: &["https://agent.buildkite.com"],
    matches: |issuer| issuer.host_path() == "agent.buildkite.com",
    audience: "sts.amazonaws.com (the plugin's default; buildkite-agent oidc request-token --audience)",
    subject: "organization:<org>:pipeline:<pipeline>:ref:<ref>:commit:<sha>:step:<key>",
    subject_fields: &["organization", "pipeline", "ref", "commit", "step"],
    escaping: "none",
    mapped_claims: &[
        "build_branch",
        "cluster_id",
        "cluster_name",
        "organization_id",
        "organization_slug",
        "pipeline_id",
        "pipeline_slug",
    ],
    required_claim: Some("sub"),
    consumer: "a pipeline step with the aws-assume-role-with-web-identity plugin and the role ARN",
    example_audience: "sts.amazonaws.com",
    example_subject: "organization:ORG:pipeline:PIPELINE:ref:refs/heads/main:*",
    explain: |_, _| Vec::new(),
    role_name: "buildkite-oidc",
    consumer_file: None,
};
