"""Running the kit's notebooks headless with papermill, as ``aidemo notebooks`` and the tests do.

The notebooks are the kit's own copies (:data:`~aidemo.notebook.NOTEBOOK_DIR`: installed with
the package, or a checkout's ``notebooks/``). Each runs in a fresh kernel (``python3``, the
kernel ipykernel installs, started with this interpreter) in the current directory (where
``profile.json``, ``config.properties`` and ``.aidemo/`` are found, as for the command line),
with ``AIDEMO_HEADLESS=1`` so that widgets stay hidden, and gets those of the given
parameters that its ``parameters`` cell declares.
The executed copies go to ``output_dir``; what each notebook recorded with
:func:`aidemo.notebook.record` comes back in its :class:`NotebookRun`.
"""

from __future__ import annotations

import ast
import contextlib
import os
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aidemo.errors import AidemoError, ConfigError
from aidemo.notebook import HEADLESS_ENV, NOTEBOOK_DIR, read_records

NOTEBOOKS = (
    "00_setup",
    "01_create_pipes",
    "02_single_channel",
    "03_parallel",
    "04_latency",
    "05_exactly_once_recovery",
    "06_after_streaming",
)
KERNEL = "python3"
#: Kernels talk to papermill over local sockets (IPC), not unencrypted TCP (which the kernel warns about).
#: Each run's sockets go in a directory of its own: by default they are ./kernel-ipc-N, picked by
#: what exists there, so two runs started at once in one directory could share sockets.
KERNEL_MANAGER = {"transport": "ipc"}


@dataclass(frozen=True)
class NotebookRun:
    """One executed notebook: where its copy is, what it recorded, how long it took."""

    name: str
    output: Path
    results: dict = field(repr=False)
    seconds: float


def _papermill():
    try:
        import papermill
    except ImportError as exc:
        raise ConfigError("running the notebooks needs papermill: pip install 'aidemo[notebooks]'") from exc
    return papermill


def notebook_path(name: str) -> Path:
    """The kit's notebook called ``name`` (with or without ``.ipynb``)."""
    stem = name.removesuffix(".ipynb")
    if stem not in NOTEBOOKS:
        raise ConfigError(f"no notebook {name!r}; the notebooks are {', '.join(NOTEBOOKS)}")
    return NOTEBOOK_DIR / f"{stem}.ipynb"


def declared_parameters(name: str) -> dict[str, Any]:
    """The parameters a notebook declares in its ``parameters`` cell, with their defaults."""
    inspected = _papermill().inspect_notebook(str(notebook_path(name)))
    return {key: _literal(info["default"]) for key, info in inspected.items()}


def parse_parameter(text: str) -> Any:
    """A ``-p NAME VALUE`` value: a Python literal (``5``, ``0.5``, ``[1, 5]``, ``None``) or else the text."""
    return _literal(text)


def _literal(text: str) -> Any:
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def run_notebooks(
    output_dir: str | os.PathLike,
    parameters: dict[str, Any] | None = None,
    names: Iterable[str] | None = None,
    *,
    kernel_name: str = KERNEL,
    timeout: float = 600,
    log_output: bool = False,
) -> dict[str, NotebookRun]:
    """Execute the notebooks (default: all, in order) into ``output_dir``; their runs by name.

    Every parameter must be declared by at least one of the notebooks run (a typo is an
    error, not a silent default). A failing notebook raises :class:`~aidemo.errors.AidemoError`
    naming it and its executed copy, which shows the failing cell.
    """
    chosen = [notebook_path(name).stem for name in (names or NOTEBOOKS)]
    parameters = dict(parameters or {})
    declared = check_parameters(parameters, chosen)
    output = Path(output_dir).resolve()
    output.mkdir(parents=True, exist_ok=True)
    runs = {}
    for name in chosen:
        mine = {key: value for key, value in parameters.items() if key in declared[name]}
        runs[name] = execute(
            name, output / f"{name}.ipynb", mine, kernel_name=kernel_name, timeout=timeout, log_output=log_output
        )
    return runs


def check_parameters(parameters: Iterable[str], names: Iterable[str]) -> dict[str, dict[str, Any]]:
    """What each of the notebooks ``names`` declares (name -> defaults); an error naming any of
    ``parameters`` that none of them declares."""
    declared = {name: declared_parameters(name) for name in names}
    known = set().union(*declared.values())
    unknown = sorted(set(parameters) - known)
    if unknown:
        raise ConfigError(
            f"unknown notebook parameter{'s' * (len(unknown) > 1)} {', '.join(unknown)}; "
            f"{'the notebooks declare' if len(declared) > 1 else ', '.join(declared) + ' declares'} "
            f"{', '.join(sorted(known))}"
        )
    return declared


def execute(
    name: str,
    target: Path,
    parameters: dict[str, Any],
    *,
    kernel_name: str = KERNEL,
    timeout: float = 600,
    log_output: bool = False,
) -> NotebookRun:
    """Execute the notebook ``name`` headless with ``parameters`` into ``target``; its run.

    A failing cell raises :class:`~aidemo.errors.AidemoError` naming the notebook, the cell
    and ``target`` (the executed copy, which shows the failing cell).
    """
    papermill = _papermill()
    from traitlets.config import Config

    started = time.monotonic()
    with _headless(), tempfile.TemporaryDirectory(prefix="aidemo-kernel-") as sockets:
        manager = KERNEL_MANAGER | {"ip": os.path.join(sockets, "kernel-ipc")}
        try:
            papermill.execute_notebook(
                str(notebook_path(name)),
                str(target),
                parameters=parameters,
                kernel_name=kernel_name,
                cwd=os.getcwd(),
                progress_bar=False,
                log_output=log_output,
                execution_timeout=timeout,
                config=Config(KernelManager=manager),
            )
        except papermill.PapermillExecutionError as exc:
            raise AidemoError(
                f"notebook {name} failed in cell {exc.exec_count}: {exc.ename}: {exc.evalue} (see {target})"
            ) from exc
    return NotebookRun(name, target, read_records(target), round(time.monotonic() - started, 1))


@contextlib.contextmanager
def _headless():
    """Kernels started inside inherit ``AIDEMO_HEADLESS=1``: no widgets, the same code."""
    previous = os.environ.get(HEADLESS_ENV)
    os.environ[HEADLESS_ENV] = "1"
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(HEADLESS_ENV, None)
        else:
            os.environ[HEADLESS_ENV] = previous


def run_cli(args) -> int:
    """``aidemo notebooks``: run them all, print one line per notebook."""
    parameters = {name: parse_parameter(value) for name, value in args.parameters or []}
    print(
        f"running {len(args.notebook or NOTEBOOKS)} notebooks into {args.output_dir}"
        + (f" with {parameters}" if parameters else ""),
        flush=True,
    )
    runs = run_notebooks(args.output_dir, parameters, args.notebook or None)
    for run in runs.values():
        print(f"  {run.name:<26} {run.seconds:>6.1f} s  {run.output}")
    print(f"all {len(runs)} notebooks ran in {sum(r.seconds for r in runs.values()):.1f} s")
    return 0
