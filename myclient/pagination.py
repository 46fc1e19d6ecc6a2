"""Pagination: the lazy Paginator that walks a collection one page at a time, with a resumable checkpoint.

It never holds more than the current page, sends every page through the adapter (so retries, auth
refresh and the deadline apply per page), never follows a next link to another origin and never
walks in a circle: a next page that repeats one already fetched in the walk raises InvalidResponse.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Optional, TypeVar
from urllib.parse import parse_qsl, urlsplit

import requests

from ._urls import origin_of
from .exceptions import MyClientError, UsageError
from .redaction import registry
from .results import decode_body
from .settings import CALL_OPTIONS, unknown_option
from .strategies import SCALARS, Cursor, LinkHeader, Offset, PageNumber, PageRequest, Strategy, invalid

if TYPE_CHECKING:
    from .adapters import Adapter

__all__ = [
    "CHECKPOINT_VERSION",
    "Cursor",
    "LinkHeader",
    "Offset",
    "Page",
    "PageNumber",
    "PageRequest",
    "Paginator",
    "Strategy",
]

#: The type of the items a Paginator yields (``Any`` for decoded JSON).
T = TypeVar("T")

#: Version of the checkpoint format (the ``"v"`` key); a checkpoint of another version is refused.
CHECKPOINT_VERSION = 1
#: Page requests a walk remembers exactly (as 16-byte digests, oldest forgotten first) to catch a loop.
REMEMBERED_PAGES = 10_000


@dataclass
class Page:
    """One fetched page.

    ``items`` holds the items not consumed yet: on a page resumed from a checkpoint, those after
    it (``skipped`` says how many came before). ``number`` is the page's position in the whole
    walk (1 = first page), carried across resumes. ``next`` is the request for the following page
    (None on the last one); ``total`` the collection size when the server says it.
    """

    items: list[Any]
    number: int
    status: int
    url: str
    headers: requests.structures.CaseInsensitiveDict[str]
    request: PageRequest
    next: Optional[PageRequest]
    total: Optional[int] = None
    skipped: int = 0


# -- loop detection -----------------------------------------------------------------------------


class _Seen:
    """The page requests fetched in one walk, to refuse a next page that was fetched already.

    Memory is bounded: the last ``REMEMBERED_PAGES`` requests are remembered exactly, so a repeat
    among them is caught before it is sent. A longer loop is still caught, within two of its
    turns, by Brent's method: one request kept aside, moved forward at pages 1, 2, 4, 8, ...
    """

    def __init__(self, capacity: Optional[int] = None) -> None:
        self._capacity = REMEMBERED_PAGES if capacity is None else capacity
        self._recent: OrderedDict[bytes, int] = OrderedDict()
        self._kept: Optional[tuple[bytes, int]] = None
        self._stride = 1

    def add(self, key: bytes, number: int) -> None:
        """Remember that page ``number`` of the walk was fetched with the request ``key``."""
        self._recent[key] = number
        self._recent.move_to_end(key)
        if len(self._recent) > self._capacity:
            self._recent.popitem(last=False)
        if self._kept is None or number - self._kept[1] >= self._stride:
            self._kept = (key, number)
            self._stride *= 2

    def find(self, key: bytes) -> Optional[int]:
        """The page number fetched with the request ``key``, if remembered."""
        found = self._recent.get(key)
        if found is None and self._kept is not None and self._kept[0] == key:
            found = self._kept[1]
        return found


def _digest(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()[:16]


# -- the paginator ------------------------------------------------------------------------------


def _check_params(params: Any) -> dict[str, Any]:
    """Query parameters as a dict of JSON-friendly values (they are written into checkpoints)."""
    if params is None:
        return {}
    if not isinstance(params, Mapping):
        raise UsageError(f"params must be a mapping of query parameters, got {type(params).__name__}")
    checked: dict[str, Any] = {}
    for key, value in params.items():
        if not isinstance(key, str):
            raise UsageError(f"params keys must be strings, got {key!r}")
        values = list(value) if isinstance(value, (list, tuple)) else [value]
        if not all(v is None or isinstance(v, SCALARS) for v in values):
            raise UsageError(f"params[{key!r}] must be a string, number, bool or a list of them "
                             f"(it goes into the checkpoint), got {type(value).__name__}")
        checked[key] = list(value) if isinstance(value, (list, tuple)) else value
    return checked


def _counter(checkpoint: Mapping[str, Any], key: str, minimum: int) -> int:
    value = checkpoint.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise UsageError(f"resume: {key} must be an int >= {minimum}, got {value!r}")
    return value


def _check_limit(what: str, value: Any) -> Optional[int]:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise UsageError(f"{what} must be None or an int >= 1, got {value!r}")
    return value


class Paginator(Iterator[T]):
    """A lazy, resumable walk over a paginated collection: iterate it for items, or ``pages()``.

    Nothing is sent until iteration starts; then one page at a time is fetched through
    ``adapter.request_raw`` (retries, auth refresh, ``timeout`` and ``deadline`` apply per page)
    and only that page is held. ``max_items``/``max_pages`` stop this run early (pages counted as
    fetched in this run). ``checkpoint`` is, at any moment, a small JSON-serialisable dict saying
    where the walk stands; ``resume=`` a saved one continues exactly after the last item (or page)
    handed out: nothing lost, nothing repeated, as long as the server's pages did not change.

    A walk never loops: when the next page's request (URL and query, whatever their order) is
    one already fetched in this walk (``/a`` -> ``/b`` -> ``/a``, a cursor that comes back), or a
    PageNumber/Offset page repeats the previous page byte for byte (the server ignores the page
    parameter), the page is not handed out and InvalidResponse is raised. Memory stays bounded
    (see ``_Seen``); a resumed walk remembers the pages fetched since it resumed.
    """

    def __init__(
        self,
        adapter: Adapter,
        path: str,
        params: Optional[Mapping[str, Any]] = None,
        *,
        strategy: Strategy,
        max_items: Optional[int] = None,
        max_pages: Optional[int] = None,
        resume: Optional[Mapping[str, Any] | str] = None,
        **options: Any,
    ) -> None:
        if not isinstance(strategy, Strategy):
            raise UsageError(
                f"strategy must be a pagination strategy (LinkHeader(), Cursor(), PageNumber() or Offset()), "
                f"got {strategy!r}"
            )
        if not isinstance(path, str) or not path:
            raise UsageError(f"path must be a non-empty string, got {path!r}")
        self._adapter = adapter
        self.path = path
        self.strategy = strategy
        self.max_items = _check_limit("max_items", max_items)
        self.max_pages = _check_limit("max_pages", max_pages)
        unknown = set(options) - CALL_OPTIONS
        if unknown:
            raise unknown_option(sorted(unknown)[0], CALL_OPTIONS)
        #: Per-call options every page request carries (timeout, deadline, retry, headers, ...).
        self._call: dict[str, Any] = dict(options)
        first = strategy.first(path, _check_params(params))
        adapter.url(first.url)  # a bad or cross-origin path fails now, not on first iteration
        # Where the walk stands: the request of the page in progress, the items of that page
        # already handed out, its number, items handed out overall, and whether it is finished.
        self._request: Optional[PageRequest] = first
        self._skip = 0
        self._number = 1
        self._count = 0
        if resume is not None:
            self._restore(resume)
        self._current: Optional[Page] = None
        self._pos = 0
        self._run_items = 0
        self._run_pages = 0
        self._mode: Optional[str] = None
        self._seen = _Seen()
        self._last_body: Optional[tuple[int, bytes]] = None  # (page number, body digest): PageNumber/Offset

    # -- checkpoint -----------------------------------------------------------------------
    @property
    def checkpoint(self) -> dict[str, Any]:
        """Where the walk stands, as a JSON-serialisable dict (a fresh copy each time).

        ``{"v": 1, "strategy": "offset", "path": "/posts", "request": {"url": ..., "params": ...},
        "skip": 3, "page": 2, "items": 13}``: the request of the page in progress (null once the
        walk is finished), how many of that page's items were handed out, its number and the items
        handed out over every run. Pass it as ``resume=`` to continue.
        """
        request = None
        if self._request is not None:
            request = {"url": self._request.url, "params": copy.deepcopy(self._request.params)}
        return {"v": CHECKPOINT_VERSION, "strategy": self.strategy.name, "path": self.path,
                "request": request, "skip": self._skip, "page": self._number, "items": self._count}

    @property
    def done(self) -> bool:
        """Whether the whole collection has been walked (there is no next page to fetch)."""
        return self._request is None

    def _restore(self, resume: Mapping[str, Any] | str) -> None:
        if isinstance(resume, str):
            try:
                resume = json.loads(resume)
            except (ValueError, RecursionError) as exc:
                raise UsageError(f"resume is not a checkpoint (invalid JSON: {type(exc).__name__})") from None
        if not isinstance(resume, Mapping):
            raise UsageError(f"resume must be a checkpoint dict (paginator.checkpoint), got {type(resume).__name__}")
        if resume.get("v") != CHECKPOINT_VERSION:
            raise UsageError(f"resume: unsupported checkpoint version {resume.get('v')!r} "
                             f"(this myclient writes {CHECKPOINT_VERSION})")
        if resume.get("strategy") != self.strategy.name:
            raise UsageError(f"resume: the checkpoint is for a {resume.get('strategy')!r} walk, "
                             f"not {self.strategy.name!r} ({self.strategy!r})")
        if resume.get("path") != self.path:
            raise UsageError(f"resume: the checkpoint is for {resume.get('path')!r}, not {self.path!r}")
        skip, number, count = _counter(resume, "skip", 0), _counter(resume, "page", 1), _counter(resume, "items", 0)
        raw = resume.get("request")
        if raw is None:
            request = None
        else:
            if not isinstance(raw, Mapping) or not isinstance(raw.get("url"), str) or not raw["url"]:
                raise UsageError(f"resume: request must be {{'url': str, 'params': dict or null}}, got {raw!r}")
            params = raw.get("params")
            request = PageRequest(raw["url"], None if params is None else _check_params(params))
            self._adapter.url(request.url)  # CrossOriginError for a tampered checkpoint
        self._request, self._skip, self._number, self._count = request, skip, number, count

    # -- walking --------------------------------------------------------------------------
    def _advance(self, following: Optional[PageRequest]) -> None:
        """The page in progress is fully handed out: move the checkpoint to the next one."""
        self._request = following
        self._skip = 0
        self._number += 1

    def _budget(self) -> Optional[int]:
        return None if self.max_items is None else self.max_items - self._run_items

    def _key(self, request: PageRequest) -> Optional[bytes]:
        """A digest of the request as sent (origin, path, sorted query); None when it cannot be sent."""
        try:
            url = requests.Request("GET", self._adapter.url(request.url), params=request.params).prepare().url
            parts = urlsplit(url or "")
            query = sorted(parse_qsl(parts.query, keep_blank_values=True))
        except (MyClientError, requests.RequestException, ValueError, TypeError):
            return None  # fetching it raises the right error (CrossOriginError, ...)
        canonical = json.dumps([origin_of(url or ""), parts.path, query])
        return _digest(canonical.encode("utf-8", "surrogatepass"))

    def _check_loop(self, response: requests.Response, content: bytes, following: Optional[PageRequest]) -> None:
        """InvalidResponse when the walk would go round in a circle (see the class docstring)."""
        if self.strategy.counted:
            body = (self._number, _digest(content)) if content and not content.isspace() else None
            repeated = body is not None and self._last_body == (self._number - 1, body[1])
            self._last_body = body
            if repeated:
                raise invalid(response, f"this page is the previous page again, byte for byte: the server seems "
                                        f"to ignore the paging parameters of {self.strategy!r}; stopping "
                                        "instead of looping")
        if following is None:
            return
        key = self._key(following)
        number = None if key is None else self._seen.find(key)
        if number == self._number:
            raise invalid(response, "the next page is this same page again; stopping instead of looping")
        if number is not None:
            raise invalid(response, f"the next page ({registry.url(following.url)}) repeats page {number} of "
                                    "this walk; stopping instead of looping")

    def _fetch(self, request: PageRequest) -> Page:
        """GET one page and decode it; the response is closed before returning."""
        response = self._adapter.request_raw("GET", request.url, params=request.params, **self._call)
        try:
            body: Any = decode_body(response, "json", "GET")
            items = self.strategy.items_of(body, response)
            total = self.strategy.total_of(body, response)
            following = self.strategy.next(request, response, body, items, total)
        finally:
            response.close()
        key = self._key(request)
        if key is not None:
            self._seen.add(key, self._number)
        self._check_loop(response, response.content or b"", following)
        skipped = min(self._skip, len(items))
        return Page(items=items[skipped:] if skipped else items, number=self._number, status=response.status_code,
                    url=response.url, headers=response.headers, request=request, next=following, total=total,
                    skipped=skipped)

    def _load(self) -> Optional[Page]:
        """The page the walk stands at, fetched; None when finished or this run's limits are reached."""
        budget = self._budget()
        if self._request is None or (budget is not None and budget <= 0):
            return None
        if self.max_pages is not None and self._run_pages >= self.max_pages:
            return None
        page = self._fetch(self._request)
        self._run_pages += 1
        return page

    def __iter__(self) -> Paginator[T]:
        return self

    def buffered(self) -> bool:
        """Whether the next item is already in memory (``next()`` will not send a request).

        An AsyncClient uses it to fetch pages in a worker thread and hand out items on the loop.
        """
        page = self._current
        budget = self._budget()
        return page is not None and self._pos < len(page.items) and (budget is None or budget > 0)

    def __next__(self) -> T:
        """The next item; a new page is fetched only when the current one is used up."""
        if self._mode == "pages":
            raise UsageError("this paginator is being walked by pages(); use one or the other")
        self._mode = "items"
        while True:
            page = self._current
            if page is not None and self._pos < len(page.items):
                budget = self._budget()
                if budget is not None and budget <= 0:
                    raise StopIteration
                item = page.items[self._pos]
                self._pos += 1
                self._run_items += 1
                self._count += 1
                if self._pos == len(page.items):
                    self._current = None
                    self._advance(page.next)
                else:
                    self._skip += 1
                return item  # type: ignore[no-any-return]  # items are decoded JSON, typed by the caller's T
            if page is not None:  # an empty page (or one wholly consumed before a resume)
                self._current = None
                self._advance(page.next)
            loaded = self._load()
            if loaded is None:
                raise StopIteration
            self._current, self._pos = loaded, 0

    def pages(self) -> Iterator[Page]:
        """Iterate pages instead of items (empty ones too).

        The checkpoint moves past each page as it is handed out; ``max_items`` cuts the last page short.
        """
        if self._mode == "items":
            raise UsageError("this paginator is being iterated by items; use one or the other")
        self._mode = "pages"
        while True:
            page = self._load()
            if page is None:
                return
            budget = self._budget()
            if budget is not None and len(page.items) > budget:
                page.items = page.items[:budget]
                self._skip += budget
                self._run_items += budget
                self._count += budget
                yield page
                return
            self._run_items += len(page.items)
            self._count += len(page.items)
            self._advance(page.next)
            yield page

    def __repr__(self) -> str:
        return (f"<Paginator {self.strategy!r} {registry.url(self.path)!r} page={self._number} "
                f"items={self._count}{' done' if self.done else ''}>")
