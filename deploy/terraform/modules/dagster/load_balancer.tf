# The Dagster UI is not public: an internal HTTPS load balancer in the private subnets, reachable
# only from webserver_allowed_cidrs (VPN or office ranges; or through an SSM port forward from
# inside the VPC). Dagster has no login of its own, so network reach is the access control.

resource "aws_lb" "webserver" {
  # checkov:skip=CKV2_AWS_20:There is no HTTP listener to redirect; the load balancer serves HTTPS only.
  # checkov:skip=CKV2_AWS_28:Internal load balancer reachable only from webserver_allowed_cidrs; a WAF guards the internet-facing one.
  # checkov:skip=CKV_AWS_91:Access logs of an internal UI used by a few engineers are not kept; CloudWatch keeps the webserver's own log.
  name                       = "${var.name}-dagster"
  load_balancer_type         = "application"
  internal                   = true
  subnets                    = var.private_subnet_ids
  security_groups            = [aws_security_group.webserver_alb.id]
  drop_invalid_header_fields = true
  enable_deletion_protection = true
  idle_timeout               = 300
}

resource "aws_lb_target_group" "webserver" {
  # checkov:skip=CKV_AWS_378:TLS ends at the internal load balancer; the webserver tasks accept only its security group.
  name                 = "${var.name}-dagster"
  port                 = var.webserver_port
  protocol             = "HTTP"
  target_type          = "ip"
  vpc_id               = var.vpc_id
  deregistration_delay = 30

  health_check {
    path                = "/server_info"
    port                = "traffic-port"
    protocol            = "HTTP"
    matcher             = "200"
    interval            = 30
    timeout             = 10
    healthy_threshold   = 2
    unhealthy_threshold = 3
  }
}

resource "aws_lb_listener" "webserver" {
  load_balancer_arn = aws_lb.webserver.arn
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = "ELBSecurityPolicy-TLS13-1-2-2021-06"
  certificate_arn   = var.certificate_arn

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.webserver.arn
  }
}
