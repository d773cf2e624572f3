module "app" {
  source  = "./modules/ci-role"
  subject = "repo:acme/app:ref:refs/heads/main"
}

module "everyone" {
  source  = "./modules/ci-role"
  subject = "repo:*"
}

module "per_env" {
  source   = "./modules/ci-role"
  for_each = { prod = "production", dev = "development" }
  subject  = "repo:acme/app:environment:${each.value}"
}
