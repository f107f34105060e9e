# Run once per account, with local state, before envs/production: creates the S3 bucket and the
# DynamoDB table that hold and lock the production state (deploy/README.md, "Apply").

terraform {
  required_version = ">= 1.6"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.80, < 7.0"
    }
  }
}

provider "aws" {
  region = var.region

  default_tags {
    tags = { Project = "vocalbaby", ManagedBy = "terraform", Stack = "bootstrap" }
  }
}

variable "region" {
  description = "AWS region of the state bucket and lock table."
  type        = string
}

variable "name" {
  description = "Prefix of the state bucket and lock table names."
  type        = string
  default     = "vocalbaby-terraform-state"
}

data "aws_caller_identity" "current" {}

module "kms" {
  source = "../modules/kms"
  name   = var.name
}

resource "aws_s3_bucket" "state" {
  # checkov:skip=CKV_AWS_18:Access to the state is audited through CloudTrail; there is no log bucket before the production stack exists.
  # checkov:skip=CKV_AWS_144:State is small and versioned; cross-region replication is not worth a second region here.
  # checkov:skip=CKV2_AWS_62:Nothing consumes events of the state bucket.
  # checkov:skip=CKV2_AWS_61:State versions are kept: expiring them would lose history that only a lifecycle rule could free.
  bucket = "${var.name}-${data.aws_caller_identity.current.account_id}"

  lifecycle {
    prevent_destroy = true
  }
}

resource "aws_s3_bucket_versioning" "state" {
  bucket = aws_s3_bucket.state.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "state" {
  bucket = aws_s3_bucket.state.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = module.kms.key_arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_public_access_block" "state" {
  bucket                  = aws_s3_bucket.state.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "state" {
  bucket = aws_s3_bucket.state.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

data "aws_iam_policy_document" "state_tls_only" {
  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.state.arn, "${aws_s3_bucket.state.arn}/*"]

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
}

resource "aws_s3_bucket_policy" "state" {
  bucket     = aws_s3_bucket.state.id
  policy     = data.aws_iam_policy_document.state_tls_only.json
  depends_on = [aws_s3_bucket_public_access_block.state]
}

resource "aws_dynamodb_table" "lock" {
  name         = var.name
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "LockID"

  attribute {
    name = "LockID"
    type = "S"
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = module.kms.key_arn
  }

  deletion_protection_enabled = true
}

output "state_bucket" {
  description = "bucket = ... in envs/production/backend.hcl"
  value       = aws_s3_bucket.state.id
}

output "lock_table" {
  description = "dynamodb_table = ... in envs/production/backend.hcl"
  value       = aws_dynamodb_table.lock.name
}

output "kms_key_arn" {
  description = "kms_key_id = ... in envs/production/backend.hcl"
  value       = module.kms.key_arn
}
