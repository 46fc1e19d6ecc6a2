"""myclient: a requests-based, session-injectable API-client foundation with one adapter choke point.

This module only re-exports the public names; see README.rst for the tour.
"""

import logging as _logging

from . import progress
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
from .grants import AuthorizationCode, ClientCredentials, PasswordGrant, RefreshTokenGrant
from .groups import ApiGroup, Resource, group, path
from .hooks import Event, Hooks
from .middleware import Middleware, Next
from .oauth2 import OAuth2Flow
from .pagination import Page, Paginator
from .results import Result
from .retry import RetryPolicy
from .settings import DEFAULT, DEFAULT_TIMEOUT, CallOptions, ClientOptions, Settings
from .strategies import Cursor, LinkHeader, Offset, PageNumber, Strategy
from .tokens import CacheTokenStore, FileTokenStore, MemoryTokenStore, Token, TokenStore
from .transport import RequestsTransport, Transport

__version__ = "0.1.0"

_logging.getLogger("myclient").addHandler(_logging.NullHandler())

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
