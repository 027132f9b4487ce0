"""The package's layering: the local service imports nothing of the kit, and no module imports
itself back through others (no import cycles). Imports under ``if TYPE_CHECKING:`` count (a cycle
there is still two modules that need each other), and so do imports inside functions (they run,
just later)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "aidemo"


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """The aidemo modules ``path`` imports (``from aidemo.x import y`` counts as aidemo.x and aidemo.x.y)."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text(), str(path)))
    return {name for name in found if name == "aidemo" or name.startswith("aidemo.")}


def import_graph() -> dict[str, set[str]]:
    """Module -> the aidemo modules it imports (only names that are modules of the package)."""
    files = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    return {name: {m for m in imports_of(path) if m in files and m != name} for name, path in files.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a list of modules (first == last), or None."""
    edges = graph
    state: dict[str, int] = {}
    stack: list[str] = []

    def walk(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for target in sorted(edges.get(node, ())):
            if state.get(target) == 1:
                return stack[stack.index(target) :] + [target]
            if target not in state and (cycle := walk(target)):
                return cycle
        state[node] = 2
        stack.pop()
        return None

    for node in sorted(edges):
        if node not in state and (cycle := walk(node)):
            return cycle
    return None


def test_the_local_service_imports_nothing_of_the_kit():
    outside = {
        _module_name(path): sorted(
            m for m in imports_of(path) if m != "aidemo.local" and not m.startswith("aidemo.local.")
        )
        for path in (PACKAGE / "local").rglob("*.py")
    }
    assert {module: names for module, names in outside.items() if names} == {}


def test_no_import_cycles():
    assert find_cycle(import_graph()) is None


def test_the_checks_catch_what_they_guard_against(tmp_path):
    # A kit import under aidemo/local and a two-module cycle are both seen.
    (tmp_path / "aidemo" / "local").mkdir(parents=True)
    probe = tmp_path / "aidemo" / "local" / "probe.py"
    probe.write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from aidemo.backends import StreamingBackend\n"
        "def f():\n    from aidemo.sql import SQL_DIR\n    from ..errors import AidemoError\n"
    )
    assert {"aidemo.sql", "aidemo.errors", "aidemo.backends"} <= imports_of_at(probe, tmp_path)
    assert find_cycle({"aidemo.a": {"aidemo.b"}, "aidemo.b": {"aidemo.a"}}) == [
        "aidemo.a",
        "aidemo.b",
        "aidemo.a",
    ]
    assert find_cycle({"aidemo": {"aidemo.a"}, "aidemo.a": {"aidemo"}}) == [
        "aidemo",
        "aidemo.a",
        "aidemo",
    ]
    assert find_cycle({"aidemo.a": {"aidemo.b"}, "aidemo.b": set()}) is None


def imports_of_at(path: Path, root: Path) -> set[str]:
    global ROOT
    saved, ROOT = ROOT, root
    try:
        return imports_of(path)
    finally:
        ROOT = saved


def test_the_local_services_errors_reach_the_kit_as_its_own():
    from aidemo import errors, keys
    from aidemo.local import errors as local

    with pytest.raises(errors.KeyPairError, match="not PEM text") as caught:
        keys.load_private_key("not a key")
    assert isinstance(caught.value.__cause__, local.KeyPairError)
    for raised, expected in (
        (local.SqlError, errors.SqlError),
        (local.LocalServiceError, errors.LocalServiceError),
        (local.ConfigError, errors.ConfigError),
    ):
        with pytest.raises(expected, match="what went wrong"), errors.from_local():
            raise raised("what went wrong")


def test_backend_differences_stay_behind_the_backend_interface():
    # No module but backends.py names a concrete backend (no isinstance checks, no reopening by type).
    naming = {
        _module_name(path)
        for path in PACKAGE.rglob("*.py")
        if path.name != "backends.py"
        and any(
            isinstance(node, ast.Name)
            and node.id in ("LocalBackend", "SnowflakeBackend")
            or isinstance(node, ast.alias)
            and node.name in ("LocalBackend", "SnowflakeBackend")
            for node in ast.walk(ast.parse(path.read_text()))
        )
    }
    assert naming == set()
