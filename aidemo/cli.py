"""The ``aidemo`` command line."""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys

from aidemo.backends.sdk import quiet_sdk_logs
from aidemo.cli_local import add_local_commands
from aidemo.errors import AidemoError, from_local
from aidemo.knobs import KNOBS


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return 2
    quiet_sdk_logs()
    try:
        with from_local():  # the local service's errors, as the kit's
            return args.run(args) or 0
    except AidemoError as exc:
        print(f"aidemo: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="aidemo", description="Snowpipe Streaming demo kit.")
    sub = parser.add_subparsers(title="commands")

    add_local_commands(sub)

    setup_cmd = sub.add_parser("setup", help="create the database, tables and pipes and load the customers")
    setup_cmd.add_argument("--reset", action="store_true", help="drop and recreate tables, pipes and channels first")
    setup_cmd.add_argument("--customers", type=int, dest="num_customers", help="customers to load (num.customers)")
    setup_cmd.add_argument("--seed", type=int, help="generator seed (seed)")
    setup_cmd.set_defaults(run=_setup)

    stream = sub.add_parser("stream", help="stream orders and items exactly once through one instance")
    stream.add_argument(
        "num_orders",
        nargs="?",
        type=int,
        help="orders in the job (default: num.orders.per.batch); a rerun resumes the same job",
    )
    _stream_options(stream)
    stream.set_defaults(run=_stream)

    par = sub.add_parser("parallel", help="stream one job over several instances")
    par.add_argument("total_orders", type=int, help="orders in the whole job")
    par.add_argument(
        "instances", type=int, nargs="?", help="number of instances (or --of; default: instances in config.properties)"
    )
    par.add_argument("--of", type=int, dest="of", help="number of instances, with --instance")
    par.add_argument(
        "--instance",
        type=int,
        action="append",
        metavar="K",
        help="run only slice K (0-based; repeatable): N machines can share one job",
    )
    par.add_argument(
        "--processes",
        action="store_true",
        help="run instances as processes instead of threads (see README for the default)",
    )
    _stream_options(par)
    par.set_defaults(run=_parallel)

    latency = sub.add_parser("latency", help="measure latency per max client lag and batch size")
    latency.add_argument("--lags", default="1,5,10", help="max client lag values in seconds, comma-separated")
    latency.add_argument("--batch-sizes", default="100,1000,10000", help="orders per batch, comma-separated")
    latency.add_argument("--duration", type=float, default=30.0, help="seconds of streaming per setting")
    latency.add_argument("--rate", type=float, default=500.0, help="orders per second")
    latency.add_argument("--output", default="latency", help="directory for the CSVs and PNGs")
    latency.set_defaults(run=_latency)

    nbs = sub.add_parser("notebooks", help="run the notebooks headless with papermill and write the executed copies")
    nbs.add_argument(
        "--output-dir", default="output/notebooks", help="where the executed notebooks go (default: output/notebooks)"
    )
    nbs.add_argument(
        "-p",
        "--parameter",
        nargs=2,
        action="append",
        dest="parameters",
        metavar=("NAME", "VALUE"),
        help="set a notebook parameter (repeatable), e.g. -p NUM_ORDERS 5000; Python literal or text",
    )
    nbs.add_argument(
        "--notebook", action="append", metavar="NAME", help="run only this notebook (repeatable), e.g. 04_latency"
    )
    nbs.add_argument(
        "--grid",
        action="append",
        metavar="NAME=V1,V2,...",
        help="run one --notebook once per combination of these values (repeatable: the cross product) "
        "and write report.csv and report.html, e.g. --grid MAX_CLIENT_LAG=0.5,1,2",
    )
    nbs.set_defaults(run=_notebooks)

    lab = sub.add_parser("lab", help="open the walkthrough (notebooks/) in JupyterLab on 127.0.0.1")
    lab.add_argument(
        "--dir",
        default=".",
        help="working directory: its notebooks/ gets the kit's notebooks that it lacks (none is overwritten); "
        "profile.json, config.properties and .aidemo/ are found there (default: the current directory)",
    )
    lab.add_argument("--port", type=int, default=8888, help="port (default 8888; the next free one if taken)")
    lab.add_argument("--no-browser", action="store_true", help="print the URL only, do not open a browser")
    lab.add_argument("lab_args", nargs="*", metavar="JUPYTER_ARG", help="more JupyterLab options, after --")
    lab.set_defaults(run=_lab)

    sql = sub.add_parser("sql", help="run SQL (Snowflake dialect) on the active backend")
    sql.add_argument("statement", nargs="?", help="statement or script; omit with --file")
    sql.add_argument("--file", help="a .sql file to run instead")
    sql.add_argument("--format", choices=("table", "csv"), default="table")
    sql.set_defaults(run=_sql)
    return parser


def _stream_options(parser: argparse.ArgumentParser) -> None:
    """A flag per stream knob (``--batch-size`` ...; :data:`aidemo.knobs.KNOBS`), the seed, and ``--no-progress``."""
    for knob in KNOBS.values():
        if knob.stream:
            parser.add_argument(
                knob.flag, type=knob.rule.parse, help=knob.help + (f" ({knob.key})" if knob.key else "")
            )
    parser.add_argument("--seed", type=int, help="generator seed (seed)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")


def _settings_and_options(args):
    from aidemo.settings import load_settings
    from aidemo.stream.options import StreamOptions

    given = {name: value for name, knob in KNOBS.items() if knob.stream and (value := getattr(args, name)) is not None}
    settings = load_settings(seed=args.seed, **{name: value for name, value in given.items() if KNOBS[name].key})
    return settings, StreamOptions.from_settings(settings, **given)


def _setup(args) -> int:
    from aidemo.backends.backend import open_backend
    from aidemo.backends.provision import setup

    with open_backend() as backend:
        print(setup(backend, reset=args.reset, num_customers=args.num_customers, seed=args.seed).summary())
    return 0


def _stream(args) -> int:
    from aidemo.backends.backend import open_backend
    from aidemo.data.generator import InstanceSpec
    from aidemo.measure.progress import StreamProgress
    from aidemo.stream.streaming import Streamer

    settings, options = _settings_and_options(args)
    num_orders = args.num_orders if args.num_orders is not None else settings.num_orders_per_batch
    backend = open_backend()
    _announce(backend, f"{num_orders} orders", options)
    streamer = Streamer(backend, InstanceSpec.single(settings.seed, settings.num_customers), num_orders, options)
    print(f"orders dated {streamer.dates.describe()}", flush=True)
    with _graceful_stop(streamer.stop), StreamProgress([streamer.stats], enabled=not args.no_progress) as progress:
        stats = streamer.run(progress.update)
    summary = stats.summary()
    width = max(map(len, summary))
    for key, value in summary.items():
        print(f"  {key:<{width}}  {value}")
    if stats.stopped:
        print(
            f"stopped early: rerun the same command to resume after {stats.last_order_token} / {stats.last_item_token}"
        )
        return 130
    return 0


def _parallel(args) -> int:
    import threading

    import pandas

    from aidemo.backends.backend import open_backend
    from aidemo.measure.progress import StreamProgress
    from aidemo.measure.stats import StreamStats
    from aidemo.stream.parallel import plan, run_parallel

    if args.instances and args.of and args.instances != args.of:
        raise AidemoError("give the number of instances once: `parallel TOTAL N` or `parallel TOTAL --of N`")
    settings, options = _settings_and_options(args)
    instances = args.instances or args.of or settings.instances
    backend = open_backend()
    _announce(
        backend,
        f"{args.total_orders} orders over {instances} instances" + (" (processes)" if args.processes else " (threads)"),
        options,
    )
    for k in args.instance or ():
        if not 0 <= k < instances:
            raise AidemoError(f"instance {k} is not one of 0..{instances - 1}")
    slices = plan(args.total_orders, instances, seed=settings.seed, num_customers=settings.num_customers)
    shown = [StreamStats(spec.instance, n) for spec, n in slices if not args.instance or spec.instance in args.instance]
    stop = threading.Event()
    with _graceful_stop(stop.set), StreamProgress(shown, enabled=not args.no_progress) as progress:
        result = run_parallel(
            args.total_orders,
            instances,
            backend=backend,
            seed=settings.seed,
            num_customers=settings.num_customers,
            options=options,
            only=args.instance,
            processes=args.processes,
            on_progress=progress.update,
            stop=stop,
        )
    table = pandas.DataFrame(result.summary()).drop(columns=["last_order_token", "last_item_token", "error"])
    print(table.to_string(index=False))
    sent = sum(s.orders_sent for s in result.stats)
    rows = sum(s.orders_sent + s.items_sent for s in result.stats)
    print(
        f"this run: {sent} orders, {rows} rows in {result.wall_s:.1f} s ({sent / result.wall_s:,.0f} orders/s, "
        f"{rows / result.wall_s:,.0f} rows/s); committed in all: {result.orders_committed} orders, "
        f"{result.rows_committed} rows"
    )
    if result.errors:
        for k, message in sorted(result.errors.items()):
            print(f"instance {k} failed: {message}", file=sys.stderr)
        return 1
    return 130 if stop.is_set() else 0


def _announce(backend, what: str, options) -> None:
    print(
        f"backend: {backend.describe()}; {what}, batch {options.batch_size}, "
        f"max client lag {options.max_client_lag:g} s" + (f", {options.rate:g} orders/s" if options.rate else "")
    )


@contextlib.contextmanager
def _graceful_stop(stop):
    """First Ctrl-C or SIGTERM: stop generating, flush, wait for the commit, close. A second Ctrl-C aborts."""

    def handler(signum, frame):
        signal.signal(signal.SIGINT, previous_int)
        print("\nstopping: flushing and waiting for the commit (Ctrl-C again to abort)", file=sys.stderr)
        stop()

    previous_int = signal.signal(signal.SIGINT, handler)
    previous_term = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous_int)
        signal.signal(signal.SIGTERM, previous_term)


def _latency(args) -> int:
    """``aidemo latency``: measure the grid, write CSVs and PNGs to ``args.output``, print the summary."""
    from pathlib import Path

    from aidemo.backends.backend import open_backend
    from aidemo.measure.latency import measure_grid, parse_numbers, summarize
    from aidemo.measure.plots import write_figures
    from aidemo.settings import load_settings
    from aidemo.stream.options import StreamOptions

    lags = parse_numbers("--lags", args.lags, float)
    sizes = parse_numbers("--batch-sizes", args.batch_sizes, int)
    output = Path(args.output)
    output.mkdir(parents=True, exist_ok=True)
    backend = open_backend()
    print(
        f"backend: {backend.describe()}; lags {lags} s, batch sizes {sizes}, "
        f"{args.duration:g} s at {args.rate:g} orders/s each"
    )

    def report(frame) -> None:
        row = summarize(frame).iloc[0]
        print(
            f"  lag {row.max_client_lag:g} s, batch {row.batch_size}: committed p50 {row.committed_p50:.2f} s, "
            f"p99 {row.committed_p99:.2f} s; queryable p50 {row.queryable_p50:.2f} s",
            flush=True,
        )

    base = StreamOptions.from_settings(load_settings())  # channel and pipe names from config.properties
    batches = measure_grid(
        backend, lags=lags, batch_sizes=sizes, duration=args.duration, rate=args.rate, base=base, on_result=report
    )
    summary = summarize(batches)
    batches.to_csv(output / "latency_batches.csv", index=False)
    summary.to_csv(output / "latency_summary.csv", index=False)
    for path in write_figures(batches, summary, output):
        print(f"wrote {path}")
    print(f"wrote {output / 'latency_batches.csv'} and {output / 'latency_summary.csv'}")
    print(summary.round(3).to_string(index=False))
    return 0


def _notebooks(args) -> int:
    from aidemo import batch, runbook

    return (batch if args.grid else runbook).run_cli(args)


def _lab(args) -> int:
    """``aidemo lab``: JupyterLab on 127.0.0.1 at the walkthrough; it prints the URL (with its token).

    It opens a working copy (``--dir``'s ``notebooks/``), never the kit's installed notebooks.
    """
    import os
    import subprocess

    from aidemo.backends.sdk import SDK_LOG_LEVEL
    from aidemo.errors import ConfigError
    from aidemo.notebook import working_copy
    from aidemo.notebook.walkthrough import FIRST

    try:
        import jupyterlab  # noqa: F401
    except ImportError as exc:
        raise ConfigError("aidemo lab needs JupyterLab: pip install 'aidemo[notebooks]'") from exc
    notebooks, copied = working_copy(args.dir)
    root = notebooks.parent
    if copied:
        print(f"aidemo: copied {len(copied)} notebooks of the kit into {notebooks}", flush=True)
    first = (notebooks / FIRST).relative_to(root)
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={args.port}",
        f"--ServerApp.root_dir={root}",
        *(["--no-browser"] if args.no_browser else []),
        *args.lab_args,
        str(first),
    ]
    print(
        f"aidemo: opening {first} in {root} in JupyterLab on http://127.0.0.1:{args.port}/ "
        "(the URL with its token follows; Ctrl-C stops it)",
        flush=True,
    )
    env = dict(os.environ, SS_LOG_LEVEL=os.environ.get("SS_LOG_LEVEL", SDK_LOG_LEVEL))
    try:
        return subprocess.call(command, cwd=root, env=env)
    except KeyboardInterrupt:
        return 130


def _sql(args) -> int:
    from pathlib import Path

    from aidemo.backends.backend import open_backend

    if bool(args.statement) == bool(args.file):
        raise AidemoError("give either a statement or --file FILE")
    statement = Path(args.file).read_text() if args.file else args.statement
    with open_backend() as backend:
        frame = backend.sql(statement)
    if args.format == "csv":
        frame.to_csv(sys.stdout, index=False)
    else:
        print(frame.to_string(index=False) if len(frame.columns) else "(no rows)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
