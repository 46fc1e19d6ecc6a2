"""Replay suite: recorded scenarios against the project's real servers, replayed with the network off.

Replay (the default under CI=true, and whenever the cassette exists) needs no server: clients
use fixed loopback origins and a socket guard refuses every connection. To re-record against
the real servers: ``MYCLIENT_RECORD_MODE=all bash tests/run.sh tests/replay``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from myclient.testing import no_network
from myclient.testing.plugin import CassetteHandle, will_record

#: Where each server is recorded as being, whatever port it really had.
CANONICAL = {
    "httpbin": "http://localhost:18080",
    "gateway": "http://localhost:18081",
    "oauth": "http://localhost:18082",
    "wiremock": "http://localhost:18083",
}


def _real_url(request: pytest.FixtureRequest, kind: str) -> str:
    if kind == "httpbin":
        return str(request.getfixturevalue("httpbin_url"))
    if kind == "gateway":
        return str(request.getfixturevalue("gateway").http_url)
    if kind == "oauth":
        return str(request.getfixturevalue("oauth_server").url)
    return str(request.getfixturevalue("wiremock_admin").url)


@pytest.fixture
def origin(request: pytest.FixtureRequest, myclient_record_mode: str) -> Iterator[Callable[[str], str]]:
    """``origin("httpbin")``: the real server while recording, its recorded stand-in while replaying.

    Servers are started before the cassette opens, so their start-up probes are not recorded.
    """
    reals = {kind: _real_url(request, kind) for kind in CANONICAL} if will_record(request, myclient_record_mode) else {}
    cassette: CassetteHandle = request.getfixturevalue("myclient_cassette")

    def resolve(kind: str) -> str:
        if not cassette.recording:
            return CANONICAL[kind]
        cassette.alias(reals[kind], CANONICAL[kind])
        return reals[kind]

    if cassette.recording:
        yield resolve
    else:
        with no_network():
            yield resolve


@pytest.fixture
def recording(origin: Callable[[str], str], myclient_cassette: CassetteHandle) -> bool:
    return myclient_cassette.recording
