"""WireMock standalone (npm package ``wiremock`` 3.x, which ships the jar) as a fault injector.

:func:`start_wiremock` runs ``java -jar wiremock-standalone-*.jar`` on a free port of 127.0.0.1
with its own ``--root-dir`` (so no mappings are loaded from anywhere else) and the request
journal on, since the tests count the requests it received. :class:`WireMockAdmin` is a small
typed client for the admin API (``/__admin``): stubs, scenarios, faults, request counts.

The jar is ``MYCLIENT_WIREMOCK_JAR`` if set, else the newest
``node_modules/wiremock/build/wiremock-standalone-*.jar`` under ``MYCLIENT_NPM_DIR`` (default:
``.tmp/npm`` in the repository), where ``tests/run.sh`` puts it with
``npm install --prefix <dir> wiremock@3``. Java is ``MYCLIENT_JAVA`` if set, else ``java`` on
``PATH``.
"""

from __future__ import annotations

import json
import os
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from ._proc import (
    LOCALHOST,
    HarnessError,
    ManagedProcess,
    ServerUnavailable,
    find_executable,
    free_port,
    http_probe,
    retry_on_port_conflict,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_NPM_DIR = REPO_ROOT / ".tmp" / "npm"
JAR_GLOB = "node_modules/wiremock/build/wiremock-standalone-*.jar"

#: JVM flags for a quick start and a small footprint (a short-lived, lightly loaded test server).
JVM_OPTIONS = ("-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-XX:-UsePerfData")

#: The socket faults WireMock can inject (``response.fault``).
Fault = Literal["CONNECTION_RESET_BY_PEER", "EMPTY_RESPONSE", "MALFORMED_RESPONSE_CHUNK", "RANDOM_DATA_THEN_CLOSE"]

#: A JSON object as the admin API takes and returns it.
JSONObject = dict[str, Any]

STARTED = "Started"
"""The state every WireMock scenario begins in (and returns to on reset)."""


def npm_dir() -> Path:
    """Directory WireMock is npm-installed into (``MYCLIENT_NPM_DIR``, default ``.tmp/npm``)."""
    override = os.environ.get("MYCLIENT_NPM_DIR", "").strip()
    return Path(override) if override else DEFAULT_NPM_DIR


def _version_key(jar: Path) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", jar.name))


def find_wiremock_jar() -> Path:
    """Path of the WireMock standalone jar (``MYCLIENT_WIREMOCK_JAR`` overrides)."""
    override = os.environ.get("MYCLIENT_WIREMOCK_JAR", "").strip()
    if override:
        if Path(override).is_file():
            return Path(override)
        raise ServerUnavailable(f"MYCLIENT_WIREMOCK_JAR={override!r} is not a file")
    base = npm_dir()
    jars = sorted(base.glob(JAR_GLOB), key=_version_key)
    if not jars:
        raise ServerUnavailable(
            f"no WireMock jar at {base / JAR_GLOB}; run `bash tests/run.sh` or "
            f"`npm install --prefix {base} wiremock@3` (or set MYCLIENT_WIREMOCK_JAR)"
        )
    return jars[-1]


def find_java() -> str:
    """Path of the java binary (``MYCLIENT_JAVA`` overrides)."""
    return find_executable("java", env_var="MYCLIENT_JAVA")


class WireMockAdmin:
    """Typed client for WireMock's admin API at ``url`` (the server's base URL)."""

    def __init__(self, url: str, *, timeout: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        # No proxies from the environment: only ever 127.0.0.1, directly.
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def __repr__(self) -> str:
        return f"<WireMockAdmin {self.url}>"

    def call(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> Any:
        """Send one admin request (``path`` under ``/__admin``); return the decoded JSON or None."""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"{self.url}/__admin{path}", data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                raw: bytes = response.read()
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode("utf-8", "replace")[:500]
            raise HarnessError(f"WireMock admin {method} {path} -> {exc.code}: {detail}") from None
        except OSError as exc:
            raise HarnessError(f"WireMock admin {method} {path} failed: {exc}") from exc
        return json.loads(raw) if raw.strip() else None

    # -- server state ----------------------------------------------------------------------

    def reset(self) -> None:
        """Drop every stub, empty the request journal and reset every scenario."""
        self.call("POST", "/reset")

    def version(self) -> str:
        """WireMock's version string."""
        return str(self.call("GET", "/version")["version"])

    # -- stubs -----------------------------------------------------------------------------

    def stub(self, mapping: Mapping[str, Any]) -> str:
        """Add one stub mapping (WireMock's JSON form); return its id."""
        created = self.call("POST", "/mappings", mapping)
        return str(created["id"])

    def stub_fault(self, method: str, url_path: str, fault: Fault) -> str:
        """Answer ``method url_path`` with a socket fault."""
        return self.stub({"request": {"method": method, "urlPath": url_path}, "response": {"fault": fault}})

    def stub_sequence(
        self,
        method: str,
        url_path: str,
        responses: Sequence[Mapping[str, Any]],
        *,
        scenario: str | None = None,
    ) -> str:
        """Answer successive requests with ``responses`` in order; the last one then repeats.

        Built as a WireMock scenario (named ``scenario``, default from method and path) whose
        states are ``Started``, ``step-2``, ... ``step-N``. Returns the scenario name.
        """
        if not responses:
            raise ValueError("stub_sequence needs at least one response")
        name = scenario or f"{method} {url_path}"
        for index, response in enumerate(responses):
            mapping: JSONObject = {
                "scenarioName": name,
                "requiredScenarioState": STARTED if index == 0 else f"step-{index + 1}",
                "request": {"method": method, "urlPath": url_path},
                "response": dict(response),
            }
            if index + 1 < len(responses):
                mapping["newScenarioState"] = f"step-{index + 2}"
            self.stub(mapping)
        return name

    # -- scenarios -------------------------------------------------------------------------

    def scenarios(self) -> dict[str, str]:
        """Every scenario's current state, by name."""
        found = self.call("GET", "/scenarios")["scenarios"]
        return {str(s["name"]): str(s["state"]) for s in found}

    def scenario_state(self, name: str) -> str:
        """The current state of scenario ``name`` (KeyError if there is none)."""
        return self.scenarios()[name]

    def set_scenario_state(self, name: str, state: str) -> None:
        """Move scenario ``name`` to ``state``."""
        self.call("PUT", f"/scenarios/{urllib.parse.quote(name, safe='')}/state", {"state": state})

    def reset_scenarios(self) -> None:
        """Put every scenario back to ``Started`` (stubs and journal are kept)."""
        self.call("POST", "/scenarios/reset")

    # -- request journal -------------------------------------------------------------------

    def count(self, method: str, url_path: str) -> int:
        """How many ``method url_path`` requests WireMock received since the last reset."""
        return int(self.call("POST", "/requests/count", {"method": method, "urlPath": url_path})["count"])

    def requests(self, method: str | None = None, url_path: str | None = None) -> list[JSONObject]:
        """Received requests (``GET /__admin/requests``), oldest first, optionally filtered.

        Each is WireMock's logged request: ``method``, ``url``, ``headers``, ``body``, ...
        """
        served = self.call("GET", "/requests")["requests"]
        logged = [dict(event["request"]) for event in reversed(served)]
        return [
            r
            for r in logged
            if (method is None or r.get("method") == method)
            and (url_path is None or str(r.get("url", "")).split("?", 1)[0] == url_path)
        ]


def header(request: Mapping[str, Any], name: str) -> str | None:
    """The value of header ``name`` (any case) in a logged request, or None."""
    for key, value in dict(request.get("headers") or {}).items():
        if key.lower() == name.lower():
            return str(value)
    return None


class WireMockServer:
    """A running WireMock; ``url`` is like ``http://127.0.0.1:PORT``."""

    def __init__(self, url: str, process: ManagedProcess, jar: Path, startup_seconds: float) -> None:
        self.url = url
        self.process = process
        self.jar = jar
        self.startup_seconds = startup_seconds
        """Seconds from launching the JVM to the admin API answering."""
        self.admin = WireMockAdmin(url)

    def __repr__(self) -> str:
        return f"<WireMockServer {self.url} ({self.jar.name}, up in {self.startup_seconds:.2f}s)>"

    def log_tail(self, lines: int = 40) -> str:
        return self.process.log_tail(lines)

    def stop(self) -> None:
        self.process.stop()


def _start(java: str, jar: Path, workdir: Path, timeout: float | None) -> WireMockServer:
    port = free_port()
    url = f"http://{LOCALHOST}:{port}"
    root = workdir / f"root-{port}"
    root.mkdir(parents=True, exist_ok=True)
    argv = [
        java, *JVM_OPTIONS, "-jar", str(jar),
        "--bind-address", LOCALHOST,
        "--port", str(port),
        "--root-dir", str(root),
        "--disable-banner",
        # Delays must not hold a request thread (100 slow requests in flight at once, cancellation tests),
        # and enough threads for a few hundred concurrent connections.
        "--async-response-enabled", "true",
        "--container-threads", "300",
    ]  # fmt: skip
    process = ManagedProcess(
        "wiremock",
        argv,
        log_path=workdir / "wiremock.log",
        ready=http_probe(f"{url}/__admin/mappings", ok_statuses={200}),
        cwd=workdir,
    )
    began = time.monotonic()
    process.start_and_wait(timeout)
    return WireMockServer(url, process, jar, time.monotonic() - began)


def start_wiremock(workdir: Path, *, timeout: float | None = None) -> WireMockServer:
    """Start WireMock with its files under ``workdir``; ready when ``/__admin/mappings`` answers."""
    jar = find_wiremock_jar()
    java = find_java()
    workdir.mkdir(parents=True, exist_ok=True)
    return retry_on_port_conflict(lambda: _start(java, jar, workdir, timeout))
