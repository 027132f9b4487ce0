"""What the setup cell of every notebook uses: say what runs where, keep the output readable, tell a
person's kernel from a headless run."""

from __future__ import annotations

import os
import platform
from importlib import metadata
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

    from aidemo.backends.backend import StreamingBackend

HEADLESS_ENV = "AIDEMO_HEADLESS"
#: The packages the setup cell and 00_setup's environment check report.
PACKAGES = (
    "aidemo",
    "snowpipe-streaming",
    "duckdb",
    "pandas",
    "matplotlib",
    "ipywidgets",
    "papermill",
    "jupyterlab",
    "snowflake-connector-python",
)


def version_of(package: str) -> str | None:
    """The installed version of ``package``, or None when it is not installed."""
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def environment() -> pd.DataFrame:
    """Python and the kit's packages with their installed versions (``missing`` when absent)."""
    import pandas as pd

    rows = [{"package": "python", "version": platform.python_version()}]
    rows += [{"package": name, "version": version_of(name) or "missing"} for name in PACKAGES]
    return pd.DataFrame(rows)


def banner(backend: StreamingBackend) -> str:
    """One line: aidemo and SDK versions, Python, and the backend in use."""
    from aidemo import __version__

    return (
        f"aidemo {__version__} | snowpipe-streaming {version_of('snowpipe-streaming') or 'missing'} | "
        f"Python {platform.python_version()} | backend: {backend.describe()}"
    )


def markdown(text: str):
    """``text`` shown as Markdown in the notebook (an IPython ``Markdown`` display)."""
    from IPython.display import Markdown

    return Markdown(text)


def has_front_end() -> bool:
    """True in a Jupyter kernel a person drives; False in plain Python and in headless runs.

    Headless runs (``aidemo notebooks``, the tests) set ``AIDEMO_HEADLESS=1``; set it too
    when running the notebooks with papermill yourself.
    """
    if os.environ.get(HEADLESS_ENV, "") not in ("", "0"):
        return False
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    return getattr(get_ipython(), "kernel", None) is not None
