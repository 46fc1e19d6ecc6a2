"""myclient: a requests-based, session-injectable API-client foundation with one adapter choke point.

This module only re-exports the public names; see README.rst for the tour. Nothing is imported
until a name is used (``myclient.Client`` loads the core: the adapter, the transport, the error
tree), so tools that load the package early — the pytest plugin, coverage — see every module run
under measurement, and what only some users need (OAuth2 and oauthlib, token stores, pagination,
progress bars) costs nothing until it is used.
"""

from __future__ import annotations

import importlib as _importlib
import logging as _logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from . import openapi, progress, tokens
    from . import redaction as redact
    from ._log import redact_urllib3_logging
    from .adapters import Adapter, JSONAdapter, RawAdapter
    from .aio import AsyncAdapter, AsyncClient, AsyncPaginator
    from .auth import APIKeyAuth, AuthFlow, BasicAuth, BearerAuth, LoginFlow
    from .calls import Call, CallState
    from .client import Client
    from .config import from_config
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
    from .grants import AuthorizationCode, ClientCredentials, PasswordGrant, RefreshTokenGrant
    from .groups import ApiGroup, Resource, group, path
    from .hooks import Event, Hooks
    from .logins import SessionLogin, TokenLogin
    from .middleware import Middleware, Next
    from .oauth2 import OAuth2Flow
    from .pagination import Page, Paginator
    from .ratelimit import LimiterUnavailable, RateLimit
    from .redis_store import RedisTokenStore
    from .results import Result
    from .retry import RetryPolicy
    from .settings import DEFAULT, DEFAULT_TIMEOUT, CallOptions, ClientOptions, Settings
    from .strategies import Cursor, LinkHeader, Offset, PageNumber, Strategy
    from .tokens import CacheTokenStore, FileTokenStore, MemoryTokenStore, StaleLock, Token, TokenStore
    from .transport import RequestsTransport, Transport

__version__ = "0.1.0"

_logging.getLogger("myclient").addHandler(_logging.NullHandler())

#: Every public name -> (module under this package, attribute; None for the module itself).
_LAZY: dict[str, tuple[str, str | None]] = {
    "DEFAULT": ("settings", "DEFAULT"),
    "Call": ("calls", "Call"),
    "CallOptions": ("settings", "CallOptions"),
    "CallState": ("calls", "CallState"),
    "ClientOptions": ("settings", "ClientOptions"),
    "Middleware": ("middleware", "Middleware"),
    "Next": ("middleware", "Next"),
    "OAuthStateError": ("exceptions", "OAuthStateError"),
    "RedirectError": ("exceptions", "RedirectError"),
    "RequestsTransport": ("transport", "RequestsTransport"),
    "Result": ("results", "Result"),
    "Settings": ("settings", "Settings"),
    "Transport": ("transport", "Transport"),
    "Cursor": ("strategies", "Cursor"),
    "LinkHeader": ("strategies", "LinkHeader"),
    "Offset": ("strategies", "Offset"),
    "Page": ("pagination", "Page"),
    "PageNumber": ("strategies", "PageNumber"),
    "Paginator": ("pagination", "Paginator"),
    "Strategy": ("strategies", "Strategy"),
    "AuthorizationCode": ("grants", "AuthorizationCode"),
    "CacheTokenStore": ("tokens", "CacheTokenStore"),
    "ClientCredentials": ("grants", "ClientCredentials"),
    "FileTokenStore": ("tokens", "FileTokenStore"),
    "MemoryTokenStore": ("tokens", "MemoryTokenStore"),
    "RedisTokenStore": ("redis_store", "RedisTokenStore"),
    "StaleLock": ("tokens", "StaleLock"),
    "RateLimit": ("ratelimit", "RateLimit"),
    "LimiterUnavailable": ("ratelimit", "LimiterUnavailable"),
    "OAuth2Flow": ("oauth2", "OAuth2Flow"),
    "TokenLogin": ("logins", "TokenLogin"),
    "from_config": ("config", "from_config"),
    "AsyncClient": ("aio", "AsyncClient"),
    "AsyncAdapter": ("aio", "AsyncAdapter"),
    "AsyncPaginator": ("aio", "AsyncPaginator"),
    "SessionLogin": ("logins", "SessionLogin"),
    "AuthFlow": ("auth", "AuthFlow"),
    "LoginFlow": ("auth", "LoginFlow"),
    "PasswordGrant": ("grants", "PasswordGrant"),
    "RefreshTokenGrant": ("grants", "RefreshTokenGrant"),
    "Token": ("tokens", "Token"),
    "TokenStore": ("tokens", "TokenStore"),
    "DEFAULT_TIMEOUT": ("settings", "DEFAULT_TIMEOUT"),
    "APIKeyAuth": ("auth", "APIKeyAuth"),
    "Adapter": ("adapters", "Adapter"),
    "ApiGroup": ("groups", "ApiGroup"),
    "AuthError": ("exceptions", "AuthError"),
    "BadGateway": ("exceptions", "BadGateway"),
    "BadRequest": ("exceptions", "BadRequest"),
    "BasicAuth": ("auth", "BasicAuth"),
    "BearerAuth": ("auth", "BearerAuth"),
    "Client": ("client", "Client"),
    "ClientError": ("exceptions", "ClientError"),
    "Conflict": ("exceptions", "Conflict"),
    "ConnectError": ("exceptions", "ConnectError"),
    "ConnectTimeout": ("exceptions", "ConnectTimeout"),
    "ConnectionLost": ("exceptions", "ConnectionLost"),
    "CrossOriginError": ("exceptions", "CrossOriginError"),
    "DeadlineExceeded": ("exceptions", "DeadlineExceeded"),
    "Event": ("hooks", "Event"),
    "Hooks": ("hooks", "Hooks"),
    "Forbidden": ("exceptions", "Forbidden"),
    "GatewayTimeout": ("exceptions", "GatewayTimeout"),
    "HTTPError": ("exceptions", "HTTPError"),
    "InternalServerError": ("exceptions", "InternalServerError"),
    "InvalidResponse": ("exceptions", "InvalidResponse"),
    "JSONAdapter": ("adapters", "JSONAdapter"),
    "MyClientError": ("exceptions", "MyClientError"),
    "NotFound": ("exceptions", "NotFound"),
    "PreconditionFailed": ("exceptions", "PreconditionFailed"),
    "ProxyError": ("exceptions", "ProxyError"),
    "RateLimited": ("exceptions", "RateLimited"),
    "RawAdapter": ("adapters", "RawAdapter"),
    "ReadTimeout": ("exceptions", "ReadTimeout"),
    "Resource": ("groups", "Resource"),
    "RetryPolicy": ("retry", "RetryPolicy"),
    "ServerError": ("exceptions", "ServerError"),
    "ServiceUnavailable": ("exceptions", "ServiceUnavailable"),
    "TLSError": ("exceptions", "TLSError"),
    "Timeout": ("exceptions", "Timeout"),
    "TooManyRedirects": ("exceptions", "TooManyRedirects"),
    "TransportError": ("exceptions", "TransportError"),
    "Unauthorized": ("exceptions", "Unauthorized"),
    "UnprocessableEntity": ("exceptions", "UnprocessableEntity"),
    "UsageError": ("exceptions", "UsageError"),
    "redact_urllib3_logging": ("_log", "redact_urllib3_logging"),
    "group": ("groups", "group"),
    "path": ("groups", "path"),
    "progress": ("progress", None),
    "tokens": ("tokens", None),
    "openapi": ("openapi", None),
    "redact": ("redaction", None),
}


def __getattr__(name: str) -> Any:
    spec = _LAZY.get(name)
    if spec is None:
        raise AttributeError(f"module 'myclient' has no attribute {name!r}")
    module = _importlib.import_module(f".{spec[0]}", __name__)
    value = module if spec[1] is None else getattr(module, spec[1])
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "AsyncAdapter",
    "AsyncClient",
    "AsyncPaginator",
    "from_config",
    "AuthFlow",
    "LoginFlow",
    "SessionLogin",
    "TokenLogin",
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
    "RedisTokenStore",
    "StaleLock",
    "RateLimit",
    "LimiterUnavailable",
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
    "Cancelled",
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
    "tokens",
    "openapi",
]
