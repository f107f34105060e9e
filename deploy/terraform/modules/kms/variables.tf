variable "name" {
  description = "Prefix of every resource name, e.g. vocalbaby-production."
  type        = string
}
