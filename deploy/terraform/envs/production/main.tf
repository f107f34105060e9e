# VocalBaby production: network, storage, image registry, roles, the service behind a load
# balancer, the monitoring host, and Dagster on ECS (webserver, daemon, code server, runs). Apply steps: deploy/README.md.

data "aws_caller_identity" "current" {}

locals {
  name           = "vocalbaby-production"
  parameter_path = "/vocalbaby/production"
  asg_name       = "${local.name}-service"
  log_groups = {
    service    = "/vocalbaby/production/service"
    monitoring = "/vocalbaby/production/monitoring"
  }
  prediction_log_prefix = "service/"
}

module "kms" {
  source = "../../modules/kms"
  name   = local.name
}

module "s3" {
  source      = "../../modules/s3"
  name        = "${local.name}-${data.aws_caller_identity.current.account_id}"
  kms_key_arn = module.kms.key_arn
}

module "network" {
  source               = "../../modules/network"
  name                 = local.name
  cidr_block           = var.vpc_cidr
  availability_zones   = var.availability_zones
  single_nat_gateway   = var.single_nat_gateway
  flow_logs_bucket_arn = module.s3.logs_bucket_arn
}

module "ecr" {
  source      = "../../modules/ecr"
  name        = "vocalbaby"
  kms_key_arn = module.kms.key_arn
}

module "iam" {
  source                     = "../../modules/iam"
  name                       = local.name
  kms_key_arn                = module.kms.key_arn
  ecr_repository_arn         = module.ecr.repository_arn
  dagster_ecr_repository_arn = module.ecr_dagster.repository_arn
  bucket_arns                = module.s3.bucket_arns
  prediction_log_prefix      = local.prediction_log_prefix
  parameter_path             = local.parameter_path
  service_log_group_name     = local.log_groups.service
  monitoring_log_group_name  = local.log_groups.monitoring
  autoscaling_group_name     = local.asg_name
  github_repository          = var.github_repository
  github_oidc_provider_arn   = var.github_oidc_provider_arn
}

module "compute" {
  source                    = "../../modules/compute"
  name                      = local.name
  vpc_id                    = module.network.vpc_id
  public_subnet_ids         = module.network.public_subnet_ids
  private_subnet_ids        = module.network.private_subnet_ids
  alb_security_group_id     = module.network.alb_security_group_id
  service_security_group_id = module.network.service_security_group_id
  instance_profile_name     = module.iam.service_instance_profile_name
  kms_key_arn               = module.kms.key_arn
  repository_url            = module.ecr.repository_url
  parameter_path            = local.parameter_path
  log_group_name            = local.log_groups.service
  autoscaling_group_name    = local.asg_name
  prediction_log_uri        = "s3://${module.s3.bucket_names["prediction-log"]}/${local.prediction_log_prefix}"
  certificate_arn           = var.certificate_arn
  access_logs_bucket        = module.s3.logs_bucket_name
  instance_type             = var.service_instance_type
  min_size                  = var.service_min_size
  max_size                  = var.service_max_size
}

module "monitoring" {
  source                         = "../../modules/monitoring"
  name                           = local.name
  subnet_id                      = module.network.private_subnet_ids[0]
  security_group_id              = module.network.monitoring_security_group_id
  instance_profile_name          = module.iam.monitoring_instance_profile_name
  kms_key_arn                    = module.kms.key_arn
  config_bucket                  = module.s3.bucket_names["artifacts"]
  config_dir                     = "${path.root}/../../.."
  parameter_path                 = local.parameter_path
  log_group_name                 = local.log_groups.monitoring
  service_autoscaling_group_name = local.asg_name
  instance_type                  = var.monitoring_instance_type
}

module "ecr_dagster" {
  source      = "../../modules/ecr"
  name        = "vocalbaby-dagster"
  kms_key_arn = module.kms.key_arn
}

module "dagster" {
  source                    = "../../modules/dagster"
  name                      = local.name
  vpc_id                    = module.network.vpc_id
  vpc_cidr_block            = module.network.vpc_cidr_block
  private_subnet_ids        = module.network.private_subnet_ids
  webserver_allowed_cidrs   = var.dagster_allowed_cidrs
  certificate_arn           = var.dagster_certificate_arn
  kms_key_arn               = module.kms.key_arn
  image                     = "${module.ecr_dagster.repository_url}:${var.dagster_image_tag}"
  repository_arn            = module.ecr_dagster.repository_arn
  artifacts_bucket_arn      = module.s3.bucket_arns["artifacts"]
  artifacts_uri             = "s3://${module.s3.bucket_names["artifacts"]}"
  dataset_uri               = "s3://${module.s3.bucket_names["artifacts"]}/datasets/${var.dataset_name}"
  io_manager_bucket_arn     = module.s3.bucket_arns["dagster-io"]
  io_manager_uri            = "s3://${module.s3.bucket_names["dagster-io"]}/dagster"
  compute_logs_bucket_arn   = module.s3.bucket_arns["dagster-compute-logs"]
  compute_logs_bucket_name  = module.s3.bucket_names["dagster-compute-logs"]
  prediction_log_bucket_arn = module.s3.bucket_arns["prediction-log"]
  prediction_log_uri        = "s3://${module.s3.bucket_names["prediction-log"]}/${local.prediction_log_prefix}"
}
