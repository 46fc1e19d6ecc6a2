"""A real Redis server for the integration tests (Debian's ``redis-server``).

:func:`start_redis` runs one ``redis-server`` in the foreground (a child
process, every file under the given directory) on a free port of 127.0.0.1,
without any config file (Debian's ``/etc/redis/redis.conf`` and its service
on port 6379 are never used), without persistence (``--save ''``,
``--appendonly no``) and optionally with ``requirepass``.

The :class:`RedisServer` it returns can be taken down and brought back on the
same port (:meth:`~RedisServer.stop` / :meth:`~RedisServer.start`, for
"Redis went away mid-run" tests; the data is gone after a restart), and made
to hang for a while (:meth:`~RedisServer.pause`: SIGSTOP/SIGCONT, or Redis'
own ``CLIENT PAUSE``). It talks to the server through a tiny RESP client of its
own (:meth:`~RedisServer.command`), so the harness does not need the ``redis``
Python package: :meth:`~RedisServer.flushall`, :meth:`~RedisServer.info`,
:meth:`~RedisServer.commandstats` (``INFO commandstats``, e.g. to count the
``SET`` calls a lock made), :meth:`~RedisServer.reset_stats`.

redis-server is ``MYCLIENT_REDIS_SERVER`` if set, else
``/usr/bin/redis-server``, else ``PATH``.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Literal, Union
from urllib.parse import quote

from ._proc import LOCALHOST, HarnessError, ManagedProcess, ServerStartError, find_executable, free_port

#: A decoded RESP2 reply: simple/bulk strings as ``str``, ``None`` for nil, nested lists for arrays.
Reply = Union[str, int, None, list["Reply"]]

PauseHow = Literal["stop", "client"]


class RedisReplyError(HarnessError):
    """Redis answered a harness command with an error reply (``-ERR ...``)."""


def find_redis_server() -> str:
    """Path of the redis-server binary (``MYCLIENT_REDIS_SERVER`` overrides)."""
    return find_executable("redis-server", env_var="MYCLIENT_REDIS_SERVER", candidates=["/usr/bin/redis-server"])


# ------------------------------------------------------------ a tiny RESP client


def _encode(args: tuple[str | bytes | int, ...]) -> bytes:
    parts = [f"*{len(args)}\r\n".encode()]
    for arg in args:
        data = arg if isinstance(arg, bytes) else str(arg).encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)


def _read_reply(fh: IO[bytes]) -> Reply:
    line = fh.readline()
    if not line.endswith(b"\r\n"):
        raise ConnectionError("redis closed the connection")
    kind, body = line[:1], line[1:-2].decode("utf-8", "replace")
    if kind == b"+":
        return body
    if kind == b"-":
        raise RedisReplyError(body)
    if kind == b":":
        return int(body)
    if kind == b"$":
        size = int(body)
        if size < 0:
            return None
        data = fh.read(size + 2)
        return data[:-2].decode("utf-8", "replace")
    if kind == b"*":
        count = int(body)
        return None if count < 0 else [_read_reply(fh) for _ in range(count)]
    raise ConnectionError(f"unexpected reply from redis: {line!r}")


def redis_command(
    port: int, *args: str | bytes | int, password: str | None = None, timeout: float = 5.0, host: str = LOCALHOST
) -> Reply:
    """Send one command on a fresh connection (after ``AUTH`` if ``password``) and return its reply.

    Raises ``OSError`` (refused, timed out, closed) or :class:`RedisReplyError`.
    """
    with socket.create_connection((host, port), timeout=timeout) as sock, sock.makefile("rb") as fh:
        if password is not None:
            sock.sendall(_encode(("AUTH", password)))
            _read_reply(fh)
        sock.sendall(_encode(args))
        return _read_reply(fh)


# ----------------------------------------------------------------- the server


class RedisServer:
    """A harness-owned redis-server on ``127.0.0.1:port`` that can be stopped, restarted and paused."""

    def __init__(self, binary: str, directory: Path, port: int, password: str | None, timeout: float | None) -> None:
        self.binary = binary
        self.directory = directory
        self.port = port
        self.password = password
        self.host = LOCALHOST
        self._timeout = timeout
        self.process: ManagedProcess | None = None
        self._lock = threading.Lock()
        self._stopped: ManagedProcess | None = None  # the process held by SIGSTOP, if any
        self._resume_timer: threading.Timer | None = None
        self._client_pause_until = 0.0

    def __repr__(self) -> str:
        pid = self.process.pid if self.process is not None else None
        return f"<RedisServer {self.url} pid={pid} running={self.running}>"

    # --------------------------------------------------------------- addresses

    @property
    def url(self) -> str:
        """``redis://127.0.0.1:PORT/0`` (with ``:PASSWORD@`` when the server requires one)."""
        return self.url_for(0)

    def url_for(self, db: int = 0, *, password: str | None = None) -> str:
        """The URL of database ``db``; ``password`` overrides the real one (e.g. a wrong one)."""
        secret = self.password if password is None else password
        auth = f":{quote(secret, safe='')}@" if secret is not None else ""
        return f"redis://{auth}{self.host}:{self.port}/{db}"

    # ---------------------------------------------------------------- lifecycle

    @property
    def running(self) -> bool:
        """Whether the redis-server process is alive (it may still be paused)."""
        return self.process is not None and self.process.running

    def argv(self) -> list[str]:
        """The redis-server command line: no config file, no persistence, loopback only."""
        args = [
            self.binary,
            "--port", str(self.port),
            "--bind", self.host,
            "--dir", str(self.directory),
            "--save", "",
            "--appendonly", "no",
            "--daemonize", "no",
            "--logfile", "",
        ]  # fmt: skip
        if self.password is not None:
            args += ["--requirepass", self.password]
        return args

    def start(self) -> RedisServer:
        """Start redis-server (again) on :attr:`port` and wait until it answers ``PING``.

        The port is kept across restarts; if something else took it meanwhile
        this raises :class:`~._proc.ServerStartError`. A restarted server is empty.
        """
        if self.running:
            return self
        process = ManagedProcess(
            "redis-server",
            self.argv(),
            log_path=self.directory / "redis.log",
            ready=self._ping_probe,
            cwd=self.directory,
        )
        self.process = process
        process.start_and_wait(self._timeout)
        return self

    def _ping_probe(self) -> bool:
        try:
            return self.command("PING", timeout=1.0) == "PONG"
        except (OSError, HarnessError):
            return False

    def stop(self) -> None:
        """Stop redis-server (a paused one too); clients then get "connection refused". Idempotent."""
        self._cancel_resume_timer()
        self._continue()
        if self.process is not None:
            self.process.stop()

    def log_tail(self, lines: int = 40) -> str:
        return self.process.log_tail(lines) if self.process is not None else "(never started)"

    # ------------------------------------------------------------------- pause

    def pause(self, seconds: float, *, how: PauseHow = "stop") -> None:
        """Make the server hang for ``seconds``; returns at once, the server resumes by itself.

        ``how="stop"`` (SIGSTOP, then SIGCONT): the process freezes; the kernel
        still accepts TCP connections, but nothing is answered, not even
        ``AUTH``/``PING``, so clients time out (or hang without a timeout).
        :meth:`resume` ends it early.

        ``how="client"`` (``CLIENT PAUSE ms ALL``): Redis itself holds every
        client command until the time is up, then runs it, unless the client
        closed its connection meanwhile (as redis-py does on a timeout): then
        the command is dropped. Redis 7.0 holds ``CLIENT UNPAUSE`` as well, so
        :meth:`resume` can only wait for the end.
        """
        if seconds <= 0:
            raise ValueError("seconds must be positive")
        if how == "client":
            self.command("CLIENT", "PAUSE", str(max(1, round(seconds * 1000))), "ALL")
            self._client_pause_until = max(self._client_pause_until, time.monotonic() + seconds)
            return
        if how != "stop":
            raise ValueError(f"how must be 'stop' or 'client', got {how!r}")
        with self._lock:
            process = self.process
            if process is None or not process.running or process.pid is None:
                raise HarnessError("redis-server is not running")
            os.kill(process.pid, signal.SIGSTOP)
            self._stopped = process
        self._cancel_resume_timer()
        timer = threading.Timer(seconds, self._continue)
        timer.daemon = True
        self._resume_timer = timer
        timer.start()

    @contextlib.contextmanager
    def paused(self, seconds: float = 60.0, *, how: PauseHow = "stop") -> Iterator[RedisServer]:
        """:meth:`pause` for at most ``seconds``, :meth:`resume` on leaving the block."""
        self.pause(seconds, how=how)
        try:
            yield self
        finally:
            self.resume()

    def resume(self) -> None:
        """End a pause: SIGCONT now; for a ``CLIENT PAUSE``, wait until it is over."""
        self._cancel_resume_timer()
        self._continue()
        left = self._client_pause_until - time.monotonic()
        if left > 0 and self.running:
            time.sleep(left)

    @property
    def is_paused(self) -> bool:
        """Whether a pause (either kind) is in force."""
        return self._stopped is not None or self._client_pause_until > time.monotonic()

    def _continue(self) -> None:
        with self._lock:
            process, self._stopped = self._stopped, None
            if process is not None and process.running and process.pid is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(process.pid, signal.SIGCONT)

    def _cancel_resume_timer(self) -> None:
        timer, self._resume_timer = self._resume_timer, None
        if timer is not None:
            timer.cancel()

    # ---------------------------------------------------------------- commands

    def command(self, *args: str | bytes | int, timeout: float = 5.0) -> Reply:
        """Run one command as the harness (authenticated if needed) and return the decoded reply."""
        return redis_command(self.port, *args, password=self.password, timeout=timeout, host=self.host)

    def flushall(self) -> None:
        """Delete every key of every database."""
        self.command("FLUSHALL", "SYNC")

    def reset_stats(self) -> None:
        """``CONFIG RESETSTAT``: zero the command statistics (and the other INFO counters)."""
        self.command("CONFIG", "RESETSTAT")

    def info(self, section: str = "default") -> dict[str, str]:
        """``INFO section`` as ``{field: value}`` (values as text)."""
        text = self.command("INFO", section)
        if not isinstance(text, str):
            raise RedisReplyError(f"unexpected INFO reply: {text!r}")
        fields: dict[str, str] = {}
        for line in text.splitlines():
            if line and not line.startswith("#") and ":" in line:
                key, _, value = line.partition(":")
                fields[key] = value
        return fields

    def commandstats(self) -> dict[str, dict[str, float]]:
        """``INFO commandstats`` per command, lower-case (``"set"``, ``"client|pause"``).

        Each value has ``calls``, ``usec``, ``usec_per_call``, ``rejected_calls``
        and ``failed_calls``. A command never called since the last
        :meth:`reset_stats` is absent.
        """
        stats: dict[str, dict[str, float]] = {}
        for key, value in self.info("commandstats").items():
            if key.startswith("cmdstat_"):
                pairs = (item.partition("=") for item in value.split(","))
                stats[key.removeprefix("cmdstat_")] = {k: float(v) for k, _, v in pairs}
        return stats

    def calls(self, command: str) -> int:
        """How often ``command`` (e.g. ``"set"``, ``"evalsha"``) ran since the last :meth:`reset_stats`."""
        return int(self.commandstats().get(command.lower(), {}).get("calls", 0))

    def restore(self) -> RedisServer:
        """Bring the server back to a clean, answering state: resumed, running, empty, zeroed stats."""
        self.resume()
        self.start()
        self.flushall()
        self.reset_stats()
        return self


def start_redis(
    directory: Path, *, password: str | None = None, port: int | None = None, timeout: float | None = None
) -> RedisServer:
    """Start a redis-server with its files under ``directory`` on a free (or the given) port.

    ``password`` turns on ``requirepass``; ``password=""`` is refused (Redis
    would treat it as "no password").
    """
    if password is not None and (not password or any(c in password for c in "\r\n\0")):
        raise ValueError("password must be non-empty, without CR, LF or NUL")
    binary = find_redis_server()
    directory = directory.resolve()
    directory.mkdir(parents=True, exist_ok=True)
    attempts = 1 if port is not None else 3
    for attempt in range(1, attempts + 1):
        server = RedisServer(binary, directory, port or free_port(), password, timeout)
        try:
            return server.start()
        except ServerStartError as exc:
            if attempt == attempts or "address already in use" not in str(exc).lower():
                raise
    raise AssertionError("unreachable")


def random_password() -> str:
    """A fresh password for a ``requirepass`` server (URL-safe characters plus ``+`` and ``/``)."""
    return secrets.token_urlsafe(18) + "+/x"
