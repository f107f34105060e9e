"""openSMILE configurations reduced to the components that feed one output level.

opensmile's eGeMAPSv02 config builds the GeMAPSv01b graph and the eGeMAPSv02 graph on top of it:
19 of its 71 components (selectors, smoothers, functionals) feed no level the functionals sink
reads. They still cost time in every run and in every engine reset, which rebuilds each
component. :func:`pruned` writes a copy of a config without them: the remaining components are
configured exactly as before, so the output is bit-identical (tested against
``opensmile.Smile``), and a 0.4 s clip costs about 12 % less CPU (its reset about 25 % less).

The copy inlines the config's ``\\{file}`` includes, makes the relative file defaults of its
``\\cm[option{default}]`` references absolute, and keeps the ``\\cm[...]`` includes (external
source and sink, buffer modes) for the engine's options to fill in, as ``opensmile.Smile`` does.
"""

from __future__ import annotations

import re
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

_INCLUDE = re.compile(r"^\s*\\\{(?!\\cm)(?P<path>[^}]+)\}\s*$")
_DEFAULT = re.compile(r"\\cm\[(?P<name>\w+)\{(?P<default>[^}]*)\}")
_SECTION = re.compile(r"^\s*\[(?P<name>[^:\]]+):(?P<type>\w+)\]")
_LEVELS = re.compile(r"^\s*(?P<key>\w*reader\d*|writer)\.dmLevel\s*=(?P<levels>.*)$")
_INSTANCE = re.compile(r"^\s*instance\[(?P<name>[^\]]+)\]")
_DECLARATION = re.compile(r"\\cm\[(?P<name>\w+)\{[^}]*\}[^\]]*\]")
MANAGER = "cComponentManager"


def _absolute_default(match: re.Match[str], folder: Path) -> str:
    candidate = folder / match["default"]
    default = str(candidate.resolve()) if candidate.is_file() else match["default"]
    return f"\\cm[{match['name']}{{{default}}}"


def flatten(path: Path) -> list[str]:
    """The lines of config ``path`` with its file includes inlined, recursively."""
    lines = []
    for line in path.read_text().splitlines():
        if include := _INCLUDE.match(line):
            lines += flatten((path.parent / include["path"].strip()).resolve())
        else:
            lines.append(_DEFAULT.sub(lambda m: _absolute_default(m, path.parent), line))
    return lines


@dataclass
class _Section:
    name: str
    type: str
    lines: list[str] = field(default_factory=list)

    def levels(self, writer: bool) -> set[str]:
        """The data-memory levels this component writes (``writer``) or reads."""
        found = set()
        for line in self.lines:
            if (match := _LEVELS.match(line)) and (match["key"] == "writer") == writer:
                found.update(level.strip() for level in match["levels"].split(";"))
        return found - {""}


def _sections(lines: list[str]) -> list[_Section]:
    sections = [_Section("", "")]
    for line in lines:
        if header := _SECTION.match(line):
            sections.append(_Section(header["name"], header["type"]))
        sections[-1].lines.append(line)
    return sections


def dead_components(lines: list[str], sink_level: str) -> set[str]:
    """Components of the flattened config whose output never reaches ``sink_level``."""
    components = [s for s in _sections(lines) if s.type and s.type != MANAGER]
    needed, live = {sink_level}, set()
    while grown := [c for c in components if c.name not in live and c.levels(True) & needed]:
        for component in grown:
            live.add(component.name)
            needed |= component.levels(False)
    return {c.name for c in components if c.levels(True) and c.name not in live}


def pruned_text(config: Path, sink_level: str) -> str:
    """Config ``config`` without the components that do not feed ``sink_level``."""
    lines = flatten(config)
    dead = dead_components(lines, sink_level)
    kept: list[str] = []
    moved: dict[str, str] = {}  # option declarations that lived in a dropped component
    for section in _sections(lines):
        if section.name in dead:
            moved |= {m["name"]: m[0] for m in _DECLARATION.finditer("\n".join(section.lines))}
            continue
        kept += [
            line
            for line in section.lines
            if section.type != MANAGER
            or not ((instance := _INSTANCE.match(line)) and instance["name"] in dead)
        ]
    text = "\n".join(kept) + "\n"
    for name, declaration in moved.items():
        if f"\\cm[{name}{{" not in text:  # declare it where the kept components first use it
            text = text.replace(f"\\cm[{name}]", declaration, 1)
    return text


_lock = threading.Lock()
_workdir: list[tempfile.TemporaryDirectory[str]] = []  # made on first use, removed at exit


def pruned(config: str | Path, sink_level: str) -> str:
    """Path of a copy of ``config`` reduced to the components feeding ``sink_level``.

    The copy lives in a folder of this process's temporary directory, removed at exit (and
    written again if it is gone: an engine reads it only when it is made).
    """
    config = Path(config)
    with _lock:  # engines are made by several threads at once
        if not _workdir:
            _workdir.append(tempfile.TemporaryDirectory(prefix="vocalbaby-smile-"))
        target = Path(_workdir[0].name) / f"{config.stem}.{sink_level}.conf"
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(pruned_text(config, sink_level))
    return str(target)
