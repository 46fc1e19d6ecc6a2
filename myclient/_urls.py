"""URL rules: base-URL validation, joining a path under it, and deciding origins the way the connection will.

Pure string work: nothing here sends a request or knows about sessions. Two parsers read URLs in
this stack — ``urllib.parse`` (what most code, and the old origin check, uses) and urllib3's
``parse_url`` (what decides where the connection goes). They disagree on hostile authorities
(``http://evil<backslash>@api/`` is ``evil`` to urllib3, ``api`` to urllib.parse); an origin is therefore
decided by urllib3's reading, and a URL the two read differently is refused.
"""

from __future__ import annotations

import re
from typing import NamedTuple
from urllib.parse import unquote, urlsplit

from .exceptions import CrossOriginError, UsageError

__all__ = ["Origin", "ambiguous", "check_base_url", "check_path", "connected_origin", "join", "origin_of"]

_DEFAULT_PORTS = {"http": 80, "https": 443}
# "scheme://" at the very start; "v1/users:batchGet" or "?next=http://x" stay paths.
_ABSOLUTE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
# Characters that end (or confuse) an authority for one parser and not the other.
_AMBIGUOUS = re.compile(r"[\\\s\x00-\x1f\x7f]")
# A host name (letters, digits, '-', '_', dots; IDNA-encoded already) or an IPv4/IPv6 literal.
_HOST = re.compile(r"(?:[a-z0-9_-]+\.)*[a-z0-9_-]+|[0-9a-f:.]+(?:%[a-z0-9]+)?", re.ASCII)


class Origin(NamedTuple):
    """scheme, host and port: what decides whether credentials may travel with a request."""

    scheme: str
    host: str
    port: int


def _host(host: str) -> str | None:
    host = host.strip("[]").lower().rstrip(".")
    if not host:
        return None
    if not host.isascii():
        try:
            from requests.models import PreparedRequest

            host = str(getattr(PreparedRequest, "_get_idna_encoded_host")(host))  # noqa: B009 - requests' own encoder
        except (UnicodeError, ValueError, Exception):  # noqa: BLE001 - any failure: not a usable host
            return None
    return host if _HOST.fullmatch(host) else None


def authority(url: str) -> str:
    """The raw authority of an absolute URL (between ``//`` and the first ``/``, ``?`` or ``#``)."""
    rest = url.split("://", 1)[1] if "://" in url else ""
    return re.split(r"[/?#]", rest, maxsplit=1)[0]


def origin_of(url: str) -> Origin | None:
    """The origin of an absolute http(s) URL, or None (relative, other scheme, bad port, ambiguous authority)."""
    if not isinstance(url, str):
        return None
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    if _AMBIGUOUS.search(authority(url)):
        return None
    host = _host(parts.hostname)
    if host is None:
        return None
    return Origin(scheme, host, port or _DEFAULT_PORTS[scheme])


def ambiguous(url: str) -> bool:
    """Whether the URL parsers would read this absolute URL's authority differently (refuse it)."""
    if _AMBIGUOUS.search(authority(url)):
        return True
    mine, theirs = origin_of(url), connected_origin(url)
    return mine is not None and theirs is not None and mine != theirs


def connected_origin(url: str) -> Origin | None:
    """The origin a connection for ``url`` goes to, read exactly as urllib3 reads it (None: not http(s))."""
    from urllib3.util import parse_url

    try:
        parts = parse_url(url)
    except (ValueError, UnicodeError):
        return None
    scheme = (parts.scheme or "").lower()
    if scheme not in _DEFAULT_PORTS or not parts.host:
        return None
    host = _host(parts.host)
    if host is None:
        return None
    return Origin(scheme, host, parts.port or _DEFAULT_PORTS[scheme])


def check_base_url(base_url: str) -> str:
    """Validate ``base_url`` and return it without a trailing slash.

    Refuses what would make every later request ambiguous or leaky: no scheme/host, credentials
    in the URL, a query or a fragment, an authority the URL parsers read differently.
    """
    if not isinstance(base_url, str) or not base_url:
        raise UsageError(f"base_url must be a non-empty string, got {type(base_url).__name__}")
    try:
        parts = urlsplit(base_url)
    except ValueError as exc:
        raise UsageError(f"base_url is not a valid URL: {exc}") from None
    if parts.scheme.lower() not in _DEFAULT_PORTS or not parts.hostname:
        raise UsageError("base_url must be an absolute http:// or https:// URL with a host")
    if "@" in parts.netloc:
        raise UsageError("base_url must not carry credentials; pass token= or auth= instead")
    origin = origin_of(base_url)
    if origin is None or connected_origin(base_url) != origin:
        raise UsageError("base_url has an invalid port or an ambiguous authority")
    if parts.query or parts.fragment:
        raise UsageError("base_url must not carry a query or fragment; pass params= per call")
    check_path(base_url)
    return base_url.rstrip("/")


def check_path(url: str) -> None:
    """Refuse dot segments (``.``/``..``, also percent-encoded) and text that cannot be a URL (lone surrogates).

    urllib3 and servers resolve ``..`` before routing, so ``/v1/../admin`` would leave the base path.
    """
    try:
        url.encode("utf-8")
    except UnicodeEncodeError:
        raise UsageError("the URL contains characters that cannot be sent (a lone surrogate?)") from None
    try:
        path = urlsplit(url).path if "://" in url else url.split("?", 1)[0].split("#", 1)[0]
    except ValueError:
        raise UsageError("the URL cannot be parsed") from None
    for segment in path.split("/"):
        if segment and unquote(segment).strip() in (".", ".."):
            raise UsageError("a path must not contain '.' or '..' segments (it could leave the base path)")


def join(base: str, base_origin: Origin, path: str) -> str:
    """Resolve ``path`` under ``base``: ``"/users"`` and ``"users"`` both land below the base path.

    An absolute URL is accepted only for the base URL's own origin (as the connection would read it);
    anything else raises CrossOriginError before a byte is sent. ``"//host/x"`` is a path here, never
    a host; ``..`` segments are refused.
    """
    if not isinstance(path, str):
        raise UsageError(f"path must be a string, got {type(path).__name__}")
    check_path(path)
    if _ABSOLUTE.match(path):
        target = origin_of(path)
        if target is None or connected_origin(path) != target:
            if target is None and connected_origin(path) is None and not _AMBIGUOUS.search(authority(path)):
                raise UsageError("an absolute URL must be http:// or https:// with a host and a valid port")
            raise CrossOriginError("refusing an absolute URL whose authority the URL parsers read differently")
        if target != base_origin:
            raise CrossOriginError(
                f"refusing {target.scheme}://{target.host}:{target.port}: not the client's origin "
                f"{base_origin.scheme}://{base_origin.host}:{base_origin.port}"
            )
        return path
    if not path:
        return base
    return f"{base}/{path.lstrip('/')}"
