variable "name" {
  description = "Prefix of every resource name, e.g. vocalbaby-production."
  type        = string
}

variable "vpc_id" {
  description = "VPC of the deployment."
  type        = string
}

variable "public_subnet_ids" {
  description = "Subnets of the load balancer (two zones)."
  type        = list(string)
}

variable "private_subnet_ids" {
  description = "Subnets of the service instances (two zones)."
  type        = list(string)
}

variable "alb_security_group_id" {
  description = "Security group of the load balancer."
  type        = string
}

variable "service_security_group_id" {
  description = "Security group of the service instances."
  type        = string
}

variable "instance_profile_name" {
  description = "Instance profile of the service instances."
  type        = string
}

variable "kms_key_arn" {
  description = "Project KMS key (log group, SSM SecureStrings)."
  type        = string
}

variable "repository_url" {
  description = "ECR repository of the Bento image."
  type        = string
}

variable "parameter_path" {
  description = "SSM parameter path of the deployment, e.g. /vocalbaby/production."
  type        = string
}

variable "log_group_name" {
  description = "CloudWatch log group of the Bento containers."
  type        = string
}

variable "autoscaling_group_name" {
  description = "Name of the Auto Scaling group (the release role is scoped to it)."
  type        = string
}

variable "prediction_log_uri" {
  description = "s3:// prefix the service writes its prediction log to."
  type        = string
}

variable "certificate_arn" {
  description = "ACM certificate of the HTTPS listener."
  type        = string
}

variable "access_logs_bucket" {
  description = "Bucket receiving the load balancer access logs (prefix alb/)."
  type        = string
}

variable "instance_type" {
  description = "EC2 instance type of the service (CPU inference; 2 vCPU per replica is plenty)."
  type        = string
  default     = "c7i.large"
}

variable "min_size" {
  description = "Fewest replicas (keep two: one per zone)."
  type        = number
  default     = 2
}

variable "max_size" {
  description = "Most replicas."
  type        = number
  default     = 6
}

variable "target_cpu_percent" {
  description = "Average CPU the group scales to."
  type        = number
  default     = 60
}

variable "request_timeout_s" {
  description = "Deadline of a request in the service (VOCALBABY_REQUEST_TIMEOUT_S); the load balancer's idle timeout is 10 s longer, so the service always answers first."
  type        = number
  default     = 110
}

variable "service_port" {
  description = "Port the Bento container listens on."
  type        = number
  default     = 3000
}

variable "log_retention_days" {
  description = "Days CloudWatch keeps the container and WAF logs."
  type        = number
  default     = 365
}

variable "waf_rate_limit" {
  description = "Requests per 5 minutes from one IP address before the WAF blocks it."
  type        = number
  default     = 2000
}
