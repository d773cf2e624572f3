locals {
  issuer = aws_iam_openid_connect_provider.gitlab[0].url
}

resource "aws_iam_role" "deploy" {
  assume_role_policy = jsonencode({
    Statement = [{
      Effect    = "Allow"
      Action    = "sts:AssumeRoleWithWebIdentity"
      Principal = { Federated = aws_iam_openid_connect_provider.gitlab[0].arn }
      Condition = {
        StringEquals = {
          "${local.issuer}:aud" = "https://gitlab.com"
          "${local.issuer}:sub" = "project_path:acme/infra:ref_type:branch:ref:main"
        }
      }
    }]
  })
}

resource "aws_iam_role" "group_prefix" {
  assume_role_policy = jsonencode({
    Statement = [{
      Effect    = "Allow"
      Action    = "sts:AssumeRoleWithWebIdentity"
      Principal = { Federated = aws_iam_openid_connect_provider.gitlab[0].arn }
      Condition = {
        StringEquals = { "${local.issuer}:aud" = "https://gitlab.com" }
        StringLike   = { "${local.issuer}:sub" = "project_path:acme*" }
      }
    }]
  })
}
