terraform {
  required_version = ">= 1.6"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.80, < 7.0"
    }
  }

  # Remote state in S3, locked in DynamoDB (both created by ../../bootstrap). The values live in
  # backend.hcl (see backend.hcl.example): terraform init -backend-config=backend.hcl
  backend "s3" {}
}

provider "aws" {
  region = var.region

  default_tags {
    tags = {
      Project     = "vocalbaby"
      Environment = "production"
      ManagedBy   = "terraform"
    }
  }
}
