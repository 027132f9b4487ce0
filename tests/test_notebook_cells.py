"""What a presenter's screen shows: every code cell of the notebooks is one-line calls and assignments.

A cell imports only from aidemo (``import aidemo``, ``from aidemo import ...``); it holds no branch,
loop, definition, ``with`` or ``try``, no comprehension, lambda or conditional expression, and no
IPython magic; each statement is one line of its own, except a call whose arguments go on over
the next lines. Everything else lives in ``aidemo.notebook``.
"""

from __future__ import annotations

import ast

import nbformat
import pytest

from aidemo import runbook

#: Expressions that are logic rather than a call: each is named in the failure.
LOGIC = {
    ast.Lambda: "a lambda",
    ast.IfExp: "a conditional expression",
    ast.BoolOp: "and/or",
    ast.ListComp: "a comprehension",
    ast.SetComp: "a comprehension",
    ast.DictComp: "a comprehension",
    ast.GeneratorExp: "a comprehension",
    ast.NamedExpr: "an assignment expression",
    ast.Await: "await",
    ast.Yield: "yield",
    ast.YieldFrom: "yield",
}


def violations(source: str) -> list[str]:
    """What in a code cell's ``source`` is more than one-line calls and assignments (empty: nothing)."""
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        return [f"line {exc.lineno}: not plain Python (an IPython magic or shell line?)"]
    found, last_line = [], 0
    for statement in tree.body:
        where = f"line {statement.lineno}"
        if statement.lineno <= last_line:
            found.append(f"{where}: two statements on one line")
        last_line = statement.end_lineno
        if isinstance(statement, ast.Import):
            found += [f"{where}: import {a.name}" for a in statement.names if a.name != "aidemo" or a.asname]
            continue
        if isinstance(statement, ast.ImportFrom):
            if statement.module != "aidemo" or statement.level:
                found.append(f"{where}: from {'.' * statement.level}{statement.module or ''} import")
            continue
        if isinstance(statement, ast.Assign):
            targets = [t for target in statement.targets for t in _names_or_tuple(target)]
            if not all(isinstance(t, ast.Name) for t in targets):
                found.append(f"{where}: assigns to something other than a name")
        elif not isinstance(statement, ast.Expr):
            found.append(f"{where}: {type(statement).__name__} statement")
            continue
        found += [f"{where}: {LOGIC[type(node)]}" for node in ast.walk(statement.value) if type(node) in LOGIC]
        if statement.end_lineno != statement.lineno and not _call_spanning_lines(statement):
            found.append(f"{where}: spans lines outside a call's arguments")
    return found


def _names_or_tuple(target: ast.expr) -> list[ast.expr]:
    return list(target.elts) if isinstance(target, (ast.Tuple, ast.List)) else [target]


def _call_spanning_lines(statement: ast.Assign | ast.Expr) -> bool:
    """A call whose arguments go on over lines: all up to its opening parenthesis is on the first line."""
    call = statement.value
    return isinstance(call, ast.Call) and call.func.end_lineno == statement.lineno


def code_cells(name: str) -> list[str]:
    nb = nbformat.read(runbook.notebook_path(name), as_version=4)
    return [cell.source for cell in nb.cells if cell.cell_type == "code"]


@pytest.mark.parametrize("name", runbook.NOTEBOOKS)
def test_every_code_cell_is_one_line_calls_and_assignments(name):
    found = {source: problems for source in code_cells(name) if (problems := violations(source))}
    assert found == {}, f"{name}: move these into aidemo.notebook"


def test_the_notebooks_import_only_from_aidemo():
    imports = set()
    for name in runbook.NOTEBOOKS:
        for source in code_cells(name):
            imports |= {ast.unparse(s) for s in ast.parse(source).body if isinstance(s, (ast.Import, ast.ImportFrom))}
    assert imports and all(line.startswith(("import aidemo", "from aidemo import ")) for line in imports), imports


ACCEPTED = [
    'BACKEND = "local"  # a parameter\nLAGS = [0.5, 1, 2]\nKEY_DIR = None',
    "import aidemo\nfrom aidemo import notebook, run_file\n\nbackend = notebook.start(BACKEND).backend",
    "demo = notebook.start(\n    BACKEND,\n    seed=SEED,\n    rate=RATE,\n)\nbackend = demo.backend",
    "private_key_file, public_key_file = notebook.write_key_pair(keys, KEY_DIR)",
    'print(f"fingerprint {keys.fingerprint}")',
    'by_segment = orders.groupby("CUSTOMER_SEGMENT")["TOTAL_AMOUNT"].agg(["count", "sum"])\nby_segment',
    "notebook.record(\n    requested=NUM_ORDERS,\n    stats=stream.wait().summary(),\n)",
]

PLANTED = {
    "import matplotlib.pyplot as plt\nnotebook.lag_chart(summary)": "import matplotlib.pyplot",
    "from aidemo.measure import latency, plots": "from aidemo.measure import",
    "from IPython.display import display": "from IPython.display import",
    "import aidemo as a": "import aidemo",
    "%matplotlib inline": "not plain Python",
    "!pip install aidemo": "not plain Python",
    "if BACKEND == 'local':\n    demo.setup()": "If statement",
    "for lag in LAGS:\n    demo.measure_grid(lags=[lag])": "For statement",
    "while not stream.done:\n    stream.wait()": "While statement",
    "def show(frame):\n    return frame": "FunctionDef statement",
    "class View:\n    pass": "ClassDef statement",
    "with open('x') as f:\n    f.read()": "With statement",
    "try:\n    demo.setup()\nexcept Exception:\n    pass": "Try statement",
    "total += 1": "AugAssign statement",
    "del demo": "Delete statement",
    "view.title = 'x'": "assigns to something other than a name",
    "dtypes = {n: str(d) for n, d in orders.dtypes.items()}": "a comprehension",
    "notebook.record(dtypes=[str(d) for d in orders.dtypes])": "a comprehension",
    "rows = demo.stream_live(N) if N else None": "a conditional expression",
    "backend = demo and demo.backend": "and/or",
    "key = lambda row: row['ORDER_ID']": "a lambda",
    "a = notebook.start(BACKEND); b = a.backend": "two statements on one line",
    "sizes = [\n    100,\n    1_000,\n]": "spans lines outside a call's arguments",
    "demo.setup(\n).summary()": "spans lines outside a call's arguments",
}


@pytest.mark.parametrize("source", ACCEPTED)
def test_the_check_accepts_what_the_notebooks_do(source):
    assert violations(source) == []


@pytest.mark.parametrize("source, named", PLANTED.items())
def test_the_check_catches_a_planted_cell(source, named):
    found = violations(source)
    assert any(named in problem for problem in found), (source, found)


def test_a_planted_cell_in_a_notebook_fails_the_notebook_check(monkeypatch, tmp_path):
    nb = nbformat.read(runbook.notebook_path("04_latency"), as_version=4)
    nb.cells.insert(5, nbformat.v4.new_code_cell("for lag in LAGS:\n    print(lag)"))
    path = tmp_path / "04_latency.ipynb"
    nbformat.write(nb, path)
    monkeypatch.setattr(runbook, "notebook_path", lambda name: path)
    with pytest.raises(AssertionError, match="move these into aidemo.notebook"):
        test_every_code_cell_is_one_line_calls_and_assignments("04_latency")
