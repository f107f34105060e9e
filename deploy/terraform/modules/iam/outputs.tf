output "service_instance_profile_name" {
  description = "Instance profile of the service instances."
  value       = aws_iam_instance_profile.service.name
}

output "monitoring_instance_profile_name" {
  description = "Instance profile of the monitoring host."
  value       = aws_iam_instance_profile.monitoring.name
}

output "github_release_role_arn" {
  description = "Role the release workflow assumes (secret AWS_RELEASE_ROLE_ARN)."
  value       = aws_iam_role.github["release"].arn
}

output "github_drift_role_arn" {
  description = "Role the nightly drift workflow assumes (secret AWS_DRIFT_ROLE_ARN)."
  value       = aws_iam_role.github["drift"].arn
}
