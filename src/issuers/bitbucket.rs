//! Bitbucket Pipelines: an issuer per workspace.

use super::Preset;

/// Bitbucket Pipelines' issuers.
pub const PRESET: Preset = Preset {
    id: "bitbucket",
    name: "Bitbucket Pipelines",
    issuers: &["https://api.bitbucket.org/2.0/workspaces/<workspace>/pipelines-config/identity/oidc"],
    matches: |issuer| {
        let path = issuer.host_path();
        path.strip_prefix("api.bitbucket.org/2.0/workspaces/")
            .and_then(|rest| rest.strip_suffix("/pipelines-config/identity/oidc"))
            .is_some_and(|workspace| !workspace.is_empty() && !workspace.contains('/'))
    },
    audience: "ari:cloud:bitbucket::workspace/<workspace-uuid>",
    subject: "{<repository-uuid>}:{<step-uuid>}",
    subject_fields: &["repository_uuid", "step_uuid"],
    escaping: "none",
    mapped_claims: &[],
    required_claim: None,
    owner_fields: &[],
    custom_subjects: true,
    owner_claims: &[],
    repository_end: None,
    audience_names_owner: false,
    cloud_audience: |aws, _| Some(aws.to_owned()),
    consumer: "a step with oidc: true that passes $BITBUCKET_STEP_OIDC_TOKEN to aws sts \
               assume-role-with-web-identity",
    example_audience: "ari:cloud:bitbucket::workspace/WORKSPACE_UUID",
    example_subject: "{REPOSITORY_UUID}:*",
    explain: |_, _| Vec::new(),
    role_name: "bitbucket-oidc",
    self_hosted: false,
    consumer_file: None,
};
