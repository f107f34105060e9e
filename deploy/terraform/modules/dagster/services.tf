# One image (deploy/dagster/Dockerfile) for all four task definitions: the webserver, the daemon,
# the code location's gRPC server, and "run", which the daemon's EcsRunLauncher starts once per
# Dagster run (each partition of clip_feature_shards is its own run, hence its own task).

locals {
  environment = [
    for name, value in {
      DAGSTER_HOME                 = local.dagster_env
      DAGSTER_PG_HOST              = aws_db_instance.this.address
      DAGSTER_PG_PORT              = tostring(aws_db_instance.this.port)
      DAGSTER_PG_DB                = aws_db_instance.this.db_name
      DAGSTER_PG_USERNAME          = aws_db_instance.this.username
      DAGSTER_COMPUTE_LOG_BUCKET   = var.compute_logs_bucket_name
      DAGSTER_RUN_TASK_DEFINITION  = "${var.name}-dagster-run"
      DAGSTER_CURRENT_IMAGE        = var.image
      VOCALBABY_ENV                = "prod"
      VOCALBABY_DATASET_URI        = var.dataset_uri
      VOCALBABY_ARTIFACTS_URI      = var.artifacts_uri
      VOCALBABY_IO_MANAGER_URI     = var.io_manager_uri
      VOCALBABY_PREDICTION_LOG_URI = var.prediction_log_uri
      BENTOML_DO_NOT_TRACK         = "true"
      DAGSTER_DISABLE_TELEMETRY    = "1"
    } : { name = name, value = value }
  ]
  secrets   = [{ name = "DAGSTER_PG_PASSWORD", valueFrom = "${local.db_secret_arn}:password::" }]
  workspace = "${local.dagster_env}/workspace.yaml"

  tasks = {
    webserver = {
      cpu     = 512
      memory  = 2048
      command = ["dagster-webserver", "-h", "0.0.0.0", "-p", tostring(var.webserver_port), "-w", local.workspace]
      port    = var.webserver_port
      role    = "webserver"
    }
    daemon = {
      cpu     = 512
      memory  = 2048
      command = ["dagster-daemon", "run", "-w", local.workspace]
      port    = null
      role    = "daemon"
    }
    code = {
      cpu     = 1024
      memory  = 4096
      command = ["dagster", "api", "grpc", "-m", "vocalbaby_assets.definitions", "-h", "0.0.0.0", "-p", tostring(var.code_server_port)]
      port    = var.code_server_port
      role    = "code"
    }
    # Started by the run launcher, which replaces the command with the run's own.
    run = {
      cpu     = 2048
      memory  = 8192
      command = ["dagster", "api", "execute_run"]
      port    = null
      role    = "code"
    }
  }
}

resource "aws_ecs_task_definition" "this" {
  # checkov:skip=CKV_AWS_336:Dagster and openSMILE write scratch files under DAGSTER_HOME and /tmp; the image runs as a non-root user and holds no secrets.
  for_each                 = local.tasks
  family                   = "${var.name}-dagster-${each.key}"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = each.value.cpu
  memory                   = each.value.memory
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.task[each.value.role].arn

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = "X86_64"
  }

  container_definitions = jsonencode([{
    name         = each.key
    image        = var.image
    essential    = true
    command      = each.value.command
    environment  = local.environment
    secrets      = local.secrets
    user         = "10001"
    portMappings = each.value.port == null ? [] : [{ containerPort = each.value.port, protocol = "tcp" }]
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = aws_cloudwatch_log_group.dagster[each.key].name
        awslogs-region        = local.region
        awslogs-stream-prefix = each.key
      }
    }
  }])
}

resource "aws_ecs_service" "webserver" {
  name                   = "${var.name}-dagster-webserver"
  cluster                = aws_ecs_cluster.this.id
  task_definition        = aws_ecs_task_definition.this["webserver"].arn
  desired_count          = 1
  launch_type            = "FARGATE"
  platform_version       = "LATEST"
  enable_execute_command = false

  network_configuration {
    subnets          = var.private_subnet_ids
    security_groups  = [aws_security_group.tasks.id]
    assign_public_ip = false
  }

  load_balancer {
    target_group_arn = aws_lb_target_group.webserver.arn
    container_name   = "webserver"
    container_port   = var.webserver_port
  }

  depends_on = [aws_lb_listener.webserver]
}

# Exactly one daemon: two would evaluate every schedule and sensor twice.
resource "aws_ecs_service" "daemon" {
  name                               = "${var.name}-dagster-daemon"
  cluster                            = aws_ecs_cluster.this.id
  task_definition                    = aws_ecs_task_definition.this["daemon"].arn
  desired_count                      = 1
  launch_type                        = "FARGATE"
  platform_version                   = "LATEST"
  deployment_minimum_healthy_percent = 0
  deployment_maximum_percent         = 100

  network_configuration {
    subnets          = var.private_subnet_ids
    security_groups  = [aws_security_group.tasks.id]
    assign_public_ip = false
  }
}

resource "aws_ecs_service" "code" {
  name             = "${var.name}-dagster-code"
  cluster          = aws_ecs_cluster.this.id
  task_definition  = aws_ecs_task_definition.this["code"].arn
  desired_count    = 1
  launch_type      = "FARGATE"
  platform_version = "LATEST"

  network_configuration {
    subnets          = var.private_subnet_ids
    security_groups  = [aws_security_group.tasks.id]
    assign_public_ip = false
  }

  service_registries {
    registry_arn = aws_service_discovery_service.code.arn
  }
}
