"""The setup cell of every notebook: open the backend, say what runs where, keep the output readable."""

from __future__ import annotations

import logging
import os
import platform
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aidemo.notebook.walkthrough import working_directory

if TYPE_CHECKING:
    import pandas as pd

    from aidemo.backends import StreamingBackend
    from aidemo.notebook.demo import Demo

HEADLESS_ENV = "AIDEMO_HEADLESS"
#: The level at which the SDK's Rust core logs to the kernel's stdout (``SS_LOG_LEVEL``): its
#: warnings (every retry of a 429/5xx, a stale continuation token) stay out, its errors show.
#: The SDK knows ``info``, ``warn`` and ``error`` only; any other value (``off`` too) means ``warn``.
#: Errors also reach the notebook as the kit's exceptions (:mod:`aidemo.errors`).
SDK_LOG_LEVEL = "error"
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


def start(
    backend: str | None = "local", *, seed: int | None = None, num_customers: int | None = None, **options: Any
) -> Demo:
    """The setup cell: open the backend ``backend`` names (None: as the profile says), print the banner,
    and return it as a :class:`~aidemo.notebook.demo.Demo` with the notebook's job.

    ``seed`` and ``num_customers`` (default: ``config.properties``'s) are the job's; ``options``
    (``batch_size=``, ``max_client_lag=``, ``rate=`` ...) its :class:`~aidemo.options.StreamOptions`,
    the rest of them from ``config.properties``. A notebook opened in JupyterLab runs in its
    folder, ``notebooks/``; the kit's files (``profile.json``, ``config.properties``, the local
    service's ``.aidemo/``) sit beside that folder, as for the command line, so the kernel moves
    there first (:func:`~aidemo.notebook.walkthrough.working_directory`). The SDK's own log lines
    below ERROR are switched off for the kernel (unless ``SS_LOG_LEVEL`` is set) before the SDK loads.
    """
    from aidemo.backends import open_backend
    from aidemo.config import load_profile
    from aidemo.notebook.demo import Demo
    from aidemo.options import StreamOptions
    from aidemo.settings import load_settings

    os.environ.setdefault("SS_LOG_LEVEL", SDK_LOG_LEVEL)
    # The SDK's Python layer logs an error whenever a channel is reopened, as the kit does on purpose
    # after a fault (05); that one line is dropped, every other SDK error still shows.
    logging.getLogger("snowflake.ingest").setLevel(logging.ERROR)
    logging.getLogger("snowflake.ingest.streaming.streaming_ingest_client").addFilter(_reopen_notice)
    os.chdir(working_directory(Path.cwd().resolve()))
    settings = load_settings(seed=seed, num_customers=num_customers)
    job = StreamOptions.from_settings(settings, **options)
    opened = open_backend(load_profile(backend=backend))
    print(banner(opened))
    return Demo(opened, settings.seed, settings.num_customers, job)


def markdown(text: str):
    """``text`` shown as Markdown in the notebook (an IPython ``Markdown`` display)."""
    from IPython.display import Markdown

    return Markdown(text)


def _reopen_notice(record: logging.LogRecord) -> bool:
    """False for the SDK's "callback was already registered" line: a reopened channel, expected."""
    return not str(record.msg).startswith("An acknowledgement callback was already registered")


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
