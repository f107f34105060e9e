variable "name" {
  description = "Prefix of every resource name, e.g. vocalbaby-production."
  type        = string
}

variable "subnet_id" {
  description = "Private subnet of the monitoring host."
  type        = string
}

variable "security_group_id" {
  description = "Security group of the monitoring host."
  type        = string
}

variable "instance_profile_name" {
  description = "Instance profile of the monitoring host."
  type        = string
}

variable "kms_key_arn" {
  description = "Project KMS key (configuration objects, log group, SSM SecureString)."
  type        = string
}

variable "config_bucket" {
  description = "Bucket holding the uploaded Prometheus and Grafana configuration (artifacts)."
  type        = string
}

variable "config_prefix" {
  description = "Prefix of the configuration in config_bucket."
  type        = string
  default     = "monitoring/"
}

variable "config_dir" {
  description = "Local folder holding prometheus/ and grafana/ (the repository's deploy/)."
  type        = string
}

variable "parameter_path" {
  description = "SSM parameter path of the deployment, e.g. /vocalbaby/production."
  type        = string
}

variable "log_group_name" {
  description = "CloudWatch log group of the monitoring containers."
  type        = string
}

variable "service_autoscaling_group_name" {
  description = "Auto Scaling group whose instances Prometheus scrapes."
  type        = string
}

variable "service_port" {
  description = "Port of the service's /metrics on each instance."
  type        = number
  default     = 3000
}

variable "instance_type" {
  description = "EC2 instance type of the monitoring host."
  type        = string
  default     = "t3.medium"
}

variable "volume_size" {
  description = "Root volume in GiB (Prometheus keeps retention_days of samples)."
  type        = number
  default     = 50
}

variable "retention_days" {
  description = "Days Prometheus keeps samples."
  type        = number
  default     = 30
}

variable "log_retention_days" {
  description = "Days CloudWatch keeps the containers' logs."
  type        = number
  default     = 365
}

variable "images" {
  description = "Container images of the monitoring stack (pinned versions)."
  type        = map(string)
  default = {
    prometheus  = "prom/prometheus:v2.53.4"
    pushgateway = "prom/pushgateway:v1.11.0"
    grafana     = "grafana/grafana:11.6.0"
  }
}
