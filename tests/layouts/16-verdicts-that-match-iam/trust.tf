locals {
  github = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
  gitlab = "arn:aws:iam::123456789012:oidc-provider/gitlab.com"
}

# Any repository can emit this subject with a custom subject template.
resource "aws_iam_role" "environment_only" {
  assume_role_policy = jsonencode({
    Statement = [{
      Effect    = "Allow"
      Action    = "sts:AssumeRoleWithWebIdentity"
      Principal = { Federated = local.github }
      Condition = { StringEquals = {
        "token.actions.githubusercontent.com:aud" = "sts.amazonaws.com"
        "token.actions.githubusercontent.com:sub" = "environment:production"
      } }
    }]
  })
}

# The same subject, with the owner pinned by its immutable id: safe.
resource "aws_iam_role" "environment_and_owner_id" {
  assume_role_policy = jsonencode({
    Statement = [{
      Effect    = "Allow"
      Action    = "sts:AssumeRoleWithWebIdentity"
      Principal = { Federated = local.github }
      Condition = { StringEquals = {
        "token.actions.githubusercontent.com:aud"                 = "sts.amazonaws.com"
        "token.actions.githubusercontent.com:sub"                 = "environment:production"
        "token.actions.githubusercontent.com:repository_owner_id" = "77"
        "token.actions.githubusercontent.com:repository_id"       = "78"
      } }
    }]
  })
}

# The classic missing ":" after the repository.
resource "aws_iam_role" "repository_prefix" {
  assume_role_policy = jsonencode({
    Statement = [{
      Effect    = "Allow"
      Action    = "sts:AssumeRoleWithWebIdentity"
      Principal = { Federated = local.github }
      Condition = {
        StringEquals = { "token.actions.githubusercontent.com:aud" = "sts.amazonaws.com" }
        StringLike   = { "token.actions.githubusercontent.com:sub" = "repo:acme/app*" }
      }
    }]
  })
}

resource "aws_iam_role" "gitlab_project_prefix" {
  assume_role_policy = jsonencode({
    Statement = [{
      Effect    = "Allow"
      Action    = "sts:AssumeRoleWithWebIdentity"
      Principal = { Federated = local.gitlab }
      Condition = {
        StringEquals = { "gitlab.com:aud" = "https://gitlab.com" }
        StringLike   = { "gitlab.com:sub" = "project_path:acme/infra*" }
      }
    }]
  })
}

# A policy variable is the request's own value: it says nothing about who may get in.
resource "aws_iam_role" "policy_variable" {
  assume_role_policy = jsonencode({
    Statement = [{
      Effect    = "Allow"
      Action    = "sts:AssumeRoleWithWebIdentity"
      Principal = { Federated = local.github }
      Condition = { StringEquals = {
        "token.actions.githubusercontent.com:aud" = "sts.amazonaws.com"
        "token.actions.githubusercontent.com:sub" = "$${token.actions.githubusercontent.com:sub}"
      } }
    }]
  })
}

resource "aws_iam_role" "effect_lowercase" {
  assume_role_policy = jsonencode({
    Statement = [{
      Effect    = "allow"
      Action    = "sts:AssumeRoleWithWebIdentity"
      Principal = { Federated = local.github }
      Condition = { StringEquals = { "token.actions.githubusercontent.com:sub" = "repo:acme/app:ref:refs/heads/main" } }
    }]
  })
}

# A deny carved out of an allow: linted for the allow, the deny narrows it.
resource "aws_iam_role" "allow_and_deny" {
  assume_role_policy = jsonencode({
    Statement = [
      {
        Effect    = "Allow"
        Action    = "sts:AssumeRoleWithWebIdentity"
        Principal = { Federated = local.gitlab }
        Condition = {
          StringEquals = { "gitlab.com:aud" = "https://gitlab.com" }
          StringLike   = { "gitlab.com:sub" = "project_path:acme/*:ref_type:branch:ref:main" }
        }
      },
      {
        Effect    = "Deny"
        Action    = "sts:AssumeRoleWithWebIdentity"
        Principal = { Federated = local.gitlab }
        Condition = { StringLike = { "gitlab.com:sub" = "project_path:acme/sandbox*" } }
      },
    ]
  })
}

resource "aws_iam_role" "ec2" {
  assume_role_policy = jsonencode({
    Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Principal = { Service = "ec2.amazonaws.com" } }]
  })
}
