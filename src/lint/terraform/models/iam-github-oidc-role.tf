# terraform-aws-modules/iam, modules/iam-github-oidc-role (v5): the trust policy it builds from its
# inputs, as oidc-gen lint reads it. Written from the module's documented behaviour: one statement
# trusting the GitHub provider at provider_url, the audience compared with
# ForAllValues:StringEquals, every subject matched with StringLike after "repo:" is put in front
# (a subject given with "repo:" keeps one). Its condition on iss is left out: IAM maps no iss key,
# and under ForAllValues an absent key is true, so it admits the same tokens.
variable "create" {
  default = true
}
variable "provider_url" {
  default = "token.actions.githubusercontent.com"
}
variable "audience" {
  default = "sts.amazonaws.com"
}
variable "subjects" {
  default = []
}

locals {
  provider = replace(var.provider_url, "https://", "")
}

resource "aws_iam_role" "this" {
  count = var.create ? 1 : 0
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "GithubOidcAuth"
      Effect    = "Allow"
      Action    = ["sts:TagSession", "sts:AssumeRoleWithWebIdentity"]
      Principal = { Federated = "arn:aws:iam::${data.aws_caller_identity.current.account_id}:oidc-provider/${local.provider}" }
      Condition = {
        "ForAllValues:StringEquals" = { "${local.provider}:aud" = [var.audience] }
        StringLike                  = { "${local.provider}:sub" = [for s in var.subjects : "repo:${replace(s, "/^repo:/", "")}"] }
      }
    }]
  })
}
