# A registry module lint has no model of, installed by terraform init: read where init put it.
module "ci" {
  source       = "example-corp/github-role/aws"
  version      = "1.4.0"
  repositories = ["*"]
}

module "deploy" {
  source       = "example-corp/github-role/aws"
  version      = "1.4.0"
  repositories = ["acme/infra"]
}
