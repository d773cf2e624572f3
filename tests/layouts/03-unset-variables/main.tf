# A reusable root module whose callers set its variables: nothing here says who gets in.
variable "org" {}
variable "repo" {}
variable "trust_policy" {
  type = string
}

locals {
  provider = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
}

resource "aws_iam_role" "org_and_repo" {
  assume_role_policy = jsonencode({
    Statement = [{
      Effect    = "Allow"
      Action    = "sts:AssumeRoleWithWebIdentity"
      Principal = { Federated = local.provider }
      Condition = {
        StringEquals = { "token.actions.githubusercontent.com:aud" = "sts.amazonaws.com" }
        StringLike   = { "token.actions.githubusercontent.com:sub" = "repo:${var.org}/${var.repo}:*" }
      }
    }]
  })
}

resource "aws_iam_role" "repo_only" {
  assume_role_policy = jsonencode({
    Statement = [{
      Effect    = "Allow"
      Action    = "sts:AssumeRoleWithWebIdentity"
      Principal = { Federated = local.provider }
      Condition = {
        StringEquals = { "token.actions.githubusercontent.com:aud" = "sts.amazonaws.com" }
        StringLike   = { "token.actions.githubusercontent.com:sub" = "repo:${var.repo}:*" }
      }
    }]
  })
}

resource "aws_iam_role" "passed_in" {
  assume_role_policy = var.trust_policy
}
