"""URL rules shared by the adapter: base-URL validation, joining a path under it, and origin checks.

Pure string work: nothing here sends a request or knows about sessions.
"""

from __future__ import annotations

import re
from typing import NamedTuple
from urllib.parse import urlsplit

from .exceptions import CrossOriginError, UsageError

_DEFAULT_PORTS = {"http": 80, "https": 443}
# "scheme://" at the very start; "v1/users:batchGet" or "?next=http://x" stay paths.
_ABSOLUTE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


class Origin(NamedTuple):
    """scheme, host and port: what decides whether credentials may travel with a request."""

    scheme: str
    host: str
    port: int


def origin_of(url: str) -> Origin | None:
    """The origin of an absolute http(s) URL, or None when it has none (relative, other scheme, bad port)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    return Origin(scheme, parts.hostname.lower().rstrip("."), port or _DEFAULT_PORTS[scheme])


def check_base_url(base_url: str) -> str:
    """Validate ``base_url`` and return it without a trailing slash.

    Refuses what would make every later request ambiguous or leaky: no scheme/host, credentials
    in the URL, a query or a fragment.
    """
    if not isinstance(base_url, str) or not base_url:
        raise UsageError(f"base_url must be a non-empty string, got {type(base_url).__name__}")
    try:
        parts = urlsplit(base_url)
    except ValueError as exc:
        raise UsageError(f"base_url is not a valid URL: {exc}") from None
    if parts.scheme.lower() not in _DEFAULT_PORTS or not parts.hostname:
        raise UsageError("base_url must be an absolute http:// or https:// URL with a host")
    if origin_of(base_url) is None:
        raise UsageError("base_url has an invalid port")
    if "@" in parts.netloc:
        raise UsageError("base_url must not carry credentials; pass token= or auth= instead")
    if parts.query or parts.fragment:
        raise UsageError("base_url must not carry a query or fragment; pass params= per call")
    return base_url.rstrip("/")


def join(base: str, base_origin: Origin, path: str) -> str:
    """Resolve ``path`` under ``base``: ``"/users"`` and ``"users"`` both land below the base path.

    An absolute URL is accepted only for the base URL's own origin; anything else raises
    CrossOriginError before a byte is sent. ``"//host/x"`` is a path here, never a host.
    """
    if not isinstance(path, str):
        raise UsageError(f"path must be a string, got {type(path).__name__}")
    if _ABSOLUTE.match(path):
        target = origin_of(path)
        if target is None:
            raise UsageError("an absolute URL must be http:// or https:// with a host and a valid port")
        if target != base_origin:
            raise CrossOriginError(
                f"refusing {target.scheme}://{target.host}:{target.port}: not the client's origin "
                f"{base_origin.scheme}://{base_origin.host}:{base_origin.port}"
            )
        return path
    if not path:
        return base
    return f"{base}/{path.lstrip('/')}"
