"""Batch runs: one notebook over a grid of parameters, every executed copy kept, one report.

``aidemo notebooks --notebook NAME --grid NAME=V1,V2,... [--grid ...] [-p NAME VALUE ...]``
runs the notebook once per combination of the grid's values (their cross product), one after
another against the same backend, into ``--output-dir``: each executed copy is named for its
combination (``04_latency__MAX_CLIENT_LAG=0.5__BATCH_SIZE=1000.ipynb``). What each run recorded
(its ``figures``, :mod:`aidemo.notebook.figures`) is read back from the copy and written to
``report.csv`` and ``report.html`` (:mod:`aidemo.notebook.report`). A failed run is reported
and the others still run; the exit code says whether any failed. Ctrl-C stops the grid and
reports the runs that ended.
"""

from __future__ import annotations

import itertools
import os
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aidemo.errors import AidemoError, ConfigError
from aidemo.runbook import check_parameters, execute, notebook_path, parse_parameter

_UNSAFE = re.compile(r"[^A-Za-z0-9.+-]+")
_OPEN, _CLOSE = "[({", "])}"


@dataclass(frozen=True)
class GridRun:
    """One combination of a batch run: its parameters, its executed copy, its report row."""

    parameters: dict[str, Any]
    output: Path
    row: dict
    error: str | None


def parse_grid(specs: list[str], notebook: str, fixed: dict[str, Any]) -> dict[str, list]:
    """``["NAME=V1,V2", ...]`` as ``{NAME: [V1, V2]}``, each value a Python literal of the kind of
    the notebook's default; an error naming the parameter for a value that does not fit, a
    parameter the notebook does not declare, or one given twice."""
    grid: dict[str, list] = {}
    for spec in specs:
        name, sep, text = spec.partition("=")
        name = name.strip()
        if not sep or not name:
            raise ConfigError(f"--grid takes NAME=V1,V2,... such as MAX_CLIENT_LAG=0.5,1,2; got {spec!r}")
        if name in grid or name in fixed:
            raise ConfigError(f"{name} is given twice (in --grid and -p, or in two --grid); give it once")
        grid[name] = []
    declared = check_parameters([*grid, *fixed], [notebook])[notebook]
    for spec, name in zip(specs, grid):
        for text in _split_values(spec.partition("=")[2]):
            value = _grid_value(name, text, declared[name], notebook)
            if value in grid[name]:
                raise ConfigError(f"--grid {name} lists {text.strip()} twice")
            grid[name].append(value)
    return grid


def combinations(grid: dict[str, list]) -> list[dict[str, Any]]:
    """Every combination of the grid's values (the cross product, in the order given)."""
    return [dict(zip(grid, values)) for values in itertools.product(*grid.values())]


def run_name(notebook: str, combination: dict[str, Any]) -> str:
    """The executed copy's file name: the notebook and each ``NAME=value`` of the combination."""
    parts = [f"{name}={_UNSAFE.sub('-', str(value)).strip('-') or 'empty'}" for name, value in combination.items()]
    return "__".join([notebook, *parts]) + ".ipynb"


def run_grid(
    notebook: str,
    grid: dict[str, list],
    fixed: dict[str, Any],
    output_dir: str | os.PathLike,
    *,
    progress: bool = True,
    timeout: float = 600,
) -> Iterator[GridRun]:
    """Run ``notebook`` once per combination of ``grid`` (with ``fixed`` parameters too) into
    ``output_dir``, one after another under a progress bar; each run as it ends, failed ones too."""
    from tqdm.auto import tqdm

    name = notebook_path(notebook).stem
    output = Path(output_dir).resolve()
    output.mkdir(parents=True, exist_ok=True)
    todo = combinations(grid)
    targets = [output / run_name(name, combination) for combination in todo]
    if len(set(targets)) < len(targets):
        raise ConfigError("two combinations of the grid give the same file name; use values that differ in letters")
    with tqdm(total=len(todo), desc=name, unit="run", file=sys.stderr, disable=not progress) as bar:
        for combination, target in zip(todo, targets):
            described = " ".join(f"{key}={value}" for key, value in combination.items())
            bar.set_postfix_str(described)
            run = _run_one(name, target, combination, fixed, timeout)
            bar.update(1)
            bar.write(f"  {'failed' if run.error else 'ok':<6} {described}  {run.row['run_s']:.1f} s  {_gist(run)}")
            yield run


def report_frame(runs: list[GridRun]):
    """The runs' rows as a frame: notebook, run, parameters, figures, run seconds, error."""
    import pandas as pd

    frame = pd.DataFrame([run.row for run in runs])
    tail = ["run_s", "error"]
    return frame[[c for c in frame.columns if c not in tail] + tail]


def run_cli(args) -> int:
    """``aidemo notebooks --grid ...``: run the grid, write the report, print where it is."""
    from aidemo.notebook.report import write_report

    if len(args.notebook or ()) != 1:
        raise ConfigError("--grid runs one notebook: give exactly one --notebook NAME, e.g. --notebook 04_latency")
    notebook = notebook_path(args.notebook[0]).stem
    fixed = {name: parse_parameter(value) for name, value in args.parameters or []}
    grid = parse_grid(args.grid, notebook, fixed)
    total = len(combinations(grid))
    print(
        f"running {notebook} {total} times into {args.output_dir}: "
        + " × ".join(f"{name} {values}" for name, values in grid.items())
        + (f", with {fixed}" if fixed else ""),
        flush=True,
    )
    runs, stopped = [], False
    try:
        for run in run_grid(notebook, grid, fixed, args.output_dir):
            runs.append(run)
    except KeyboardInterrupt:  # Ctrl-C: the report of the runs that ended
        stopped = True
        print(f"stopped after {len(runs)} of {total} runs", file=sys.stderr)
    if not runs:
        return 130
    csv, page = write_report(report_frame(runs), args.output_dir, f"{notebook}: {' × '.join(grid)}")
    failed = [run for run in runs if run.error]
    print(f"{len(runs) - len(failed)} of {total} runs ran through; report: {csv} and {page}")
    for run in failed:
        print(f"run {run.output.name} failed: {run.error}", file=sys.stderr)
    return 130 if stopped else 1 if failed else 0


# ---- internals ---------------------------------------------------------------------------


def _run_one(notebook: str, target: Path, combination: dict, fixed: dict, timeout: float) -> GridRun:
    """One combination: execute, then read its row back from the executed copy."""
    import time

    parameters = combination | fixed
    started = time.monotonic()
    try:
        seconds, error = execute(notebook, target, parameters, timeout=timeout).seconds, None
    except Exception as exc:  # a failed run is reported in its row; the others still run
        error = str(exc) if isinstance(exc, AidemoError) else f"{type(exc).__name__}: {exc}"
        seconds = round(time.monotonic() - started, 1)
    return GridRun(parameters, target, read_row(notebook, target, parameters, seconds, error), error)


def read_row(notebook: str, target: Path, parameters: dict, seconds: float, error: str | None = None) -> dict:
    """A run's report row from its executed copy: notebook, run, the parameters it was run with,
    its recorded ``figures`` (in :data:`~aidemo.notebook.figures.FIGURES` order), run seconds, error."""
    from aidemo.notebook.figures import FIGURES
    from aidemo.notebook.records import read_records

    recorded = read_records(target).get("figures") if target.is_file() else None
    recorded = recorded if isinstance(recorded, dict) else {}
    figures = {key: recorded[key] for key in FIGURES if key in recorded}
    row = {"notebook": notebook, "run": target.name} | _ran_with(target, parameters) | figures
    return row | {"run_s": seconds, "error": error or ""}


def _ran_with(target: Path, parameters: dict) -> dict:
    """The parameters papermill injected, as the executed copy records them (else those given)."""
    import nbformat

    try:
        injected = nbformat.read(target, as_version=4).metadata["papermill"]["parameters"]
    except (OSError, KeyError, ValueError):
        return dict(parameters)
    return {name: injected.get(name, value) for name, value in parameters.items()}


def _gist(run: GridRun) -> str:
    if run.error:
        return run.error
    row = run.row
    shown = [(key, row.get(key)) for key in ("committed_p50", "orders_per_s") if row.get(key) is not None]
    return ", ".join(f"{key} {value:,.2f}" for key, value in shown)


def _split_values(text: str) -> list[str]:
    """``"0.5,1,[1, 2]"`` as ``["0.5", "1", "[1, 2]"]``: commas inside brackets stay."""
    parts, depth, current = [], 0, []
    for char in text:
        depth += (char in _OPEN) - (char in _CLOSE)
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def _grid_value(name: str, text: str, default: Any, notebook: str) -> Any:
    """One grid value as a literal of the kind of ``default``; an error naming ``name`` if it is not."""
    if not text.strip():
        raise ConfigError(f"--grid {name} has an empty value; give values separated by commas, e.g. {name}=1,2")
    value = parse_parameter(text.strip())
    if isinstance(default, bool):
        fits, kind = isinstance(value, bool), "True or False"
    elif isinstance(default, (int, float)):
        fits, kind = isinstance(value, (int, float)) and not isinstance(value, bool), "a number"
    elif isinstance(default, (list, tuple)):
        fits, kind = isinstance(value, (list, tuple)), "a list such as [1, 2]"
    else:
        fits, kind = True, ""
    if not fits:
        raise ConfigError(f"--grid {name}: {text.strip()!r} is not {kind} ({notebook} declares {name} = {default!r})")
    return value
