variable "owner" {
  type = string
}
variable "repository" {
  type    = string
  default = "app"
}
variable "environment" {
  type    = string
  default = "staging"
}
variable "extra_subjects" {
  type    = list(string)
  default = []
}
