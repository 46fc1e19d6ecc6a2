"""httpbin (PyPI ``httpbin`` 0.10.x), the HTTP echo service the tests talk to.

:func:`start_httpbin` runs it under gunicorn (``-k gthread``) on a free port of
127.0.0.1. If gunicorn is missing or cannot start it, httpbin is served
in-process by werkzeug's threaded server instead (with a ``RuntimeWarning``).
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import subprocess
import sys
import warnings
from pathlib import Path

from ._proc import (
    LOCALHOST,
    HarnessError,
    InProcessWSGIServer,
    ManagedProcess,
    ServerUnavailable,
    free_port,
    http_probe,
    retry_on_port_conflict,
)


class HttpbinServer:
    """A running httpbin; ``url`` is like ``http://127.0.0.1:PORT``."""

    def __init__(
        self,
        url: str,
        backend: str,
        process: ManagedProcess | None = None,
        in_process: InProcessWSGIServer | None = None,
    ) -> None:
        self.url = url
        self.backend = backend
        """``"gunicorn"`` or ``"werkzeug"`` (in-process fallback)."""
        self.process = process
        self._in_process = in_process

    def __repr__(self) -> str:
        return f"<HttpbinServer {self.url} via {self.backend}>"

    def log_tail(self, lines: int = 40) -> str:
        return self.process.log_tail(lines) if self.process else "(in-process server: no log)"

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()
        if self._in_process is not None:
            self._in_process.stop()


@functools.lru_cache(maxsize=1)
def gunicorn_supports_no_control_socket() -> bool:
    """Whether the installed gunicorn knows ``--no-control-socket``."""
    try:
        result = subprocess.run(
            [sys.executable, "-m", "gunicorn", "--help"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return b"--no-control-socket" in result.stdout


def _start_gunicorn(workdir: Path, timeout: float | None) -> HttpbinServer:
    port = free_port()
    url = f"http://{LOCALHOST}:{port}"
    argv = [sys.executable, "-m", "gunicorn", "-k", "gthread", "--threads", "8", "-w", "1"]
    if gunicorn_supports_no_control_socket():
        argv.append("--no-control-socket")
    argv += [
        "-b", f"{LOCALHOST}:{port}",
        "--worker-tmp-dir", str(workdir),
        "--graceful-timeout", "3",
        "--access-logfile", "-",
        "--error-logfile", "-",
        "httpbin:app",
    ]  # fmt: skip
    process = ManagedProcess(
        "httpbin (gunicorn)",
        argv,
        log_path=workdir / "gunicorn.log",
        ready=http_probe(f"{url}/get", ok_statuses={200}),
        cwd=workdir,
    )
    process.start_and_wait(timeout)
    return HttpbinServer(url, "gunicorn", process=process)


def _start_in_process() -> HttpbinServer:
    app = importlib.import_module("httpbin").app
    server = InProcessWSGIServer("httpbin", app)
    return HttpbinServer(f"http://{server.host}:{server.port}", "werkzeug", in_process=server)


def start_httpbin(workdir: Path, *, timeout: float | None = None) -> HttpbinServer:
    """Start httpbin, preferring gunicorn; files go under ``workdir``."""
    if importlib.util.find_spec("httpbin") is None:
        raise ServerUnavailable("the Python package 'httpbin' is not installed")
    workdir.mkdir(parents=True, exist_ok=True)
    if importlib.util.find_spec("gunicorn") is None:
        problem = "the Python package 'gunicorn' is not installed"
    else:
        try:
            return retry_on_port_conflict(lambda: _start_gunicorn(workdir, timeout))
        except HarnessError as exc:
            problem = str(exc)
    warnings.warn(
        f"httpbin runs in-process (werkzeug) because gunicorn cannot: {problem}",
        RuntimeWarning,
        stacklevel=2,
    )
    return _start_in_process()
