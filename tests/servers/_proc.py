"""Generic building blocks for the integration-test servers.

Every concrete server module (httpbin, nginx, and later WireMock, a forward
proxy, an OAuth2 server, ...) is written in the same style on top of this:

* :func:`free_port` picks a free TCP port on 127.0.0.1;
* probes (:func:`tcp_probe`, :func:`http_probe`, :func:`all_of`) say whether a
  server answers yet;
* :class:`ManagedProcess` starts a command with its output in a log file,
  polls a probe until the server is ready (bounded, with the log tail in the
  error), and stops it (signal, wait, then SIGKILL to its whole process
  group, so no orphans are left behind);
* :class:`InProcessWSGIServer` serves a WSGI app from a daemon thread, for
  fallbacks that cannot run as a child process;
* :func:`retry_on_port_conflict` retries a start whose port was taken in the
  short window between :func:`free_port` and the server binding it.

Errors derive from :class:`HarnessError`; the pytest fixtures turn them into
skips (or failures under ``CI=true``).
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import ctypes.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any, TypeVar

LOCALHOST = "127.0.0.1"
POLL_INTERVAL = 0.05
"""Seconds between two readiness polls."""

Probe = Callable[[], bool]
T = TypeVar("T")


class HarnessError(RuntimeError):
    """A test server cannot be provided."""


class ServerUnavailable(HarnessError):
    """A prerequisite of a server (a binary, a Python package) is missing."""


class ServerStartError(HarnessError):
    """A server was launched but did not become ready."""


def start_timeout() -> float:
    """Seconds a server may take to become ready (``MYCLIENT_SERVER_START_TIMEOUT``)."""
    raw = os.environ.get("MYCLIENT_SERVER_START_TIMEOUT", "").strip()
    try:
        value = float(raw) if raw else 15.0
    except ValueError:
        value = 15.0
    return value if value > 0 else 15.0


def free_port(host: str = LOCALHOST) -> int:
    """Return a TCP port on ``host`` that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def find_executable(name: str, *, env_var: str | None = None, candidates: Iterable[str] = ()) -> str:
    """Locate the binary ``name``.

    ``env_var`` (if set in the environment) overrides the search and must point
    to an executable file; otherwise ``candidates`` are tried, then ``PATH``.
    Raises :class:`ServerUnavailable` when nothing is found.
    """
    if env_var:
        override = os.environ.get(env_var, "").strip()
        if override:
            if os.path.isfile(override) and os.access(override, os.X_OK):
                return override
            raise ServerUnavailable(f"{env_var}={override!r} does not name an executable file")
    for candidate in candidates:
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which(name)
    if found:
        return found
    where = ", ".join([*candidates, "PATH"])
    hint = f" (or set {env_var})" if env_var else ""
    raise ServerUnavailable(f"{name} not found in {where}{hint}")


# --------------------------------------------------------------------- probes


def tcp_probe(host: str, port: int, timeout: float = 0.5) -> Probe:
    """Probe: a TCP connection to ``host:port`` succeeds."""

    def probe() -> bool:
        try:
            with socket.create_connection((host, port), timeout=timeout):
                return True
        except OSError:
            return False

    return probe


# No proxies from the environment: probes only ever talk to 127.0.0.1 directly.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def http_probe(url: str, *, ok_statuses: Collection[int] | None = None, timeout: float = 1.0) -> Probe:
    """Probe: an HTTP GET of ``url`` gets an answer.

    Any HTTP status counts unless ``ok_statuses`` is given.
    """

    def probe() -> bool:
        try:
            with _OPENER.open(url, timeout=timeout) as response:
                status: int = response.status
        except urllib.error.HTTPError as exc:
            status = exc.code
        except (OSError, ValueError):
            return False
        return ok_statuses is None or status in ok_statuses

    return probe


def all_of(*probes: Probe) -> Probe:
    """Probe: every one of ``probes`` succeeds."""

    def probe() -> bool:
        return all(p() for p in probes)

    return probe


def tail(path: Path, lines: int = 40) -> str:
    """The last ``lines`` lines of the text file ``path`` ('' if unreadable)."""
    try:
        with path.open("rb") as fh:
            fh.seek(0, os.SEEK_END)
            fh.seek(max(0, fh.tell() - 64 * 1024))
            data = fh.read()
    except OSError:
        return ""
    return "\n".join(data.decode("utf-8", "replace").splitlines()[-lines:])


# ----------------------------------------------------------- child processes

_PR_SET_PDEATHSIG = 1
_LIBC: Any = None
if sys.platform.startswith("linux"):
    with contextlib.suppress(OSError):
        _LIBC = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)


def _die_with_parent() -> None:
    """In the child: get SIGTERM if the test process dies without cleaning up."""
    if _LIBC is not None:
        _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


_LIVE: set[ManagedProcess] = set()
_LIVE_LOCK = threading.Lock()


@atexit.register
def _stop_leftovers() -> None:
    with _LIVE_LOCK:
        leftovers = list(_LIVE)
    for proc in leftovers:
        with contextlib.suppress(Exception):
            proc.stop(timeout=2.0)


class ManagedProcess:
    """A server run as a child process, in its own process group.

    Its stdout and stderr go to ``log_path``; ``extra_logs`` are further files
    the server writes itself (e.g. nginx's error log), included in
    :meth:`log_tail`.  ``ready`` is polled by :meth:`wait_ready`.
    """

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        *,
        log_path: Path,
        ready: Probe,
        cwd: Path | None = None,
        env: Mapping[str, str] | None = None,
        extra_logs: Sequence[Path] = (),
        stop_signal: signal.Signals = signal.SIGTERM,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.log_path = log_path
        self.ready = ready
        self.cwd = cwd
        self.env = dict(env) if env is not None else None
        self.extra_logs = list(extra_logs)
        self.stop_signal = stop_signal
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    def __repr__(self) -> str:
        return f"<ManagedProcess {self.name} pid={self.pid}>"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> ManagedProcess:
        """Launch the command (does not wait for readiness)."""
        if self._proc is not None:
            raise RuntimeError(f"{self.name} already started")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("ab")
        # PDEATHSIG is tied to the forking *thread*: only use it from the main one.
        preexec = _die_with_parent if threading.current_thread() is threading.main_thread() else None
        try:
            self._proc = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=self._log,
                stderr=subprocess.STDOUT,
                cwd=self.cwd,
                env=self.env,
                start_new_session=True,
                preexec_fn=preexec,  # only calls prctl(): safe after fork
            )
        except OSError as exc:
            self._log.close()
            self._log = None
            raise ServerUnavailable(f"cannot run {self.argv[0]}: {exc}") from exc
        with _LIVE_LOCK:
            _LIVE.add(self)
        return self

    def wait_ready(self, timeout: float | None = None) -> ManagedProcess:
        """Poll the readiness probe until it succeeds.

        Raises :class:`ServerStartError` (after stopping the process) if the
        process exits or is not ready within ``timeout`` seconds.
        """
        proc = self._proc
        if proc is None:
            raise RuntimeError(f"{self.name} not started")
        limit = start_timeout() if timeout is None else timeout
        deadline = time.monotonic() + limit
        while True:
            code = proc.poll()
            if code is not None:
                problem = f"exited with code {code} before it was ready"
                break
            try:
                if self.ready():
                    return self
            except Exception:  # noqa: BLE001 - a probe must not abort the wait
                pass
            if time.monotonic() >= deadline:
                problem = f"was not ready within {limit:.1f}s"
                break
            time.sleep(POLL_INTERVAL)
        self.stop()
        raise ServerStartError(
            f"{self.name} {problem}; command: {' '.join(self.argv)}\n--- log tail ---\n{self.log_tail()}"
        )

    def start_and_wait(self, timeout: float | None = None) -> ManagedProcess:
        """:meth:`start`, then :meth:`wait_ready`."""
        return self.start().wait_ready(timeout)

    def stop(self, timeout: float = 5.0) -> int | None:
        """Stop the server and everything in its process group.

        Sends ``stop_signal``, waits up to ``timeout`` seconds, then SIGKILLs
        the whole group. Returns the exit code (``None`` if never started).
        Safe to call more than once.
        """
        proc = self._proc
        if proc is None:
            return None
        try:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.send_signal(self.stop_signal)
                try:
                    proc.wait(timeout)
                except subprocess.TimeoutExpired:
                    self._kill_group(proc.pid)
                    proc.wait(timeout)
            self._reap_group(proc.pid, timeout)
        finally:
            if self._log is not None:
                self._log.close()
                self._log = None
            with _LIVE_LOCK:
                _LIVE.discard(self)
        return proc.returncode

    @staticmethod
    def _kill_group(pgid: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGKILL)

    @classmethod
    def _reap_group(cls, pgid: int, timeout: float) -> None:
        """Wait for stragglers in the (leaderless) group; SIGKILL them if needed."""
        deadline = time.monotonic() + timeout
        killed = False
        while True:
            try:
                os.killpg(pgid, 0)
            except (ProcessLookupError, PermissionError):
                return
            now = time.monotonic()
            if now >= deadline:
                if killed:
                    return  # only unreaped zombies can be left; nothing more to do
                cls._kill_group(pgid)
                killed = True
                deadline = now + 1.0
            time.sleep(POLL_INTERVAL)

    def log_tail(self, lines: int = 40) -> str:
        """The last lines of the process output and of each extra log."""
        parts = []
        for path in [self.log_path, *self.extra_logs]:
            text = tail(path, lines)
            if text:
                parts.append(f"[{path.name}]\n{text}")
        return "\n".join(parts) or "(no output)"

    def __enter__(self) -> ManagedProcess:
        return self if self._proc is not None else self.start_and_wait()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def retry_on_port_conflict(start: Callable[[], T], attempts: int = 3) -> T:
    """Call ``start`` again (it should pick new ports) if its port was taken."""
    for attempt in range(1, attempts + 1):
        try:
            return start()
        except ServerStartError as exc:
            if attempt == attempts or "in use" not in str(exc).lower():
                raise
    raise AssertionError("unreachable")


# ---------------------------------------------------------- in-process WSGI


class InProcessWSGIServer:
    """A WSGI app served by werkzeug's threaded server in a daemon thread."""

    def __init__(self, name: str, app: Callable[..., Any], host: str = LOCALHOST) -> None:
        try:
            from werkzeug.serving import WSGIRequestHandler, make_server
        except ImportError as exc:
            raise ServerUnavailable(f"werkzeug is not installed: {exc}") from exc

        class QuietHandler(WSGIRequestHandler):
            def log(self, *args: Any, **kwargs: Any) -> None:
                """Drop werkzeug's per-request log lines."""

        self.name = name
        try:
            self._server = make_server(host, 0, app, threaded=True, request_handler=QuietHandler)
        except OSError as exc:
            raise ServerStartError(f"{name}: cannot bind {host}: {exc}") from exc
        self.host = host
        self.port: int = self._server.server_port
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"{name}-wsgi",
            daemon=True,
        )
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Shut the server down and join its thread (idempotent)."""
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(timeout)
        self._server.server_close()
