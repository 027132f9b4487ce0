"""The package's layering and layout: the local service imports nothing of the kit, and no module
imports itself back through others (no import cycles). Imports under ``if TYPE_CHECKING:`` count (a
cycle there is still two modules that need each other), and so do imports inside functions (they
run, just later). No function is over 100 lines and no package folder over 20 modules (the known
exceptions are listed, each to go), StreamOptions is defined and imported in one place, and
docs/architecture.md names only paths that exist."""

from __future__ import annotations

import ast
import re
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
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
        "    from aidemo.backends.backend import StreamingBackend\n"
        "def f():\n    from aidemo.backends.scripts import SQL_DIR\n    from ..errors import AidemoError\n"
    )
    assert {"aidemo.backends.scripts", "aidemo.errors", "aidemo.backends.backend"} <= imports_of_at(probe, tmp_path)
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
    from aidemo import errors
    from aidemo.backends import keys
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
    # No module but aidemo/backends/backend.py names a concrete backend (no isinstance checks, no reopening
    # by type).
    naming = {
        _module_name(path)
        for path in PACKAGE.rglob("*.py")
        if path != PACKAGE / "backends" / "backend.py"
        and any(
            isinstance(node, ast.Name)
            and node.id in ("LocalBackend", "SnowflakeBackend")
            or isinstance(node, ast.alias)
            and node.name in ("LocalBackend", "SnowflakeBackend")
            for node in ast.walk(ast.parse(path.read_text()))
        )
    }
    assert naming == set()


# ---- layout: function length, folder size, one home per name, the architecture document ----

MAX_FUNCTION_LINES = 100
MAX_MODULES = 20
#: Functions over the limit today (none). An entry that no longer applies fails the test.
KNOWN_LONG_FUNCTIONS: set[str] = set()
#: Folders over the limit today (none). An entry that no longer applies fails the test.
KNOWN_CROWDED_FOLDERS: set[str] = set()
ARCHITECTURE = ROOT / "docs" / "architecture.md"


def long_functions(root: Path, limit: int = MAX_FUNCTION_LINES) -> dict[str, int]:
    """``path::name`` -> lines, for every function (methods and nested ones too) longer than ``limit``."""
    found = {}
    for path in sorted((root / "aidemo").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = node.end_lineno - node.lineno + 1
                if lines > limit:
                    found[f"{path.relative_to(root).as_posix()}::{node.name}"] = lines
    return found


def crowded_folders(root: Path, limit: int = MAX_MODULES) -> dict[str, int]:
    """Package folders holding more than ``limit`` modules -> their count."""
    found = {}
    for init in sorted((root / "aidemo").rglob("__init__.py")):
        folder = init.parent
        name = folder.relative_to(root).as_posix()
        count = len(list(folder.glob("*.py")))
        if count > limit:
            found[name] = count
    return found


def defined_and_imported(root: Path, name: str) -> tuple[set[str], set[str]]:
    """The modules that define class ``name`` and those ``from``-importing it from each module."""
    defined, sources = set(), set()
    for path in sorted((root / "aidemo").rglob("*.py")) + sorted((root / "tests").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ClassDef) and node.name == name:
                defined.add(path.relative_to(root).as_posix())
            elif isinstance(node, ast.ImportFrom) and any(alias.name == name for alias in node.names):
                sources.add(node.module or "")
    return defined, sources


def named_paths(text: str) -> set[str]:
    """The repository paths a Markdown text names in backticks (``aidemo/x.py``, ``sql/``, ...)."""
    return {m for m in re.findall(r"`([A-Za-z_][\w./-]*/[\w./-]*)`", text) if not m.startswith(("http", "/"))}


def test_no_function_is_over_100_lines_but_the_known_ones():
    found = long_functions(ROOT)
    assert set(found) - KNOWN_LONG_FUNCTIONS == set(), found
    assert KNOWN_LONG_FUNCTIONS - set(found) == set(), "now short enough: remove from KNOWN_LONG_FUNCTIONS"


def test_no_package_folder_holds_over_20_modules_but_the_known_ones():
    found = crowded_folders(ROOT)
    assert set(found) - KNOWN_CROWDED_FOLDERS == set(), found
    assert KNOWN_CROWDED_FOLDERS - set(found) == set(), "now small enough: remove from KNOWN_CROWDED_FOLDERS"


def test_stream_options_are_defined_and_imported_in_one_place():
    defined, sources = defined_and_imported(ROOT, "StreamOptions")
    assert defined == {"aidemo/stream/options.py"}
    assert sources == {"aidemo.stream.options"}


def test_the_architecture_names_every_package_and_only_paths_that_exist():
    text = ARCHITECTURE.read_text()
    named = named_paths(text)
    assert {"aidemo/notebook/", "aidemo/local/", "sql/", "notebooks/"} <= named
    assert sorted(path for path in named if not (ROOT / path).exists()) == []
    packages = {init.parent.relative_to(ROOT).as_posix() + "/" for init in PACKAGE.rglob("__init__.py")}
    assert sorted(packages - named - {"aidemo/"}) == []  # the top level is the table's other rows


def test_the_layout_checks_catch_a_planted_violation(tmp_path):
    # A planted package: a folder of 21 modules, a function of 101 lines, a cycle through
    # TYPE_CHECKING imports, a second StreamOptions and a document naming a missing path.
    crowded = tmp_path / "aidemo" / "crowded"
    crowded.mkdir(parents=True)
    (tmp_path / "aidemo" / "__init__.py").write_text("")
    (crowded / "__init__.py").write_text("")
    for n in range(20):
        (crowded / f"m{n}.py").write_text("")
    body = "".join(f"    x{n} = {n}\n" for n in range(100))
    (crowded / "m0.py").write_text(f"def long():\n{body}")
    (crowded / "m1.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from aidemo.crowded.m2 import B\n"
        "class StreamOptions: ...\n"
    )
    (crowded / "m2.py").write_text("from aidemo.crowded.m1 import StreamOptions\nclass B: ...\n")
    (tmp_path / "tests").mkdir()
    assert crowded_folders(tmp_path) == {"aidemo/crowded": 21}
    assert long_functions(tmp_path) == {"aidemo/crowded/m0.py::long": 101}
    graph = {
        "aidemo.crowded.m1": imports_of_at(crowded / "m1.py", tmp_path),
        "aidemo.crowded.m2": imports_of_at(crowded / "m2.py", tmp_path),
    }
    assert find_cycle({m: {t for t in ts if t in graph} for m, ts in graph.items()}) is not None
    assert defined_and_imported(tmp_path, "StreamOptions") == ({"aidemo/crowded/m1.py"}, {"aidemo.crowded.m1"})
    assert named_paths("`aidemo/crowded/` and `aidemo/gone.py`, not `aidemo.x` or `/tmp/x`") == {
        "aidemo/crowded/",
        "aidemo/gone.py",
    }
