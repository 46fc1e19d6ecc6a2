"""Testing helpers for clients built on myclient: scrubbed vcrpy cassettes, a secret scan, no-sleep.

Also a network guard; the pytest plugin is ``myclient.testing.plugin``. Importing this package
imports no other part of myclient (the plugin loads it before coverage measurement starts):
the cassette helpers load on first use, and vcrpy and responses are needed only when used.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from ._guard import NetworkBlocked, no_network

if TYPE_CHECKING:
    from ._scan import SecretsFound, scan_paths, scan_text
    from ._scrub import Scrubber
    from ._vcr import make_vcr
    from .mock import MockResponse, MockTransport

__all__ = ["RECORD_MODES", "MockResponse", "MockTransport", "NetworkBlocked", "Scrubber", "SecretsFound",
           "default_record_mode", "make_vcr", "no_network", "no_sleep", "scan_paths", "scan_text"]

#: vcrpy's record modes: ``none`` replays only (an unrecorded request fails), ``once`` records a
#: missing cassette, ``new_episodes`` adds unmatched requests, ``all`` re-records everything.
RECORD_MODES = ("none", "once", "new_episodes", "all")
ENV_RECORD_MODE = "MYCLIENT_RECORD_MODE"
_lock = threading.Lock()
_LAZY = {"Scrubber": "._scrub", "SecretsFound": "._scan", "scan_paths": "._scan", "scan_text": "._scan",
         "make_vcr": "._vcr", "MockResponse": ".mock", "MockTransport": ".mock"}


def __getattr__(name: str) -> Any:
    """The cassette helpers and the mock transport, imported on first use."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def default_record_mode() -> str:
    """``MYCLIENT_RECORD_MODE`` if set, else ``none`` under CI (``CI=true``) and ``once`` elsewhere."""
    mode = os.environ.get(ENV_RECORD_MODE, "").strip().lower()
    if mode:
        if mode not in RECORD_MODES:
            raise ValueError(f"{ENV_RECORD_MODE}={mode!r}: expected one of {', '.join(RECORD_MODES)}")
        return mode
    return "none" if os.environ.get("CI", "").strip().lower() in ("true", "1") else "once"


@contextlib.contextmanager
def no_sleep() -> Iterator[None]:
    """Skip myclient's retry and Retry-After waits (clients using the default ``sleep``)."""
    from .. import adapters

    with _lock:
        adapters.sleep_suspended[0] += 1
    try:
        yield
    finally:
        with _lock:
            adapters.sleep_suspended[0] -= 1
