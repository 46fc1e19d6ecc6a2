"""tinyproxy as a real forward proxy: one open instance and one requiring Basic proxy authentication.

:func:`start_forward_proxies` runs two tinyproxy processes in the foreground
(``tinyproxy -d -c CONF``, as child processes, every file under the given
directory), each on a free port of 127.0.0.1 and accepting clients from
127.0.0.1 only:

* the open proxy (``Via: 1.1 myclient-open-proxy``);
* the authenticating proxy (``BasicAuth USER PASSWORD``;
  ``Via: 1.1 myclient-auth-proxy``). Without credentials it answers 407;
  with wrong ones tinyproxy before 1.11.2 answers 401 with
  ``WWW-Authenticate`` (tinyproxy/tinyproxy#532, fixed by #549).

Both forward only to ``127.0.0.1`` (a default-deny host filter) and accept
CONNECT only to the given ports (``ConnectPort``; tinyproxy 1.11 allows
every port when none is listed). Each writes its log (``LogLevel Info``: one
``Request (file descriptor N): GET http://... HTTP/1.1`` or ``CONNECT
HOST:PORT`` line per request) to its own file, readable through
:class:`ProxyLog`. tinyproxy closes the client connection after every
response. No ``User``/``Group`` directive: under root it keeps running as
root (with a warning), so it can write the per-run (mode 0700) directory.

tinyproxy is ``MYCLIENT_TINYPROXY`` if set, else ``/usr/bin/tinyproxy``,
else ``PATH``.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ._proc import (
    LOCALHOST,
    ManagedProcess,
    Probe,
    ServerStartError,
    ServerUnavailable,
    all_of,
    find_executable,
    free_port,
    tcp_probe,
)

PROXY_USER = "proxyuser"
PROXY_PASSWORD = "tp-S3cret.pw-4821"
OPEN_VIA = "myclient-open-proxy"
AUTH_VIA = "myclient-auth-proxy"
# tinyproxy's config grammar only accepts these characters in BasicAuth words.
_SAFE_WORD = re.compile(r"[A-Za-z0-9._-]+")


def find_tinyproxy() -> str:
    """Path of the tinyproxy binary (``MYCLIENT_TINYPROXY`` overrides)."""
    return find_executable("tinyproxy", env_var="MYCLIENT_TINYPROXY", candidates=["/usr/bin/tinyproxy"])


def tinyproxy_version(binary: str) -> tuple[int, ...]:
    """The version of ``binary`` (``tinyproxy -v``), e.g. ``(1, 11, 1)``."""
    try:
        out = subprocess.run(
            [binary, "-v"], capture_output=True, text=True, timeout=10, check=False
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError) as exc:
        raise ServerUnavailable(f"cannot run {binary} -v: {exc}") from exc
    match = re.search(r"(\d+)\.(\d+)(?:\.(\d+))?", out.stdout + out.stderr)
    if match is None:
        raise ServerUnavailable(f"cannot tell the version of {binary}: {(out.stdout + out.stderr).strip()!r}")
    return tuple(int(part) for part in match.groups("0"))


@dataclass(frozen=True)
class ProxyLog:
    """One tinyproxy log file: take a :meth:`mark`, send requests, then read what came :meth:`since`."""

    path: Path

    def text(self) -> str:
        """The whole log ('' before it exists)."""
        try:
            return self.path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def mark(self) -> int:
        """The log's current size, for :meth:`since`."""
        try:
            return self.path.stat().st_size
        except FileNotFoundError:
            return 0

    def since(self, mark: int) -> str:
        """What was logged after ``mark``."""
        try:
            with self.path.open("rb") as fh:
                fh.seek(mark)
                return fh.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def requests_since(self, mark: int) -> list[str]:
        """The request lines logged after ``mark``: ``"GET http://..."``, ``"CONNECT host:port"``."""
        found = re.findall(r"Request \(file descriptor \d+\): (\S+ \S+)", self.since(mark))
        return [str(line) for line in found]


@dataclass(frozen=True)
class ForwardProxy:
    """What a test needs to use the forward proxies (the ``forward_proxy`` fixture)."""

    proxy_url: str
    """The open proxy, ``http://127.0.0.1:PORT``."""
    auth_proxy_url: str
    """The authenticating proxy, without credentials (see :meth:`auth_url`)."""
    username: str
    password: str
    log: ProxyLog
    """The open proxy's log."""
    auth_log: ProxyLog
    """The authenticating proxy's log."""
    connect_ports: tuple[int, ...]
    """The only ports both proxies CONNECT to."""
    version: tuple[int, ...]
    """tinyproxy's version, e.g. ``(1, 11, 1)``."""
    open_via: str = OPEN_VIA
    auth_via: str = AUTH_VIA

    def auth_url(self, username: str | None = None, password: str | None = None) -> str:
        """The authenticating proxy's URL with userinfo (the real credentials unless given)."""
        user = self.username if username is None else username
        secret = self.password if password is None else password
        return self.auth_proxy_url.replace("http://", f"http://{user}:{secret}@", 1)

    @property
    def wrong_credentials_status(self) -> int:
        """What the authenticating proxy answers a plain-HTTP request with wrong credentials."""
        return 407 if self.version >= (1, 11, 2) else 401


def render_config(
    directory: Path,
    *,
    name: str,
    port: int,
    via: str,
    connect_ports: Sequence[int],
    credentials: tuple[str, str] | None = None,
) -> str:
    """The tinyproxy.conf text for one instance called ``name``."""
    if not _SAFE_WORD.fullmatch(name) or not re.fullmatch(r"[^\s\"]+", str(directory)):
        raise ValueError(f"unsafe name or directory for tinyproxy.conf: {name!r}, {str(directory)!r}")
    if not connect_ports or any(not 0 < p < 65536 for p in connect_ports):
        raise ValueError(f"connect_ports must be TCP ports, got {list(connect_ports)!r}")
    lines = [
        f"# Generated by tests/servers/tinyproxy.py for one test run ({name}).",
        f"Listen {LOCALHOST}",
        f"Port {port}",
        "Timeout 60",
        "MaxClients 64",
        f"Allow {LOCALHOST}",
        f'PidFile "{directory}/{name}.pid"',
        f'LogFile "{directory}/{name}.log"',
        "LogLevel Info",
        f'ViaProxyName "{via}"',
        # Whitelist: forward to 127.0.0.1 only (plain requests and CONNECT alike).
        f'Filter "{directory}/{name}.filter"',
        "FilterDefaultDeny Yes",
        *(f"ConnectPort {p}" for p in connect_ports),
    ]
    if credentials is not None:
        user, password = credentials
        if not (_SAFE_WORD.fullmatch(user) and _SAFE_WORD.fullmatch(password)):
            raise ValueError("proxy credentials may only use A-Z a-z 0-9 . _ -")
        lines.append(f"BasicAuth {user} {password}")
    return "\n".join(lines) + "\n"


class TinyproxyServers:
    """The two running tinyproxy instances; :attr:`info` is the fixture's :class:`ForwardProxy`."""

    def __init__(self, open_proxy: ManagedProcess, auth_proxy: ManagedProcess, info: ForwardProxy) -> None:
        self.open_proxy = open_proxy
        self.auth_proxy = auth_proxy
        self.info = info

    def __repr__(self) -> str:
        return (
            f"<TinyproxyServers open={self.info.proxy_url} pid={self.open_proxy.pid} "
            f"auth={self.info.auth_proxy_url} pid={self.auth_proxy.pid}>"
        )

    def log_tail(self, lines: int = 40) -> str:
        """Both instances' output and logs."""
        return f"{self.open_proxy.log_tail(lines)}\n{self.auth_proxy.log_tail(lines)}"

    def stop(self) -> None:
        """Stop both instances (idempotent)."""
        try:
            self.open_proxy.stop()
        finally:
            self.auth_proxy.stop()


def _logged(log: ProxyLog, mark: int, text: str) -> Probe:
    """Probe: ``text`` was logged after ``mark``."""

    def probe() -> bool:
        return text in log.since(mark)

    return probe


def _start_one(
    binary: str,
    directory: Path,
    name: str,
    via: str,
    connect_ports: Sequence[int],
    credentials: tuple[str, str] | None,
    timeout: float | None,
    attempts: int = 3,
) -> tuple[ManagedProcess, int]:
    """Start one instance, on a new free port again if its port was taken meanwhile.

    tinyproxy only says "Could not create listening sockets" (not "in use"), so
    :func:`retry_on_port_conflict` would not recognise the conflict.
    """
    for attempt in range(1, attempts + 1):
        try:
            return _start_on_free_port(binary, directory, name, via, connect_ports, credentials, timeout)
        except ServerStartError as exc:
            if attempt == attempts or "could not create listening sockets" not in str(exc).lower():
                raise
    raise AssertionError("unreachable")


def _start_on_free_port(
    binary: str,
    directory: Path,
    name: str,
    via: str,
    connect_ports: Sequence[int],
    credentials: tuple[str, str] | None,
    timeout: float | None,
) -> tuple[ManagedProcess, int]:
    port = free_port()
    log = ProxyLog(directory / f"{name}.log")
    (directory / f"{name}.filter").write_text("^127\\.0\\.0\\.1$\n", encoding="utf-8")
    config_path = directory / f"{name}.conf"
    config_path.write_text(
        render_config(directory, name=name, port=port, via=via, connect_ports=connect_ports, credentials=credentials),
        encoding="utf-8",
    )
    process = ManagedProcess(
        f"tinyproxy-{name}",
        [binary, "-d", "-c", str(config_path)],
        log_path=directory / f"{name}.out",
        extra_logs=[log.path],
        # Not the port alone: whoever took it meanwhile would answer that probe.
        ready=all_of(_logged(log, log.mark(), "Accepting connections"), tcp_probe(LOCALHOST, port)),
        cwd=directory,
    )
    process.start_and_wait(timeout)
    return process, port


def start_forward_proxies(
    directory: Path,
    *,
    connect_ports: Sequence[int],
    username: str = PROXY_USER,
    password: str = PROXY_PASSWORD,
    timeout: float | None = None,
) -> TinyproxyServers:
    """Start the open and the authenticating tinyproxy; every file goes under ``directory``."""
    binary = find_tinyproxy()
    version = tinyproxy_version(binary)
    if version < (1, 10):
        raise ServerUnavailable(f"tinyproxy {'.'.join(map(str, version))} has no BasicAuth (1.10 or newer needed)")
    directory = directory.resolve()
    directory.mkdir(parents=True, exist_ok=True)
    ports = tuple(connect_ports)
    open_proxy, open_port = _start_one(binary, directory, "open", OPEN_VIA, ports, None, timeout)
    try:
        auth_proxy, auth_port = _start_one(binary, directory, "auth", AUTH_VIA, ports, (username, password), timeout)
    except BaseException:
        open_proxy.stop()
        raise
    info = ForwardProxy(
        proxy_url=f"http://{LOCALHOST}:{open_port}",
        auth_proxy_url=f"http://{LOCALHOST}:{auth_port}",
        username=username,
        password=password,
        log=ProxyLog(directory / "open.log"),
        auth_log=ProxyLog(directory / "auth.log"),
        connect_ports=ports,
        version=version,
    )
    return TinyproxyServers(open_proxy, auth_proxy, info)
