//! HCP Terraform (Terraform Enterprise is its own issuer, with --issuer).

use super::Preset;

/// HCP Terraform's issuer.
pub const PRESET: Preset = Preset {
    id: "hcp_terraform",
    name: "HCP Terraform",
    issuers: &["https://app.terraform.io", "https://<TFE host> (Terraform Enterprise, with --issuer)"],
    matches: |issuer| issuer.host_path() == "app.terraform.io",
    audience: "aws.workload.identity (TFC_AWS_WORKLOAD_IDENTITY_AUDIENCE changes it)",
    subject: "organization:<org>:project:<project>:workspace:<workspace>:run_phase:<plan|apply>",
    subject_fields: &["organization", "project", "workspace", "run_phase"],
    escaping: "none",
    mapped_claims: &[],
    required_claim: Some("sub"),
    consumer: "workspace variables TFC_AWS_PROVIDER_AUTH=true and TFC_AWS_RUN_ROLE_ARN \
               (or TFC_AWS_PLAN_ROLE_ARN and TFC_AWS_APPLY_ROLE_ARN)",
    example_audience: "aws.workload.identity",
    example_subject: "organization:ORG:project:PROJECT:workspace:WORKSPACE:run_phase:*",
    explain: |_, _| Vec::new(),
    role_name: "hcp-terraform-oidc",
    consumer_file: None,
};
