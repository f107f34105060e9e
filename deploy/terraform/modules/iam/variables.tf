variable "name" {
  description = "Prefix of every role name, e.g. vocalbaby-production."
  type        = string
}

variable "kms_key_arn" {
  description = "Project KMS key (S3 objects, SSM SecureStrings)."
  type        = string
}

variable "ecr_repository_arn" {
  description = "The Bento image repository."
  type        = string
}

variable "dagster_ecr_repository_arn" {
  description = "The Dagster code-location image repository (the release workflow pushes it too)."
  type        = string
}

variable "bucket_arns" {
  description = "Data bucket ARNs by short name: artifacts, drift-reports, prediction-log."
  type        = map(string)
}

variable "prediction_log_prefix" {
  description = "Prefix of the prediction log inside the prediction-log bucket (service writes)."
  type        = string
  default     = "service/"
}

variable "monitoring_config_prefix" {
  description = "Prefix of the Prometheus and Grafana configuration inside the artifacts bucket."
  type        = string
  default     = "monitoring/"
}

variable "parameter_path" {
  description = "SSM parameter path of the deployment (image tag, API token, Grafana password)."
  type        = string
}

variable "service_log_group_name" {
  description = "CloudWatch log group of the Bento containers."
  type        = string
}

variable "monitoring_log_group_name" {
  description = "CloudWatch log group of the monitoring containers."
  type        = string
}

variable "autoscaling_group_name" {
  description = "Auto Scaling group the release workflow rolls."
  type        = string
}

variable "github_repository" {
  description = "GitHub repository allowed to assume the CI roles, as owner/name."
  type        = string
}

variable "github_release_environment" {
  description = "GitHub environment whose jobs may release (the release workflow's environment)."
  type        = string
  default     = "production"
}

variable "github_oidc_provider_arn" {
  description = "Existing GitHub OIDC provider of the account; null creates one."
  type        = string
  default     = null
}
