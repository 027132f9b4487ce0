"""What the notebooks in ``notebooks/`` call: everything they do beyond one line lives here.

* :func:`start` opens the backend a notebook's ``BACKEND`` parameter names and prints the
  versions and the backend (the setup cell);
* :func:`record` leaves a notebook's results in its output, where :func:`read_records` (and
  :mod:`aidemo.runbook`, the tests) find them: a ``display`` of JSON under the mimetype
  :data:`RECORD_MIMETYPE`;
* :class:`ControlPanel` is the widget panel (max client lag, batch size, Run, Output) that
  reads and writes the notebook's own parameters; :func:`latency_panel` wires it to a
  latency measurement;
* :class:`LiveTable` redraws a per-instance table while a parallel run streams and keeps
  the samples that :func:`plot_committed` draws;
* :func:`stream_with_progress`, :func:`crash_stream`, :func:`channel_tokens` and
  :func:`write_key_pair` are the longer steps of 00, 02 and 05.

Widgets appear only when a person drives the kernel (:func:`has_front_end`); papermill runs
(``aidemo notebooks``, which sets ``AIDEMO_HEADLESS=1``) execute the same cells headless.
"""

from __future__ import annotations

import io
import json
import math
import os
import platform
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aidemo.errors import AidemoError, ConfigError, StreamingError

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes
    from nbformat import NotebookNode

    from aidemo.backends import StreamingBackend
    from aidemo.keys import KeyPair
    from aidemo.streaming import StreamOptions, StreamStats

PROJECT_ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = PROJECT_ROOT / "notebooks"
RECORD_MIMETYPE = "application/vnd.aidemo.record+json"
HEADLESS_ENV = "AIDEMO_HEADLESS"
#: The packages the setup cell and 00_setup's environment check report.
PACKAGES = ("aidemo", "snowpipe-streaming", "duckdb", "pandas", "matplotlib", "ipywidgets", "papermill",
            "snowflake-connector-python")
LAG_RANGE = (1, 60)  # seconds, the max client lag slider
BATCH_RANGE = (100, 50_000)  # orders per append_rows, the batch size slider


# ---- setup cell ---------------------------------------------------------------------------


def version_of(package: str) -> str | None:
    """The installed version of ``package``, or None when it is not installed."""
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def environment() -> "pd.DataFrame":
    """Python and the kit's packages with their installed versions (``missing`` when absent)."""
    import pandas as pd

    rows = [{"package": "python", "version": platform.python_version()}]
    rows += [{"package": name, "version": version_of(name) or "missing"} for name in PACKAGES]
    return pd.DataFrame(rows)


def banner(backend: "StreamingBackend") -> str:
    """One line: aidemo and SDK versions, Python, and the backend in use."""
    from aidemo import __version__

    return (f"aidemo {__version__} | snowpipe-streaming {version_of('snowpipe-streaming') or 'missing'} | "
            f"Python {platform.python_version()} | backend: {backend.describe()}")


def start(backend: str | None = "local") -> "StreamingBackend":
    """The setup cell: open the backend ``backend`` names (None: as the profile says) and print the banner.

    A notebook opened in JupyterLab runs in ``notebooks/``; the kit's files (``profile.json``,
    ``config.properties``, the local service's ``.aidemo/``) are relative to the project
    root, as for the command line, so the kernel moves there first.
    """
    from aidemo.backends import open_backend
    from aidemo.config import load_profile

    if Path.cwd().resolve() == NOTEBOOK_DIR:
        os.chdir(PROJECT_ROOT)
    opened = open_backend(load_profile(backend=backend))
    print(banner(opened))
    return opened


# ---- recording results --------------------------------------------------------------------


def record(**results: Any) -> None:
    """Leave ``results`` in the cell's output (JSON under :data:`RECORD_MIMETYPE`) for :func:`read_records`.

    DataFrames become lists of row dicts, numpy values Python numbers, NaN becomes null.
    """
    from IPython.display import display

    data = {name: _jsonable(value) for name, value in results.items()}
    display({RECORD_MIMETYPE: data, "text/plain": f"recorded: {', '.join(data)}"}, raw=True)


def read_records(notebook: "NotebookNode | str | os.PathLike") -> dict:
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
    import numpy as np
    import pandas as pd

    if isinstance(value, pd.DataFrame):
        return json.loads(value.to_json(orient="records", date_format="iso"))
    if isinstance(value, pd.Series):
        return _jsonable(value.to_dict())
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


# ---- widgets ------------------------------------------------------------------------------


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


def _widgets():
    try:
        import ipywidgets
    except ImportError as exc:
        raise ConfigError("the control panel needs ipywidgets: pip install 'aidemo[notebooks]'") from exc
    return ipywidgets


class ControlPanel:
    """Sliders for ``MAX_CLIENT_LAG`` (1–60 s) and ``BATCH_SIZE`` (100–50,000), a Run button, an Output.

    The sliders start at the values in ``namespace`` (a notebook passes ``globals()``) and
    write every change back there, so later cells and reruns see what the sliders show. Run
    calls ``action(max_client_lag=..., batch_size=...)`` and shows what it returns (or the
    error) in the Output; ``runs`` keeps each run's values and result.
    """

    def __init__(self, namespace: MutableMapping[str, Any], action: Callable[..., Any]):
        widgets = _widgets()
        lag, size = namespace.get("MAX_CLIENT_LAG"), namespace.get("BATCH_SIZE")
        if not isinstance(lag, (int, float)) or not LAG_RANGE[0] <= lag <= LAG_RANGE[1]:
            raise ConfigError(f"MAX_CLIENT_LAG must be between {LAG_RANGE[0]} and {LAG_RANGE[1]} seconds "
                              f"for the control panel, got {lag!r}")
        if not isinstance(size, int) or not BATCH_RANGE[0] <= size <= BATCH_RANGE[1]:
            raise ConfigError(f"BATCH_SIZE must be an integer between {BATCH_RANGE[0]} and {BATCH_RANGE[1]} "
                              f"for the control panel, got {size!r}")
        self.namespace, self.action = namespace, action
        self.runs: list[tuple[dict, Any]] = []
        style = {"description_width": "initial"}
        self.max_client_lag = widgets.FloatSlider(value=lag, min=LAG_RANGE[0], max=LAG_RANGE[1], step=1,
                                                  description="max client lag (s)", style=style)
        self.batch_size = widgets.IntSlider(value=size, min=BATCH_RANGE[0], max=BATCH_RANGE[1], step=100,
                                            description="batch size (orders)", style=style)
        self.run_button = widgets.Button(description="Run", button_style="primary", icon="play")
        self.output = widgets.Output()
        self.max_client_lag.observe(lambda change: self._write("MAX_CLIENT_LAG", change["new"]), names="value")
        self.batch_size.observe(lambda change: self._write("BATCH_SIZE", change["new"]), names="value")
        self.run_button.on_click(lambda _button: self.run())
        self.widget = widgets.VBox([widgets.HBox([self.max_client_lag, self.batch_size, self.run_button]),
                                    self.output])

    def _write(self, name: str, value: Any) -> None:
        self.namespace[name] = value

    def show(self) -> None:
        """Display the panel when a front end is present (see :func:`has_front_end`)."""
        if has_front_end():
            from IPython.display import display

            display(self.widget)

    def run(self) -> Any:
        """What the Run button does: call the action with the sliders' values; its result, or None on error."""
        values = {"max_client_lag": self.max_client_lag.value, "batch_size": self.batch_size.value}
        self.output.append_stdout(f"run {len(self.runs) + 1}: max client lag {values['max_client_lag']:g} s, "
                                  f"batch size {values['batch_size']:,} ...\n")
        try:
            result = self.action(**values)
        except Exception as exc:  # a widget callback has nowhere else to report
            message = str(exc) if isinstance(exc, AidemoError) else f"{type(exc).__name__}: {exc}"
            self.output.append_stderr(f"failed: {message}\n")
            self.runs.append((values, exc))
            return None
        self.runs.append((values, result))
        for item in result if isinstance(result, tuple) else (result,):
            if item is not None:
                self.output.append_display_data(item)
        return result


def latency_panel(backend: "StreamingBackend", namespace: MutableMapping[str, Any]) -> ControlPanel:
    """A :class:`ControlPanel` whose Run measures latency with the sliders' lag and batch size.

    Each run streams ``RATE`` orders/s for ``DURATION`` s (both read from ``namespace`` at
    Run time, with ``SEED`` and ``NUM_CUSTOMERS``) and shows its summary and latency distribution.
    """
    from aidemo import latency, plots

    def measure(max_client_lag: float, batch_size: int):
        batches = latency.measure(backend, max_client_lag=max_client_lag, batch_size=batch_size,
                                  duration=namespace["DURATION"], rate=namespace["RATE"],
                                  seed=namespace["SEED"], num_customers=namespace["NUM_CUSTOMERS"])
        summary = latency.summarize(batches)
        return summary, figure_image(lambda ax: plots.latency_distribution(ax, batches))

    return ControlPanel(namespace, measure)


def figure_image(draw: Callable[["Axes"], Any], size: tuple[float, float] = (7, 3.5)):
    """A PNG image (IPython ``Image``) of what ``draw`` puts on a fresh Axes; shows in any Output."""
    from IPython.display import Image

    from aidemo import plots

    figure = plots.figure_class()(figsize=size, layout="constrained")
    draw(figure.add_subplot())
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    return Image(data=buffer.getvalue(), format="png")


# ---- streaming views ----------------------------------------------------------------------


def stream_with_progress(backend: "StreamingBackend", num_orders: int, *, options: "StreamOptions",
                         seed: int, num_customers: int) -> "StreamStats":
    """Stream orders 1..num_orders on one instance with a progress bar; the final stats."""
    from aidemo.generator import InstanceSpec
    from aidemo.progress import StreamProgress
    from aidemo.streaming import Streamer

    streamer = Streamer(backend, InstanceSpec.single(seed, num_customers), num_orders, options)
    # Headless, a bar would be saved as its first frame; the summary says it all there.
    with StreamProgress([streamer.stats], enabled=has_front_end()) as progress:
        return streamer.run(progress.update)


def plan_frame(total_orders: int, instances: int, *, seed: int, num_customers: int) -> "pd.DataFrame":
    """How :func:`aidemo.parallel.run_parallel` splits a job: per instance its channels, ids and customers."""
    import pandas as pd

    from aidemo.config import ORDER_ITEMS_CHANNEL, ORDERS_CHANNEL
    from aidemo.generator import first_item_id
    from aidemo.parallel import plan

    rows = [{"instance": spec.instance,
             "channels": f"{ORDERS_CHANNEL}_{spec.instance}, {ORDER_ITEMS_CHANNEL}_{spec.instance}", "orders": count, "order_ids": f"{spec.order_base}..{spec.order_base + count - 1}",
             "item_ids": f"{spec.item_base}..{first_item_id(spec, spec.order_base + count) - 1}",
             "customers": f"{spec.customer_lo}..{spec.customer_hi}"}
            for spec, count in plan(total_orders, instances, seed=seed, num_customers=num_customers)]
    return pd.DataFrame(rows)


TABLE_COLUMNS = ("instance", "orders_target", "orders_committed", "items_committed", "orders_per_s",
                 "retries", "done")


class LiveTable:
    """One row per instance of a parallel run, redrawn in place; ``update`` is ``run_parallel``'s on_progress.

    Redraws at most every ``interval`` seconds (and once more on leaving the ``with``
    block); ``samples`` keeps every update's committed counts for :func:`plot_committed`.
    """

    def __init__(self, interval: float = 0.5, *, show: bool = True):
        self.interval, self.show = interval, show
        self.samples: list[dict] = []
        self._latest: list = []
        self._started = time.monotonic()
        self._drawn = 0.0
        self._handle = None
        self._lock = threading.Lock()

    def __enter__(self) -> "LiveTable":
        self._started = time.monotonic()
        if self.show:
            from IPython.display import DisplayHandle

            self._handle = DisplayHandle()
            self._handle.display(self.frame())
        return self

    def update(self, stats: "list[StreamStats]") -> None:
        now = time.monotonic()
        with self._lock:
            self._latest = sorted(stats, key=lambda s: s.instance)
            for s in self._latest:
                self.samples.append({"elapsed_s": now - self._started, "instance": s.instance,
                                     "orders_committed": s.orders_committed, "rows_committed": s.rows_committed})
            due = now - self._drawn >= self.interval
            if due:
                self._drawn = now
        if due:
            self._redraw()

    def frame(self) -> "pd.DataFrame":
        """The table as it stands: one row per instance."""
        import pandas as pd

        rows = [{"instance": s.instance, "orders_target": s.orders_target, "orders_committed": s.orders_committed,
                 "items_committed": s.items_committed,
                 "orders_per_s": round(s.orders_committed / max(s.elapsed, 1e-9), 1), "retries": s.retries,
                 "done": s.orders_committed >= s.orders_target} for s in self._latest]
        return pd.DataFrame(rows, columns=list(TABLE_COLUMNS))

    def _redraw(self) -> None:
        if self._handle is not None:
            self._handle.update(self.frame())

    def __exit__(self, *exc) -> None:
        self._redraw()


def plot_committed(ax: "Axes", samples: list[dict]) -> list:
    """Committed orders against time, one line per instance and their total; returns the lines.

    The slope is the throughput: a straight total line means the instances keep pace together.
    """
    import pandas as pd

    lines = []
    frame = pd.DataFrame(samples, columns=["elapsed_s", "instance", "orders_committed", "rows_committed"])
    for instance, group in frame.groupby("instance", sort=True):
        lines += ax.step(group["elapsed_s"], group["orders_committed"], where="post", label=f"instance {instance}")
    if len(frame):
        # The total at each sample: every instance's latest count so far.
        wide = frame.pivot_table(index="elapsed_s", columns="instance", values="orders_committed", aggfunc="max")
        total = wide.sort_index().ffill().fillna(0).sum(axis=1)
        lines += ax.step(total.index, total.to_numpy(), where="post", color="black", linewidth=2, label="total")
        rate = total.iloc[-1] / total.index[-1] if total.index[-1] > 0 else math.nan
        ax.set_title(f"Committed orders over time ({rate:,.0f} orders/s overall)")
    ax.set_xlabel("seconds since the run started")
    ax.set_ylabel("orders committed")
    ax.grid(alpha=0.3)
    if lines:
        ax.legend(fontsize="small")
    return lines


# ---- exactly once, the hard way ----------------------------------------------------------


def channel_tokens(backend: "StreamingBackend") -> "pd.DataFrame":
    """Every channel of the schema: name, pipe, last committed offset token, rows inserted (``SHOW CHANNELS``)."""
    from aidemo.sql import run_file

    frame = run_file("monitoring/show_channels.sql", backend).rename(columns={"parent_name": "pipe"})
    columns = ["name", "pipe", "last_committed_offset_token", "rows_inserted"]
    return frame.reindex(columns=columns).sort_values("name", ignore_index=True)


@dataclass(frozen=True)
class Crash:
    """Where a killed ``aidemo stream`` left the two channels (ids count from 1, so ids are counts).

    ``items_complete_through`` is the last order whose items are all committed: below
    ``orders_committed``, the items channel was behind; above it, ahead.
    """

    orders_committed: int
    items_committed: int
    items_complete_through: int
    last_order_token: str | None
    last_item_token: str | None
    seconds: float


def crash_stream(backend: "StreamingBackend", num_orders: int, *, kill_after: int, options: "StreamOptions",
                 seed: int, num_customers: int, timeout: float = 120.0) -> Crash:
    """Run ``aidemo stream num_orders`` in a process and kill it (SIGKILL) once ``kill_after`` orders are in ORDERS.

    Nothing is flushed or closed: what the process had buffered is lost, and the orders and
    items channels are left at whatever each had committed (read once they stop moving).
    Rerunning the same job resumes each channel after its own token.
    """
    from aidemo.generator import InstanceSpec, order_of_item
    from aidemo.offsets import parse_item_token, parse_order_token

    if not isinstance(kill_after, int) or not 0 < kill_after < num_orders:
        raise ConfigError(f"kill_after must be between 1 and {num_orders - 1} orders, got {kill_after!r}")
    env = dict(os.environ, **backend.child_environment(), AIDEMO_SEED=str(seed),
               AIDEMO_NUM_CUSTOMERS=str(num_customers), AIDEMO_CHANNEL_PREFIX_ORDERS=options.orders_channel,
               AIDEMO_CHANNEL_PREFIX_ORDER_ITEMS=options.items_channel, AIDEMO_ORDERS_PIPE=options.orders_pipe,
               AIDEMO_ORDER_ITEMS_PIPE=options.items_pipe)
    command = [sys.executable, "-m", "aidemo.cli", "stream", str(num_orders), "--batch-size", str(options.batch_size),
               "--max-client-lag", str(options.max_client_lag), "--no-progress"]
    if options.rate:
        command += ["--rate", str(options.rate)]
    started = time.monotonic()
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        while _orders_in_table(backend) < kill_after:
            if proc.poll() is not None:
                raise StreamingError(f"`aidemo stream` ended (exit code {proc.returncode}) before {kill_after} "
                                     f"orders were committed: {proc.stderr.read().strip()[-500:]}")
            if time.monotonic() - started > timeout:
                raise StreamingError(f"fewer than {kill_after} orders committed within {timeout:g} s")
            time.sleep(0.05)
    finally:
        proc.kill()  # SIGKILL: no flush, no close
        proc.wait()
        proc.stderr.close()
    seconds = time.monotonic() - started
    order_token, item_token = _settled_tokens(backend, timeout, options)
    items = parse_item_token(item_token) or 0
    complete_through = order_of_item(InstanceSpec.single(seed, num_customers), items + 1)[0] - 1
    return Crash(parse_order_token(order_token) or 0, items, complete_through, order_token, item_token,
                 round(seconds, 2))


def _settled_tokens(backend: "StreamingBackend", timeout: float, options) -> tuple[str | None, str | None]:
    """The single instance's committed tokens once they stop moving.

    What the dead process had already sent can still be committed by the server for a
    moment; the tokens are read until two reads a second apart agree.
    """
    deadline = time.monotonic() + timeout
    previous = None
    while True:
        tokens = {row.name: row.last_committed_offset_token for row in channel_tokens(backend).itertuples()}
        current = (_token(tokens.get(options.orders_channel)), _token(tokens.get(options.items_channel)))
        if current == previous or time.monotonic() > deadline:
            return current
        previous = current
        time.sleep(1.0)


def _orders_in_table(backend: "StreamingBackend") -> int:
    from aidemo.sql import run_file

    counts = run_file("monitoring/row_counts.sql", backend)
    return int(counts.set_index("TABLE_NAME").loc["ORDERS", "ROW_COUNT"])


def _token(value: Any) -> str | None:
    """A token from SHOW CHANNELS; a channel with nothing committed shows NULL."""
    return value if isinstance(value, str) and value else None


# ---- keys ---------------------------------------------------------------------------------


def write_key_pair(keys: "KeyPair", directory: str | os.PathLike | None = None) -> tuple[Path, Path]:
    """Write ``rsa_key.p8`` (owner-only) and ``rsa_key.pub`` into ``directory`` (None: a new temporary one).

    Refuses a directory inside the project: keys never belong in the repository. Point
    ``profile.json`` (itself outside version control) at the private key's text.
    """
    import tempfile

    target = Path(directory or tempfile.mkdtemp(prefix="aidemo-keys-")).expanduser().resolve()
    if target == PROJECT_ROOT or PROJECT_ROOT in target.parents:
        raise ConfigError(f"KEY_DIR {str(target)!r} is inside the project ({PROJECT_ROOT}); "
                          "choose a directory outside it so that keys are never committed")
    target.mkdir(parents=True, exist_ok=True)
    private, public = target / "rsa_key.p8", target / "rsa_key.pub"
    private.touch(mode=0o600, exist_ok=True)
    private.chmod(0o600)
    private.write_text(keys.private_key_pem)
    public.write_text(keys.public_key_pem)
    return private, public
