"""Prism (npm package ``@stoplight/prism-cli`` 5.14.2) mocking one OpenAPI document on 127.0.0.1.

:func:`start_prism` runs ``node <prism-cli>/dist/index.js mock -h 127.0.0.1 -p PORT -v LEVEL
[--errors] [-d --seed SEED] DOCUMENT`` with its output in a log file. Prism listens only once the
whole document is loaded (1 to 12 s). Ready means a CORS preflight with a fresh token in
``Access-Control-Request-Method`` comes back 204 with that token echoed: Prism answers preflights
without logging them, and a mere TCP connection would also be accepted by whatever else took the
port meanwhile. 5.14.2 is pinned because 5.15 and later need Node 24;
its ``@stoplight/prism-core``/``-http``/``-http-server`` are pinned beside it in ``tests/run.sh``.
:class:`PrismPool` keeps one server per (document, options) for a session.

Whether Prism rejected a request: :func:`~servers.prism_verdict.judge` on each response (exact),
:meth:`PrismServer.log_report` over a stretch of the log (a cross-check). The log is written through
an in-process stream a moment after the response, so reading it first puts a marker request in it
and waits for that (:meth:`PrismServer.mark`). ``verbose="warn"`` keeps every line the report
counts but drops the per-request chatter; ``error`` is the quietest level the marker works with.

Prism is ``MYCLIENT_PRISM`` (its CLI script) if set, else ``node_modules/@stoplight/prism-cli`` under
``MYCLIENT_NPM_DIR`` (default ``.tmp/npm``); node is ``MYCLIENT_NODE`` if set, else ``node`` on PATH.
"""

from __future__ import annotations

import json
import os
import secrets
import time
import urllib.error
import urllib.request
from collections import OrderedDict
from pathlib import Path

from ._proc import (
    LOCALHOST,
    POLL_INTERVAL,
    HarnessError,
    ManagedProcess,
    Probe,
    ServerUnavailable,
    free_port,
    retry_on_port_conflict,
    start_timeout,
)
from .jsonserver import find_node
from .prism_verdict import MARK_PATH, LogReport, parse_log
from .specs import SPEC_NAMES, named_spec
from .wiremock import npm_dir

#: The version the tests are written against (pinned in tests/run.sh).
PRISM_VERSION = "5.14.2"
#: Seconds Prism may take to load a document and listen (the GitHub ones take about 10).
MIN_START_TIMEOUT = 120.0


def find_prism() -> Path:
    """Path of Prism's CLI script (``MYCLIENT_PRISM`` overrides), refusing any major but 5."""
    override = os.environ.get("MYCLIENT_PRISM", "").strip()
    if override:
        if not Path(override).is_file():
            raise ServerUnavailable(f"MYCLIENT_PRISM={override!r} is not a file")
        return Path(override)
    package = npm_dir() / "node_modules" / "@stoplight" / "prism-cli"
    manifest = package / "package.json"
    hint = f"run `bash tests/run.sh` or `npm install --prefix {npm_dir()} @stoplight/prism-cli@{PRISM_VERSION}`"
    if not manifest.is_file():
        raise ServerUnavailable(f"Prism is not installed under {npm_dir()}; {hint}")
    version = str(json.loads(manifest.read_text(encoding="utf-8")).get("version", "?"))
    if not version.startswith("5."):
        raise ServerUnavailable(f"Prism {version} under {npm_dir()}; the tests need {PRISM_VERSION}: {hint}")
    return package / "dist" / "index.js"


class PrismServer:
    """A running ``prism mock``; ``url`` is like ``http://127.0.0.1:PORT``, ``spec`` the document."""

    def __init__(
        self,
        url: str,
        spec: Path,
        process: ManagedProcess,
        *,
        errors: bool,
        dynamic: bool,
        seed: str | None,
        startup_seconds: float,
    ) -> None:
        self.url = url
        self.spec = spec
        self.process = process
        self.errors = errors
        self.dynamic = dynamic
        self.seed = seed
        self.startup_seconds = startup_seconds
        """Seconds from launching node to Prism accepting connections (the document loaded)."""

    def __repr__(self) -> str:
        mode = " -d --seed " + str(self.seed) if self.dynamic else ""
        return f"<PrismServer {self.url} {self.spec.name}{' --errors' if self.errors else ''}{mode}>"

    @property
    def log_path(self) -> Path:
        return self.process.log_path

    def mark(self, timeout: float = 10.0) -> int:
        """Put a marker in the log and return the byte offset just after it.

        The marker is a ``PROPFIND`` (a method no OpenAPI operation has) to a path under
        :data:`~servers.prism_verdict.MARK_PATH`, so Prism routes it to an error without
        validating anything and logs ``Request terminated with error`` with its path. Prism
        handles and logs requests in order, so once that line is in the file, so is every line
        of every request answered before. :func:`parse_log` leaves marker lines out.
        """
        start = self.log_path.stat().st_size if self.log_path.exists() else 0
        path = f"{MARK_PATH}{secrets.token_hex(8)}"
        request = urllib.request.Request(f"{self.url}{path}", method="PROPFIND")
        try:
            with _OPENER.open(request, timeout=timeout):
                pass
        except urllib.error.HTTPError:
            pass  # 404 or 405: what the marker gets
        except OSError as exc:
            raise HarnessError(f"{self}: the log marker request failed: {exc}\n{self.log_tail()}") from exc
        needle = f"{path} ".encode()
        deadline = time.monotonic() + timeout
        while True:
            with self.log_path.open("rb") as fh:
                fh.seek(start)
                data = fh.read()
            for line in data.splitlines(keepends=True):
                start += len(line)
                if needle in line and b"Request terminated with error" in line and line.endswith(b"\n"):
                    return start
                if not line.endswith(b"\n"):
                    start -= len(line)  # a line still being written: read it again
            if time.monotonic() >= deadline:
                raise HarnessError(f"{self}: the log marker {path} did not show up in {self.log_path}")
            time.sleep(POLL_INTERVAL)

    def log_position(self) -> int:
        """Where the log is now (a :meth:`mark`): pass it to :meth:`log_report` later."""
        return self.mark()

    def log_text(self, since: int = 0) -> str:
        """The log from byte ``since`` up to a fresh :meth:`mark` (every request so far included)."""
        end = self.mark()
        with self.log_path.open("rb") as fh:
            fh.seek(since)
            return fh.read(max(0, end - since)).decode("utf-8", "replace")

    def log_report(self, since: int = 0) -> LogReport:
        """:func:`parse_log` of the log from byte ``since`` up to now."""
        return parse_log(self.log_text(since))

    def memory(self) -> tuple[int, int]:
        """Prism's resident memory now and at its peak, in bytes (Linux ``/proc``; 0 if unknown)."""
        values = {"VmRSS": 0, "VmHWM": 0}
        try:
            status = Path(f"/proc/{self.process.pid}/status").read_text(encoding="ascii")
        except OSError:
            return 0, 0
        for line in status.splitlines():
            key, _, rest = line.partition(":")
            if key in values:
                values[key] = int(rest.split()[0]) * 1024
        return values["VmRSS"], values["VmHWM"]

    def log_tail(self, lines: int = 40) -> str:
        return self.process.log_tail(lines)

    def stop(self) -> None:
        self.process.stop()


# No proxies from the environment: the probe only ever talks to 127.0.0.1 directly.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def preflight_probe(url: str) -> Probe:
    """Probe: a CORS preflight to ``url`` is answered by Prism itself (204, our token echoed)."""
    token = f"PROBE-{secrets.token_hex(8)}"
    request = urllib.request.Request(
        f"{url}/", method="OPTIONS", headers={"Origin": url, "Access-Control-Request-Method": token}
    )

    def probe() -> bool:
        try:
            with _OPENER.open(request, timeout=1.0) as response:
                status: int = response.status
                echoed: str | None = response.headers.get("Access-Control-Allow-Methods")
        except (OSError, ValueError):
            return False
        return status == 204 and echoed == token

    return probe


def prism_argv(
    node: str, script: Path, spec: Path, port: int, *, errors: bool, dynamic: bool, seed: str | None, verbose: str
) -> list[str]:
    """The command line :func:`start_prism` runs."""
    argv = [node, str(script), "mock", "-h", LOCALHOST, "-p", str(port), "-v", verbose]
    if errors:
        argv.append("--errors")
    if dynamic:
        argv.append("-d")
        if seed is not None:
            argv += ["--seed", seed]
    return [*argv, str(spec)]


def start_prism(
    spec: Path,
    workdir: Path,
    *,
    errors: bool = True,
    dynamic: bool = False,
    seed: str | int | None = None,
    verbose: str = "info",
    timeout: float | None = None,
    port: int | None = None,
) -> PrismServer:
    """Start ``prism mock`` for ``spec``; its log goes to ``workdir/prism-<name>-<port>.log``.

    ``errors`` answers 500 when Prism's own response breaks the spec; ``dynamic`` generates
    responses from the schemas (deterministic for a given ``seed``) instead of the examples.
    ``port`` is a free one of 127.0.0.1 unless given (then a port conflict is not retried).
    """
    script = find_prism()
    node = find_node()
    if not spec.is_file():
        raise ServerUnavailable(f"no OpenAPI document at {spec}")
    workdir.mkdir(parents=True, exist_ok=True)
    seed_text = None if seed is None else str(seed)
    limit = timeout if timeout is not None else max(start_timeout(), MIN_START_TIMEOUT)
    # No colours in the log, whatever the environment asks for: it is parsed.
    env = {**os.environ, "NO_COLOR": "1", "FORCE_COLOR": "0"}

    def start() -> PrismServer:
        chosen = free_port() if port is None else port
        url = f"http://{LOCALHOST}:{chosen}"
        argv = prism_argv(node, script, spec, chosen, errors=errors, dynamic=dynamic, seed=seed_text, verbose=verbose)
        process = ManagedProcess(
            "prism",
            argv,
            log_path=workdir / f"prism-{spec.stem}-{chosen}.log",
            ready=preflight_probe(url),
            cwd=workdir,
            env=env,
        )
        began = time.monotonic()
        process.start_and_wait(limit)
        return PrismServer(
            url, spec, process, errors=errors, dynamic=dynamic, seed=seed_text, startup_seconds=time.monotonic() - began
        )

    return start() if port is not None else retry_on_port_conflict(start)


class PrismPool:
    """Prism servers started on demand, one per (document, options), reused until evicted.

    At most ``max_running`` stay up: starting one more stops the least recently requested
    (a GitHub one holds about 300 MiB), so a test must not use more than that many at once.
    """

    def __init__(self, workdir: Path, *, max_running: int = 6) -> None:
        self.workdir = workdir
        self.max_running = max_running
        self._running: OrderedDict[tuple[Path, bool, bool, str | None, str], PrismServer] = OrderedDict()

    def __repr__(self) -> str:
        return f"<PrismPool {len(self._running)} running, at most {self.max_running}>"

    def get(
        self,
        spec: str | Path,
        *,
        errors: bool = True,
        dynamic: bool = False,
        seed: str | int | None = None,
        verbose: str = "info",
    ) -> PrismServer:
        """A running Prism for ``spec`` (a name from :data:`~servers.specs.SPEC_NAMES` or a path)."""
        path = named_spec(spec) if isinstance(spec, str) and spec in SPEC_NAMES else Path(spec)
        key = (path.resolve(), errors, dynamic, None if seed is None or not dynamic else str(seed), verbose)
        server = self._running.get(key)
        if server is not None and server.process.running:
            self._running.move_to_end(key)
            return server
        self._running.pop(key, None)
        while len(self._running) >= max(1, self.max_running):
            _, oldest = self._running.popitem(last=False)
            oldest.stop()
        server = start_prism(path, self.workdir, errors=errors, dynamic=dynamic, seed=seed, verbose=verbose)
        self._running[key] = server
        return server

    def stop(self) -> None:
        """Stop every server (idempotent)."""
        while self._running:
            _, server = self._running.popitem()
            server.stop()
