"""What generated packages use at run time: ``Op``, ``P`` and ``GeneratedClient``.

``Op`` and ``P`` declare an operation as its spec describes it; ``GeneratedClient`` is a Client whose credentials
follow the spec's security schemes. A generated method is one call (``return _GET_USER.call(self, {"user_id":
user_id}, options)``), so an async face can reuse the same declarations.

``Op`` builds the ``myclient.openapi`` Operation once and then does exactly what a ``myclient.openapi.load``
client does: it checks and serializes the arguments as the spec's parameter styles say
(``myclient.openapi._params``), picks the operation's credentials, sends through the group's adapter (retries,
deadlines, hooks, cassettes and ``Result`` apply unchanged), decodes the answer by its content type and puts a
documented error body on ``e.data``. Nothing here is generated; generated code only declares.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar, cast

import requests
from requests.auth import AuthBase

from ..adapters import Adapter, JSONAdapter
from ..aio import AsyncClient
from ..client import AdapterSpec, Client
from ..exceptions import UsageError
from ..openapi._model import Operation, SpecModel
from ..openapi._runtime import SpecRuntime
from ..openapi._security import Security
from ..openapi._spec import Refs

if TYPE_CHECKING:
    from typing_extensions import Self
    from typing_extensions import Unpack as Unpack  # for type checkers targeting 3.10 too

    from ..groups import ApiGroup
    from ..results import Result
    from ..settings import CallOptions, ClientOptions
    from ..transport import Transport
else:
    try:
        from typing import Unpack  # generated code imports it from here (only myclient and the stdlib)
    except ImportError:  # Python 3.10: annotations are never evaluated, any stand-in does
        Unpack = Any

__all__ = ["JSON", "GeneratedAsyncClient", "GeneratedClient", "Op", "P", "SchemeAuth", "Unpack"]

T = TypeVar("T")

#: The media type most responses declare (generated code writes ``{"200": JSON}``).
JSON = "application/json"
_LOCATIONS = ("path", "query", "header", "cookie")
_NO_REFS = Refs({})
#: Sends operations for every generated package (credentials come per call, from the client's SchemeAuth).
_RUNTIME = SpecRuntime(Security(SpecModel({"openapi": "3.0.3", "paths": {}}), None, None), {})


class P:
    """One parameter: where it goes, its wire ``name``, its Python name ``py`` (when different), its style."""

    __slots__ = ("explode", "location", "name", "py", "required", "style")

    def __init__(self, location: str, name: str, py: str | None = None, *, required: bool = False,
                 style: str | None = None, explode: bool | None = None) -> None:
        if location not in _LOCATIONS:
            raise UsageError(f"parameter {name!r}: location must be one of {', '.join(_LOCATIONS)}, got {location!r}")
        self.location, self.name, self.py = location, name, py or name
        self.required, self.style, self.explode = required or location == "path", style, explode

    def raw(self) -> dict[str, Any]:
        """The OpenAPI parameter object this stands for."""
        raw: dict[str, Any] = {"name": self.name, "in": self.location, "required": self.required}
        if self.style is not None:
            raw["style"] = self.style
        if self.explode is not None:
            raw["explode"] = self.explode
        return raw

    def __repr__(self) -> str:
        return f"P({self.location!r}, {self.name!r}, {self.py!r})"


class Op(Generic[T]):
    """One operation of a generated group; ``T`` is what a successful call returns.

    ``responses`` maps documented statuses to their media type (None: no body); ``security`` lists the
    requirement alternatives when the operation has its own (None: the API's default, ``[]``: none).
    """

    __slots__ = ("_operation", "body", "body_required", "method", "name", "params", "path", "responses", "security")

    def __init__(self, method: str, path: str, name: str, params: Sequence[P] = (), *, body: str | None = None,
                 body_required: bool = False, responses: Mapping[str, str | None] | None = None,
                 security: Sequence[Mapping[str, Sequence[str]]] | None = None) -> None:
        self.method, self.path, self.name, self.params = method.upper(), path, name, tuple(params)
        self.body, self.body_required = body, body_required
        self.responses = dict(responses or {})
        self.security = security
        self._operation: Operation | None = None

    @property
    def operation(self) -> Operation:
        """The ``myclient.openapi`` Operation (made on first use)."""
        if self._operation is None:
            self._operation = self._build()
        return self._operation

    def _build(self) -> Operation:
        responses: dict[str, Any] = {}
        for status, media in self.responses.items():
            responses[status] = {"content": {media: {}}} if media else {}
        raw: dict[str, Any] = {"parameters": [p.raw() for p in self.params], "responses": responses}
        if self.body is not None:
            raw["requestBody"] = {"content": {self.body: {}}, "required": self.body_required}
        operation = Operation(self.method.lower(), self.path, raw, [], _NO_REFS, None)
        operation.group, _, operation.name = self.name.rpartition(".")
        python_names = {(p.location, p.name): p.py for p in self.params}
        for param in operation.params:
            param.py_name = python_names[(param.location, param.name)]
        return operation

    def call(self, group: ApiGroup, arguments: Mapping[str, Any], options: CallOptions) -> T:
        """Send the operation through ``group``'s adapter; the decoded data."""
        return cast(T, self._send(group._adapter, arguments, options, detailed=False))

    def call_detailed(self, group: ApiGroup, arguments: Mapping[str, Any], options: CallOptions) -> Result[T]:
        """Send the operation through ``group``'s adapter; a ``myclient.Result`` (status, headers, data)."""
        return cast("Result[T]", self._send(group._adapter, arguments, options, detailed=True))

    def _send(self, adapter: Adapter, arguments: Mapping[str, Any], options: CallOptions, *, detailed: bool) -> Any:
        given: dict[str, Any] = dict(options)
        schemes = getattr(adapter, "sync", adapter).auth  # an AsyncAdapter wraps the sync one
        if "auth" not in given and isinstance(schemes, SchemeAuth):
            given["auth"] = schemes.for_requirements(self.security if self.security is not None else schemes.default)
        return _RUNTIME.invoke(adapter, self.operation, {**arguments, **given}, detailed=detailed)

    def __repr__(self) -> str:
        return f"<Op {self.name}: {self.method} {self.path}>"


class SchemeAuth(AuthBase):
    """A generated client's credentials, one auth per security scheme; each operation picks what it requires.

    As the client's ``auth``, it lets ``Op`` choose per call; a hand-made call (``client.request``,
    ``client.paginate``) gets the API's default requirement.
    """

    def __init__(self, schemes: Mapping[str, Any], default: Sequence[Mapping[str, Sequence[str]]],
                 credentials: Mapping[str, Any] | None, token: Any) -> None:
        if token is not None and not any(Security._bearer_like(s) for s in schemes.values()):
            raise UsageError(f"token= fills bearer schemes and this API has none (its schemes: "
                             f"{', '.join(schemes) or 'none'}); pass credentials={{name: ...}}")
        model = SpecModel({"openapi": "3.0.3", "paths": {}, "components": {"securitySchemes": dict(schemes)}})
        self.security = Security(model, credentials, token)
        self.default = [dict(r) for r in default]

    def for_requirements(self, requirements: Sequence[Mapping[str, Sequence[str]]]) -> Any:
        """The auth for these requirement alternatives (None: none applies, sent without credentials)."""
        return self.security.for_requirements(requirements)

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        auth = self.for_requirements(self.default)
        return auth(r) if auth is not None else r

    def handle_unauthorized(self, response: requests.Response) -> bool:
        """Let the default requirement's flow renew its token (a hand-made call got a 401)."""
        handle = getattr(self.for_requirements(self.default), "handle_unauthorized", None)
        return bool(handle(response)) if callable(handle) else False

    def bind(self, adapter: Adapter) -> None:
        """Let OAuth2 flows send their token requests through the client's adapter."""
        self.security.bind(adapter)

    def __repr__(self) -> str:
        return f"SchemeAuth({sorted(self.security.auth)})"


class GeneratedClient(Client):
    """Base of generated clients: credentials by security scheme, as ``myclient.openapi.load`` takes them.

    ``credentials=`` maps security scheme names to credentials; ``token=`` fills every bearer-like scheme (http
    bearer, OAuth2, OpenID Connect). ``credentials`` values: a token (bearer, OAuth2), a ``(username,
    password)`` pair (http basic), a key (apiKey), ``{"client_id", "client_secret"}`` (OAuth2 client
    credentials) or any ready auth object.
    """

    #: The spec's security schemes (components.securitySchemes).
    security_schemes: ClassVar[Mapping[str, Any]] = {}
    #: The spec's default security requirements.
    security: ClassVar[Sequence[Mapping[str, Sequence[str]]]] = ()

    def __init__(self, base_url: str | None = None, *, credentials: Mapping[str, Any] | None = None,
                 session: requests.Session | None = None, adapter: AdapterSpec = JSONAdapter,
                 transport: Transport | None = None, **settings: Unpack[ClientOptions]) -> None:
        self._schemes_from(credentials, settings)
        super().__init__(base_url, session=session, adapter=adapter, transport=transport, **settings)

    def with_options(self, **settings: Unpack[ClientOptions]) -> Self:
        """A copy with some settings changed; ``token=`` fills the bearer schemes, as in the constructor."""
        self._schemes_from(None, settings)
        return super().with_options(**settings)

    def _schemes_from(self, credentials: Mapping[str, Any] | None, settings: ClientOptions) -> None:
        _schemes_into(self, credentials, settings)


class GeneratedAsyncClient(AsyncClient):
    """Base of generated async clients: the same groups awaited, credentials as in ``GeneratedClient``."""

    security_schemes: ClassVar[Mapping[str, Any]] = {}
    security: ClassVar[Sequence[Mapping[str, Sequence[str]]]] = ()

    def __init__(self, base_url: str | None = None, *, credentials: Mapping[str, Any] | None = None,
                 session: requests.Session | None = None, adapter: type[Adapter] = JSONAdapter,
                 transport: Transport | None = None, max_workers: int | None = None,
                 **settings: Unpack[ClientOptions]) -> None:
        _schemes_into(self, credentials, settings)
        super().__init__(base_url, session=session, adapter=adapter, transport=transport, max_workers=max_workers,
                         **settings)


def _schemes_into(client: GeneratedClient | GeneratedAsyncClient, credentials: Mapping[str, Any] | None,
                  settings: ClientOptions) -> None:
    """Turn ``credentials=``/``token=`` into one auth choosing the scheme per operation."""
    schemes, token = type(client).security_schemes, settings.get("token")
    if not credentials and (token is None or not schemes):
        return
    if not schemes:
        raise UsageError(f"{type(client).__name__} has no security schemes; pass token= or auth=")
    if settings.get("auth") is not None:
        raise UsageError("give credentials=/token= or auth=, not both")
    settings.pop("token", None)
    settings["auth"] = SchemeAuth(schemes, type(client).security, credentials, token)
