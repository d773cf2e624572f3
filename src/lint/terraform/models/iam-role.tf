# terraform-aws-modules/iam, modules/iam-role (v6): the statements of its trust policy that trust
# an OIDC provider, built from its inputs as oidc-gen lint reads them. Written from the module's
# documented behaviour:
# - enable_github_oidc: one statement for github_provider, the audience (oidc_audiences, else
#   sts.amazonaws.com) with ForAllValues:StringEquals, oidc_subjects with StringEquals and
#   oidc_wildcard_subjects with StringLike, each with "repo:" put in front once;
# - enable_oidc: one statement per URL of oidc_provider_urls (without https://), each testing sub
#   with StringEquals (oidc_subjects) and StringLike (oidc_wildcard_subjects) and aud with
#   StringEquals (oidc_audiences), for every provider's keys, as the module writes them;
# - trust_policy_conditions added to each.
# Its condition on iss is left out: IAM maps no iss key, and under ForAllValues an absent key is
# true, so it admits the same tokens.
variable "create" {
  default = true
}
variable "enable_github_oidc" {
  default = false
}
variable "github_provider" {
  default = "token.actions.githubusercontent.com"
}
variable "enable_oidc" {
  default = false
}
variable "oidc_provider_urls" {
  default = []
}
variable "oidc_account_id" {
  default = null
}
variable "oidc_subjects" {
  default = []
}
variable "oidc_wildcard_subjects" {
  default = []
}
variable "oidc_audiences" {
  default = []
}
variable "trust_policy_conditions" {
  default = []
}

locals {
  providers = [for url in var.oidc_provider_urls : replace(url, "https://", "")]
  account   = data.aws_caller_identity.current.account_id
  extra = [for c in var.trust_policy_conditions : {
    test     = c.test
    variable = c.variable
    values   = c.values
  }]
  github = var.enable_github_oidc ? [{
    Sid       = "GithubOidcAuth"
    Effect    = "Allow"
    Action    = ["sts:TagSession", "sts:AssumeRoleWithWebIdentity"]
    Principal = { Federated = "arn:aws:iam::${local.account}:oidc-provider/${var.github_provider}" }
    Condition = merge(
      { "ForAllValues:StringEquals" = { "${var.github_provider}:aud" = coalescelist(var.oidc_audiences, ["sts.amazonaws.com"]) } },
      length(var.oidc_subjects) > 0 ? { StringEquals = { "${var.github_provider}:sub" = [for s in var.oidc_subjects : "repo:${trimprefix(s, "repo:")}"] } } : {},
      length(var.oidc_wildcard_subjects) > 0 ? { StringLike = { "${var.github_provider}:sub" = [for s in var.oidc_wildcard_subjects : "repo:${trimprefix(s, "repo:")}"] } } : {},
      { for c in local.extra : c.test => { (c.variable) = c.values } },
    )
  }] : []
  generic = var.enable_oidc ? [for provider in local.providers : {
    Effect    = "Allow"
    Action    = ["sts:TagSession", "sts:AssumeRoleWithWebIdentity"]
    Principal = { Federated = "arn:aws:iam::${coalesce(var.oidc_account_id, local.account)}:oidc-provider/${provider}" }
    Condition = merge(
      length(var.oidc_subjects) > 0 ? { StringEquals = merge([for p in local.providers : { "${p}:sub" = var.oidc_subjects }]...) } : {},
      length(var.oidc_wildcard_subjects) > 0 ? { StringLike = merge([for p in local.providers : { "${p}:sub" = var.oidc_wildcard_subjects }]...) } : {},
      length(var.oidc_audiences) > 0 ? { StringEquals = merge(
        length(var.oidc_subjects) > 0 ? merge([for p in local.providers : { "${p}:sub" = var.oidc_subjects }]...) : {},
        merge([for p in local.providers : { "${p}:aud" = var.oidc_audiences }]...),
      ) } : {},
      { for c in local.extra : c.test => { (c.variable) = c.values } },
    )
  }] : []
}

resource "aws_iam_role" "this" {
  count = var.create && (var.enable_github_oidc || var.enable_oidc) ? 1 : 0
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = concat(local.github, local.generic)
  })
}
