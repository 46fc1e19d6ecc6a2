"""The pytest plugin (entry point ``pytest11: myclient``): cassette and mock fixtures for users' tests.

Fixtures: ``myclient_cassette`` (vcrpy, scrubbed, scanned, replayed under the network guard and
without sleeping), ``myclient_mock`` (responses bound to a base URL), ``myclient_no_network``
(socket guard) and ``myclient_record_mode``. It only configures vcrpy and responses; it never
sends anything itself. pytest loads this module before coverage measurement starts, so it
imports nothing else of myclient at load time: the fixtures import what they use.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from . import RECORD_MODES, default_record_mode, no_network

if TYPE_CHECKING:
    from ._scrub import Scrubber

_DIR_OPTION = "--myclient-cassette-dir"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("myclient", "myclient cassettes")
    with contextlib.suppress(ValueError):  # another plugin (pytest-recording) defines it: share its value
        group.addoption(
            "--record-mode", action="store", default=None, choices=RECORD_MODES,
            help="cassette record mode (default: $MYCLIENT_RECORD_MODE, else 'none' under CI=true, else 'once')",
        )
    group.addoption(_DIR_OPTION, action="store", default=None,
                    help="directory for myclient cassettes (default: ini myclient_cassette_dir, else cassettes/)")
    parser.addini("myclient_cassette_dir", "directory for myclient cassettes, relative to rootdir",
                  default="cassettes")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "myclient_cassette(name=None, *, scan=True, network=False, allow=()): record/replay this test's HTTP "
        "with a scrubbed vcrpy cassette named `name` (default: <module>/<test>.yaml); a replay refuses real "
        "connections unless network=True, except to the hosts in `allow`",
    )


@pytest.fixture(scope="session")
def myclient_record_mode(pytestconfig: pytest.Config) -> str:
    """The record mode in force: ``--record-mode``, ``$MYCLIENT_RECORD_MODE``, or the default."""
    mode = pytestconfig.getoption("record_mode", default=None)
    return str(mode) if mode else default_record_mode()


def _cassette_dir(config: pytest.Config) -> Path:
    given = config.getoption(_DIR_OPTION.lstrip("-").replace("-", "_"), default=None)
    directory = Path(given or str(config.getini("myclient_cassette_dir")))
    return directory if directory.is_absolute() else Path(config.rootpath) / directory


class CassetteHandle:
    """What ``myclient_cassette`` yields: the vcrpy cassette plus what a test needs around it."""

    def __init__(self, cassette: Any, path: Path, mode: str, scrubber: Scrubber, had_file: bool) -> None:
        self.cassette = cassette
        self.path = path
        self.record_mode = mode
        self.scrubber = scrubber
        self._had_file = had_file

    @property
    def recording(self) -> bool:
        """True when this run may talk to a real server and write the cassette."""
        return self.record_mode == "all" or (self.record_mode in ("once", "new_episodes") and not self._had_file)

    def alias(self, real: str, recorded: str) -> None:
        """Record URLs under ``real`` (e.g. a test server's random port) as ``recorded``."""
        self.scrubber.alias(real, recorded)

    @property
    def play_count(self) -> int:
        """How many recorded interactions were replayed."""
        return int(self.cassette.play_count)


def _default_name(request: pytest.FixtureRequest) -> str:
    module = Path(str(request.node.fspath)).stem
    test = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
    return f"{module}/{test}.yaml"


def cassette_path(request: pytest.FixtureRequest) -> Path:
    """Where the ``myclient_cassette`` of this test lives (marker name or the default)."""
    marker = request.node.get_closest_marker("myclient_cassette")
    name = (marker.args[0] if marker and marker.args else None) or _default_name(request)
    return _cassette_dir(request.config) / name


def will_record(request: pytest.FixtureRequest, record_mode: str) -> bool:
    """Whether this test's cassette will be (re)written in ``record_mode``.

    Known before the cassette opens, so a test can start its real servers first and keep their
    start-up out of the cassette.
    """
    return record_mode == "all" or (record_mode in ("once", "new_episodes") and not cassette_path(request).is_file())


@pytest.fixture
def myclient_cassette(request: pytest.FixtureRequest, myclient_record_mode: str) -> Iterator[CassetteHandle]:
    """Record or replay this test's HTTP traffic in a scrubbed cassette.

    Everything secret (per ``myclient.redaction``: headers, cookie values, query parameters,
    JSON/form/multipart fields, registered literal values in any encoding) is masked before
    anything is written, and the cassette is scanned before it is written: if a secret or
    credential-shaped text remains, nothing is written and the test fails. Threads may share the
    cassette (their HTTP exchanges are serialised). While replaying, every real connection is
    refused (marker ``network=True`` turns the guard off, ``allow=(host, ...)`` lets hosts
    through) and myclient's retry and Retry-After waits are skipped.
    """
    from . import no_sleep
    from ._scan import SecretsFound
    from ._scrub import Scrubber
    from ._vcr import make_vcr

    marker = request.node.get_closest_marker("myclient_cassette")
    options = marker.kwargs if marker else {}
    directory = _cassette_dir(request.config)
    path = cassette_path(request)
    name = str(path.relative_to(directory))
    scrubber = Scrubber()
    recorder = make_vcr(directory, myclient_record_mode, scrubber, scan=bool(options.get("scan", True)))
    had_file = path.is_file()
    replaying = myclient_record_mode == "none" or (myclient_record_mode == "once" and had_file)
    try:
        with recorder.use_cassette(name) as cassette, contextlib.ExitStack() as replay:
            if replaying:
                replay.enter_context(no_sleep())
                if not options.get("network", False):
                    replay.enter_context(no_network(tuple(options.get("allow", ()))))
            yield CassetteHandle(cassette, path, myclient_record_mode, scrubber, had_file)
    except SecretsFound as exc:
        pytest.fail(str(exc), pytrace=False)


class MockAPI:
    """``responses`` bound to one base URL: register ``"/users/1"``, not the full URL."""

    def __init__(self, mock: Any, base_url: str) -> None:
        self.mock = mock
        self.base_url = base_url.rstrip("/")

    def url(self, path: str) -> str:
        """The absolute URL ``path`` resolves to (as the client would)."""
        return f"{self.base_url}/{path.lstrip('/')}"

    def add(self, method: str, path: str, **kwargs: Any) -> Any:
        """Register a canned response for ``method path`` (kwargs as for ``responses.add``)."""
        return self.mock.add(method.upper(), self.url(path), **kwargs)

    def get(self, path: str, **kwargs: Any) -> Any:
        """Register a GET."""
        return self.add("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Any:
        """Register a POST."""
        return self.add("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> Any:
        """Register a PUT."""
        return self.add("PUT", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> Any:
        """Register a PATCH."""
        return self.add("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Any:
        """Register a DELETE."""
        return self.add("DELETE", path, **kwargs)

    @property
    def calls(self) -> Any:
        """The calls ``responses`` saw (all base URLs of this test)."""
        return self.mock.calls


@pytest.fixture
def myclient_mock() -> Iterator[Any]:
    """Give a factory that binds ``responses`` to a client or a base URL (see MockAPI).

    Every registered response must be used by the end of the test; requests nobody registered
    fail with responses' ConnectionError, which myclient raises as a TransportError.
    """
    import responses

    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        def bind(target: Any) -> MockAPI:
            base = getattr(target, "base_url", target)
            if not isinstance(base, str):
                raise TypeError("myclient_mock(...) takes a Client, an Adapter or a base URL string")
            return MockAPI(mock, base)

        yield bind


@pytest.fixture
def myclient_no_network() -> Iterator[None]:
    """Block every real socket connection for the test (replays must not need the network)."""
    with no_network():
        yield
