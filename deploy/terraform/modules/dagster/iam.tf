# Least privilege: one execution role (pull the image, write logs, read the database secret) and a
# task role per component. The webserver reads compute logs; the daemon launches, watches and
# stops run tasks; the code server and the runs read and write the pipeline's buckets.

locals {
  task_arns       = "arn:${local.partition}:ecs:${local.region}:${local.account_id}:task/${aws_ecs_cluster.this.name}/*"
  run_family_arns = "arn:${local.partition}:ecs:${local.region}:${local.account_id}:task-definition/${var.name}-dagster-run:*"
  db_secret_arn   = aws_db_instance.this.master_user_secret[0].secret_arn
}

data "aws_iam_policy_document" "ecs_tasks_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "execution" {
  name               = "${var.name}-dagster-execution"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
}

data "aws_iam_policy_document" "execution" {
  statement {
    sid       = "EcrLogin"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"]
  }

  statement {
    sid       = "PullTheImage"
    actions   = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"]
    resources = [var.repository_arn]
  }

  statement {
    sid       = "WriteLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:/vocalbaby/dagster/*:log-stream:*"]
  }

  statement {
    sid       = "ReadTheDatabasePassword"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [local.db_secret_arn]
  }

  statement {
    sid       = "DecryptWithTheProjectKey"
    actions   = ["kms:Decrypt"]
    resources = [var.kms_key_arn]
  }
}

resource "aws_iam_role_policy" "execution" {
  name   = "pull-log-secret"
  role   = aws_iam_role.execution.id
  policy = data.aws_iam_policy_document.execution.json
}

resource "aws_iam_role" "task" {
  for_each           = toset(["webserver", "daemon", "code"])
  name               = "${var.name}-dagster-${each.key}"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
}

data "aws_iam_policy_document" "webserver" {
  statement {
    sid       = "ReadComputeLogs"
    actions   = ["s3:GetObject", "s3:ListBucket"]
    resources = [var.compute_logs_bucket_arn, "${var.compute_logs_bucket_arn}/*"]
  }

  statement {
    sid       = "DecryptComputeLogs"
    actions   = ["kms:Decrypt"]
    resources = [var.kms_key_arn]
  }
}

data "aws_iam_policy_document" "daemon" {
  statement {
    sid       = "LaunchRuns"
    actions   = ["ecs:RunTask"]
    resources = [local.run_family_arns]
  }

  statement {
    sid       = "WatchAndStopRuns"
    actions   = ["ecs:DescribeTasks", "ecs:StopTask", "ecs:TagResource"]
    resources = [local.task_arns]
  }

  statement {
    sid       = "ReadTaskDefinitionsAndNetwork"
    actions   = ["ecs:DescribeTaskDefinition", "ec2:DescribeNetworkInterfaces"]
    resources = ["*"]
  }

  statement {
    sid       = "PassTheRunRoles"
    actions   = ["iam:PassRole"]
    resources = [aws_iam_role.execution.arn, aws_iam_role.task["code"].arn]
  }
}

data "aws_iam_policy_document" "code" {
  statement {
    sid     = "ReadWritePipelineData"
    actions = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket"]
    resources = [
      var.artifacts_bucket_arn,
      "${var.artifacts_bucket_arn}/*",
      var.io_manager_bucket_arn,
      "${var.io_manager_bucket_arn}/*",
      var.compute_logs_bucket_arn,
      "${var.compute_logs_bucket_arn}/*",
    ]
  }

  statement {
    sid       = "ReadThePredictionLog"
    actions   = ["s3:GetObject", "s3:ListBucket"]
    resources = [var.prediction_log_bucket_arn, "${var.prediction_log_bucket_arn}/*"]
  }

  statement {
    sid       = "UseTheProjectKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]
  }
}

locals {
  task_policies = {
    webserver = data.aws_iam_policy_document.webserver.json
    daemon    = data.aws_iam_policy_document.daemon.json
    code      = data.aws_iam_policy_document.code.json
  }
}

resource "aws_iam_role_policy" "task" {
  for_each = local.task_policies
  name     = "dagster-${each.key}"
  role     = aws_iam_role.task[each.key].id
  policy   = each.value
}
