"""The walkthrough as a presenter sees it: JupyterLab in headless Chromium runs every notebook (Run All).

The test starts its own local service, JupyterLab on 127.0.0.1 (free port, token, its own
config, data, runtime and settings directories) over copies of the notebooks with small
parameters injected (papermill's ``parameterize_notebook``), and Debian's Chromium
(``/usr/bin/chromium``, never a downloaded browser) driven by Playwright's Python client over
CDP. It checks the page for tracebacks and widgets that failed to display, drives 02's knobs
panel once, and saves screenshots (02, 03 and 05 mid-run and at the end) under its temporary
directory. JupyterLab and Chromium are stopped by PID.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

from aidemo import runbook
from aidemo.local.process import service
from aidemo.local.process.home import ServiceHome

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
NOTEBOOK = ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook"  # the notebook in view
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PARAMETERS = {
    "NUM_CUSTOMERS": 1_000,
    "SEED": 11,
    "NUM_ORDERS": 1_500,
    "INSTANCES": 3,
    "BATCH_SIZE": 200,
    "MAX_CLIENT_LAG": 1,
    "RATE": 200,
    "PANEL_SECONDS": 2,
    "LAGS": [0.5, 1],
    "BATCH_SIZES": [100, 1_000],
    "DURATION": 2.5,
    "KILL_AFTER": 500,
    "FAULT_SECONDS": 2,
    "SNOWFLAKE_USER": "DEMO_USER",
}
# Which live view to catch mid-run, and how long after it appears (start-up takes a few seconds).
MID_RUN = {
    "02_single_channel": (0, 6),
    "03_parallel": (0, 6),
    "05_exactly_once_recovery": (1, 12),
    "06_after_streaming": (0, 6),
}
RUN_TIMEOUT_S = float(os.environ.get("AIDEMO_BROWSER_TIMEOUT", 300))
SHOTS = Path()  # the test's screenshot directory, set when it starts

sync_api = pytest.importorskip("playwright.sync_api")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.25)


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def copies_with_parameters(target: Path) -> None:
    from papermill.iorw import load_notebook_node
    from papermill.parameterize import parameterize_notebook

    target.mkdir()
    for name in runbook.NOTEBOOKS:
        declared = runbook.declared_parameters(name)
        nb = load_notebook_node(str(runbook.notebook_path(name)))
        nb = parameterize_notebook(nb, {k: v for k, v in PARAMETERS.items() if k in declared})
        nbformat.write(nb, target / f"{name}.ipynb")


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab over test copies of the notebooks: (base URL, token, notebook directory)."""
    if not CHROMIUM.exists():
        pytest.skip("needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)")
    root = tmp_path_factory.mktemp("lab")
    home = ServiceHome.at(root / "service")
    notebooks = root / "notebooks"
    copies_with_parameters(notebooks)
    # Every cell in the DOM (no windowing), so the page shows all outputs to check; the notebooks' own
    # kernel starts without asking; no news.
    for plugin, values in {
        "notebook-extension/tracker": {
            "windowingMode": "none",
            "autoStartDefaultKernel": True,
        },
        "apputils-extension/notification": {"fetchNews": "false"},
    }.items():
        path = root / "settings" / "@jupyterlab" / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    port, token = free_port(), "aidemo-browser-test"
    env = dict(
        os.environ,
        AIDEMO_HOME=str(home.root),
        JUPYTER_CONFIG_DIR=str(root / "config"),
        JUPYTER_RUNTIME_DIR=str(root / "runtime"),
        IPYTHONDIR=str(root / "ipython"),
        JUPYTERLAB_SETTINGS_DIR=str(root / "settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(root / "workspaces"),
    )
    env.pop(runbook.HEADLESS_ENV, None)  # a person's session: widgets on
    service.start(home)
    log = (root / "lab.log").open("w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyterlab",
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={port}",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={notebooks}",
            "--LabApp.expose_app_in_browser=True",
            "--ServerApp.port_retries=0",
            "--allow-root",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_for(f"http://127.0.0.1:{port}/api/status?token={token}")
        yield f"http://127.0.0.1:{port}", token, notebooks
    finally:
        stop(proc)
        log.close()
        service.stop(home)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """Chromium started by the test (its PID is ours to stop), driven over CDP by Playwright."""
    port = free_port()
    profile = tmp_path_factory.mktemp("chromium")
    proc = subprocess.Popen(
        [
            str(CHROMIUM),
            *CHROMIUM_FLAGS,
            f"--remote-debugging-port={port}",
            "--remote-debugging-address=127.0.0.1",
            f"--user-data-dir={profile}",
            "--window-size=1400,1000",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_for(f"http://127.0.0.1:{port}/json/version")
        with sync_api.sync_playwright() as playwright:
            connected = playwright.chromium.connect_over_cdp(f"http://127.0.0.1:{port}")
            try:
                yield connected
            finally:
                connected.close()
    finally:
        stop(proc)


def open_notebook(browser, lab, name: str):
    url, token, _ = lab
    context = browser.contexts[0] if browser.contexts else browser.new_context()
    page = context.new_page()
    page.set_viewport_size({"width": 1400, "height": 1000})
    page.goto(f"{url}/lab/tree/{name}.ipynb?reset&token={token}")  # reset: only this notebook open
    page.wait_for_function("window.jupyterapp && document.querySelector('.jp-Notebook')", timeout=60_000)
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=60_000)
    return page


def run_all(page) -> None:
    # Once the kernel is ready; the command itself is not awaited (it resolves when every cell has run).
    page.evaluate("""async () => {
        const app = window.jupyterapp;
        const panel = app.shell.currentWidget;
        await panel.context.ready;
        await panel.sessionContext.ready;
        while (!panel.sessionContext.session || !panel.sessionContext.session.kernel) {
            await new Promise(resolve => setTimeout(resolve, 100));
        }
        app.commands.execute('notebook:run-all-cells');
    }""")


def finished(page) -> bool:
    """Every code cell ran (a number in its prompt) and none is queued or running."""
    prompts = page.locator(f"{NOTEBOOK} .jp-CodeCell .jp-InputPrompt").all_inner_texts()
    return bool(prompts) and all(p.strip() not in ("[ ]:", "[*]:", "") for p in prompts)


def wait_until(page, condition, timeout: float = RUN_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout
    while not condition(page):
        if time.monotonic() > deadline:
            page.screenshot(path=str(SHOTS / "timeout.png"))
            raise AssertionError(
                f"the notebook did not finish in time; prompts: "
                f"{page.locator(f'{NOTEBOOK} .jp-CodeCell .jp-InputPrompt').all_inner_texts()}"
            )
        page.wait_for_timeout(250)


def page_text(page) -> str:
    return page.locator(NOTEBOOK).inner_text()


def shut_down_kernels(lab) -> None:
    url, token, _ = lab
    with urllib.request.urlopen(f"{url}/api/kernels?token={token}") as reply:
        kernels = json.loads(reply.read())
    for kernel in kernels:
        request = urllib.request.Request(f"{url}/api/kernels/{kernel['id']}?token={token}", method="DELETE")
        urllib.request.urlopen(request).close()


@pytest.mark.timeout(1500)
def test_every_notebook_runs_in_jupyterlab(lab, browser, tmp_path_factory):
    global SHOTS
    shots = SHOTS = tmp_path_factory.mktemp("screenshots")
    print(f"screenshots: {shots}")
    for name in runbook.NOTEBOOKS:
        page = open_notebook(browser, lab, name)
        run_all(page)
        if name in MID_RUN:
            views = page.locator(f"{NOTEBOOK} .jp-OutputArea-output .widget-image")
            index, seconds = MID_RUN[name]
            wait_until(page, lambda p, views=views, index=index: views.count() > index)
            views.nth(index).scroll_into_view_if_needed()
            page.wait_for_timeout(seconds * 1000)  # into the stream
            views.nth(index).scroll_into_view_if_needed()
            page.screenshot(path=str(shots / f"{name}-mid-run.png"))
        wait_until(page, finished)
        text = page_text(page)
        assert "Traceback" not in text and "Error displaying widget" not in text, f"{name}:\n{text[-3000:]}"
        assert "WARN" not in text and "without encryption" not in text, name
        if name in MID_RUN:
            views = page.locator(f"{NOTEBOOK} .jp-OutputArea-output .widget-image")
            views.nth(views.count() - 1).scroll_into_view_if_needed()
            page.screenshot(path=str(shots / f"{name}-end.png"))
        if name == "02_single_channel":
            drive_the_knobs_panel(page, shots)
        page.close()
        shut_down_kernels(lab)
    assert {p.name for p in shots.iterdir()} >= {f"{n}-{when}.png" for n in MID_RUN for when in ("mid-run", "end")}


def drive_the_knobs_panel(page, shots: Path) -> None:
    """Move the rate slider's value through the keyboard, press Run once, and see a result row appear."""
    run = page.locator(".widget-button", has_text="Run")
    run.scroll_into_view_if_needed()
    rows_before = page.locator(".widget-output table tbody tr").count()
    run.click()
    page.wait_for_selector(".widget-button:disabled", timeout=10_000)  # busy while it runs
    page.wait_for_selector(".widget-html:has-text('run 1 done')", timeout=RUN_TIMEOUT_S * 1000)
    assert page.locator(".widget-output table tbody tr").count() > rows_before
    assert not page.locator(".widget-button", has_text="Run").is_disabled()
    text = page_text(page)
    assert "Traceback" not in text and "failed" not in page.locator(".widget-html").all_inner_texts()[-1]
    page.screenshot(path=str(shots / "02_single_channel-panel.png"))
