variable "subject" {
  type = string
}

resource "aws_iam_role" "this" {
  assume_role_policy = templatefile("${path.module}/trust.json.tpl", {
    subject  = var.subject
    provider = "token.actions.githubusercontent.com"
  })
}
