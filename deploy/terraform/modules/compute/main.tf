# The Bento container from ECR on an Auto Scaling group behind an HTTPS load balancer. Instances
# read the image tag from SSM at boot, so a release is: push an immutable tag, write it to the
# image-tag parameter, start an instance refresh (.github/workflows/release.yml).

data "aws_region" "current" {}

data "aws_ssm_parameter" "al2023_ami" {
  name = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
}

resource "aws_cloudwatch_log_group" "service" {
  name              = var.log_group_name
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
}

# Written by the release workflow; Terraform only creates it.
resource "aws_ssm_parameter" "image_tag" {
  # checkov:skip=CKV2_AWS_34:An image tag (a commit hash) is not a secret.
  name        = "${var.parameter_path}/image-tag"
  description = "Tag of the Bento image the service instances run."
  type        = "String"
  value       = "unreleased"

  lifecycle {
    ignore_changes = [value]
  }
}

# Set the real token out of band (aws ssm put-parameter --overwrite), so it never enters state.
resource "aws_ssm_parameter" "api_token" {
  name        = "${var.parameter_path}/api-token"
  description = "Bearer token clients send to the VocalBaby API (VOCALBABY_API_TOKEN)."
  type        = "SecureString"
  key_id      = var.kms_key_arn
  value       = "set-me-out-of-band"

  lifecycle {
    ignore_changes = [value]
  }
}

resource "aws_launch_template" "service" {
  name_prefix            = "${var.name}-"
  image_id               = data.aws_ssm_parameter.al2023_ami.value
  instance_type          = var.instance_type
  vpc_security_group_ids = [var.service_security_group_id]
  ebs_optimized          = true
  update_default_version = true

  iam_instance_profile {
    name = var.instance_profile_name
  }

  # IMDSv2 only, one hop: the container shares the host's network, so it still reaches the
  # instance role's credentials.
  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
  }

  monitoring {
    enabled = true
  }

  block_device_mappings {
    device_name = "/dev/xvda"
    ebs {
      volume_size           = 30
      volume_type           = "gp3"
      encrypted             = true
      delete_on_termination = true
    }
  }

  user_data = base64encode(templatefile("${path.module}/user_data.sh.tftpl", {
    region             = data.aws_region.current.name
    repository_url     = var.repository_url
    image_tag_name     = aws_ssm_parameter.image_tag.name
    api_token_name     = aws_ssm_parameter.api_token.name
    log_group          = aws_cloudwatch_log_group.service.name
    prediction_log_uri = var.prediction_log_uri
    service_port       = var.service_port
    request_timeout_s  = var.request_timeout_s
  }))

  tag_specifications {
    resource_type = "instance"
    tags          = { Name = "${var.name}-service", Role = "vocalbaby-service" }
  }
}

resource "aws_autoscaling_group" "service" {
  name                      = var.autoscaling_group_name
  min_size                  = var.min_size
  max_size                  = var.max_size
  vpc_zone_identifier       = var.private_subnet_ids
  target_group_arns         = [aws_lb_target_group.service.arn]
  health_check_type         = "ELB"
  health_check_grace_period = 300
  default_instance_warmup   = 120

  launch_template {
    id      = aws_launch_template.service.id
    version = aws_launch_template.service.latest_version
  }

  # A new launch template version (Terraform) or a start-instance-refresh call (release) replaces
  # instances a few at a time, keeping most of the capacity serving.
  instance_refresh {
    strategy = "Rolling"
    preferences {
      min_healthy_percentage = 50
      instance_warmup        = 120
    }
  }

  tag {
    key                 = "Name"
    value               = "${var.name}-service"
    propagate_at_launch = true
  }

  lifecycle {
    ignore_changes = [desired_capacity]
  }
}

resource "aws_autoscaling_policy" "cpu" {
  name                   = "${var.name}-cpu"
  autoscaling_group_name = aws_autoscaling_group.service.name
  policy_type            = "TargetTrackingScaling"

  target_tracking_configuration {
    predefined_metric_specification {
      predefined_metric_type = "ASGAverageCPUUtilization"
    }
    target_value = var.target_cpu_percent
  }
}
