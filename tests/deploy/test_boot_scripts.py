"""The instances' boot scripts stop when a secret cannot be fetched or is still a placeholder.

Each script's ``parameter`` function runs in bash with a fake ``aws`` on PATH; secrets are read
on their own lines, never inside a heredoc (where a failed lookup leaves an empty value and exit
status 0).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.deploy.tools import TERRAFORM

SCRIPTS = {
    "compute": TERRAFORM / "modules/compute/user_data.sh.tftpl",
    "monitoring": TERRAFORM / "modules/monitoring/user_data.sh.tftpl",
}
SECRETS = {"compute": ["api_token_name"], "monitoring": ["grafana_password", "api_token_name"]}
FAKE_AWS = '#!/bin/sh\nprintf "%s\\n" "$FAKE_VALUE"\nexit "$FAKE_RC"\n'


def parameter_function(template: Path) -> str:
    """The ``parameter`` function of a boot script, rendered with a region."""
    text = template.read_text().replace("${region}", "eu-west-1")
    (function,) = re.findall(r"^parameter\(\) \{\n.*?^\}\n", text, flags=re.M | re.S)
    return function


def lookup(template: Path, tmp_path: Path, value: str, rc: int) -> subprocess.CompletedProcess:
    aws = tmp_path / "bin" / "aws"
    aws.parent.mkdir(exist_ok=True)
    aws.write_text(FAKE_AWS)
    aws.chmod(0o755)
    script = (
        f'set -euo pipefail\n{parameter_function(template)}\nx=$(parameter /p)\necho "got:$x"\n'
    )
    return subprocess.run(
        ["bash", "-c", script],
        env={"PATH": f"{aws.parent}:/usr/bin:/bin", "FAKE_VALUE": value, "FAKE_RC": str(rc)},
        capture_output=True,
        text=True,
        timeout=30,
    )


@pytest.mark.parametrize("module", list(SCRIPTS))
@pytest.mark.parametrize(
    ("value", "rc"),
    [("", 255), ("a-real-token", 254), ("", 0), ("None", 0), ("set-me-out-of-band", 0)],
)
def test_a_failed_or_placeholder_lookup_stops_the_boot(
    module: str, value: str, rc: int, tmp_path: Path
) -> None:
    run = lookup(SCRIPTS[module], tmp_path, value, rc)
    assert run.returncode != 0
    assert "got:" not in run.stdout


@pytest.mark.parametrize("module", list(SCRIPTS))
def test_a_real_secret_is_returned(module: str, tmp_path: Path) -> None:
    run = lookup(SCRIPTS[module], tmp_path, "a-real-token", 0)
    assert (run.returncode, run.stdout) == (0, "got:a-real-token\n")


@pytest.mark.parametrize("module", list(SCRIPTS))
def test_secrets_are_read_on_their_own_lines_not_in_heredocs(module: str) -> None:
    text = SCRIPTS[module].read_text()
    for name in SECRETS[module]:
        assert re.search(rf'^\w+=\$\(parameter "\$\{{{name}\}}"\)$', text, flags=re.M), name
    for heredoc in re.findall(r"<<(\w+)\n(.*?)^\1$", text, flags=re.M | re.S):
        assert "$(" not in heredoc[1], f"command substitution inside heredoc {heredoc[0]}"


def test_the_service_runs_in_production_mode() -> None:
    assert "VOCALBABY_ENV=prod\n" in SCRIPTS["compute"].read_text()
