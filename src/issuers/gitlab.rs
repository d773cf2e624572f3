//! GitLab CI/CD on GitLab.com (a self-managed instance is its own issuer, with --issuer).

use super::Preset;

/// GitLab.com's issuer.
pub const PRESET: Preset = Preset {
    id: "gitlab",
    name: "GitLab.com",
    issuers: &["https://gitlab.com", "https://<instance> (self-managed, with --issuer)"],
    matches: |issuer| issuer.host_path() == "gitlab.com",
    audience: "the aud of the job's id_tokens; GitLab's AWS guide uses the instance URL, https://gitlab.com",
    subject: "project_path:<group>/<project>:ref_type:<branch|tag>:ref:<name>",
    subject_fields: &["project_path", "ref_type", "ref"],
    escaping: "none",
    mapped_claims: &[
        "namespace_id",
        "pipeline_source",
        "project_id",
        "ref_protected",
        "runner_environment",
        "user_access_level",
        "user_email",
        "user_id",
        "user_login",
    ],
    required_claim: Some("sub"),
    consumer: "a .gitlab-ci.yml job with id_tokens: {NAME: {aud: ...}} that calls \
               aws sts assume-role-with-web-identity",
    example_audience: "https://gitlab.com",
    example_subject: "project_path:GROUP/PROJECT:ref_type:branch:ref:main",
    explain: |_, _| Vec::new(),
    role_name: "gitlab-oidc",
    consumer_file: None,
};
