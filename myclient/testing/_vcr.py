"""vcrpy configured for myclient: scrubbed, scanned before writing, safe for threaded clients.

vcrpy is not thread-safe (kevin1024/vcrpy#849): to build each real connection it briefly puts
the unpatched connection classes back, process-wide (``force_reset``), so a request another
thread starts at that moment bypasses the cassette, unrecorded while recording and as a real
TCP connection while replaying. While one of these cassettes is in use, every urllib3 request
(requests goes through it) and every ``urllib.request`` exchange runs under one process-wide
re-entrant lock, so the cassette sees them one at a time. Threads still run concurrently
around their HTTP calls. A client whose request can only complete once another thread's request
has (a long poll answered by a second call) would deadlock; record such flows one thread at a time.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..redaction import registry
from . import RECORD_MODES
from ._match import scrubbed_body, scrubbed_path, scrubbed_query
from ._scan import SecretsFound, scan_serialized
from ._scrub import Scrubber

__all__ = ["MATCH_ON", "make_vcr", "serialising_patches"]

#: What a replayed request must match (path, query and body compared scrubbed, see ``_match``).
MATCH_ON = ("method", "scheme", "host", "port", "scrubbed_path", "scrubbed_query", "scrubbed_body")

_SERIAL = threading.RLock()


def _serialised(function: Callable[..., Any]) -> Callable[..., Any]:
    original = function
    if getattr(original, "_myclient_serial", False):  # a cassette inside a cassette: wrap the real one
        original = original.__wrapped__  # type: ignore[attr-defined]

    @functools.wraps(original)
    def call(*args: Any, **kwargs: Any) -> Any:
        with _SERIAL:
            try:
                return original(*args, **kwargs)
            except Exception as exc:
                if type(exc).__name__ == "CannotOverwriteExistingCassetteException":
                    exc.args = tuple(registry.text(str(a)) for a in exc.args)  # vcrpy quotes the raw request
                raise

    call._myclient_serial = True  # type: ignore[attr-defined]
    return call


def serialising_patches() -> tuple[tuple[Any, str, Any], ...]:
    """The vcrpy ``custom_patches`` that run urllib3 and urllib.request exchanges one at a time."""
    import urllib.request

    patches: list[tuple[Any, str, Any]] = [
        (urllib.request.AbstractHTTPHandler, "do_open", _serialised(urllib.request.AbstractHTTPHandler.do_open)),
    ]
    try:
        from urllib3.connectionpool import HTTPConnectionPool
    except ImportError:  # pragma: no cover - requests needs urllib3
        pass
    else:
        patches.append((HTTPConnectionPool, "urlopen", _serialised(HTTPConnectionPool.urlopen)))
    return tuple(patches)


def make_vcr(cassette_dir: str | Path, record_mode: str, scrubber: Scrubber | None = None, *,
             scan: bool = True) -> Any:
    """A ``vcr.VCR`` whose every recorded request and response is scrubbed by ``scrubber``.

    Scrubbing happens in ``before_record_request``/``before_record_response`` *and* again in the
    persister at save time, so no path (drop_unused_requests, vcrpy#961) writes a raw secret;
    with ``scan`` the persister then scans the serialized cassette and, if anything secret is
    left, raises :class:`SecretsFound` without writing the file. Requests match on method,
    scheme, host, port, path, query and body, compared scrubbed on both sides (``***`` on
    either side matching any value). HTTP exchanges are serialised while a cassette is in use.
    """
    import vcr
    from vcr.persisters.filesystem import FilesystemPersister
    from vcr.serialize import serialize

    if record_mode not in RECORD_MODES:
        raise ValueError(f"record mode {record_mode!r}: expected one of {', '.join(RECORD_MODES)}")
    scrub = scrubber or Scrubber()

    class ScrubbingPersister(FilesystemPersister):  # type: ignore[misc]
        @staticmethod
        def save_cassette(cassette_path: Any, cassette_dict: Any, serializer: Any) -> None:
            data = serialize(scrub.cassette_dict(cassette_dict), serializer)
            if scan:
                findings = scan_serialized(data)
                if findings:
                    raise SecretsFound(str(cassette_path), findings)
            path = Path(cassette_path)
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.partial")
            partial.write_text(data, encoding="utf-8")
            os.replace(partial, path)

    recorder = vcr.VCR(
        cassette_library_dir=str(cassette_dir),
        record_mode=record_mode,
        match_on=MATCH_ON,
        before_record_request=scrub.request,
        before_record_response=scrub.response,
        decode_compressed_response=True,
        serializer="yaml",
        custom_patches=serialising_patches(),
    )
    recorder.register_matcher("scrubbed_path", scrubbed_path)
    recorder.register_matcher("scrubbed_query", scrubbed_query)
    recorder.register_matcher("scrubbed_body", scrubbed_body)
    recorder.register_persister(ScrubbingPersister)
    return recorder
