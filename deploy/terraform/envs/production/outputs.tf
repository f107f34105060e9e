output "load_balancer_dns_name" {
  description = "Point the API's DNS name (the certificate's) at this."
  value       = module.compute.load_balancer_dns_name
}

output "ecr_repository_url" {
  description = "Bento image repository (GitHub variable ECR_REPOSITORY)."
  value       = module.ecr.repository_url
}

output "autoscaling_group_name" {
  description = "Service Auto Scaling group (GitHub variable AUTOSCALING_GROUP)."
  value       = module.compute.autoscaling_group_name
}

output "image_tag_parameter" {
  description = "SSM parameter of the released image tag (GitHub variable IMAGE_TAG_PARAMETER)."
  value       = module.compute.image_tag_parameter
}

output "api_token_parameter" {
  description = "SSM parameter to set the API token in: aws ssm put-parameter --overwrite ..."
  value       = module.compute.api_token_parameter
}

output "github_release_role_arn" {
  description = "Role of release.yml (GitHub variable AWS_RELEASE_ROLE_ARN)."
  value       = module.iam.github_release_role_arn
}

output "github_drift_role_arn" {
  description = "Role of drift.yml (GitHub variable AWS_DRIFT_ROLE_ARN)."
  value       = module.iam.github_drift_role_arn
}

output "buckets" {
  description = "Data buckets: artifacts (VOCALBABY_ARTIFACTS_URI), drift-reports, prediction-log."
  value       = module.s3.bucket_names
}

output "monitoring_instance_id" {
  description = "Monitoring host: aws ssm start-session --target ID --document-name AWS-StartPortForwardingSession --parameters portNumber=3000,localPortNumber=3000"
  value       = module.monitoring.instance_id
}

output "pushgateway_url" {
  description = "VOCALBABY_PUSHGATEWAY_URL for pipeline workers inside the VPC."
  value       = module.monitoring.pushgateway_url
}

output "dagster_webserver_url" {
  description = "The Dagster UI on the internal load balancer (reach it over VPN or an SSM port forward)."
  value       = module.dagster.webserver_url
}

output "dagster_ecr_repository_url" {
  description = "Dagster code-location image repository (GitHub variable DAGSTER_ECR_REPOSITORY)."
  value       = module.ecr_dagster.repository_url
}

output "dagster_cluster_name" {
  description = "ECS cluster of Dagster (GitHub variable DAGSTER_CLUSTER)."
  value       = module.dagster.cluster_name
}
