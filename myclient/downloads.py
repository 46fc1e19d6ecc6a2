"""Streaming downloads to disk: atomic (a .part file renamed when complete), resumable, length-checked.

The body goes through the adapter's normal request path and is never read whole into memory; a
download never leaves a partial file under its final name, and nothing here retries a request the
adapter already retried (only a body that broke off is resumed).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional, Union

import requests
import urllib3

from ._deadline import abort_response, watchdog
from ._mapping import map_transport_error
from .exceptions import (
    ClientError,
    ConnectionLost,
    DeadlineExceeded,
    InvalidResponse,
    ReadTimeout,
    TransportError,
    UsageError,
)
from .redaction import registry
from .settings import CALL_OPTIONS, DEFAULT, check_deadline, unknown_option

if TYPE_CHECKING:
    from .adapters import Adapter

__all__ = ["DEFAULT_CHUNK_SIZE", "PART_SUFFIX", "META_SUFFIX", "Progress", "PathLike", "download"]

log = logging.getLogger("myclient")

#: Bytes read and written per step of a download (and per progress call).
DEFAULT_CHUNK_SIZE = 1 << 20
#: The partial download lives next to the destination under its name plus this suffix.
PART_SUFFIX = ".part"
#: What is known about the partial download (validator, size, source) for a later resume.
META_SUFFIX = ".part.meta"

#: ``progress(done_bytes, total_bytes_or_None)``, called as bytes arrive (or leave).
Progress = Callable[[int, Optional[int]], None]
PathLike = Union[str, "os.PathLike[str]"]

_CONTENT_RANGE = re.compile(r"^\s*bytes\s+(\d+)-(\d+)/(\d+|\*)\s*$", re.IGNORECASE)
_UNSATISFIED_RANGE = re.compile(r"^\s*bytes\s+\*/(\d+)\s*$", re.IGNORECASE)


def _check_chunk_size(chunk_size: Any) -> int:
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise UsageError(f"chunk_size must be an int >= 1, got {chunk_size!r}")
    return chunk_size


def check_progress(progress: Any) -> Optional[Progress]:
    """Validate a progress callback: a callable ``progress(done, total)`` or None."""
    if progress is not None and not callable(progress):
        raise UsageError(f"progress must be a callable progress(done, total) or None, got {progress!r}")
    return progress  # type: ignore[no-any-return]


def _destination(dest: Any) -> Path:
    if not isinstance(dest, (str, os.PathLike)) or not os.fspath(dest):
        raise UsageError(f"dest must be a file path (str or os.PathLike), got {dest!r}")
    target = Path(os.fspath(dest)).expanduser()
    if target.is_dir():
        raise UsageError(f"dest {str(target)!r} is a directory; give the file's path")
    if not target.parent.is_dir():
        raise UsageError(f"dest's directory {str(target.parent)!r} does not exist")
    return target


class _Meta:
    """The sidecar of a partial download: the source it came from and its validator and size."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def save(self, data: Mapping[str, Any]) -> None:
        scratch = self.path.with_name(self.path.name + ".tmp")
        scratch.write_text(json.dumps(dict(data)), encoding="utf-8")
        os.replace(scratch, self.path)

    def remove(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()


def _source_id(adapter: Adapter, path: str, params: Any) -> str:
    """A digest of the URL and query (never the URL itself: it may carry a secret)."""
    prepared = requests.Request("GET", adapter.url(path), params=params).prepare()
    return hashlib.sha256((prepared.url or "").encode()).hexdigest()


def _validator(headers: Mapping[str, str]) -> Optional[str]:
    """What If-Range may carry: a strong ETag, else Last-Modified (RFC 9110 §13.1.5), else None."""
    etag = headers.get("etag")
    if etag and not etag.strip().startswith("W/"):
        return etag.strip()
    modified = headers.get("last-modified")
    return modified.strip() if modified else None


def _plain_length(response: requests.Response) -> Optional[int]:
    """Content-Length of a body stored as sent (None when absent, bad, or under a content coding)."""
    coding = response.headers.get("content-encoding", "identity").strip().lower()
    length = response.headers.get("content-length", "").strip()
    if coding not in ("", "identity") or not length.isdigit():
        return None
    return int(length)


def _body_failure(exc: BaseException, url: str) -> TransportError:
    """A failure while reading the body, as a TransportError (a read timeout stays ReadTimeout)."""
    cause = exc.args[0] if exc.args else None
    if isinstance(exc, urllib3.exceptions.ReadTimeoutError) or isinstance(cause, urllib3.exceptions.ReadTimeoutError):
        return ReadTimeout(f"ReadTimeout: GET {registry.url(url)}: the body stopped arriving: {cause or exc}",
                           method="GET", url=url)
    error = map_transport_error(exc, "GET", url, in_body=True)
    if not isinstance(error, (ConnectionLost, ReadTimeout)):
        error = ConnectionLost(f"ConnectionLost: GET {registry.url(url)}: {exc}", method="GET", url=url)
    return error


class _Download:
    """One ``download()`` call: the state its requests share."""

    def __init__(
        self, adapter: Adapter, path: str, target: Path, *, chunk_size: int, progress: Optional[Progress],
        params: Any, options: Mapping[str, Any],
    ) -> None:
        self.adapter = adapter
        self.path = path
        self.url = adapter.url(path)
        self.target = target
        self.part = target.with_name(target.name + PART_SUFFIX)
        self.meta = _Meta(target.with_name(target.name + META_SUFFIX))
        self.chunk_size = chunk_size
        self.progress = progress
        self.params = params
        options = dict(options)
        unknown = set(options) - CALL_OPTIONS
        if unknown:
            raise unknown_option(sorted(unknown)[0], CALL_OPTIONS)
        headers = options.pop("headers", None)
        self.headers = dict(headers) if isinstance(headers, Mapping) else {}
        deadline = options.pop("deadline", DEFAULT)
        self.limit = adapter.deadline if deadline is DEFAULT else check_deadline(deadline)
        retry = options.get("retry", DEFAULT)
        self.retry = adapter.retry if retry is DEFAULT else adapter.settings.resolve({"retry": retry}).retry
        #: Per-call options every request of this download carries (timeout, retry, auth, ...).
        self.options = options
        self.source = _source_id(adapter, path, params)
        self.started = adapter.clock()

    def run(self) -> Path:
        """Request until the partial file is complete, then rename it; returns the final path."""
        failures = restarts = 0
        while True:
            offset, meta = self.resume_point()
            opened = self.open(offset, meta)
            if isinstance(opened, str):
                outcome = opened
            else:
                with contextlib.closing(opened):
                    try:
                        outcome = self.receive(opened, offset, meta)
                    except (ConnectionLost, ReadTimeout) as failure:
                        failures += 1
                        self.pause_or_raise(failure, failures)
                        continue
            if outcome == "done":
                os.replace(self.part, self.target)
                self.meta.remove()
                return self.target
            if outcome == "restart":
                restarts += 1
                if restarts > 2:
                    raise InvalidResponse(f"GET {registry.url(self.url)}: the server keeps answering ranges "
                                          "that do not fit the partial download", method="GET", url=self.url)

    def pause_or_raise(self, failure: TransportError, failures: int) -> None:
        """After the body broke off: wait and go on from the partial file, as the RetryPolicy allows.

        Only body failures come here; the adapter already retried the request itself.
        """
        decision = self.retry.decide(attempt=failures, method="GET", error=failure,
                                             time_left=self.left(), random=self.adapter.random())
        if not decision.retry:
            raise failure
        log.debug("download of %s broke off (%s); going on from byte %d after %.2fs cid=%s",
                  registry.url(self.url), type(failure).__name__, self.part_size(), decision.delay,
                  self.adapter.cid)
        if decision.delay > 0:
            self.adapter.sleep(decision.delay)

    def left(self) -> Optional[float]:
        return None if self.limit is None else self.limit - (self.adapter.clock() - self.started)

    def out_of_time(self) -> DeadlineExceeded:
        return DeadlineExceeded(f"DeadlineExceeded: GET {registry.url(self.url)}: the download did not finish "
                                f"within the {self.limit:g}s deadline", method="GET", url=self.url)

    def discard(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.part.unlink()
        self.meta.remove()

    def part_size(self) -> int:
        try:
            return self.part.stat().st_size
        except FileNotFoundError:
            return 0

    def resume_point(self) -> tuple[int, dict[str, Any]]:
        """The size of the partial file worth resuming, and what is known about it."""
        offset = self.part_size()
        if not offset:
            self.meta.remove()
            return 0, {}
        meta = self.meta.load()
        if meta.get("source") not in (None, self.source) or meta.get("encoded"):
            self.discard()  # another URL's partial file, or one stored under a content coding
            return 0, {}
        return offset, meta

    def open(self, offset: int, meta: Mapping[str, Any]) -> requests.Response | str:
        """Send the GET (ranged from ``offset`` when > 0); a 416 is settled here ("done"/"restart")."""
        send = {"Accept-Encoding": "identity", **self.headers}
        if offset:
            send["Range"] = f"bytes={offset}-"
            if meta.get("validator"):
                send["If-Range"] = str(meta["validator"])
        left = self.left()
        if left is not None and left <= 0:
            raise self.out_of_time()
        kwargs: dict[str, Any] = {**self.options, "params": self.params, "headers": send, "stream": True}
        kwargs["deadline"] = left
        try:
            return self.adapter.request_raw("GET", self.path, **kwargs)
        except ClientError as error:
            if error.status != 416 or not offset:
                raise
            refused = error.response
        # 416: nothing at or after ``offset``. The partial file is complete when the size agrees.
        headers = refused.headers if refused is not None else {}
        found = _UNSATISFIED_RANGE.match(headers.get("content-range", ""))
        size = int(found.group(1)) if found else None
        if size == offset and meta.get("total") in (None, size):
            self.report(offset, size)
            return "done"
        self.discard()
        return "restart"

    def receive(self, response: requests.Response, offset: int, meta: Mapping[str, Any]) -> str:
        """Check a 2xx answer against the partial file and write its body: "done", "more" or "restart"."""
        url = response.url
        validator = _validator(response.headers)
        if response.status_code != 206:  # the whole body, from byte 0
            until = total = _plain_length(response)
            coding = response.headers.get("content-encoding", "identity").strip().lower()
            self.meta.save({"source": self.source, "validator": validator, "total": total,
                            "encoded": coding not in ("", "identity")})
            self.write(response, "wb", 0, until, total)
            return "done"
        found = _CONTENT_RANGE.match(response.headers.get("content-range", ""))
        if not found:
            self.discard()
            raise InvalidResponse(f"206 response to GET {registry.url(url)} without a valid Content-Range "
                                  f"({response.headers.get('content-range')!r}); partial file discarded",
                                  method="GET", url=url, status=206)
        start, end = int(found.group(1)), int(found.group(2))
        total = None if found.group(3) == "*" else int(found.group(3))
        if start != offset or end < start or (total is not None and end >= total):
            self.discard()
            raise InvalidResponse(f"206 response to GET {registry.url(url)} holds bytes {start}-{end}/"
                                  f"{found.group(3)}, not bytes {offset}- as asked; partial file discarded",
                                  method="GET", url=url, status=206)
        known = meta.get("validator")
        if meta.get("total") not in (None, total) or (known and validator and validator != known):
            self.discard()  # the resource changed, and the server ignored (or did not get) If-Range
            return "restart"
        if not meta:
            self.meta.save({"source": self.source, "validator": validator, "total": total, "encoded": False})
        self.write(response, "ab", offset, end + 1, total)
        return "more" if total is not None and end + 1 < total else "done"

    def write(
        self, response: requests.Response, mode: str, offset: int, until: Optional[int], total: Optional[int]
    ) -> None:
        """Stream the body into the partial file under the deadline; ConnectionLost if it ends short of ``until``."""
        done = offset
        self.report(done, total)
        left = self.left()
        alarm = watchdog.arm(max(left, 0.0), lambda: abort_response(response)) if left is not None else None
        url = response.url
        try:
            with self.part.open(mode) as sink:
                try:
                    for chunk in response.iter_content(self.chunk_size):
                        if alarm is not None and alarm.fired:
                            break
                        sink.write(chunk)
                        done += len(chunk)
                        self.report(done, total)
                except (requests.RequestException, urllib3.exceptions.HTTPError, ConnectionError) as exc:
                    if alarm is not None and alarm.fired:
                        raise self.out_of_time() from exc
                    raise _body_failure(exc, url) from exc
                except (OSError, ValueError) as exc:
                    if alarm is None or not alarm.fired:
                        raise  # e.g. the local disk is full: not the server's doing
                    raise self.out_of_time() from exc
        finally:
            if alarm is not None:
                alarm.cancelled = True
        if alarm is not None and alarm.fired and (until is None or done < until):
            raise self.out_of_time()  # (a body complete just as the deadline passed is kept)
        if until is not None and done < until:
            raise ConnectionLost(f"ConnectionLost: GET {registry.url(url)}: the body ended at byte {done} of "
                                 f"{until}", method="GET", url=url)
        if until is not None and done > until:
            self.discard()
            raise InvalidResponse(f"GET {registry.url(url)}: the body ran to byte {done}, past the announced "
                                  f"{until}; partial file discarded", method="GET", url=url,
                                  status=response.status_code)

    def report(self, done: int, total: Optional[int]) -> None:
        if self.progress is not None:
            self.progress(done, total)


def download(
    adapter: Adapter,
    path: str,
    dest: PathLike,
    *,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    progress: Optional[Progress] = None,
    params: Any = None,
    **options: Any,
) -> Path:
    """GET ``path`` into the file ``dest``, streamed in ``chunk_size`` pieces; returns dest's Path.

    The body goes to ``dest + ".part"`` and is renamed to ``dest`` only once complete, so ``dest``
    is never a truncated file (it is replaced when it exists). A body shorter than its
    Content-Length (or Content-Range) raises ConnectionLost, like any connection lost mid-body.

    Resuming: when ``dest.part`` exists, the request carries ``Range: bytes=<its size>-`` and,
    when the first response gave one, ``If-Range`` with its strong ETag or Last-Modified (kept in
    ``dest.part.meta``). A 206 whose Content-Range starts elsewhere raises InvalidResponse (and
    the partial file is dropped); a 200 starts over from byte 0; a 416 means the partial file was
    already complete. Within one call, a connection lost or a read timeout mid-body is resumed
    the same way as the client's RetryPolicy allows; the deadline (``deadline``, else the
    client's) covers the whole download, body included, and when it cuts the download short the
    partial file is kept for the next call. ``progress(done, total)`` is called before the first
    byte and after every chunk (``total`` None when unknown). The file is not fsync'ed.
    """
    _check_chunk_size(chunk_size)
    check_progress(progress)
    if not isinstance(path, str):
        raise UsageError(f"path must be a string, got {type(path).__name__}")
    target = _destination(dest)
    return _Download(adapter, path, target, chunk_size=chunk_size, progress=progress, params=params,
                     options=options).run()
