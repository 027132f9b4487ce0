"""Results a notebook leaves in its output, where :func:`read_records` (the runbook, the tests) finds them.

:func:`record` displays JSON under the mimetype :data:`RECORD_MIMETYPE`; a presenter sees one
short line (``recorded: ...``).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aidemo.errors import ConfigError

if TYPE_CHECKING:
    from nbformat import NotebookNode

RECORD_MIMETYPE = "application/vnd.aidemo.record+json"


def record(**results: Any) -> None:
    """Leave ``results`` in the cell's output (JSON under :data:`RECORD_MIMETYPE`) for :func:`read_records`.

    DataFrames become lists of row dicts, numpy values Python numbers, NaN becomes null;
    dataclasses become dicts of their fields.
    """
    from IPython.display import display

    data = {name: _jsonable(value) for name, value in results.items()}
    display({RECORD_MIMETYPE: data, "text/plain": f"recorded: {', '.join(data)}"}, raw=True)


def read_records(notebook: NotebookNode | str | os.PathLike) -> dict:
    """Everything :func:`record` left in an executed notebook (a path or a node), later cells winning."""
    import nbformat

    node = notebook if isinstance(notebook, Mapping) else nbformat.read(os.fspath(notebook), as_version=4)
    found: dict = {}
    for cell in node.get("cells", []):
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if RECORD_MIMETYPE in data:
                found.update(data[RECORD_MIMETYPE])
    return found


def _jsonable(value: Any) -> Any:
    import dataclasses

    import numpy as np
    import pandas as pd

    if isinstance(value, pd.DataFrame):
        return json.loads(value.to_json(orient="records", date_format="iso"))
    if isinstance(value, pd.Series):
        return _jsonable(value.to_dict())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _jsonable(dataclasses.asdict(value))
    if isinstance(value, Mapping):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, np.ndarray)):
        return [_jsonable(item) for item in value]
    if isinstance(value, np.generic):
        return _jsonable(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, Path):
        return str(value)
    raise ConfigError(f"cannot record {type(value).__name__} values; record numbers, text, lists, dicts or DataFrames")
