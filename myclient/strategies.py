"""Pagination strategies: where a page's items are, the collection's size, and the next page's request.

Strategies hold configuration only and are shared freely (e.g. as a Resource class attribute); they
never send anything and keep no progress: the Paginator in pagination.py does the walking.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, NamedTuple, Optional
from urllib.parse import urldefrag, urljoin, urlsplit

import requests

from ._parse import ascii_int
from ._urls import origin_of
from .exceptions import InvalidResponse, UsageError
from .redaction import registry

__all__ = ["Cursor", "LinkHeader", "Offset", "PageNumber", "PageRequest", "Strategy", "dig"]

#: Query-parameter values a checkpoint can hold (JSON scalars).
SCALARS = (str, int, float, bool)


class PageRequest(NamedTuple):
    """The GET that fetches one page.

    ``url`` is a path under the base URL or a same-origin absolute URL; ``params`` its query
    parameters (None when ``url`` carries its own query, as a next link does).
    """

    url: str
    params: Optional[dict[str, Any]]


# -- helpers ------------------------------------------------------------------------------------


def _check_name(owner: str, what: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise UsageError(f"{owner}: {what} must be a non-empty string, got {value!r}")
    return value


def _check_dotted(owner: str, what: str, value: Any, *, optional: bool = True) -> Optional[str]:
    """A dotted path into the JSON body (``"data"``, ``"meta.next_cursor"``, ``"results.0.items"``)."""
    if value is None and optional:
        return None
    _check_name(owner, what, value)
    if any(not part for part in value.split(".")):
        raise UsageError(f"{owner}: {what} {value!r} has an empty segment (use 'a.b', not 'a..b' or '.a')")
    return str(value)


def _check_count(owner: str, what: str, value: Any, *, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise UsageError(f"{owner}: {what} must be an int >= {minimum}, got {value!r}")
    return value


MISSING: Any = object()


def dig(doc: Any, dotted: str) -> Any:
    """The value at ``dotted`` (``"a.b.0"``: keys, and list indexes as digits), or a marker when absent."""
    value = doc
    for part in dotted.split("."):
        if isinstance(value, Mapping) and part in value:
            value = value[part]
            continue
        index = ascii_int(part) if isinstance(value, list) else None  # "0".."9" only, never "²"
        if index is None or index >= len(value):
            return MISSING
        value = value[index]
    return value


def as_int(value: Any) -> Optional[int]:
    """A non-negative int from a JSON number or a header string (ASCII digits only); None if it is not one."""
    return ascii_int(value)


#: Longest next link followed (a real one is far shorter; anything longer is refused, not sent).
MAX_LINK_CHARS = 8192


def resolve_link(response: requests.Response, link: str) -> str:
    """The absolute http(s) URL a next link points to, resolved against the page's URL.

    Whatever the server wrote, this returns a URL or raises InvalidResponse: a link with
    whitespace or control characters, one that does not parse (``http://[::1``), that is not
    http(s) with a host and a valid port, or that carries credentials. The fragment is dropped.
    Whether the URL is on the client's origin is checked when it is fetched (CrossOriginError).
    """
    if len(link) > MAX_LINK_CHARS:
        raise invalid(response, f"the next link is {len(link)} characters long (at most {MAX_LINK_CHARS})")
    shown = registry.url(link)
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in link):
        raise invalid(response, f"the next link {shown!r} is not a valid URL (whitespace or control characters)")
    try:
        resolved = urldefrag(urljoin(response.url, link)).url
        parts = urlsplit(resolved)
    except ValueError as exc:
        raise invalid(response, f"the next link {shown!r} is not a valid URL ({exc})") from None
    if origin_of(resolved) is None:
        raise invalid(response, f"the next link {shown!r} is not an http(s) URL with a host and a valid port")
    if "@" in parts.netloc:
        raise invalid(response, f"the next link {registry.url(resolved)!r} carries credentials; not following it")
    return resolved


def invalid(response: requests.Response, message: str) -> InvalidResponse:
    """InvalidResponse for a page that does not look as the strategy promised."""
    return InvalidResponse(
        f"{response.status_code} response to GET {registry.url(response.url)}: {message}",
        method="GET",
        url=response.url,
        status=response.status_code,
    )


# -- strategies ---------------------------------------------------------------------------------


class Strategy:
    """How a paginated collection works: where a page's items are, and the request for the next page.

    A strategy holds configuration only (it is shared, e.g. as a Resource class attribute); all
    progress lives in the Paginator and its checkpoint. ``items`` is a dotted path to the list
    in the body, or None when the body itself is the list. ``total`` (a dotted path in the body)
    and ``total_header`` (default ``X-Total-Count``, used when sent) give the collection size.
    """

    #: The name recorded in checkpoints, so a checkpoint cannot resume another kind of walk.
    name: ClassVar[str] = ""
    #: Whether the next request is computed from a counter (page number, offset) rather than read
    #: from the page: such a walk never repeats a request, so a server that ignores the counter is
    #: caught by its pages repeating instead (see Paginator).
    counted: ClassVar[bool] = False

    def __init__(
        self, *, items: Optional[str] = None, total: Optional[str] = None,
        total_header: Optional[str] = "X-Total-Count",
    ) -> None:
        owner = type(self).__name__
        self.items = _check_dotted(owner, "items", items)
        self.total = _check_dotted(owner, "total", total)
        self.total_header = None if total_header is None else _check_name(owner, "total_header", total_header)

    def controlled_params(self) -> tuple[str, ...]:
        """Query parameters this strategy sets itself (the caller's params must not)."""
        return ()

    def first(self, path: str, params: dict[str, Any]) -> PageRequest:
        """The request for the first page (refuses params the strategy controls)."""
        taken = sorted(set(self.controlled_params()) & set(params))
        if taken:
            raise UsageError(
                f"params must not set {', '.join(map(repr, taken))}: {type(self).__name__} sets "
                f"{'it' if len(taken) == 1 else 'them'} page by page"
            )
        return PageRequest(path, dict(params) if params else None)

    def items_of(self, body: Any, response: requests.Response) -> list[Any]:
        """The list of items in a decoded page body (InvalidResponse when it is not where promised)."""
        if body is None:
            return []
        found = body if self.items is None else dig(body, self.items)
        if found is MISSING:
            raise invalid(response, f"the page has no {self.items!r} key holding its items")
        if not isinstance(found, list):
            if self.items is None:
                raise invalid(
                    response,
                    f"the page body is a JSON {type(found).__name__}, not a list; say where the items are, "
                    f"e.g. {type(self).__name__}(items='data')",
                )
            raise invalid(response, f"{self.items!r} in the page is a {type(found).__name__}, not a list")
        return found

    def total_of(self, body: Any, response: requests.Response) -> Optional[int]:
        """The collection size when the body (``total``) or the ``total_header`` says it, else None."""
        if self.total is not None and body is not None:
            value = as_int(dig(body, self.total))
            if value is not None:
                return value
        if self.total_header is not None:
            return as_int(response.headers.get(self.total_header))
        return None

    def next(
        self, request: PageRequest, response: requests.Response, body: Any, items: list[Any],
        total: Optional[int],
    ) -> Optional[PageRequest]:
        """The request for the page after ``request`` (None when this was the last page)."""
        raise NotImplementedError

    def __repr__(self) -> str:
        shown = {k: v for k, v in vars(self).items() if v is not None}
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in shown.items())})"


class LinkHeader(Strategy):
    """RFC 8288 ``Link: <url>; rel="next"`` (GitHub, GitLab, json-server, ...).

    The next URL is resolved against the page's URL and must be on the client's origin
    (CrossOriginError otherwise, before anything is sent there); a link that is not a valid
    http(s) URL is InvalidResponse (see ``resolve_link``), raised when the page carrying it is
    fetched, before its items are handed out. A response without a next link is the last page,
    so a server that does not paginate gives exactly one page.
    """

    name = "link"

    def __init__(
        self, *, items: Optional[str] = None, rel: str = "next", total: Optional[str] = None,
        total_header: Optional[str] = "X-Total-Count",
    ) -> None:
        super().__init__(items=items, total=total, total_header=total_header)
        self.rel = _check_name("LinkHeader", "rel", rel)

    def next(
        self, request: PageRequest, response: requests.Response, body: Any, items: list[Any],
        total: Optional[int],
    ) -> Optional[PageRequest]:
        link = response.links.get(self.rel) or {}
        url = link.get("url", "").strip()
        if not url:
            return None
        return PageRequest(resolve_link(response, url), None)


class Cursor(Strategy):
    """An opaque cursor, read from the body at ``next`` (a dotted path) and sent back in ``param``.

    A missing, null or empty cursor ends the walk, as does
    a false ``has_more`` (a dotted path) when given. ``limit_param``/``limit`` ask for a page size.
    """

    name = "cursor"

    def __init__(
        self, *, param: str = "cursor", next: str = "next_cursor", items: Optional[str] = "data",  # noqa: A002
        has_more: Optional[str] = None, limit_param: Optional[str] = None, limit: Optional[int] = None,
        total: Optional[str] = None, total_header: Optional[str] = "X-Total-Count",
    ) -> None:
        super().__init__(items=items, total=total, total_header=total_header)
        self.param = _check_name("Cursor", "param", param)
        self.next_path = _check_dotted("Cursor", "next", next, optional=False)
        self.has_more = _check_dotted("Cursor", "has_more", has_more)
        if (limit_param is None) != (limit is None):
            raise UsageError("Cursor: give both limit_param and limit, or neither")
        self.limit_param = None if limit_param is None else _check_name("Cursor", "limit_param", limit_param)
        self.limit = None if limit is None else _check_count("Cursor", "limit", limit, minimum=1)

    def controlled_params(self) -> tuple[str, ...]:
        return (self.limit_param,) if self.limit_param else ()

    def first(self, path: str, params: dict[str, Any]) -> PageRequest:
        request = super().first(path, params)
        if self.limit_param is None:
            return request
        return PageRequest(path, {**(request.params or {}), self.limit_param: self.limit})

    def next(
        self, request: PageRequest, response: requests.Response, body: Any, items: list[Any],
        total: Optional[int],
    ) -> Optional[PageRequest]:
        if body is None:
            return None
        if self.has_more is not None:
            more = dig(body, self.has_more)
            if more is not MISSING and not more:
                return None
        cursor = dig(body, self.next_path)  # type: ignore[arg-type]
        if cursor is MISSING or cursor is None or cursor == "":
            return None
        if not isinstance(cursor, SCALARS):
            raise invalid(response, f"the cursor at {self.next_path!r} is a {type(cursor).__name__}, "
                                     "not a string or number")
        return PageRequest(request.url, {**(request.params or {}), self.param: cursor})


class PageNumber(Strategy):
    """``?page=N`` (and ``&per_page=size`` when ``size_param`` and ``size`` are given), from ``start``.

    The walk ends on an empty page, when ``total`` items have been covered (total from the body or
    the ``X-Total-Count`` header), or, without a total, on a page shorter than ``size``.
    """

    name = "page"
    counted = True

    def __init__(
        self, *, param: str = "page", size_param: Optional[str] = None, size: Optional[int] = None,
        start: int = 1, items: Optional[str] = None, total: Optional[str] = None,
        total_header: Optional[str] = "X-Total-Count",
    ) -> None:
        super().__init__(items=items, total=total, total_header=total_header)
        self.param = _check_name("PageNumber", "param", param)
        if size_param is not None and size is None:
            raise UsageError("PageNumber: size_param needs a size")
        self.size_param = None if size_param is None else _check_name("PageNumber", "size_param", size_param)
        self.size = None if size is None else _check_count("PageNumber", "size", size, minimum=1)
        self.start = _check_count("PageNumber", "start", start, minimum=0)

    def controlled_params(self) -> tuple[str, ...]:
        return tuple(p for p in (self.param, self.size_param) if p)

    def first(self, path: str, params: dict[str, Any]) -> PageRequest:
        request = super().first(path, params)
        query = {**(request.params or {}), self.param: self.start}
        if self.size_param:
            query[self.size_param] = self.size
        return PageRequest(path, query)

    def next(
        self, request: PageRequest, response: requests.Response, body: Any, items: list[Any],
        total: Optional[int],
    ) -> Optional[PageRequest]:
        params = request.params or {}
        number = as_int(params.get(self.param))
        if number is None:
            raise UsageError(f"PageNumber: the request has no valid {self.param!r} parameter: {params!r}")
        if not items:
            return None
        if self.size is not None:
            if total is not None and (number - self.start + 1) * self.size >= total:
                return None
            if total is None and len(items) < self.size:
                return None
        return PageRequest(request.url, {**params, self.param: number + 1})


class Offset(Strategy):
    """``?offset=N&limit=M``: the next offset is this one plus the items received.

    The walk ends on an empty page, when the offset reaches ``total`` (from the body or the
    ``X-Total-Count`` header), or, without a total, on a page shorter than ``limit``. A server
    that caps the page size below ``limit`` and sends no total would look finished after one
    short page: give its real cap as ``limit``.
    """

    name = "offset"
    counted = True

    def __init__(
        self, *, offset_param: str = "offset", limit_param: str = "limit", limit: int = 100, start: int = 0,
        items: Optional[str] = None, total: Optional[str] = None, total_header: Optional[str] = "X-Total-Count",
    ) -> None:
        super().__init__(items=items, total=total, total_header=total_header)
        self.offset_param = _check_name("Offset", "offset_param", offset_param)
        self.limit_param = _check_name("Offset", "limit_param", limit_param)
        if self.offset_param == self.limit_param:
            raise UsageError("Offset: offset_param and limit_param must differ")
        self.limit = _check_count("Offset", "limit", limit, minimum=1)
        self.start = _check_count("Offset", "start", start, minimum=0)

    def controlled_params(self) -> tuple[str, ...]:
        return (self.offset_param, self.limit_param)

    def first(self, path: str, params: dict[str, Any]) -> PageRequest:
        request = super().first(path, params)
        return PageRequest(path, {**(request.params or {}), self.offset_param: self.start,
                                  self.limit_param: self.limit})

    def next(
        self, request: PageRequest, response: requests.Response, body: Any, items: list[Any],
        total: Optional[int],
    ) -> Optional[PageRequest]:
        params = request.params or {}
        offset = as_int(params.get(self.offset_param))
        if offset is None:
            raise UsageError(f"Offset: the request has no valid {self.offset_param!r} parameter: {params!r}")
        following = offset + len(items)
        if not items or (total is not None and following >= total):
            return None
        if total is None and len(items) < self.limit:
            return None
        return PageRequest(request.url, {**params, self.offset_param: following})
