variable "name" {
  description = "Bucket name (globally unique)."
  type        = string
}

variable "kms_key_arn" {
  description = "Customer-managed KMS key of the default encryption."
  type        = string
}

variable "access_log_bucket" {
  description = "Bucket receiving this bucket's server access logs (prefix s3/<name>/)."
  type        = string
}

variable "transition_days" {
  description = "Days before current objects move to STANDARD_IA."
  type        = number
}

variable "noncurrent_days" {
  description = "Days old object versions are kept."
  type        = number
}

variable "expiration_days" {
  description = "Days current objects are kept (null: forever)."
  type        = number
  default     = null
}
