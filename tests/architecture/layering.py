"""The import graph of VocalBaby's packages, read from source with ``ast``, and its rules.

Every ``import`` and ``from ... import`` counts, wherever it is (module level, inside a function,
under ``TYPE_CHECKING``): a lazy import is still a dependency.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

PACKAGES = (
    "vocalbaby",
    "vocalbaby_cli",
    "vocalbaby_assets",
    "vocalbaby_service",
    "vocalbaby_annotate",
)
APPS = ("dagster", "dagster_*", "bentoml", "starlette", "uvicorn", "typer")

# package -> top-level modules it must not import ("x_*" matches every name starting with "x_")
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "vocalbaby": (*APPS, "vocalbaby_*"),
    "vocalbaby_service": ("dagster", "dagster_*", "vocalbaby_assets", "vocalbaby_annotate"),
    "vocalbaby_assets": ("vocalbaby_service", "vocalbaby_annotate"),
    "vocalbaby_annotate": ("dagster", "bentoml", "vocalbaby_assets", "vocalbaby_service"),
}
# nothing outside the command line imports it
ONLY_FROM_ITSELF = ("vocalbaby_cli",)


@dataclass(frozen=True)
class Import:
    """One import statement: the importing module, the imported module, where."""

    importer: str
    imported: str
    path: Path
    line: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.importer} imports {self.imported}"


def module_name(root: Path, path: Path) -> str:
    """``vocalbaby/annotation/store.py`` -> ``vocalbaby.annotation.store`` (a package: no
    ``__init__``)."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules(root: Path, packages: Iterable[str] = PACKAGES) -> dict[str, Path]:
    """Every module of ``packages`` under ``root``, by dotted name."""
    return {
        module_name(root, path): path
        for package in packages
        for path in sorted((root / package).rglob("*.py"))
    }


def imports(root: Path, packages: Iterable[str] = PACKAGES) -> list[Import]:
    """Every import in the packages' modules; ``from pkg import sub`` names the submodule when
    ``pkg.sub`` is a module, else ``pkg``; relative imports are resolved."""
    found = modules(root, packages)
    edges = []
    for name, path in found.items():
        is_package = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _absolute(name, is_package, node.module, node.level)
                targets = [
                    f"{base}.{alias.name}" if f"{base}.{alias.name}" in found else base
                    for alias in node.names
                ]
            else:
                continue
            edges += [Import(name, target, path, node.lineno) for target in targets]
    return edges


def _absolute(importer: str, is_package: bool, module: str | None, level: int) -> str:
    if level == 0:
        return module or ""
    parts = importer.split(".")
    anchor = parts if is_package else parts[:-1]
    anchor = anchor[: len(anchor) - (level - 1)]
    return ".".join([*anchor, *([module] if module else [])])


def _matches(top: str, pattern: str) -> bool:
    return top.startswith(pattern[:-1]) if pattern.endswith("*") else top == pattern


def violations(
    edges: Iterable[Import], forbidden: Mapping[str, tuple[str, ...]] = FORBIDDEN
) -> list[str]:
    """Every import that breaks a layering rule, named with its file and line."""
    found = []
    for edge in edges:
        importer, top = edge.importer.split(".")[0], edge.imported.split(".")[0]
        if top == importer:
            continue
        rule = next((p for p in forbidden.get(importer, ()) if _matches(top, p)), None)
        if rule:
            found.append(f"{edge} (forbidden in {importer}: {rule})")
        elif top in ONLY_FROM_ITSELF:
            found.append(f"{edge} (nothing imports {top})")
    return found


def cycles(edges: Iterable[Import]) -> list[list[str]]:
    """Import cycles between the packages' modules (each as the list of modules around it)."""
    internal = {e.importer for e in edges}
    graph: dict[str, set[str]] = {}
    for edge in edges:
        if edge.imported in internal and edge.imported != edge.importer:
            graph.setdefault(edge.importer, set()).add(edge.imported)
    found, state, stack = [], {}, []

    def visit(node: str) -> None:
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                found.append([*stack[stack.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = "done"

    for node in sorted(internal):
        if node not in state:
            visit(node)
    return found
