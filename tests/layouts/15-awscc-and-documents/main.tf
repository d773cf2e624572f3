resource "awscc_iam_role" "buildkite" {
  role_name = "buildkite-deploy"
  assume_role_policy_document = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Action    = "sts:AssumeRoleWithWebIdentity"
      Principal = { Federated = "arn:aws:iam::123456789012:oidc-provider/agent.buildkite.com" }
      Condition = {
        StringEquals = { "agent.buildkite.com:aud" = "sts.amazonaws.com" }
        StringLike   = { "agent.buildkite.com:sub" = "organization:acme:pipeline:deploy:ref:refs/heads/main:*" }
      }
    }]
  })
}

resource "awscc_iam_role" "everything" {
  role_name = "everything"
  assume_role_policy_document = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Action    = "sts:*"
      Principal = "*"
    }]
  })
}

# A document for roles made elsewhere (another stack, the console): linted where it is.
data "aws_iam_policy_document" "hcp_terraform" {
  statement {
    effect  = "Allow"
    actions = ["sts:AssumeRoleWithWebIdentity"]
    principals {
      type        = "Federated"
      identifiers = ["arn:aws:iam::123456789012:oidc-provider/app.terraform.io"]
    }
    condition {
      test     = "StringEquals"
      variable = "app.terraform.io:aud"
      values   = ["aws.workload.identity"]
    }
    condition {
      test     = "StringLike"
      variable = "app.terraform.io:sub"
      values   = ["organization:acme:project:*:workspace:*:run_phase:*"]
    }
  }
}

data "aws_iam_policy_document" "dynamic_subjects" {
  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]
    principals {
      type        = "Federated"
      identifiers = ["arn:aws:iam::123456789012:oidc-provider/gitlab.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "gitlab.com:aud"
      values   = ["https://gitlab.com"]
    }
    dynamic "condition" {
      for_each = { sub = ["project_path:*"] }
      content {
        test     = "StringLike"
        variable = "gitlab.com:${condition.key}"
        values   = condition.value
      }
    }
  }
}
