# Who may talk to whom. The world reaches only the load balancer, on 443. The service port opens
# to the load balancer and to Prometheus on the monitoring host; the Pushgateway to the VPC (the
# pipeline's workers push drift scores). Egress is HTTPS (ECR, S3, SSM, CloudWatch, image
# registries) plus the scrapes and forwards named below. No group opens port 22.

resource "aws_security_group" "alb" {
  # checkov:skip=CKV2_AWS_5:Attached in the compute module, which checkov does not follow through module outputs.
  name        = "${var.name}-alb"
  description = "Load balancer: HTTPS from the internet, forwards to the service"
  vpc_id      = aws_vpc.this.id
}

resource "aws_security_group" "service" {
  # checkov:skip=CKV2_AWS_5:Attached in the compute module, which checkov does not follow through module outputs.
  name        = "${var.name}-service"
  description = "Bento containers: reachable only from the load balancer and Prometheus"
  vpc_id      = aws_vpc.this.id
}

resource "aws_security_group" "monitoring" {
  # checkov:skip=CKV2_AWS_5:Attached in the monitoring module, which checkov does not follow through module outputs.
  name        = "${var.name}-monitoring"
  description = "Prometheus, Pushgateway and Grafana host: no inbound access from the internet"
  vpc_id      = aws_vpc.this.id
}

resource "aws_vpc_security_group_ingress_rule" "alb_https" {
  security_group_id = aws_security_group.alb.id
  description       = "HTTPS from the internet"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_egress_rule" "alb_to_service" {
  security_group_id            = aws_security_group.alb.id
  description                  = "Forward requests and health checks to the service"
  ip_protocol                  = "tcp"
  from_port                    = var.service_port
  to_port                      = var.service_port
  referenced_security_group_id = aws_security_group.service.id
}

resource "aws_vpc_security_group_ingress_rule" "service_from_alb" {
  security_group_id            = aws_security_group.service.id
  description                  = "Requests and health checks from the load balancer"
  ip_protocol                  = "tcp"
  from_port                    = var.service_port
  to_port                      = var.service_port
  referenced_security_group_id = aws_security_group.alb.id
}

resource "aws_vpc_security_group_ingress_rule" "service_from_prometheus" {
  security_group_id            = aws_security_group.service.id
  description                  = "Prometheus scrapes /metrics"
  ip_protocol                  = "tcp"
  from_port                    = var.service_port
  to_port                      = var.service_port
  referenced_security_group_id = aws_security_group.monitoring.id
}

resource "aws_vpc_security_group_egress_rule" "service_https" {
  security_group_id = aws_security_group.service.id
  description       = "HTTPS to ECR, S3, SSM and CloudWatch Logs"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_ingress_rule" "pushgateway_from_vpc" {
  security_group_id = aws_security_group.monitoring.id
  description       = "Drift scores pushed by pipeline workers inside the VPC"
  ip_protocol       = "tcp"
  from_port         = var.pushgateway_port
  to_port           = var.pushgateway_port
  cidr_ipv4         = aws_vpc.this.cidr_block
}

resource "aws_vpc_security_group_egress_rule" "monitoring_scrapes_service" {
  security_group_id            = aws_security_group.monitoring.id
  description                  = "Prometheus scrapes the service instances"
  ip_protocol                  = "tcp"
  from_port                    = var.service_port
  to_port                      = var.service_port
  referenced_security_group_id = aws_security_group.service.id
}

resource "aws_vpc_security_group_egress_rule" "monitoring_https" {
  security_group_id = aws_security_group.monitoring.id
  description       = "HTTPS to SSM, S3, EC2 APIs and container image registries"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}
