# Roles, each limited to the named resources it needs. No access keys anywhere: instances use
# instance profiles, GitHub Actions assumes roles through OIDC.

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  account   = data.aws_caller_identity.current.account_id
  region    = data.aws_region.current.name
  partition = data.aws_partition.current.partition

  parameters_arn = "arn:${local.partition}:ssm:${local.region}:${local.account}:parameter${var.parameter_path}"
  log_group_arn  = "arn:${local.partition}:logs:${local.region}:${local.account}:log-group"
  asg_arn        = "arn:${local.partition}:autoscaling:${local.region}:${local.account}:autoScalingGroup:*:autoScalingGroupName/${var.autoscaling_group_name}"
}

data "aws_iam_policy_document" "ec2_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

data "aws_iam_policy" "ssm_core" {
  name = "AmazonSSMManagedInstanceCore"
}

# --- Service instances: pull the image, write the prediction log, read their parameters, log ---

data "aws_iam_policy_document" "service" {
  statement {
    sid       = "EcrLogin"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"] # GetAuthorizationToken supports no resource-level permissions
  }

  statement {
    sid       = "EcrPull"
    actions   = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
    resources = [var.ecr_repository_arn]
  }

  statement {
    sid       = "PredictionLogWrite"
    actions   = ["s3:PutObject"]
    resources = ["${var.bucket_arns["prediction-log"]}/${var.prediction_log_prefix}*"]
  }

  statement {
    sid       = "PredictionLogList"
    actions   = ["s3:ListBucket"]
    resources = [var.bucket_arns["prediction-log"]]

    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["${var.prediction_log_prefix}*"]
    }
  }

  statement {
    sid       = "Parameters"
    actions   = ["ssm:GetParameter"]
    resources = ["${local.parameters_arn}/image-tag", "${local.parameters_arn}/api-token"]
  }

  statement {
    sid       = "ProjectKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]
  }

  statement {
    sid       = "ContainerLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${local.log_group_arn}:${var.service_log_group_name}:*"]
  }
}

resource "aws_iam_role" "service" {
  name               = "${var.name}-service"
  assume_role_policy = data.aws_iam_policy_document.ec2_assume.json
}

resource "aws_iam_role_policy" "service" {
  name   = "service"
  role   = aws_iam_role.service.id
  policy = data.aws_iam_policy_document.service.json
}

resource "aws_iam_role_policy_attachment" "service_ssm" {
  role       = aws_iam_role.service.name
  policy_arn = data.aws_iam_policy.ssm_core.arn
}

resource "aws_iam_instance_profile" "service" {
  name = "${var.name}-service"
  role = aws_iam_role.service.name
}

# --- Monitoring host: its configuration, its parameter, service discovery, logs ---------------

data "aws_iam_policy_document" "monitoring" {
  statement {
    sid       = "ConfigRead"
    actions   = ["s3:GetObject"]
    resources = ["${var.bucket_arns["artifacts"]}/${var.monitoring_config_prefix}*"]
  }

  statement {
    sid       = "ConfigList"
    actions   = ["s3:ListBucket"]
    resources = [var.bucket_arns["artifacts"]]

    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["${var.monitoring_config_prefix}*"]
    }
  }

  statement {
    sid       = "Parameters"
    actions   = ["ssm:GetParameter"]
    resources = ["${local.parameters_arn}/grafana-admin-password", "${local.parameters_arn}/api-token"]
  }

  statement {
    sid       = "ProjectKey"
    actions   = ["kms:Decrypt"]
    resources = [var.kms_key_arn]
  }

  statement {
    sid = "DiscoverServiceInstances"
    # Describe calls support no resource-level permissions.
    actions   = ["autoscaling:DescribeAutoScalingGroups", "ec2:DescribeInstances"]
    resources = ["*"]
  }

  statement {
    sid       = "ContainerLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${local.log_group_arn}:${var.monitoring_log_group_name}:*"]
  }
}

resource "aws_iam_role" "monitoring" {
  name               = "${var.name}-monitoring"
  assume_role_policy = data.aws_iam_policy_document.ec2_assume.json
}

resource "aws_iam_role_policy" "monitoring" {
  name   = "monitoring"
  role   = aws_iam_role.monitoring.id
  policy = data.aws_iam_policy_document.monitoring.json
}

resource "aws_iam_role_policy_attachment" "monitoring_ssm" {
  role       = aws_iam_role.monitoring.name
  policy_arn = data.aws_iam_policy.ssm_core.arn
}

resource "aws_iam_instance_profile" "monitoring" {
  name = "${var.name}-monitoring"
  role = aws_iam_role.monitoring.name
}
