"""Copy the review page's wavesurfer.js modules from node_modules into the package (vendored).

The page needs four ES modules of wavesurfer.js (the player and its regions, spectrogram and
timeline plugins). They are vendored in ``vocalbaby_annotate/web/vendor/wavesurfer.js`` with the
library's licence, so the wheel (and ``pip install 'vocalbaby[annotate]'``) works without npm.
To update them: change the version in ``vocalbaby_annotate/web/package.json``, then
``make vendor-web`` (npm install + this script), which also rewrites ``SOURCE.json``: the npm
version and integrity from ``package-lock.json`` and a SHA-256 per file, which a test checks.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

WEB = Path(__file__).resolve().parents[1] / "vocalbaby_annotate" / "web"
PACKAGE = WEB / "node_modules" / "wavesurfer.js"
TARGET = WEB / "vendor" / "wavesurfer.js"
FILES = {
    "wavesurfer.esm.js": "dist/wavesurfer.esm.js",
    "plugins/regions.esm.js": "dist/plugins/regions.esm.js",
    "plugins/spectrogram.esm.js": "dist/plugins/spectrogram.esm.js",
    "plugins/timeline.esm.js": "dist/plugins/timeline.esm.js",
    "LICENSE": "LICENSE",
}


def main() -> None:
    lock = json.loads((WEB / "package-lock.json").read_text())["packages"]
    entry = lock["node_modules/wavesurfer.js"]
    installed = json.loads((PACKAGE / "package.json").read_text())["version"]
    if installed != entry["version"]:
        raise SystemExit(f"node_modules has {installed}, the lock {entry['version']}: npm ci first")
    hashes = {}
    for name, source in FILES.items():
        target = TARGET / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(PACKAGE / source, target)
        hashes[name] = hashlib.sha256(target.read_bytes()).hexdigest()
    source = {
        "package": "wavesurfer.js",
        "version": entry["version"],
        "license": entry["license"],
        "integrity": entry["integrity"],
        "sha256": hashes,
    }
    (TARGET / "SOURCE.json").write_text(json.dumps(source, indent=2) + "\n")
    print(f"vendored wavesurfer.js {entry['version']} into {TARGET}")


if __name__ == "__main__":
    main()
