variable "region" {
  description = "AWS region of the deployment."
  type        = string
}

variable "availability_zones" {
  description = "Two availability zones of the region."
  type        = list(string)
}

variable "vpc_cidr" {
  description = "IPv4 range of the VPC."
  type        = string
  default     = "10.40.0.0/16"
}

variable "single_nat_gateway" {
  description = "One NAT gateway instead of one per zone (cheaper, less available)."
  type        = bool
  default     = false
}

variable "certificate_arn" {
  description = "ACM certificate for the load balancer's HTTPS listener (your API's domain)."
  type        = string
}

variable "github_repository" {
  description = "GitHub repository (owner/name) whose workflows may assume the CI roles."
  type        = string
}

variable "github_oidc_provider_arn" {
  description = "The account's existing GitHub OIDC provider, if any (null: create one)."
  type        = string
  default     = null
}

variable "service_instance_type" {
  description = "EC2 instance type of the service replicas."
  type        = string
  default     = "c7i.large"
}

variable "service_min_size" {
  description = "Fewest service replicas."
  type        = number
  default     = 2
}

variable "service_max_size" {
  description = "Most service replicas."
  type        = number
  default     = 6
}

variable "monitoring_instance_type" {
  description = "EC2 instance type of the monitoring host."
  type        = string
  default     = "t3.medium"
}

variable "dagster_certificate_arn" {
  description = "ACM certificate of the Dagster UI's internal load balancer (e.g. dagster.<your private domain>)."
  type        = string
}

variable "dagster_allowed_cidrs" {
  description = "Address ranges that may open the Dagster UI (VPN, office); the load balancer is internal."
  type        = list(string)
}

variable "dagster_image_tag" {
  description = "Tag of the Dagster code-location image in ECR (the release workflow pushes one per commit)."
  type        = string
  default     = "latest"
}

variable "dataset_name" {
  description = "Training dataset folder under s3://<artifacts bucket>/datasets/."
  type        = string
  default     = "babblecor"
}
