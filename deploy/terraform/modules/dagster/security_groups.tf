# Who may talk to whom: allowed ranges -> internal load balancer (443) -> webserver; webserver,
# daemon and runs -> code server (gRPC) and database (5432). Egress: HTTPS out (ECR, S3, ECS and
# Secrets Manager APIs through the NAT gateway) and the two ports inside the VPC.

resource "aws_security_group" "webserver_alb" {
  name        = "${var.name}-dagster-alb"
  description = "Internal load balancer of the Dagster UI"
  vpc_id      = var.vpc_id
}

resource "aws_security_group" "tasks" {
  name        = "${var.name}-dagster-tasks"
  description = "Dagster webserver, daemon, code server and runs"
  vpc_id      = var.vpc_id
}

resource "aws_security_group" "database" {
  # checkov:skip=CKV2_AWS_5:Attached to the RDS instance in database.tf.
  name        = "${var.name}-dagster-db"
  description = "Dagster PostgreSQL"
  vpc_id      = var.vpc_id
}

resource "aws_vpc_security_group_ingress_rule" "alb_from_allowed" {
  for_each          = toset(var.webserver_allowed_cidrs)
  security_group_id = aws_security_group.webserver_alb.id
  description       = "Dagster UI over HTTPS from ${each.value}"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = each.value
}

resource "aws_vpc_security_group_egress_rule" "alb_to_webserver" {
  security_group_id            = aws_security_group.webserver_alb.id
  description                  = "To the webserver tasks"
  ip_protocol                  = "tcp"
  from_port                    = var.webserver_port
  to_port                      = var.webserver_port
  referenced_security_group_id = aws_security_group.tasks.id
}

resource "aws_vpc_security_group_ingress_rule" "webserver_from_alb" {
  security_group_id            = aws_security_group.tasks.id
  description                  = "dagster-webserver from its load balancer"
  ip_protocol                  = "tcp"
  from_port                    = var.webserver_port
  to_port                      = var.webserver_port
  referenced_security_group_id = aws_security_group.webserver_alb.id
}

resource "aws_vpc_security_group_ingress_rule" "code_from_tasks" {
  security_group_id            = aws_security_group.tasks.id
  description                  = "Code location gRPC from the webserver, the daemon and runs"
  ip_protocol                  = "tcp"
  from_port                    = var.code_server_port
  to_port                      = var.code_server_port
  referenced_security_group_id = aws_security_group.tasks.id
}

resource "aws_vpc_security_group_ingress_rule" "database_from_tasks" {
  security_group_id            = aws_security_group.database.id
  description                  = "PostgreSQL from Dagster tasks"
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
  referenced_security_group_id = aws_security_group.tasks.id
}

resource "aws_vpc_security_group_egress_rule" "tasks_https" {
  security_group_id = aws_security_group.tasks.id
  description       = "HTTPS to AWS APIs (ECR, S3, ECS, Secrets Manager, CloudWatch) via NAT"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_egress_rule" "tasks_code" {
  security_group_id = aws_security_group.tasks.id
  description       = "Code location gRPC inside the VPC"
  ip_protocol       = "tcp"
  from_port         = var.code_server_port
  to_port           = var.code_server_port
  cidr_ipv4         = var.vpc_cidr_block
}

resource "aws_vpc_security_group_egress_rule" "tasks_database" {
  security_group_id = aws_security_group.tasks.id
  description       = "PostgreSQL inside the VPC"
  ip_protocol       = "tcp"
  from_port         = 5432
  to_port           = 5432
  cidr_ipv4         = var.vpc_cidr_block
}
