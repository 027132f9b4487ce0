"""What a wheel ships: every package under ``aidemo/``, and the repository's ``sql/`` and
``notebooks/`` as data packages, so that a plain ``pip install .`` starts the local service and
runs the notebooks without a checkout."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SETUPTOOLS = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
#: The data packages: the repository folder each ships from, and the files it must ship.
DATA = {"aidemo.local.sql": ("sql", "**/*.sql"), "aidemo.notebooks": ("notebooks", "*.ipynb")}


def data_files() -> set[str]:
    """The repository's SQL files and notebooks, as paths inside an installed ``aidemo``."""
    return {
        "/".join([*package.split("."), *path.relative_to(ROOT / folder).parts])
        for package, (folder, pattern) in DATA.items()
        for path in (ROOT / folder).glob(pattern)
    }


def test_every_package_is_listed_and_every_data_file_matches_its_patterns():
    # pyproject lists packages by hand: a new subpackage must be added there.
    on_disk = {".".join(p.relative_to(ROOT).parent.parts) for p in (ROOT / "aidemo").rglob("__init__.py")}
    assert set(SETUPTOOLS["packages"]) == on_disk | set(DATA)
    assert SETUPTOOLS["package-dir"] == {package: folder for package, (folder, _) in DATA.items()}
    for package, (folder, pattern) in DATA.items():
        shipped = {p for glob in SETUPTOOLS["package-data"][package] for p in (ROOT / folder).glob(glob)}
        assert shipped == set((ROOT / folder).glob(pattern)), package
    assert {"aidemo/notebooks/00_setup.ipynb", "aidemo/local/sql/01_database.sql"} <= data_files()


def test_the_wheel_ships_the_sql_files_and_the_notebooks(tmp_path):
    if importlib.util.find_spec("setuptools.command.bdist_wheel") is None:
        pytest.skip("builds the wheel offline with this interpreter's setuptools>=77 (the dev extra)")
    # Built from a copy: an in-tree build would leave build/ and *.egg-info in the checkout.
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    for folder in ("aidemo", *(folder for folder, _ in DATA.values())):
        shutil.copytree(ROOT / folder, source / folder, ignore=shutil.ignore_patterns("__pycache__", ".*"))
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q"]
        + ["-w", str(tmp_path / "dist"), str(source)],
        check=True,
        capture_output=True,
    )
    (wheel,) = (tmp_path / "dist").glob("aidemo-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {name for name in names if name.startswith("aidemo/") and not name.endswith(".py")} == data_files()
    modules = {str(p.relative_to(ROOT)) for p in (ROOT / "aidemo").rglob("*.py")}
    assert modules <= names
