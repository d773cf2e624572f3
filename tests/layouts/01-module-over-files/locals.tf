locals {
  owner         = "acme"
  repository_id = "123456"
}
