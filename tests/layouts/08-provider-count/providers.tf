variable "create_provider" {
  default = true
}

data "tls_certificate" "gitlab" {
  url = "https://gitlab.com"
}

resource "aws_iam_openid_connect_provider" "gitlab" {
  count           = var.create_provider ? 1 : 0
  url             = data.tls_certificate.gitlab.url
  client_id_list  = ["https://gitlab.com"]
  thumbprint_list = [data.tls_certificate.gitlab.certificates[0].sha1_fingerprint]
}
