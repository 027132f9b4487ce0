"""Where the demo's SQL files are: the repository's ``sql/``, which the service bootstraps from.

A wheel ships ``sql/`` as the data package ``aidemo.local.sql`` (pyproject's ``package-dir``);
a source checkout (editable install, or the checkout on ``PYTHONPATH``) reads it in place.
``AIDEMO_SQL_DIR`` points elsewhere.
"""

from __future__ import annotations

import os
from pathlib import Path

_HERE = Path(__file__).resolve().parents[1]  # aidemo/local/, where a wheel puts sql/


def sql_dir() -> Path:
    """The directory holding ``01_database.sql`` ... and ``monitoring/``."""
    if os.environ.get("AIDEMO_SQL_DIR"):
        return Path(os.environ["AIDEMO_SQL_DIR"])
    installed = _HERE / "sql"
    return installed if installed.is_dir() else _HERE.parent.parent / "sql"


SQL_DIR = sql_dir()
