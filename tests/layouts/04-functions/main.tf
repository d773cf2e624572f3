# Every one of these evaluates, in Terraform, to the subject in its name.
locals {
  provider = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
  any      = "*"
  repos    = ["acme/app", "acme/web"]
  owners   = { prod = "acme", dev = "*" }
  settings = { subject = "repo:acme/app:ref:refs/heads/main" }
  statement = {
    Effect    = "Allow"
    Action    = "sts:AssumeRoleWithWebIdentity"
    Principal = { Federated = local.provider }
  }
  audience = { "token.actions.githubusercontent.com:aud" = "sts.amazonaws.com" }
}

resource "aws_iam_role" "format_repo_star" {
  assume_role_policy = jsonencode({ Statement = [merge(local.statement, {
    Condition = { StringEquals = local.audience, StringLike = { "token.actions.githubusercontent.com:sub" = format("repo:%s:*", local.any) } }
  })] })
}

resource "aws_iam_role" "join_star" {
  assume_role_policy = jsonencode({ Statement = [merge(local.statement, {
    Condition = { StringEquals = local.audience, StringLike = { "token.actions.githubusercontent.com:sub" = join(":", ["repo", "*"]) } }
  })] })
}

resource "aws_iam_role" "lower_ternary" {
  assume_role_policy = jsonencode({ Statement = [merge(local.statement, {
    Condition = { StringEquals = local.audience, StringLike = { "token.actions.githubusercontent.com:sub" = lower(length(local.repos) > 1 ? "REPO:*" : "repo:acme/app:*") } }
  })] })
}

resource "aws_iam_role" "index_coalesce" {
  assume_role_policy = jsonencode({ Statement = [merge(local.statement, {
    Condition = { StringEquals = local.audience, StringLike = { "token.actions.githubusercontent.com:sub" = coalesce("", ["repo:*", "repo:acme/*"][0]) } }
  })] })
}

resource "aws_iam_role" "replace_regex" {
  assume_role_policy = jsonencode({ Statement = [merge(local.statement, {
    Condition = { StringEquals = local.audience, StringLike = { "token.actions.githubusercontent.com:sub" = replace("repo:acme/app:*", "/acme\\/[a-z]+/", "*") } }
  })] })
}

resource "aws_iam_role" "template_if" {
  assume_role_policy = jsonencode({ Statement = [merge(local.statement, {
    Condition = { StringEquals = local.audience, StringLike = { "token.actions.githubusercontent.com:sub" = "repo:%{if local.owners.dev == "*"}*%{else}acme/*%{endif}" } }
  })] })
}

resource "aws_iam_role" "lookup_owner" {
  assume_role_policy = jsonencode({ Statement = [merge(local.statement, {
    Condition = { StringEquals = local.audience, StringLike = { "token.actions.githubusercontent.com:sub" = "repo:${lookup(local.owners, "dev")}/app:*" } }
  })] })
}

# Safe: each repository's main branch, and its id.
resource "aws_iam_role" "for_expression" {
  assume_role_policy = jsonencode({ Statement = [merge(local.statement, {
    Condition = {
      StringEquals = merge(local.audience, {
        "token.actions.githubusercontent.com:sub"                 = [for r in local.repos : "repo:${r}:ref:refs/heads/main"]
        "token.actions.githubusercontent.com:repository_owner_id" = "77"
        "token.actions.githubusercontent.com:repository_id"       = ["78", "79"]
      })
    }
  })] })
}

# Safe: a try() whose first argument evaluates.
resource "aws_iam_role" "try_settings" {
  assume_role_policy = jsonencode({ Statement = [merge(local.statement, {
    Condition = {
      StringEquals = merge(local.audience, {
        "token.actions.githubusercontent.com:sub"           = try(local.settings.subject, "repo:*")
        "token.actions.githubusercontent.com:repository_id" = "78"
      })
    }
  })] })
}

resource "aws_iam_role" "formatlist_flatten" {
  assume_role_policy = jsonencode({ Statement = [merge(local.statement, {
    Condition = { StringEquals = local.audience, StringLike = { "token.actions.githubusercontent.com:sub" = flatten([formatlist("repo:%s:*", local.repos), [local.any]]) } }
  })] })
}

# A function lint does not evaluate: unknown, never its text.
resource "aws_iam_role" "unevaluated" {
  assume_role_policy = jsonencode({ Statement = [merge(local.statement, {
    Condition = { StringEquals = local.audience, StringLike = { "token.actions.githubusercontent.com:sub" = "repo:${base64decode("YWNtZQ==")}/*" } }
  })] })
}
