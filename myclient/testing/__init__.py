"""Testing helpers for clients built on myclient: scrubbed vcrpy cassettes, a secret scan, no-sleep.

Also a network guard; the pytest plugin is ``myclient.testing.plugin``. Nothing here is imported
by myclient itself; vcrpy and responses are needed only when used.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .. import adapters
from ._scrub import Scrubber, scan_paths, scan_text

__all__ = ["RECORD_MODES", "NetworkBlocked", "Scrubber", "default_record_mode", "make_vcr", "no_network", "no_sleep",
           "scan_paths", "scan_text"]

#: vcrpy's record modes: ``none`` replays only (an unrecorded request fails), ``once`` records a
#: missing cassette, ``new_episodes`` adds unmatched requests, ``all`` re-records everything.
RECORD_MODES = ("none", "once", "new_episodes", "all")
ENV_RECORD_MODE = "MYCLIENT_RECORD_MODE"
_lock = threading.Lock()


def default_record_mode() -> str:
    """``MYCLIENT_RECORD_MODE`` if set, else ``none`` under CI (``CI=true``) and ``once`` elsewhere."""
    mode = os.environ.get(ENV_RECORD_MODE, "").strip().lower()
    if mode:
        if mode not in RECORD_MODES:
            raise ValueError(f"{ENV_RECORD_MODE}={mode!r}: expected one of {', '.join(RECORD_MODES)}")
        return mode
    return "none" if os.environ.get("CI", "").strip().lower() in ("true", "1") else "once"


def make_vcr(cassette_dir: str | Path, record_mode: str, scrubber: Scrubber | None = None) -> Any:
    """A ``vcr.VCR`` whose every recorded request and response is scrubbed by ``scrubber``.

    Scrubbing happens in ``before_record_request``/``before_record_response`` *and* again in the
    persister at save time, so no path (drop_unused_requests, vcrpy#961) writes a raw secret.
    Matching is on method, scheme, host, port, path, query and body (scrubbed alike on both
    sides, so a secret in a token request still matches its recorded, masked form).
    """
    import vcr
    from vcr.persisters.filesystem import FilesystemPersister

    if record_mode not in RECORD_MODES:
        raise ValueError(f"record mode {record_mode!r}: expected one of {', '.join(RECORD_MODES)}")
    scrub = scrubber or Scrubber()

    class ScrubbingPersister(FilesystemPersister):  # type: ignore[misc]
        @staticmethod
        def save_cassette(cassette_path: Any, cassette_dict: Any, serializer: Any) -> None:
            FilesystemPersister.save_cassette(cassette_path, scrub.cassette_dict(cassette_dict), serializer)

    recorder = vcr.VCR(
        cassette_library_dir=str(cassette_dir),
        record_mode=record_mode,
        match_on=("method", "scheme", "host", "port", "path", "query", "body"),
        before_record_request=scrub.request,
        before_record_response=scrub.response,
        decode_compressed_response=True,
        serializer="yaml",
    )
    recorder.register_persister(ScrubbingPersister)
    return recorder


@contextlib.contextmanager
def no_sleep() -> Iterator[None]:
    """Skip myclient's retry and Retry-After waits (clients using the default ``sleep``)."""
    with _lock:
        adapters.sleep_suspended[0] += 1
    try:
        yield
    finally:
        with _lock:
            adapters.sleep_suspended[0] -= 1


class NetworkBlocked(OSError):
    """A test tried to open a real connection while the network guard was on."""


@contextlib.contextmanager
def no_network(allow: tuple[str, ...] = ()) -> Iterator[None]:
    """Refuse every outgoing socket connection (except to hosts in ``allow``) for the block."""
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def _check(address: Any) -> None:
        host = address[0] if isinstance(address, tuple) else address
        if host not in allow:
            raise NetworkBlocked(f"network blocked: a test tried to connect to {address!r}")

    def connect(self: socket.socket, address: Any) -> None:
        _check(address)
        real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        _check(address)
        return real_connect_ex(self, address)

    socket.socket.connect = connect  # type: ignore[method-assign,assignment]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:
        socket.socket.connect = real_connect  # type: ignore[method-assign]
        socket.socket.connect_ex = real_connect_ex  # type: ignore[method-assign]
