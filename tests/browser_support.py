"""What the browser tests share: Debian's Chromium, a live server for an app, logging in."""
from __future__ import annotations

import contextlib
import gc
import os
import shutil
import threading
from collections.abc import Iterator

import pytest
from conftest import PASSWORD
from werkzeug.serving import make_server

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync",
]

if CHROMIUM is None and os.environ.get("CI"):
    raise RuntimeError("CI must run the browser tests: .ci/run installs Debian's chromium")

BROWSER_MARKS = [
    pytest.mark.browser,
    # The browser drops requests it no longer needs (a favicon when a page is left quickly); the
    # test server's thread then leaves the static file for the garbage collector to close.
    pytest.mark.filterwarnings("ignore:Exception ignored in:pytest.PytestUnraisableExceptionWarning"),
    pytest.mark.skipif(CHROMIUM is None, reason="Chromium not installed (apt-get install chromium)"),
]


@contextlib.contextmanager
def serve(app) -> Iterator[str]:
    """Serve `app` on a free local port in a thread; yield its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()
        gc.collect()  # close what dropped requests left behind while the module's warning filter applies


@contextlib.contextmanager
def chromium():
    """Start Playwright and Debian's Chromium; yield the browser, close both afterwards."""
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def log_in(page, base, email="learner@example.com"):
    page.goto(base + "/")
    page.get_by_label("邮箱").fill(email)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
