data "template_file" "trust" {
  template = file("${path.module}/trust.tpl")
  vars = {
    owner = "*"
  }
}

resource "aws_iam_role" "admin" {
  name               = "github-admin"
  assume_role_policy = data.template_file.trust.rendered
}

resource "aws_iam_role_policy_attachment" "admin" {
  role       = aws_iam_role.admin.name
  policy_arn = "arn:aws:iam::aws:policy/AdministratorAccess"
}
