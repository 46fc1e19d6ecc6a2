"""Streaming downloads to disk: atomic (a .part file renamed when complete), resumable, length-checked.

The body goes through the adapter's normal request path and is never read whole into memory; a
download never leaves a partial file under its final name, never writes through a link planted at
its file names (see _partfiles), resumes only what a validator proves unchanged, and sends a
bounded number of requests; nothing here retries a request the adapter already retried (only a
body that broke off is resumed).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional, Union

import requests
import urllib3

from . import _partfiles as files
from . import _ranges as ranges
from ._deadline import abort_response, watchdog
from ._mapping import map_transport_error
from ._parse import ascii_int
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

#: Requests a download may send before it must show progress: beyond them, every request must have
#: brought MIN_PROGRESS bytes on average, or the download stops (a server sending one byte per range).
FREE_REQUESTS = 8
MIN_PROGRESS = 64 * 1024
#: Times a download starts over because the resource changed under it before giving up.
MAX_RESTARTS = 2


def _check_chunk_size(chunk_size: Any) -> int:
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise UsageError(f"chunk_size must be an int >= 1, got {chunk_size!r}")
    return chunk_size


def check_progress(progress: Any) -> Optional[Progress]:
    """Validate a progress callback: a callable ``progress(done, total)`` or None."""
    if progress is not None and not callable(progress):
        raise UsageError(f"progress must be a callable progress(done, total) or None, got {progress!r}")
    return progress  # type: ignore[no-any-return]


def _source_id(adapter: Adapter, path: str, params: Any) -> str:
    """A digest of the URL and query (never the URL itself: it may carry a secret)."""
    try:
        prepared = requests.Request("GET", adapter.url(path), params=params).prepare()
    except (requests.RequestException, ValueError, TypeError) as exc:
        if isinstance(exc, UsageError):
            raise
        raise UsageError(f"invalid download request for {registry.url(path)}: {exc}") from None
    return hashlib.sha256((prepared.url or "").encode()).hexdigest()


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
        self.meta_path = target.with_name(target.name + META_SUFFIX)
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
        self.sent = 0  # requests sent by this call
        self.written = 0  # bytes written by this call
        self.identity: Optional[files.Identity] = None  # the partial file this call wrote or checked

    def run(self) -> Path:
        """Request until the partial file is complete, then rename it; returns the final path."""
        failures = restarts = 0
        broken: Optional[TransportError] = None
        while True:
            offset, meta = self.resume_point()
            self.count_request(broken)
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
                        broken = failure
                        continue
            broken = None
            if outcome == "done":
                self.finish()
                return self.target
            if outcome == "restart":
                restarts += 1
                if restarts > MAX_RESTARTS:
                    raise InvalidResponse(f"GET {registry.url(self.url)}: the server keeps answering ranges "
                                          "that do not fit the partial download", method="GET", url=self.url)

    def count_request(self, broken: Optional[TransportError]) -> None:
        """Allow one more request only while the requests so far brought enough bytes (FREE_REQUESTS)."""
        if self.sent >= FREE_REQUESTS + self.written // MIN_PROGRESS:
            why = (f"{self.sent} requests brought {self.written} bytes, and after the first {FREE_REQUESTS} a "
                   f"download must gain {MIN_PROGRESS // 1024} KiB per request on average; stopping "
                   "(the partial file is kept)")
            url = registry.url(self.url)
            if broken is not None:
                raise type(broken)(f"{type(broken).__name__}: GET {url}: the body keeps breaking off: {why}",
                                   method="GET", url=self.url)
            raise InvalidResponse(f"GET {url}: the server answers with pieces too small to finish: {why}",
                                  method="GET", url=self.url)
        self.sent += 1

    def pause_or_raise(self, failure: TransportError, failures: int) -> None:
        """After the body broke off: wait and go on from the partial file, as the RetryPolicy allows.

        Only body failures come here; the adapter already retried the request itself.
        """
        decision = self.retry.decide(attempt=failures, method="GET", error=failure,
                                             time_left=self.left(), random=self.adapter.random())
        if not decision.retry:
            raise failure
        log.debug("download of %s broke off (%s) after %d bytes; going on after %.2fs cid=%s",
                  registry.url(self.url), type(failure).__name__, self.written, decision.delay, self.adapter.cid)
        if decision.delay > 0:
            self.adapter.sleep(decision.delay)

    def left(self) -> Optional[float]:
        return None if self.limit is None else self.limit - (self.adapter.clock() - self.started)

    def out_of_time(self) -> DeadlineExceeded:
        return DeadlineExceeded(f"DeadlineExceeded: GET {registry.url(self.url)}: the download did not finish "
                                f"within the {self.limit:g}s deadline", method="GET", url=self.url)

    def discard(self) -> None:
        files.remove(self.part)
        files.remove(self.meta_path)
        self.identity = None

    def begin(self, validator: Optional[str], total: Optional[int], *, coded: bool = False) -> None:
        """A response starts the partial file from byte 0: drop the old one, record what proves the new one."""
        self.discard()
        if validator is not None and not coded:  # without a validator it is never resumed: nothing to record
            files.write_json(self.meta_path, {"source": self.source, "validator": validator, "total": total,
                                              "encoded": False})

    def resume_point(self) -> tuple[int, dict[str, Any]]:
        """Where to go on from: the partial file's size when its sidecar proves what it holds, else 0.

        A partial file is resumed only for this very URL, stored as sent, and with the validator
        (strong ETag or Last-Modified) of the response that started it: without one nothing proves
        the rest still belongs to it, so the download starts over from byte 0.
        """
        info = files.check(self.part)  # UsageError for a symlink, a FIFO, a hard link...
        files.check(self.meta_path)
        meta = files.load_meta(self.meta_path, self.source) if info is not None and info.st_size else {}
        total = meta.get("total")
        if info is None or not meta or (total is not None and info.st_size > total):
            if info is not None and info.st_size:
                log.debug("not resuming %s: nothing proves what its %d bytes hold", self.part, info.st_size)
            self.discard()
            return 0, {}
        self.identity = files.identity_of(info)
        return info.st_size, meta

    def open(self, offset: int, meta: Mapping[str, Any]) -> requests.Response | str:
        """Send the GET (ranged from ``offset`` when > 0); a 416 is settled here ("done"/"restart")."""
        send = {"Accept-Encoding": "identity", **self.headers}
        if offset:
            send["Range"] = f"bytes={offset}-"
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
        size = ranges.unsatisfied_size(headers.get("content-range"))
        validator = ranges.validator(headers)
        if size == offset and meta.get("total") in (None, size) and validator in (None, meta["validator"]):
            self.report(offset, size)
            return "done"
        self.discard()
        return "restart"

    def receive(self, response: requests.Response, offset: int, meta: Mapping[str, Any]) -> str:
        """Check a 2xx answer against the partial file and write its body: "done", "more" or "restart"."""
        status = response.status_code
        validator = ranges.validator(response.headers)
        if status == 206:
            return self.receive_range(response, offset, meta, validator)
        if not 200 <= status < 300:
            raise InvalidResponse(f"{status} response to GET {registry.url(response.url)}: not a download "
                                  "(expected 200, or 206 to a range request)", method="GET", url=response.url,
                                  status=status)
        total = ranges.plain_length(response)  # the whole body, from byte 0
        self.begin(validator, total, coded=ranges.coded(response))
        self.write(response, 0, total, total)
        return "done"

    def receive_range(
        self, response: requests.Response, offset: int, meta: Mapping[str, Any], validator: Optional[str]
    ) -> str:
        """A 206: bytes ``start-end`` of ``total`` (``*``: unknown), which must go on from ``offset``."""
        url = registry.url(response.url)
        sent = ranges.content_range(response.headers.get("content-range"))
        if sent is None or ranges.coded(response):
            self.discard()
            raise InvalidResponse(f"206 response to GET {url} without a valid Content-Range "
                                  f"({response.headers.get('content-range', '')[:80]!r}) or under a content coding; "
                                  "partial file discarded", method="GET", url=response.url, status=206)
        start, end, total = sent.start, sent.end, sent.total
        known = meta.get("total")
        if (offset and validator != meta["validator"]) or (None not in (total, known) and total != known):
            self.discard()  # the resource changed (or dropped its validator), and the server ignored If-Range
            return "restart"
        size = known if total is None else total
        length = ascii_int(response.headers.get("content-length"))
        beyond = size is not None and end >= size
        if start != offset or end < start or beyond or length not in (None, end + 1 - start):
            self.discard()
            said = "" if length in (None, end + 1 - start) else f" in a {length}-byte body"
            raise InvalidResponse(f"206 response to GET {url} holds bytes {sent.text}{said}, not bytes {offset}- as "
                                  "asked; partial file discarded", method="GET", url=response.url, status=206)
        complete = size is not None and end + 1 == size
        if not offset:  # a 206 to a plain GET starts the partial file
            if not complete and validator is None:
                self.discard()
                raise InvalidResponse(f"206 response to GET {url} holds bytes {sent.text} "
                                      "without an ETag or Last-Modified: the rest cannot be asked for safely",
                                      method="GET", url=response.url, status=206)
            self.begin(validator, size)
        self.write(response, offset, end + 1, size)
        return "done" if complete else "more"

    def write(self, response: requests.Response, offset: int, until: Optional[int], total: Optional[int]) -> None:
        """Stream the body into the partial file (appended at ``offset`` > 0) under the deadline.

        ConnectionLost if the body ends short of ``until``; InvalidResponse as soon as it runs past it.
        """
        done = offset
        url = response.url
        fd, self.identity = files.append(self.part, offset) if offset else files.create(self.part)
        with os.fdopen(fd, "ab" if offset else "wb") as sink:
            self.report(done, total)
            left = self.left()
            alarm = watchdog.arm(max(left, 0.0), lambda: abort_response(response)) if left is not None else None
            try:
                for chunk in response.iter_content(self.chunk_size):
                    if alarm is not None and alarm.fired:
                        break
                    if until is not None and done + len(chunk) > until:
                        done += len(chunk)
                        break
                    sink.write(chunk)
                    done += len(chunk)
                    self.written += len(chunk)
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
        if until is not None and done > until:
            self.discard()
            raise InvalidResponse(f"GET {registry.url(url)}: the body runs past the announced {until} bytes; "
                                  "partial file discarded", method="GET", url=url, status=response.status_code)
        if alarm is not None and alarm.fired and (until is None or done < until):
            raise self.out_of_time()  # (a body complete just as the deadline passed is kept)
        if until is not None and done < until:
            raise ConnectionLost(f"ConnectionLost: GET {registry.url(url)}: the body ended at byte {done} of "
                                 f"{until}", method="GET", url=url)

    def finish(self) -> None:
        """Rename the complete partial file into place, if it is still the very file this call wrote or checked.

        The rename replaces ``dest`` itself (a symlink there is replaced, never written through).
        """
        info = files.check(self.part)
        if info is None or self.identity is None or files.identity_of(info) != self.identity:
            raise UsageError(f"refusing to move {str(self.part)!r} into place: it was replaced or removed "
                             "during the download")
        try:
            os.replace(self.part, self.target)
        except OSError as exc:
            raise UsageError(f"cannot move the download into place at {str(self.target)!r}: "
                             f"{exc.strerror or exc}") from None
        files.remove(self.meta_path)

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

    Resuming: ``dest.part`` is resumed only when the response that started it gave a validator
    (a strong ETag, else Last-Modified, kept with its size in ``dest.part.meta``); the request then
    carries ``Range: bytes=<its size>-`` and ``If-Range`` with that validator. Without one, or for
    a partial file nothing is known about, the download starts over from byte 0 (nothing proves
    the rest belongs to the same file). A 206 must carry the same validator (else the download
    starts over) and a Content-Range starting at that size (else InvalidResponse, and the partial
    file is dropped); a 200 starts over from byte 0; a 416 means the partial file was already
    complete. A download is complete only when a Content-Range total, or the first response's
    Content-Length, says so: a range of unknown total is followed up. Within one call, a
    connection lost or a read timeout mid-body is resumed the same way as the client's RetryPolicy
    allows. The requests of one call are bounded by progress: after ``FREE_REQUESTS``, each must
    have brought ``MIN_PROGRESS`` bytes on average (InvalidResponse, or the body failure, otherwise).

    The deadline (``deadline``, else the client's) covers the whole download, body included, and
    when it cuts the download short the partial file is kept for the next call.
    ``progress(done, total)`` is called before the first byte and after every chunk (``total``
    None when unknown). The file is not fsync'ed. A symlink, FIFO or hard-linked file planted at
    ``dest.part`` or ``dest.part.meta`` raises UsageError; nothing is written through it.
    """
    _check_chunk_size(chunk_size)
    check_progress(progress)
    if not isinstance(path, str):
        raise UsageError(f"path must be a string, got {type(path).__name__}")
    headers = options.get("headers")
    ranged = sorted(name for name in (headers if isinstance(headers, Mapping) else {})
                    if str(name).lower() in ("range", "if-range"))
    if ranged:
        raise UsageError(f"headers must not set {', '.join(ranged)}: download() asks for ranges itself")
    target = files.destination(dest)
    return _Download(adapter, path, target, chunk_size=chunk_size, progress=progress, params=params,
                     options=options).run()
