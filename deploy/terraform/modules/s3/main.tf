# The data buckets (bucket/ submodule: artifacts, drift reports, prediction log) and one bucket
# for access logs. Artifacts (models, feature cache, Dagster values) are kept; the prediction log
# and drift reports expire.

data "aws_caller_identity" "current" {}
data "aws_elb_service_account" "current" {}

module "artifacts" {
  source            = "./bucket"
  name              = "${var.name}-artifacts"
  kms_key_arn       = var.kms_key_arn
  access_log_bucket = aws_s3_bucket.logs.id
  transition_days   = 90
  noncurrent_days   = 90
}

module "drift_reports" {
  source            = "./bucket"
  name              = "${var.name}-drift-reports"
  kms_key_arn       = var.kms_key_arn
  access_log_bucket = aws_s3_bucket.logs.id
  transition_days   = 30
  noncurrent_days   = 30
  expiration_days   = var.drift_report_expiration_days
}

module "prediction_log" {
  source            = "./bucket"
  name              = "${var.name}-prediction-log"
  kms_key_arn       = var.kms_key_arn
  access_log_bucket = aws_s3_bucket.logs.id
  transition_days   = 30
  noncurrent_days   = 30
  expiration_days   = var.prediction_log_expiration_days
}

# Dagster: the IO manager's pickled asset values (kept like artifacts) and the runs'
# stdout/stderr (compute logs, expiring).
module "io_manager" {
  source            = "./bucket"
  name              = "${var.name}-dagster-io"
  kms_key_arn       = var.kms_key_arn
  access_log_bucket = aws_s3_bucket.logs.id
  transition_days   = 90
  noncurrent_days   = 30
}

module "compute_logs" {
  source            = "./bucket"
  name              = "${var.name}-dagster-compute-logs"
  kms_key_arn       = var.kms_key_arn
  access_log_bucket = aws_s3_bucket.logs.id
  transition_days   = 30
  noncurrent_days   = 7
  expiration_days   = var.compute_log_expiration_days
}

resource "aws_s3_bucket" "logs" {
  # checkov:skip=CKV_AWS_144:Access logs are not replicated; they are kept for log_retention_days.
  # checkov:skip=CKV2_AWS_62:No consumer of object events on the access-log bucket.
  # checkov:skip=CKV_AWS_18:This is the access-log bucket; logging it into itself would loop.
  # checkov:skip=CKV_AWS_145:Load balancer access logs can only be delivered to SSE-S3 buckets.
  bucket = "${var.name}-logs"
}

resource "aws_s3_bucket_versioning" "logs" {
  bucket = aws_s3_bucket.logs.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "logs" {
  bucket = aws_s3_bucket.logs.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_public_access_block" "logs" {
  bucket                  = aws_s3_bucket.logs.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "logs" {
  bucket = aws_s3_bucket.logs.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "logs" {
  bucket = aws_s3_bucket.logs.id

  rule {
    id     = "expire-logs"
    status = "Enabled"
    filter {}

    expiration {
      days = var.log_retention_days
    }

    noncurrent_version_expiration {
      noncurrent_days = 7
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
}

# TLS only, and log delivery: S3 server access logs, load balancer access logs, VPC flow logs.
data "aws_iam_policy_document" "logs" {
  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.logs.arn, "${aws_s3_bucket.logs.arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }

  statement {
    sid       = "S3ServerAccessLogs"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.logs.arn}/s3/*"]

    principals {
      type        = "Service"
      identifiers = ["logging.s3.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }

  statement {
    sid       = "LoadBalancerAccessLogs"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.logs.arn}/alb/AWSLogs/${data.aws_caller_identity.current.account_id}/*"]

    # Regions opened before August 2022 deliver as the regional ELB account, newer ones as this
    # service principal.
    principals {
      type        = "AWS"
      identifiers = [data.aws_elb_service_account.current.arn]
    }

    principals {
      type        = "Service"
      identifiers = ["logdelivery.elasticloadbalancing.amazonaws.com"]
    }
  }

  statement {
    sid       = "VpcFlowLogsWrite"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.logs.arn}/vpc-flow-logs/AWSLogs/${data.aws_caller_identity.current.account_id}/*"]

    principals {
      type        = "Service"
      identifiers = ["delivery.logs.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }

  statement {
    sid       = "VpcFlowLogsAclCheck"
    actions   = ["s3:GetBucketAcl"]
    resources = [aws_s3_bucket.logs.arn]

    principals {
      type        = "Service"
      identifiers = ["delivery.logs.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

resource "aws_s3_bucket_policy" "logs" {
  bucket     = aws_s3_bucket.logs.id
  policy     = data.aws_iam_policy_document.logs.json
  depends_on = [aws_s3_bucket_public_access_block.logs]
}
