//! Pulumi Cloud: ESC environments and Pulumi Deployments. The token shapes and their trust
//! statements are in `claims.rs`.

use super::Preset;

/// Pulumi Cloud's issuer (and, with `--issuer`, a self-hosted one).
pub const PRESET: Preset = Preset {
    id: "pulumi",
    name: "Pulumi Cloud",
    issuers: &["https://api.pulumi.com/oidc", "https://<api host>/oidc (self-hosted, with --issuer)"],
    matches: |issuer| issuer.host_path() == "api.pulumi.com/oidc",
    audience: "aws:<org> (ESC, named projects); <org> (ESC, the default project; Deployments)",
    subject: "pulumi:environments:org:<org>:env:<project>/<env> (ESC), \
              pulumi:environments:org:<org>:env:<env> (ESC, default project), \
              pulumi:deploy:org:<org>:project:<p>:stack:<s>:operation:<op>:scope:write (Deployments), \
              pulumi:environments:pulumi.organization.login:<org>:<attribute>:<value>... (ESC subjectAttributes)",
    subject_fields: &["org", "project", "env", "stack", "operation"],
    escaping: "none: names cannot hold ':'",
    mapped_claims: &[],
    required_claim: Some("aud"),
    owner_fields: &[
        ("pulumi:environments:org:", ':'),
        ("pulumi:deploy:org:", ':'),
        ("pulumi:environments:pulumi.organization.login:", ':'),
    ],
    custom_subjects: false,
    owner_claims: &[],
    repository_end: None,
    audience_names_owner: true,
    cloud_audience: |aws, cloud| match aws.strip_prefix("aws:") {
        Some(org) => Some(format!("{cloud}:{org}")),
        None => Some(aws.to_owned()),
    },
    consumer: "esc/environment.yaml (fn::open::aws-login) and deployments/settings.json \
               (operationContext.oidc.aws), written by oidc-gen",
    example_audience: "aws:ORG",
    example_subject: "pulumi:environments:org:ORG:env:PROJECT/*",
    explain: |_, _| Vec::new(),
    role_name: "pulumi-esc-oidc",
    self_hosted: true,
    consumer_file: None,
};
