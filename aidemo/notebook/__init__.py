"""What the notebooks in ``notebooks/`` call: everything they do beyond one line lives here.

* :mod:`~aidemo.notebook.demo`: the setup cell (:func:`start`) and what it returns (:class:`Demo`):
  the backend with the notebook's seed, customers and stream options, and the runs that use them;
* :mod:`~aidemo.notebook.session`: the banner, the environment check, whether a person drives
  the kernel (:func:`has_front_end`), :func:`markdown`;
* :mod:`~aidemo.notebook.records`: :func:`record` leaves results in a notebook's output,
  :func:`read_records` finds them (the runbook, the tests);
* :mod:`~aidemo.notebook.tables`: formatted tables (units, precision, chosen columns);
* :mod:`~aidemo.notebook.live`: the live view of a running stream (02, 03, 05);
* :mod:`~aidemo.notebook.panel`: the knobs panel (max client lag, batch size, rate; 02-04);
* :mod:`~aidemo.notebook.charts`: 04's sweeps, one call a cell: :func:`latency_summary` and the
  charts (:func:`lag_chart`, :func:`distribution_chart`, :func:`stages_chart`,
  :func:`throughput_chart`), figures that show inline;
* :mod:`~aidemo.notebook.figures`: what one run measured as one row (:func:`run_figures`,
  :func:`latency_figures`), the figures the panels and batch reports show;
* :mod:`~aidemo.notebook.report`: a batch run's report (``aidemo notebooks --grid``), and
  :func:`batch_report` to show it in a notebook;
* :mod:`~aidemo.notebook.crash`: 05's killed stream and the channels' tokens;
* :mod:`~aidemo.notebook.faultrun`: 05's stream under a schedule of faults and what each did;
* :mod:`~aidemo.notebook.analytics`: 06's DataFrames of the streamed orders (pandas, Snowpark) and
  the view of revenue by segment and orders per minute redrawn while a background stream runs;
* :mod:`~aidemo.notebook.keyfiles`: 00's key pair on disk;
* :mod:`~aidemo.notebook.walkthrough`: where the notebooks are (installed or in a checkout) and
  a presenter's working copy of them (``aidemo lab``).

Widgets appear only when a person drives the kernel; papermill runs (``aidemo notebooks``,
which sets ``AIDEMO_HEADLESS=1``) execute the same cells headless and keep static figures.
"""

from aidemo.notebook.analytics import (
    BackgroundStream,
    OrdersWatch,
    background_stream,
    orders_frame,
    snowpark_revenue,
    watch_orders,
)
from aidemo.notebook.charts import (
    distribution_chart,
    lag_chart,
    latency_summary,
    stages_chart,
    throughput_chart,
)
from aidemo.notebook.crash import Crash, channel_tokens, crash_stream
from aidemo.notebook.demo import Demo, start
from aidemo.notebook.faultrun import FaultRun, run_with_faults
from aidemo.notebook.figures import figures_table, latency_figures, run_figures
from aidemo.notebook.keyfiles import write_key_pair
from aidemo.notebook.live import LiveView, parallel_live, stream_live
from aidemo.notebook.panel import ControlPanel, latency_panel, latency_run, stream_panel
from aidemo.notebook.records import RECORD_MIMETYPE, read_records, record
from aidemo.notebook.report import batch_report
from aidemo.notebook.session import (
    HEADLESS_ENV,
    banner,
    environment,
    has_front_end,
    markdown,
)
from aidemo.notebook.tables import (
    crash_table,
    latency_table,
    pipes_table,
    plan_frame,
    stream_table,
    styled,
)
from aidemo.notebook.walkthrough import NOTEBOOK_DIR, SOURCE_CHECKOUT, working_copy

__all__ = [
    "BackgroundStream",
    "OrdersWatch",
    "background_stream",
    "orders_frame",
    "snowpark_revenue",
    "watch_orders",
    "Crash",
    "Demo",
    "ControlPanel",
    "FaultRun",
    "run_with_faults",
    "HEADLESS_ENV",
    "LiveView",
    "NOTEBOOK_DIR",
    "SOURCE_CHECKOUT",
    "RECORD_MIMETYPE",
    "banner",
    "batch_report",
    "channel_tokens",
    "crash_stream",
    "crash_table",
    "distribution_chart",
    "environment",
    "figures_table",
    "has_front_end",
    "lag_chart",
    "latency_figures",
    "latency_panel",
    "latency_run",
    "latency_summary",
    "latency_table",
    "markdown",
    "parallel_live",
    "pipes_table",
    "plan_frame",
    "read_records",
    "record",
    "run_figures",
    "stages_chart",
    "start",
    "stream_live",
    "stream_panel",
    "stream_table",
    "throughput_chart",
    "styled",
    "working_copy",
    "write_key_pair",
]
