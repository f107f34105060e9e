variable "name" {
  description = "Name prefix of every resource (vocalbaby-production)."
  type        = string
}

variable "vpc_id" {
  description = "VPC of the Dagster services and the database."
  type        = string
}

variable "vpc_cidr_block" {
  description = "IPv4 range of the VPC (egress to the database and the code server stays inside it)."
  type        = string
}

variable "private_subnet_ids" {
  description = "Private subnets of the tasks, the internal load balancer and the database."
  type        = list(string)
}

variable "webserver_allowed_cidrs" {
  description = "Address ranges that may open the Dagster UI on the internal load balancer (VPN, office); never 0.0.0.0/0."
  type        = list(string)

  validation {
    condition     = length(var.webserver_allowed_cidrs) > 0 && !contains(var.webserver_allowed_cidrs, "0.0.0.0/0")
    error_message = "The Dagster UI has no login: allow VPN or office ranges, never 0.0.0.0/0."
  }
}

variable "certificate_arn" {
  description = "ACM certificate of the internal load balancer's HTTPS listener (e.g. dagster.<private domain>)."
  type        = string
}

variable "kms_key_arn" {
  description = "Customer-managed KMS key: database, its secret, log groups, buckets."
  type        = string
}

variable "image" {
  description = "Code-location image (deploy/dagster/Dockerfile) with tag, for the webserver, the daemon, the code server and every run."
  type        = string
}

variable "repository_arn" {
  description = "ECR repository of the image (pull permission of the task execution role)."
  type        = string
}

variable "artifacts_bucket_arn" {
  description = "Artifacts bucket: dataset, feature cache, model bundles, exported BentoML models."
  type        = string
}

variable "artifacts_uri" {
  description = "VOCALBABY_ARTIFACTS_URI of the runs (s3://<artifacts bucket>; models under models/, exports under models/bentoml/)."
  type        = string
}

variable "io_manager_bucket_arn" {
  description = "Bucket of the Dagster IO manager's pickled asset values."
  type        = string
}

variable "io_manager_uri" {
  description = "VOCALBABY_IO_MANAGER_URI of the runs (s3://<io-manager bucket>/dagster)."
  type        = string
}

variable "compute_logs_bucket_arn" {
  description = "Bucket of the runs' stdout/stderr (S3ComputeLogManager)."
  type        = string
}

variable "compute_logs_bucket_name" {
  description = "Name of the compute-log bucket (DAGSTER_COMPUTE_LOG_BUCKET)."
  type        = string
}

variable "prediction_log_bucket_arn" {
  description = "The service's prediction log, read by the drift sensor and assets."
  type        = string
}

variable "prediction_log_uri" {
  description = "VOCALBABY_PREDICTION_LOG_URI (s3://<prediction-log bucket>/service/)."
  type        = string
}

variable "dataset_uri" {
  description = "VOCALBABY_DATASET_URI: the training dataset (s3:// prefix in the artifacts bucket)."
  type        = string
}

variable "log_retention_days" {
  description = "Days the CloudWatch log groups keep Dagster's logs."
  type        = number
  default     = 365
}

variable "webserver_port" {
  description = "Port of dagster-webserver in its task."
  type        = number
  default     = 3070
}

variable "code_server_port" {
  description = "Port of the code location's gRPC server (deploy/dagster/workspace.yaml)."
  type        = number
  default     = 4000
}

variable "db_instance_class" {
  description = "RDS instance class of Dagster's PostgreSQL (runs, events, schedules, Optuna)."
  type        = string
  default     = "db.t4g.small"
}

variable "db_allocated_storage" {
  description = "GiB of storage of the database (grows up to four times this automatically)."
  type        = number
  default     = 20
}

variable "db_multi_az" {
  description = "Whether the database keeps a standby in a second zone (doubles its cost)."
  type        = bool
  default     = false
}

variable "db_backup_retention_days" {
  description = "Days of automated database backups (point-in-time recovery)."
  type        = number
  default     = 14
}
