# Self-hosted Prometheus + Pushgateway + Grafana on one private instance (see deploy/README.md for
# why not the managed services). The configuration is the repository's deploy/prometheus and
# deploy/grafana, uploaded to S3 and synced at boot; Prometheus finds the service instances
# through a 30 s refresh of the Auto Scaling group into a file_sd target file, and a 5 min re-sync
# applies configuration changes (Prometheus reloads on SIGHUP, Grafana re-reads dashboards).
# Grafana is reached through an SSM port-forwarding session, never from the internet.

data "aws_region" "current" {}

data "aws_ssm_parameter" "al2023_ami" {
  name = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
}

locals {
  # Target files are written on the host and promtool tests are not configuration.
  config_files = toset([
    for file in setunion(fileset(var.config_dir, "prometheus/**"), fileset(var.config_dir, "grafana/**")) :
    file if !startswith(file, "prometheus/targets/") && !startswith(file, "prometheus/tests/")
  ])
}

resource "aws_s3_object" "config" {
  for_each = local.config_files

  bucket      = var.config_bucket
  key         = "${var.config_prefix}${each.value}"
  source      = "${var.config_dir}/${each.value}"
  source_hash = filemd5("${var.config_dir}/${each.value}")
  kms_key_id  = var.kms_key_arn
}

resource "aws_cloudwatch_log_group" "monitoring" {
  name              = var.log_group_name
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
}

# Set the real password out of band (aws ssm put-parameter --overwrite), so it never enters state.
resource "aws_ssm_parameter" "grafana_admin_password" {
  name        = "${var.parameter_path}/grafana-admin-password"
  description = "Grafana admin password on the monitoring host."
  type        = "SecureString"
  key_id      = var.kms_key_arn
  value       = "set-me-out-of-band"

  lifecycle {
    ignore_changes = [value]
  }
}

resource "aws_instance" "monitoring" {
  ami                    = data.aws_ssm_parameter.al2023_ami.value
  instance_type          = var.instance_type
  subnet_id              = var.subnet_id
  vpc_security_group_ids = [var.security_group_id]
  iam_instance_profile   = var.instance_profile_name
  ebs_optimized          = true
  monitoring             = true

  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
  }

  root_block_device {
    volume_size = var.volume_size
    volume_type = "gp3"
    encrypted   = true
  }

  user_data = templatefile("${path.module}/user_data.sh.tftpl", {
    region            = data.aws_region.current.name
    config_uri        = "s3://${var.config_bucket}/${var.config_prefix}"
    grafana_password  = aws_ssm_parameter.grafana_admin_password.name
    api_token_name    = "${var.parameter_path}/api-token"
    log_group         = aws_cloudwatch_log_group.monitoring.name
    autoscaling_group = var.service_autoscaling_group_name
    service_port      = var.service_port
    retention_days    = var.retention_days
    prometheus_image  = var.images["prometheus"]
    pushgateway_image = var.images["pushgateway"]
    grafana_image     = var.images["grafana"]
  })

  # The configuration is uploaded first so the host finds it at boot.
  depends_on = [aws_s3_object.config]

  tags = { Name = "${var.name}-monitoring" }
}
