"""Where the walkthrough's notebooks are: the kit's own copies, and a presenter's working copy.

A wheel ships the repository's ``notebooks/`` as the data package ``aidemo.notebooks``
(pyproject's ``package-dir``); a source checkout (editable install, or the checkout on
``PYTHONPATH``) reads them in place. ``aidemo notebooks`` executes the kit's copies;
``aidemo lab`` opens a working copy, ``<directory>/notebooks``, that a presenter may edit.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent.parent
_INSTALLED = _PACKAGE / "notebooks"

#: The kit's notebooks: the installed data package, else the checkout's ``notebooks/``.
NOTEBOOK_DIR = _INSTALLED if _INSTALLED.is_dir() else _PACKAGE.parent / "notebooks"
#: The source checkout the kit runs from, or None when it is installed from a wheel.
SOURCE_CHECKOUT = None if _INSTALLED.is_dir() else _PACKAGE.parent
#: The folder of a working directory that holds its notebooks (as in the checkout).
FOLDER = "notebooks"
#: The first notebook of the walkthrough; a folder holding it is a walkthrough.
FIRST = "00_setup.ipynb"


def working_copy(directory: str | os.PathLike) -> tuple[Path, list[Path]]:
    """``directory``'s ``notebooks/`` holding every notebook of the kit, and those just copied there.

    Only missing notebooks are copied: one a presenter edited stays as it is. A checkout run
    in its own root copies nothing.
    """
    target = Path(directory).resolve() / FOLDER
    target.mkdir(parents=True, exist_ok=True)
    copied = []
    for source in sorted(NOTEBOOK_DIR.glob("*.ipynb")):
        if not (target / source.name).exists():
            copied.append(Path(shutil.copyfile(source, target / source.name)))
    return target, copied


def working_directory(cwd: Path) -> Path:
    """Where the kit's files are for a kernel started in ``cwd``: a walkthrough folder's parent, else ``cwd``.

    JupyterLab starts a notebook's kernel in the notebook's folder; ``profile.json``,
    ``config.properties`` and ``.aidemo/`` sit beside that folder, as for the command line.
    """
    return cwd.parent if cwd.name == FOLDER and (cwd / FIRST).is_file() else cwd
