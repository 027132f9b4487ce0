"""``aidemo local ...``: start, stop and inspect the local service, hand its settings to outside
apps, and switch its faults on and off."""

from __future__ import annotations

import argparse
import time

from aidemo.errors import AidemoError


def add_local_commands(sub) -> None:
    """Add ``local`` and its subcommands to the ``aidemo`` parser's subcommands ``sub``."""
    local = sub.add_parser("local", help="the local Snowpipe Streaming service")
    local_sub = local.add_subparsers(title="local commands")
    for name, run, help_ in (
        ("start", _local_start, "start the service (foreground unless --detach)"),
        ("stop", _local_stop, "stop the service of this home"),
        ("status", _local_status, "say whether the service runs and where"),
    ):
        p = local_sub.add_parser(name, help=help_)
        p.add_argument("--home", help="service home (default: $AIDEMO_HOME or ./.aidemo)")
        if name == "start":
            p.add_argument("--detach", action="store_true", help="run in the background and return")
        p.set_defaults(run=run)
    env = local_sub.add_parser("env", help="print the exports an outside app needs (starts the service if needed)")
    env.add_argument("--home", help="service home (default: $AIDEMO_HOME or ./.aidemo)")
    env.set_defaults(run=_local_env)
    run = local_sub.add_parser("run", help="run a command with those exports set: aidemo local run -- CMD ...")
    run.add_argument("--home", help="service home (default: $AIDEMO_HOME or ./.aidemo)")
    run.add_argument("command", nargs=argparse.REMAINDER, help="the command and its arguments, after --")
    run.set_defaults(run=_local_run)
    _fault_parser(local_sub)


def _home(args):
    from aidemo.local.process.home import ServiceHome

    return ServiceHome.at(args.home)


def _local_start(args) -> int:
    from aidemo.local.process import service

    home = _home(args)
    if args.detach:
        info = service.ensure_running(home)
        print(f"local service running: pid {info.pid}, {info.url}, home {home.root}")
        return 0
    running = service.status(home)
    if running:
        print(f"already running: pid {running.pid}, {running.url}")
        return 0
    print(f"serving {home.root} (Ctrl-C to stop)")
    service.serve(home)
    return 0


def _local_stop(args) -> int:
    from aidemo.local.process import service

    stopped = service.stop(_home(args))
    print("stopped" if stopped else "not running")
    return 0


def _local_status(args) -> int:
    from aidemo.local.process import service

    info = service.status(_home(args))
    if info is None:
        print("not running")
        return 3
    print(f"running: pid {info.pid}, {info.url}, home {info.home.root}")
    disk = service.health(info).get("disk", {})
    print(f"disk: {disk.get('free_bytes', 0) / 2**20:,.0f} MB free of {disk.get('total_bytes', 0) / 2**20:,.0f} MB")
    if disk.get("full"):
        at = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(disk["full"]["at"]))
        print(f"disk full: at {at} a write failed for want of space ({disk['full']['error']}); free some space")
    return 0


def _local_env(args) -> int:
    from aidemo.local.process import service
    from aidemo.local.process.clientenv import exports

    info = service.ensure_running(_home(args))
    print(exports(info.home, info.url))
    return 0


def _local_run(args) -> int:
    from aidemo.local.process import service
    from aidemo.local.process.clientenv import run

    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        raise AidemoError("nothing to run: aidemo local run -- CMD [ARGS...]")
    info = service.ensure_running(_home(args))
    try:
        return run(info.home, info.url, command)
    except FileNotFoundError:
        raise AidemoError(f"command not found: {command[0]}") from None


def _fault_parser(local_sub) -> None:
    from aidemo.local.http.faults import KINDS

    fault = local_sub.add_parser(
        "fault",
        help="make the running service misbehave: " + ", ".join(KINDS) + "; or clear, status",
        description="\n".join(f"{kind:<14} {what}" for kind, what in KINDS.items()),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    fault.add_argument("kind", help="a fault kind (above), `clear` (all, or --kind) or `status`")
    fault.add_argument("--seconds", type=float, help="how long the fault stays on (default: until cleared)")
    fault.add_argument("--rate", type=float, help="share of matching requests hit, 0..1 (default 1)")
    fault.add_argument("--count", type=int, help="hit at most this many requests")
    fault.add_argument("--delay", type=float, help="slow / delay_commits: seconds added (default 1)")
    fault.add_argument("--status", type=int, help="error: the 5xx status (default 503)")
    fault.add_argument(
        "--channel", help="invalidate, reject_rows, delay_commits, stall_commits: one channel (default: every channel)"
    )
    fault.add_argument("--target", help="request faults: rows (ingestion only) or all SDK requests")
    fault.add_argument("--seed", type=int, help="seed of the draw deciding which requests are hit")
    fault.add_argument("--kind", dest="clear_kind", metavar="KIND", help="with clear: only this kind")
    fault.add_argument("--home", help="service home (default: $AIDEMO_HOME or ./.aidemo)")
    fault.set_defaults(run=_local_fault)


def _local_fault(args) -> int:
    from aidemo.local.http.faults import describe
    from aidemo.local.process import service
    from aidemo.local.process.client import LocalClient

    info = service.status(_home(args))
    if info is None:
        raise AidemoError(f"no local service runs in {_home(args).root}: start it with `aidemo local start --detach`")
    control = LocalClient(info).faults
    if args.kind == "status":
        status = control.status()
    elif args.kind == "clear":
        status = control.clear(args.clear_kind)
    else:
        names = ("seconds", "rate", "count", "delay", "status", "channel", "target", "seed")
        status = control.set(args.kind, **{n: getattr(args, n) for n in names if getattr(args, n) is not None})
    print(describe(status))
    return 0
