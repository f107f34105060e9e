variable "name" {
  description = "Prefix of every resource name, e.g. vocalbaby-production."
  type        = string
}

variable "cidr_block" {
  description = "IPv4 range of the VPC; each subnet is a /20 of it (needs a /16 to /19)."
  type        = string
  default     = "10.40.0.0/16"
}

variable "availability_zones" {
  description = "Exactly two availability zones for the public and private subnets."
  type        = list(string)

  validation {
    condition     = length(var.availability_zones) == 2
    error_message = "Give exactly two availability zones."
  }
}

variable "single_nat_gateway" {
  description = "One NAT gateway for both zones (cheaper, but a zone outage cuts egress of the other)."
  type        = bool
  default     = false
}

variable "service_port" {
  description = "Port the Bento container listens on (bentoml serve: 3000)."
  type        = number
  default     = 3000
}

variable "pushgateway_port" {
  description = "Port of the Prometheus Pushgateway on the monitoring host."
  type        = number
  default     = 9091
}

variable "flow_logs_bucket_arn" {
  description = "S3 bucket (ARN) receiving the VPC flow logs."
  type        = string
}
