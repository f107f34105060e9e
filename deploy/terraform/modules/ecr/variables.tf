variable "name" {
  description = "Repository name, e.g. vocalbaby."
  type        = string
}

variable "kms_key_arn" {
  description = "Customer-managed KMS key encrypting the images."
  type        = string
}

variable "keep_images" {
  description = "Release images kept; older ones expire (rollbacks need a few)."
  type        = number
  default     = 30
}
