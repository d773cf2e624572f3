resource "aws_iam_role" "audience_only" {
  name               = "audience-only"
  assume_role_policy = data.aws_iam_policy_document.audience_only.json
}

resource "aws_iam_role" "deploy" {
  name               = "deploy"
  assume_role_policy = data.aws_iam_policy_document.deploy.json
}

resource "aws_iam_role" "any_repository" {
  name               = "any-repository"
  assume_role_policy = data.aws_iam_policy_document.any_repository.json
}
