"""The knobs panel: max client lag, batch size and rate as sliders, a Run button, results as a table.

The sliders start at the notebook's parameters (``MAX_CLIENT_LAG``, ``BATCH_SIZE``, ``RATE``)
and write every change back into the notebook's namespace, so later cells see what the
sliders show; headless runs never build a panel and use the parameters unchanged. While a
run goes the button says so and, like the sliders, is disabled (no second run queues up).
Each run appends one row to the results table and its figure below it.
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aidemo.errors import AidemoError, ConfigError
from aidemo.notebook.session import has_front_end

if TYPE_CHECKING:
    from aidemo.backends.backend import StreamingBackend


@dataclass(frozen=True)
class Knob:
    """A slider over one notebook parameter."""

    parameter: str
    label: str
    low: float
    high: float
    step: float
    integer: bool = False

    def check(self, value: Any) -> None:
        kinds = (int,) if self.integer else (int, float)
        if isinstance(value, bool) or not isinstance(value, kinds) or not self.low <= value <= self.high:
            kind = "an integer" if self.integer else "a number"
            raise ConfigError(
                f"{self.parameter} must be {kind} between {self.low:g} and {self.high:g} for the "
                f"control panel (a run of the panel can show that range), got {value!r}"
            )


def lag_knob(run_seconds: float) -> Knob:
    """Max client lag from 0.5 s to half of what one run lasts (a longer lag would only flush at the end)."""
    return Knob(
        "MAX_CLIENT_LAG",
        "max client lag (s)",
        0.5,
        max(0.5, min(60.0, run_seconds / 2)),
        0.25,
    )


BATCH_KNOB = Knob("BATCH_SIZE", "batch size (orders)", 50, 10_000, 50, integer=True)
RATE_KNOB = Knob("RATE", "rate (orders/s)", 50, 2_000, 50)


class ControlPanel:
    """Sliders over ``knobs`` (default: max client lag 0.5–30 s and batch size), a Run button, results.

    Run calls ``action(max_client_lag=..., batch_size=..., ...)`` (one keyword per knob, the
    parameter's name in lower case). The action returns a dict (one results row) or a pair of
    a dict and something to display (a figure); an error shows in the panel. ``runs`` keeps
    each run's values and result.
    """

    def __init__(
        self,
        namespace: MutableMapping[str, Any],
        action: Callable[..., Any],
        knobs: tuple[Knob, ...] = (lag_knob(60), BATCH_KNOB),
    ):
        import ipywidgets as widgets

        for knob in knobs:
            knob.check(namespace.get(knob.parameter))
        self.namespace, self.action, self.knobs = namespace, action, knobs
        self.runs: list[tuple[dict, Any]] = []
        self.rows: list[dict] = []
        self.busy = False
        style, layout = {"description_width": "initial"}, widgets.Layout(width="320px")
        self.sliders = {}
        for knob in knobs:
            kind = widgets.IntSlider if knob.integer else widgets.FloatSlider
            slider = kind(
                value=namespace[knob.parameter],
                min=knob.low,
                max=knob.high,
                step=knob.step,
                description=knob.label,
                style=style,
                layout=layout,
                continuous_update=False,
            )
            slider.observe(
                lambda change, name=knob.parameter: self._write(name, change["new"]),
                names="value",
            )
            self.sliders[knob.parameter] = slider
        self.run_button = widgets.Button(
            description="Run",
            button_style="primary",
            icon="play",
            tooltip="run once with the sliders' values",
        )
        self.run_button.on_click(lambda _button: self.run())
        self.status = widgets.HTML("")
        self.results = widgets.Output()
        self.output = widgets.Output()
        self.widget = widgets.VBox(
            [
                widgets.HBox([*self.sliders.values(), self.run_button, self.status]),
                self.results,
                self.output,
            ]
        )

    # The two knobs every panel has, by their old names.
    @property
    def max_client_lag(self):
        return self.sliders["MAX_CLIENT_LAG"]

    @property
    def batch_size(self):
        return self.sliders["BATCH_SIZE"]

    def _write(self, name: str, value: Any) -> None:
        self.namespace[name] = value

    def show(self) -> None:
        """Display the panel when a front end is present (see :func:`has_front_end`)."""
        if has_front_end():
            from IPython.display import display

            display(self.widget)

    def _set_busy(self, busy: bool, text: str) -> None:
        self.busy = busy
        self.run_button.disabled = busy
        self.run_button.description = "Running…" if busy else "Run"
        self.run_button.icon = "hourglass-half" if busy else "play"
        for slider in self.sliders.values():
            slider.disabled = busy
        self.status.value = text

    def run(self) -> Any:
        """What the Run button does: call the action with the sliders' values; its result, or None on error."""
        if self.busy:
            return None
        values = {parameter.lower(): slider.value for parameter, slider in self.sliders.items()}
        number = len(self.runs) + 1
        described = ", ".join(f"{knob.label} {self.sliders[knob.parameter].value:,g}" for knob in self.knobs)
        self._set_busy(True, f"run {number} running: {described}")
        failure = None
        with self.output:  # what the action displays (a live view) goes below the panel
            try:
                result = self.action(**values)
            except Exception as exc:  # a widget callback has nowhere else to report
                failure = exc
        if failure is not None:
            exc = failure
            message = str(exc) if isinstance(exc, AidemoError) else f"{type(exc).__name__}: {exc}"
            self.output.append_stderr(f"run {number} failed: {message}\n")
            self.runs.append((values, exc))
            self._set_busy(False, f"run {number} failed")
            return None
        self.runs.append((values, result))
        row, shown = result if isinstance(result, tuple) else (result, None)
        self.rows.append({"run": number} | row)
        self.results.clear_output(wait=True)
        with self.results:
            from IPython.display import display

            display(self.table())
        if shown is not None:
            self.output.append_display_data(shown)
        self._set_busy(False, f"run {number} done")
        return result

    def table(self):
        """Every run so far, one row each (a formatted table)."""
        from aidemo.notebook.figures import figures_table

        return figures_table(self.rows)


def stream_panel(
    backend: StreamingBackend,
    namespace: MutableMapping[str, Any],
    instances: int | None = None,
    *,
    seed: int | None = None,
    num_customers: int | None = None,
) -> ControlPanel:
    """A panel whose Run streams ``RATE`` × ``PANEL_SECONDS`` orders (per instance) from fresh tables.

    Each run resets ORDERS and ORDER_ITEMS (customers stay), streams with the sliders' lag,
    batch size and rate under a live view, and appends its figures (rates, latency per stage,
    retries: :func:`~aidemo.notebook.figures.run_figures`) to the table. ``seed`` and
    ``num_customers`` are the job's (default: ``SEED`` and ``NUM_CUSTOMERS``; :meth:`Demo.stream_panel
    <aidemo.notebook.demo.Demo.stream_panel>` passes the notebook's).
    """
    from aidemo.backends.provision import setup
    from aidemo.notebook.figures import run_figures
    from aidemo.notebook.live import LiveView, parallel_live, stream_live
    from aidemo.stream.options import StreamOptions

    seconds = namespace["PANEL_SECONDS"]
    job = _job(namespace, seed, num_customers)

    def stream(max_client_lag: float, batch_size: int, rate: float) -> dict:
        setup(backend, reset=True, **job)
        options = StreamOptions(batch_size=batch_size, max_client_lag=max_client_lag, rate=rate)
        common = dict(options=options, **job)
        orders = max(1, round(rate * seconds))
        title = f"{instances} instances" if instances else "One instance"
        view = LiveView(title, table=bool(instances))
        if instances:
            parallel_live(backend, orders * instances, instances, view=view, **common)
        else:
            stream_live(backend, orders, view=view, **common)
        return {"max_client_lag": max_client_lag, "batch_size": batch_size, "rate": rate} | run_figures(view)

    return ControlPanel(namespace, stream, (lag_knob(seconds), BATCH_KNOB, RATE_KNOB))


def latency_run(
    backend: StreamingBackend,
    namespace: MutableMapping[str, Any],
    max_client_lag: float | None = None,
    batch_size: int | None = None,
    *,
    seed: int | None = None,
    num_customers: int | None = None,
):
    """One :func:`aidemo.measure.latency.measure` with the notebook's settings; its row (settings and
    :func:`~aidemo.notebook.figures.latency_figures`) and its batches.

    It streams ``RATE`` orders/s for ``DURATION`` s at ``max_client_lag`` and ``batch_size``
    (default: ``MAX_CLIENT_LAG`` and ``BATCH_SIZE``), with ``seed`` and ``num_customers``
    (default: ``SEED`` and ``NUM_CUSTOMERS``; :meth:`Demo.latency_run
    <aidemo.notebook.demo.Demo.latency_run>` passes the notebook's).
    """
    from aidemo.measure import latency
    from aidemo.notebook.figures import latency_figures

    lag = namespace["MAX_CLIENT_LAG"] if max_client_lag is None else max_client_lag
    size = namespace["BATCH_SIZE"] if batch_size is None else batch_size
    batches = latency.measure(
        backend,
        max_client_lag=lag,
        batch_size=size,
        duration=namespace["DURATION"],
        rate=namespace["RATE"],
        **_job(namespace, seed, num_customers),
    )
    settings = {"max_client_lag": lag, "batch_size": size, "rate": namespace["RATE"]}
    return settings | latency_figures(batches), batches


def latency_panel(
    backend: StreamingBackend,
    namespace: MutableMapping[str, Any],
    *,
    seed: int | None = None,
    num_customers: int | None = None,
) -> ControlPanel:
    """A panel whose Run is a :func:`latency_run` with the sliders' settings (and ``seed``, ``num_customers``).

    Each run appends its figures (p50/p95 per stage, rates, retries) to the table and shows the
    distribution of its committed latency.
    """
    from aidemo.measure import plots

    job = _job(namespace, seed, num_customers)

    def measure(max_client_lag: float, batch_size: int):
        row, batches = latency_run(backend, namespace, max_client_lag, batch_size, **job)
        return row, figure_image(lambda ax: plots.latency_distribution(ax, batches))

    return ControlPanel(namespace, measure, (lag_knob(namespace["DURATION"]), BATCH_KNOB))


def _job(namespace: MutableMapping[str, Any], seed: int | None, num_customers: int | None) -> dict[str, int]:
    """The job's seed and customer count: those given, else the notebook's ``SEED`` and ``NUM_CUSTOMERS``."""
    return {
        "seed": namespace["SEED"] if seed is None else seed,
        "num_customers": namespace["NUM_CUSTOMERS"] if num_customers is None else num_customers,
    }


def figure_image(draw: Callable[..., Any], size: tuple[float, float] = (7, 3.5)):
    """A PNG image (IPython ``Image``) of what ``draw`` puts on a fresh Axes; shows in any Output."""
    import io

    from IPython.display import Image

    from aidemo.measure import plots

    figure = plots.figure_class()(figsize=size, layout="constrained")
    draw(figure.add_subplot())
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90)
    return Image(data=buffer.getvalue(), format="png")
