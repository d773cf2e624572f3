# unfunco/oidc-github (v1 and v2): the trust policy it builds from its inputs, as oidc-gen lint
# reads it. Written from the module's documented behaviour: one statement trusting GitHub's
# provider (with the enterprise slug after the host when one is given), sub matched with
# StringLike against "repo:" and each of github_repositories ("OWNER/REPO" gets ":*" after it, one
# with a ":" is kept as given), aud compared with "sts.amazonaws.com"; the condition keys are
# always token.actions.githubusercontent.com's.
variable "enabled" {
  default = true
}
variable "enterprise_slug" {
  default = ""
}
variable "github_repositories" {
  default = []
}

resource "aws_iam_role" "github" {
  count = var.enabled ? 1 : 0
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Action    = "sts:AssumeRoleWithWebIdentity"
      Principal = { Federated = "arn:aws:iam::${data.aws_caller_identity.current.account_id}:oidc-provider/token.actions.githubusercontent.com${var.enterprise_slug != "" ? "/${var.enterprise_slug}" : ""}" }
      Condition = {
        StringLike   = { "token.actions.githubusercontent.com:sub" = [for r in var.github_repositories : strcontains(r, ":") ? "repo:${r}" : "repo:${r}:*"] }
        StringEquals = { "token.actions.githubusercontent.com:aud" = "sts.amazonaws.com" }
      }
    }]
  })
}
