"""Ralph (`ralph-malph` from PyPI), a real learning record store, for the LRS forwarding tests.

Installed on first use into a virtual environment of its own (its FastAPI and pydantic stay out of
the app's), kept between runs; started as its docs say for a server (uvicorn serving `ralph.api:app`,
configured by environment) with its file-system backend and HTTP Basic credentials made by `ralph
auth`, on a free port of 127.0.0.1; stopped afterwards. It can be stopped and started again on the
same port and data, as an LRS that is down for a while.
"""
from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import socket
import subprocess
import sys
import time
import venv
from collections.abc import Iterator
from pathlib import Path

import pytest

RALPH = "ralph-malph[cli,lrs]==5.1.0"
# Ralph 5.1's OpenID Connect module imports requests, which none of its extras lists.
PACKAGES = [RALPH, "requests"]
VENV = Path(os.environ.get("RALPH_VENV", Path.home() / ".cache" / "courseware-tests" / "ralph-5.1.0"))
USERNAME, PASSWORD = "courseware", "lrs-test-secret"
# Ralph 5.1's file-system store writes each POST with the "index" operation, which refuses a file that
# exists already: every POST after its first would fail (500). Its store is a file of JSON lines, so
# this server appends to it, with the backend's own "append" operation; the API above it is Ralph's.
SERVE = """
import sys
import uvicorn
from ralph.backends.data.base import BaseOperationType
from ralph.backends.lrs.fs import FSLRSBackend
FSLRSBackend.default_operation_type = BaseOperationType.APPEND
uvicorn.run("ralph.api:app", host="127.0.0.1", port=int(sys.argv[1]))
"""


def _install() -> Path:
    """The venv's Python, with Ralph installed (once; test workers starting together wait for one another)."""
    python = VENV / "bin" / "python"
    VENV.parent.mkdir(parents=True, exist_ok=True)
    with open(VENV.parent / f"{VENV.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        ready = VENV / "installed"
        if not ready.exists():
            venv.create(VENV, with_pip=True, clear=True)
            done = subprocess.run([python, "-m", "pip", "install", "-q", *PACKAGES], capture_output=True, text=True)
            if done.returncode != 0:
                reason = f"could not install {RALPH} into {VENV}: {done.stderr.strip()[-500:]}"
                if os.environ.get("CI"):
                    raise RuntimeError(reason)
                pytest.skip(reason)
            ready.write_text(RALPH)
    return python


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Ralph:
    """A Ralph LRS on 127.0.0.1; `url` is its xAPI base, as XAPI_LRS_URL is set."""

    def __init__(self, python: Path, folder: Path) -> None:
        self.python = python
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}/xAPI"
        self.environment = os.environ | {
            "RALPH_APP_DIR": str(folder / "app"),
            "RALPH_AUTH_FILE": str(folder / "auth.json"),
            "RALPH_RUNSERVER_BACKEND": "fs",
            "RALPH_BACKENDS__LRS__FS__DEFAULT_DIRECTORY_PATH": str(folder / "statements"),
        }
        self.process: subprocess.Popen | None = None
        self.log = folder / "ralph.log"
        subprocess.run(
            [python.parent / "ralph", "auth", "--write-to-disk", "-u", USERNAME, "-p", PASSWORD, "-s", "all",
             "-M", "mailto:lrs@example.com"],
            env=self.environment, check=True, capture_output=True,
        )

    def start(self) -> None:
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [self.python, "-c", SERVE, str(self.port)],
                env=self.environment, stdout=log, stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"Ralph stopped at start: {self.log.read_text()[-2000:]}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return
            if time.monotonic() > deadline:
                raise RuntimeError("Ralph did not start listening within 60 s")
            time.sleep(0.05)  # polling for the port, not timing anything

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None


@contextlib.contextmanager
def running_ralph(folder: Path) -> Iterator[Ralph]:
    """Install Ralph if needed, start it with an empty store in `folder`, and stop it afterwards."""
    folder.mkdir(parents=True, exist_ok=True)
    ralph = Ralph(_install(), folder)
    ralph.start()
    try:
        yield ralph
    finally:
        ralph.stop()


if __name__ == "__main__":  # python tests/ralph_server.py: install and start one by hand, e.g. to try the docs
    with running_ralph(Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/ralph")) as lrs:
        print(f"XAPI_LRS_URL={lrs.url} XAPI_LRS_USERNAME={USERNAME} XAPI_LRS_PASSWORD={PASSWORD}; Ctrl-C stops it")
        with contextlib.suppress(KeyboardInterrupt):
            signal.pause()
