# Dagster on ECS Fargate: the webserver (behind an internal load balancer), the daemon (schedules,
# sensors, run queue) and the code location's gRPC server as services of one cluster; every run is
# its own task (EcsRunLauncher, deploy/dagster/dagster.yaml), so partitions of
# clip_feature_shards run side by side. Runs, events and schedules live in RDS PostgreSQL.

data "aws_region" "current" {}
data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  region      = data.aws_region.current.name
  account_id  = data.aws_caller_identity.current.account_id
  partition   = data.aws_partition.current.partition
  namespace   = "dagster.internal"
  code_host   = "vocalbaby-code.${local.namespace}"
  dagster_env = "/opt/dagster/home"
  components  = toset(["webserver", "daemon", "code", "run"])
}

resource "aws_ecs_cluster" "this" {
  name = "${var.name}-dagster"

  setting {
    name  = "containerInsights"
    value = "enabled"
  }
}

resource "aws_cloudwatch_log_group" "dagster" {
  for_each          = local.components
  name              = "/vocalbaby/dagster/${each.key}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
}

# The webserver and the daemon reach the code server at vocalbaby-code.dagster.internal:4000.
resource "aws_service_discovery_private_dns_namespace" "this" {
  name        = local.namespace
  description = "Dagster services of ${var.name}"
  vpc         = var.vpc_id
}

resource "aws_service_discovery_service" "code" {
  name = "vocalbaby-code"

  dns_config {
    namespace_id   = aws_service_discovery_private_dns_namespace.this.id
    routing_policy = "MULTIVALUE"

    dns_records {
      type = "A"
      ttl  = 10
    }
  }

  health_check_custom_config {
    failure_threshold = 1
  }
}
