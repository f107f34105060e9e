# GitHub Actions roles, assumed through OIDC (no static keys): `release` (environment
# production) pushes the image and rolls the Auto Scaling group; `drift` (the default branch,
# scheduled) reads the prediction log and writes drift reports.

resource "aws_iam_openid_connect_provider" "github" {
  count = var.github_oidc_provider_arn == null ? 1 : 0

  url            = "https://token.actions.githubusercontent.com"
  client_id_list = ["sts.amazonaws.com"]
}

locals {
  github_provider_arn = coalesce(var.github_oidc_provider_arn, one(aws_iam_openid_connect_provider.github[*].arn))
  github_subjects = {
    release = "repo:${var.github_repository}:environment:${var.github_release_environment}"
    drift   = "repo:${var.github_repository}:ref:refs/heads/main"
  }
}

data "aws_iam_policy_document" "github_assume" {
  for_each = local.github_subjects

  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]

    principals {
      type        = "Federated"
      identifiers = [local.github_provider_arn]
    }

    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:aud"
      values   = ["sts.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:sub"
      values   = [each.value]
    }
  }
}

resource "aws_iam_role" "github" {
  for_each = local.github_subjects

  name                 = "${var.name}-github-${each.key}"
  assume_role_policy   = data.aws_iam_policy_document.github_assume[each.key].json
  max_session_duration = 3600
}

data "aws_iam_policy_document" "github_release" {
  statement {
    sid       = "EcrLogin"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"] # GetAuthorizationToken supports no resource-level permissions
  }

  statement {
    sid = "EcrPush"
    actions = [
      "ecr:BatchCheckLayerAvailability",
      "ecr:BatchGetImage",
      "ecr:CompleteLayerUpload",
      "ecr:DescribeImages",
      "ecr:InitiateLayerUpload",
      "ecr:PutImage",
      "ecr:UploadLayerPart",
    ]
    resources = [var.ecr_repository_arn, var.dagster_ecr_repository_arn]
  }

  statement {
    sid       = "ModelBundlesRead"
    actions   = ["s3:GetObject"]
    resources = ["${var.bucket_arns["artifacts"]}/models/*"]
  }

  statement {
    sid       = "ProjectKey"
    actions   = ["kms:Decrypt"]
    resources = [var.kms_key_arn]
  }

  statement {
    sid       = "ImageTag"
    actions   = ["ssm:GetParameter", "ssm:PutParameter"]
    resources = ["${local.parameters_arn}/image-tag"]
  }

  statement {
    sid       = "RollTheGroup"
    actions   = ["autoscaling:StartInstanceRefresh"]
    resources = [local.asg_arn]
  }

  statement {
    sid       = "WatchTheRoll"
    actions   = ["autoscaling:DescribeInstanceRefreshes"]
    resources = ["*"] # Describe calls support no resource-level permissions
  }
}

data "aws_iam_policy_document" "github_drift" {
  statement {
    sid     = "InputsRead"
    actions = ["s3:GetObject"]
    resources = [
      "${var.bucket_arns["prediction-log"]}/${var.prediction_log_prefix}*",
      "${var.bucket_arns["artifacts"]}/reference/*",
    ]
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
    sid       = "ReportsWrite"
    actions   = ["s3:PutObject"]
    resources = ["${var.bucket_arns["drift-reports"]}/*"]
  }

  statement {
    sid       = "ProjectKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]
  }
}

resource "aws_iam_role_policy" "github_release" {
  name   = "release"
  role   = aws_iam_role.github["release"].id
  policy = data.aws_iam_policy_document.github_release.json
}

resource "aws_iam_role_policy" "github_drift" {
  name   = "drift"
  role   = aws_iam_role.github["drift"].id
  policy = data.aws_iam_policy_document.github_drift.json
}
