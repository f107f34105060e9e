"""Where a model came from: git commit, package versions and content hashes."""

from __future__ import annotations

import hashlib
import subprocess
from importlib import metadata
from pathlib import Path

import pandas as pd

TRACKED_PACKAGES = (
    "vocalbaby",
    "opensmile",
    "xgboost-cpu",
    "xgboost",
    "scikit-learn",
    "imbalanced-learn",
    "optuna",
    "numpy",
    "pandas",
)


def git_commit(cwd: str | Path | None = None) -> str | None:
    """The current commit of the repository at ``cwd`` (``None`` outside a git checkout)."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=cwd or Path(__file__).parent,
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def package_versions(names: tuple[str, ...] = TRACKED_PACKAGES) -> dict[str, str]:
    """Installed versions of the packages that shape a model's output."""
    versions = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def frame_hash(frame: pd.DataFrame) -> str:
    """A content hash of a DataFrame (values, index and columns), stable across runs."""
    digest = hashlib.sha256()
    digest.update(pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes())
    digest.update("|".join(map(str, frame.columns)).encode())
    return digest.hexdigest()
