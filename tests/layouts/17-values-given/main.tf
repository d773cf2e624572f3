# Every role proven once the caller's values are given (see expected.json's args): exit 0.
variable "org" {}
variable "repo" {}
variable "environments" {
  type = list(string)
}

resource "aws_iam_openid_connect_provider" "github" {
  url            = "https://token.actions.githubusercontent.com"
  client_id_list = ["sts.amazonaws.com"]
}

data "aws_iam_policy_document" "deploy" {
  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]
    principals {
      type        = "Federated"
      identifiers = [aws_iam_openid_connect_provider.github.arn]
    }
    condition {
      test     = "StringEquals"
      variable = "${aws_iam_openid_connect_provider.github.url}:aud"
      values   = ["sts.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "${aws_iam_openid_connect_provider.github.url}:sub"
      values   = [for e in var.environments : "repo:${var.org}/${var.repo}:environment:${e}"]
    }
    condition {
      test     = "StringEquals"
      variable = "${aws_iam_openid_connect_provider.github.url}:repository_id"
      values   = ["42"]
    }
  }
}

resource "aws_iam_role" "deploy" {
  assume_role_policy = data.aws_iam_policy_document.deploy.json
}

resource "aws_iam_role" "gitlab" {
  assume_role_policy = jsonencode({
    Statement = [{
      Effect    = "Allow"
      Action    = "sts:AssumeRoleWithWebIdentity"
      Principal = { Federated = "arn:aws:iam::123456789012:oidc-provider/gitlab.com" }
      Condition = {
        StringEquals = {
          "gitlab.com:aud" = "https://gitlab.com"
          "gitlab.com:sub" = "project_path:${var.org}/${var.repo}:ref_type:branch:ref:main"
        }
      }
    }]
  })
}
