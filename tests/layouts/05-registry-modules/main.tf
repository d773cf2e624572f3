# The OIDC role modules people use most, read from their inputs (no terraform init here).
module "iam_github_oidc_provider" {
  source  = "terraform-aws-modules/iam/aws//modules/iam-github-oidc-provider"
  version = "5.47.1"
}

module "any_repository" {
  source   = "terraform-aws-modules/iam/aws//modules/iam-github-oidc-role"
  version  = "5.47.1"
  subjects = ["*"]
}

module "main_branch" {
  source   = "terraform-aws-modules/iam/aws//modules/iam-github-oidc-role"
  version  = "5.47.1"
  subjects = ["acme/app:ref:refs/heads/main", "repo:acme/web:ref:refs/heads/main"]
}

module "disabled" {
  source   = "terraform-aws-modules/iam/aws//modules/iam-github-oidc-role"
  create   = false
  subjects = ["*"]
}

module "v6_role" {
  source                 = "terraform-aws-modules/iam/aws//modules/iam-role"
  version                = "6.2.1"
  name                   = "ci"
  enable_github_oidc     = true
  oidc_wildcard_subjects = ["acme/*"]
}

module "v6_circleci_audience_only" {
  source             = "terraform-aws-modules/iam/aws//modules/iam-role"
  version            = "6.2.1"
  name               = "circleci"
  enable_oidc        = true
  oidc_provider_urls = ["oidc.circleci.com/org/0f3e"]
  oidc_audiences     = ["0f3e"]
}

module "v6_service_role" {
  source  = "terraform-aws-modules/iam/aws//modules/iam-role"
  version = "6.2.1"
  name    = "lambda"
}

module "unfunco" {
  source              = "unfunco/oidc-github/aws"
  version             = "1.8.0"
  github_repositories = ["acme/app", "acme/*"]
}

module "someone_elses" {
  source        = "git::https://example.com/platform/ci-role.git?ref=v2"
  subject_claim = "repo:acme/*"
}
