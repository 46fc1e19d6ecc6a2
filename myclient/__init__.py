"""myclient: a requests-based, session-injectable API-client foundation with one adapter choke point.

This module only re-exports the public names; see README.rst for the tour. The core (Client, the
adapter and transport, the error tree, auth, groups) is imported with the package; what only some
users need (OAuth2 flows and their oauthlib, token stores, pagination, progress bars, login flows)
is imported on first use of its name, so ``import myclient`` stays close to ``import requests``.
"""

from __future__ import annotations

import importlib as _importlib
import logging as _logging
from typing import TYPE_CHECKING, Any

from . import redaction as redact
from ._log import redact_urllib3_logging
from .adapters import Adapter, JSONAdapter, RawAdapter
from .auth import APIKeyAuth, BasicAuth, BearerAuth
from .calls import Call, CallState
from .client import Client
from .exceptions import (
    AuthError,
    BadGateway,
    BadRequest,
    ClientError,
    Conflict,
    ConnectError,
    ConnectionLost,
    ConnectTimeout,
    CrossOriginError,
    DeadlineExceeded,
    Forbidden,
    GatewayTimeout,
    HTTPError,
    InternalServerError,
    InvalidResponse,
    MyClientError,
    NotFound,
    OAuthStateError,
    PreconditionFailed,
    ProxyError,
    RateLimited,
    ReadTimeout,
    RedirectError,
    ServerError,
    ServiceUnavailable,
    Timeout,
    TLSError,
    TooManyRedirects,
    TransportError,
    Unauthorized,
    UnprocessableEntity,
    UsageError,
)
from .groups import ApiGroup, Resource, group, path
from .hooks import Event, Hooks
from .middleware import Middleware, Next
from .results import Result
from .retry import RetryPolicy
from .settings import DEFAULT, DEFAULT_TIMEOUT, CallOptions, ClientOptions, Settings
from .transport import RequestsTransport, Transport

if TYPE_CHECKING:
    from . import progress
    from .grants import AuthorizationCode, ClientCredentials, PasswordGrant, RefreshTokenGrant
    from .oauth2 import OAuth2Flow
    from .pagination import Page, Paginator
    from .strategies import Cursor, LinkHeader, Offset, PageNumber, Strategy
    from .tokens import CacheTokenStore, FileTokenStore, MemoryTokenStore, Token, TokenStore

__version__ = "0.1.0"

_logging.getLogger("myclient").addHandler(_logging.NullHandler())

#: Names imported on first use: name -> module (relative to this package).
_LAZY = {
    "progress": "",
    "AuthorizationCode": ".grants",
    "ClientCredentials": ".grants",
    "PasswordGrant": ".grants",
    "RefreshTokenGrant": ".grants",
    "OAuth2Flow": ".oauth2",
    "Page": ".pagination",
    "Paginator": ".pagination",
    "Cursor": ".strategies",
    "LinkHeader": ".strategies",
    "Offset": ".strategies",
    "PageNumber": ".strategies",
    "Strategy": ".strategies",
    "CacheTokenStore": ".tokens",
    "FileTokenStore": ".tokens",
    "MemoryTokenStore": ".tokens",
    "Token": ".tokens",
    "TokenStore": ".tokens",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'myclient' has no attribute {name!r}")
    value = _importlib.import_module(f".{name}" if module == "" else module, __name__)
    if module:
        value = getattr(value, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "DEFAULT",
    "Call",
    "CallOptions",
    "CallState",
    "ClientOptions",
    "Middleware",
    "Next",
    "OAuthStateError",
    "RedirectError",
    "RequestsTransport",
    "Result",
    "Settings",
    "Transport",
    "Cursor",
    "LinkHeader",
    "Offset",
    "Page",
    "PageNumber",
    "Paginator",
    "Strategy",
    "AuthorizationCode",
    "CacheTokenStore",
    "ClientCredentials",
    "FileTokenStore",
    "MemoryTokenStore",
    "OAuth2Flow",
    "PasswordGrant",
    "RefreshTokenGrant",
    "Token",
    "TokenStore",
    "DEFAULT_TIMEOUT",
    "APIKeyAuth",
    "Adapter",
    "ApiGroup",
    "AuthError",
    "BadGateway",
    "BadRequest",
    "BasicAuth",
    "BearerAuth",
    "Client",
    "ClientError",
    "Conflict",
    "ConnectError",
    "ConnectTimeout",
    "ConnectionLost",
    "CrossOriginError",
    "DeadlineExceeded",
    "Event",
    "Hooks",
    "Forbidden",
    "GatewayTimeout",
    "HTTPError",
    "InternalServerError",
    "InvalidResponse",
    "JSONAdapter",
    "MyClientError",
    "NotFound",
    "PreconditionFailed",
    "ProxyError",
    "RateLimited",
    "RawAdapter",
    "ReadTimeout",
    "Resource",
    "RetryPolicy",
    "ServerError",
    "ServiceUnavailable",
    "TLSError",
    "Timeout",
    "TooManyRedirects",
    "TransportError",
    "Unauthorized",
    "UnprocessableEntity",
    "UsageError",
    "__version__",
    "redact_urllib3_logging",
    "group",
    "path",
    "progress",
    "redact",
]
