output "webserver_url" {
  description = "The Dagster UI, on the internal load balancer (point a private DNS name with the certificate's name at it)."
  value       = "https://${aws_lb.webserver.dns_name}"
}

output "cluster_name" {
  description = "ECS cluster of the Dagster services and runs."
  value       = aws_ecs_cluster.this.name
}

output "code_server" {
  description = "host:port of the code location's gRPC server (deploy/dagster/workspace.yaml)."
  value       = "${local.code_host}:${var.code_server_port}"
}

output "database_endpoint" {
  description = "host:port of Dagster's PostgreSQL."
  value       = aws_db_instance.this.endpoint
}

output "database_secret_arn" {
  description = "Secrets Manager secret holding the database password (managed and rotated by RDS)."
  value       = local.db_secret_arn
}

output "run_task_definition" {
  description = "Task definition family the run launcher starts per run."
  value       = aws_ecs_task_definition.this["run"].family
}
