variable "name" {
  description = "Prefix of every bucket name, e.g. vocalbaby-production-123456789012 (globally unique)."
  type        = string
}

variable "kms_key_arn" {
  description = "Customer-managed KMS key for the data buckets."
  type        = string
}

variable "prediction_log_expiration_days" {
  description = "Days the prediction log (features of production requests) is kept."
  type        = number
  default     = 400
}

variable "drift_report_expiration_days" {
  description = "Days drift reports are kept."
  type        = number
  default     = 730
}

variable "log_retention_days" {
  description = "Days the access-log bucket keeps S3, load balancer and VPC flow logs."
  type        = number
  default     = 365
}

variable "compute_log_expiration_days" {
  description = "Days Dagster's compute logs (runs' stdout/stderr) are kept."
  type        = number
  default     = 90
}
