"""Who may import whom (README, "Architecture"): the rules hold on the real tree, and the checker
finds a forbidden import or a cycle when one is planted."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.architecture import layering

REPO = Path(__file__).resolve().parents[2]


def test_every_package_keeps_its_layer() -> None:
    edges = layering.imports(REPO)
    assert len(edges) > 200, "the checker reads the real modules"
    assert layering.violations(edges) == []


def test_no_import_cycles_between_modules() -> None:
    assert layering.cycles(layering.imports(REPO)) == []


def _tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


@pytest.mark.parametrize(
    ("name", "source", "rule"),
    [
        ("vocalbaby/features.py", "import dagster\n", "forbidden in vocalbaby: dagster"),
        ("vocalbaby/audio.py", "def f():\n    import bentoml\n", "forbidden in vocalbaby: bentoml"),
        (
            "vocalbaby/model.py",
            "from vocalbaby_service.errors import RequestError\n",
            "forbidden in vocalbaby: vocalbaby_*",
        ),
        ("vocalbaby_service/uploads.py", "from dagster import asset\n", "dagster"),
        (
            "vocalbaby_assets/assets/registry.py",
            "from vocalbaby_service import model_store\n",
            "forbidden in vocalbaby_assets: vocalbaby_service",
        ),
        (
            "vocalbaby_annotate/app.py",
            "import vocalbaby_cli.app\n",
            "nothing imports vocalbaby_cli",
        ),
    ],
)
def test_a_forbidden_import_is_named(tmp_path: Path, name: str, source: str, rule: str) -> None:
    root = _tree(tmp_path, {f"{p}/__init__.py": "" for p in layering.PACKAGES} | {name: source})
    (found,) = layering.violations(layering.imports(root))
    assert found.startswith(f"{root / name}:") and rule in found


def test_allowed_imports_pass(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {f"{p}/__init__.py": "" for p in layering.PACKAGES}
        | {
            "vocalbaby/audio.py": "import numpy\n",
            "vocalbaby_service/service.py": "import bentoml\nfrom vocalbaby import audio\n",
            "vocalbaby_assets/definitions.py": "import dagster\nimport bentoml\n",
            "vocalbaby_annotate/app.py": "import dagster_graphql\nfrom vocalbaby import audio\n",
            "vocalbaby_cli/app.py": "import vocalbaby_assets\nimport vocalbaby_service\n",
        },
    )
    assert layering.violations(layering.imports(root)) == []


def test_a_cycle_is_found_through_relative_and_lazy_imports(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {f"{p}/__init__.py": "" for p in layering.PACKAGES}
        | {
            "vocalbaby/a.py": "from . import b\n",
            "vocalbaby/b.py": "def f():\n    from vocalbaby.c import x\n",
            "vocalbaby/c.py": "from vocalbaby import a\nx = 1\n",
        },
    )
    assert layering.cycles(layering.imports(root)) == [
        ["vocalbaby.a", "vocalbaby.b", "vocalbaby.c", "vocalbaby.a"]
    ]
