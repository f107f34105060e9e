"""What the package ships: its public API, its version, the licence, and the vendored front end."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

import vocalbaby
from tests.install.conftest import REPO

VENDOR = REPO / "vocalbaby_annotate" / "web" / "vendor" / "wavesurfer.js"


def test_the_public_api_resolves_and_is_small() -> None:
    assert len(vocalbaby.__all__) <= 12
    for name in vocalbaby.__all__:
        assert getattr(vocalbaby, name) is not None, name
    assert vocalbaby.load_audio.__module__ == "vocalbaby.audio"
    assert dir(vocalbaby) == sorted(vocalbaby.__all__)


def test_the_version_is_the_installed_distribution_version() -> None:
    from importlib.metadata import version

    assert vocalbaby.__version__ == version("vocalbaby")


def test_vendored_wavesurfer_matches_its_record_and_the_npm_lock() -> None:
    source = json.loads((VENDOR / "SOURCE.json").read_text())
    lock = json.loads((REPO / "vocalbaby_annotate" / "web" / "package-lock.json").read_text())
    entry = lock["packages"]["node_modules/wavesurfer.js"]
    assert (source["version"], source["integrity"]) == (entry["version"], entry["integrity"])
    for name, digest in source["sha256"].items():
        assert hashlib.sha256((VENDOR / name).read_bytes()).hexdigest() == digest, name
    assert "BSD" in (VENDOR / "LICENSE").read_text()


def test_the_wheel_holds_the_page_the_licence_and_no_npm_tree(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    web = "vocalbaby_annotate/web/"
    assert {
        f"{web}vendor/wavesurfer.js/{n}"
        for n in json.loads((VENDOR / "SOURCE.json").read_text())["sha256"]
    } <= names
    assert {f"{web}src/index.html", f"{web}src/app.js"} <= names
    assert not any("node_modules" in n or n.endswith("package.json") for n in names)
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    for package in ("vocalbaby", "vocalbaby_cli", "vocalbaby_assets", "vocalbaby_service"):
        assert f"{package}/__init__.py" in names
