"""deploy/terraform/modules/dagster: Dagster on ECS, read with python-hcl2 (structure only)."""

from __future__ import annotations

import re

import yaml

from tests.deploy.test_terraform import DAGSTER, Block, blocks, parsed
from tests.deploy.tools import DEPLOY, TERRAFORM

WORLD = {"0.0.0.0/0", "::/0"}


def _one(type_: str, name: str, kind: str = "resource") -> Block:
    (block,) = [b for b in blocks(kind, type_) if b.module == DAGSTER and b.name == name]
    return block


def _source(name: str) -> str:
    return (TERRAFORM / DAGSTER / name).read_text()


def test_webserver_daemon_and_code_server_are_private_fargate_services() -> None:
    services = {
        b.name: b.body for b in blocks("resource", "aws_ecs_service") if b.module == DAGSTER
    }
    assert set(services) == {"webserver", "daemon", "code"}
    for name, body in services.items():
        assert body["launch_type"] == "FARGATE", name
        (network,) = body["network_configuration"]
        assert network["assign_public_ip"] is False, name
        assert network["subnets"] == "${var.private_subnet_ids}", name
    assert services["daemon"]["desired_count"] == 1  # two daemons would tick schedules twice
    assert services["daemon"]["deployment_maximum_percent"] == 100
    assert "service_registries" in services["code"]


def test_the_ui_is_on_an_internal_https_load_balancer_for_allowed_ranges_only() -> None:
    balancer = _one("aws_lb", "webserver").body
    assert balancer["internal"] is True
    assert balancer["subnets"] == "${var.private_subnet_ids}"
    listener = _one("aws_lb_listener", "webserver").body
    assert (listener["port"], listener["protocol"]) == (443, "HTTPS")
    rule = _one("aws_vpc_security_group_ingress_rule", "alb_from_allowed").body
    assert rule["cidr_ipv4"] == "${each.value}" and rule["from_port"] == rule["to_port"] == 443
    (variable,) = [
        v["webserver_allowed_cidrs"]
        for path, doc in parsed().items()
        if path.parent.name == "dagster"
        for v in doc.get("variable", [])
        if "webserver_allowed_cidrs" in v
    ]
    assert "0.0.0.0/0" in variable["validation"][0]["condition"]
    example = (TERRAFORM / "envs" / "production" / "terraform.tfvars.example").read_text()
    allowed = re.search(r"dagster_allowed_cidrs\s*=\s*\[(.*)\]", example)
    assert allowed and not WORLD & set(re.findall(r'"([^"]+)"', allowed[1]))


def test_postgres_is_private_encrypted_backed_up_and_its_password_managed() -> None:
    db = _one("aws_db_instance", "this").body
    assert db["publicly_accessible"] is False
    assert db["storage_encrypted"] is True and db["kms_key_id"] == "${var.kms_key_arn}"
    assert db["manage_master_user_password"] is True and "password" not in db
    assert db["master_user_secret_kms_key_id"] == "${var.kms_key_arn}"
    assert db["backup_retention_period"] == "${var.db_backup_retention_days}"
    assert db["deletion_protection"] is True and db["skip_final_snapshot"] is False
    parameters = {
        p["name"]: p["value"] for p in _one("aws_db_parameter_group", "this").body["parameter"]
    }
    assert parameters["rds.force_ssl"] == "1"
    ingress = _one("aws_vpc_security_group_ingress_rule", "database_from_tasks").body
    assert ingress["referenced_security_group_id"] == "${aws_security_group.tasks.id}"
    assert "cidr_ipv4" not in ingress


def test_tasks_get_the_password_from_secrets_manager_and_log_to_encrypted_groups() -> None:
    services = _source("services.tf")
    secret = '{ name = "DAGSTER_PG_PASSWORD", valueFrom = "${local.db_secret_arn}:password::" }'
    assert re.search(r"secrets\s+= \[" + re.escape(secret) + r"\]", services)
    assert not re.search(r"^\s*\w*PASSWORD\w*\s*=", services, re.M)  # never a plain variable
    assert 'logDriver = "awslogs"' in services and 'user         = "10001"' in services
    definitions = _one("aws_ecs_task_definition", "this").body
    assert definitions["requires_compatibilities"] == ["FARGATE"]
    assert set(re.findall(r"^    (\w+) = \{$", services, re.M)) >= {
        "webserver",
        "daemon",
        "code",
        "run",
    }
    groups = _one("aws_cloudwatch_log_group", "dagster").body
    assert groups["kms_key_id"] == "${var.kms_key_arn}"
    assert groups["retention_in_days"] == "${var.log_retention_days}"


def _policy(name: str) -> dict[str, dict]:
    document = _one("aws_iam_policy_document", name, kind="data").body
    return {statement["sid"]: statement for statement in document["statement"]}


def test_task_roles_are_least_privilege() -> None:
    daemon = _policy("daemon")
    assert daemon["LaunchRuns"]["actions"] == ["ecs:RunTask"]
    assert daemon["LaunchRuns"]["resources"] == ["${local.run_family_arns}"]
    assert daemon["PassTheRunRoles"]["resources"] == [
        "${aws_iam_role.execution.arn}",
        '${aws_iam_role.task["code"].arn}',
    ]
    webserver = _policy("webserver")
    actions = {a for statement in webserver.values() for a in statement["actions"]}
    assert actions == {"s3:GetObject", "s3:ListBucket", "kms:Decrypt"}
    code = _policy("code")
    assert not any(a.startswith(("ecs:", "iam:")) for s in code.values() for a in s["actions"])
    assert code["ReadThePredictionLog"]["actions"] == ["s3:GetObject", "s3:ListBucket"]
    execution = _policy("execution")
    assert execution["ReadTheDatabasePassword"]["resources"] == ["${local.db_secret_arn}"]


def test_instance_and_workspace_point_at_what_terraform_creates() -> None:
    instance = yaml.safe_load((DEPLOY / "dagster" / "dagster.yaml").read_text())
    launcher = instance["run_launcher"]["config"]
    assert launcher["task_definition"] == {"env": "DAGSTER_RUN_TASK_DEFINITION"}
    assert launcher["container_name"] == "run"
    services = _source("services.tf")
    assert 'DAGSTER_RUN_TASK_DEFINITION  = "${var.name}-dagster-run"' in services
    assert re.search(r'family\s+= "\$\{var\.name\}-dagster-\$\{each\.key\}"', services)
    workspace = yaml.safe_load((DEPLOY / "dagster" / "workspace.yaml").read_text())
    (server,) = [entry["grpc_server"] for entry in workspace["load_from"]]
    main = _source("main.tf")
    namespace = re.search(r'namespace\s+= "([^"]+)"', main)[1]
    service = _one("aws_service_discovery_service", "code").body["name"]
    assert server["host"] == f"{service}.{namespace}"
    assert server["port"] == 4000


def test_io_manager_and_compute_log_buckets_exist() -> None:
    modules = {
        name: body
        for path, doc in parsed().items()
        if path.parent.name == "s3" and path.parent.parent.name == "modules"
        for entry in doc.get("module", [])
        for name, body in entry.items()
    }
    assert {"io_manager", "compute_logs"} <= set(modules)
    assert modules["compute_logs"]["expiration_days"] == "${var.compute_log_expiration_days}"
