output "bucket_names" {
  description = "Data bucket names by short name (artifacts, drift-reports, prediction-log, dagster-io, dagster-compute-logs)."
  value = {
    artifacts              = module.artifacts.name
    "drift-reports"        = module.drift_reports.name
    "prediction-log"       = module.prediction_log.name
    "dagster-io"           = module.io_manager.name
    "dagster-compute-logs" = module.compute_logs.name
  }
}

output "bucket_arns" {
  description = "Data bucket ARNs by short name."
  value = {
    artifacts              = module.artifacts.arn
    "drift-reports"        = module.drift_reports.arn
    "prediction-log"       = module.prediction_log.arn
    "dagster-io"           = module.io_manager.arn
    "dagster-compute-logs" = module.compute_logs.arn
  }
}

output "logs_bucket_name" {
  description = "Bucket receiving S3, load balancer and VPC flow logs."
  value       = aws_s3_bucket.logs.id
}

output "logs_bucket_arn" {
  description = "ARN of the log bucket."
  value       = aws_s3_bucket.logs.arn
}
