"""The runtime client a spec becomes: one group per tag, one callable per operation, all through the adapter.

``client.users.get_user(user_id="u1")`` checks its arguments (UsageError, nothing sent), serializes them as
the spec says, picks the operation's credentials, and calls ``adapter.request`` — so retries, the deadline,
redaction, hooks, cassettes and ``Result`` apply unchanged. ``.detailed(...)`` gives a ``Result``;
``.paginate(...)`` walks a list operation with its pagination hint. The body of an answer is decoded by its
content type (JSON, text, else bytes); a documented error body is decoded onto ``e.data``.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import requests

from .._mapping import decode_text
from ..exceptions import HTTPError, InvalidResponse, UsageError
from ..groups import ApiGroup
from ..results import is_json_type
from ..settings import CALL_OPTIONS
from ._model import Operation
from ._params import build_request

if TYPE_CHECKING:
    from ..adapters import Adapter
    from ..pagination import Paginator
    from ..strategies import Strategy
    from ._security import Security

__all__ = ["BoundOperation", "OperationMethod", "decode_for", "strategy_from_hint"]


def decode_for(op: Operation) -> Any:
    """The ``decode=`` callable for ``op``: JSON, text or bytes by the answer's content type."""

    def decode(response: requests.Response) -> Any:
        content = response.content or b""
        if (response.request is not None and response.request.method == "HEAD") or response.status_code in (204, 304):
            return None
        if not content:
            return None
        success = op.success()
        ctype = response.headers.get("content-type") or (success.media_type if success is not None else None)
        if is_json_type(ctype) or (ctype is None and content[:1] in (b"{", b"[")):
            try:
                return json.loads(content)
            except (ValueError, RecursionError):
                raise InvalidResponse(f"{response.status_code} response to {op.method} {op.path} is not JSON",
                                      method=op.method, url=response.url, status=response.status_code) from None
        if ctype and ctype.lower().startswith("text/"):
            return decode_text(content, None)
        return content

    decode.__name__ = f"decode_{op.name}"
    return decode


_STYLES = {"link": "LinkHeader", "cursor": "Cursor", "page": "PageNumber", "offset": "Offset"}


def strategy_from_hint(hint: Any) -> Strategy:
    """A pagination Strategy from a hint: a Strategy, a style name, or ``{"style": ..., **options}``."""
    from .. import strategies

    if isinstance(hint, strategies.Strategy):
        return hint
    if isinstance(hint, str):
        hint = {"style": hint}
    if not isinstance(hint, Mapping) or hint.get("style") not in _STYLES:
        raise UsageError(f"a pagination hint needs style = {' | '.join(_STYLES)}, got {hint!r}")
    options = {k: v for k, v in hint.items() if k != "style"}
    cls = getattr(strategies, _STYLES[str(hint["style"])])
    try:
        strategy: Strategy = cls(**options)
    except TypeError as exc:
        raise UsageError(f"pagination hint {dict(hint)!r}: {exc}") from None
    return strategy


class BoundOperation:
    """One operation on one client: call it for the data, ``.detailed()`` for a Result, ``.paginate()`` to walk."""

    __slots__ = ("_group", "op", "runtime")

    def __init__(self, op: Operation, runtime: SpecRuntime, group: ApiGroup) -> None:
        self.op = op
        self.runtime = runtime
        self._group = group

    def __call__(self, **arguments: Any) -> Any:
        return self.runtime.invoke(self._group._adapter, self.op, arguments, detailed=False)

    def detailed(self, **arguments: Any) -> Any:
        """The call as a ``myclient.Result`` (status, headers, data, ...)."""
        return self.runtime.invoke(self._group._adapter, self.op, arguments, detailed=True)

    def paginate(self, **arguments: Any) -> Paginator[Any]:
        """Walk a list operation page by page (its ``x-myclient-pagination`` hint, or Link headers)."""
        return self.runtime.paginate(self._group._adapter, self.op, arguments)

    @property
    def __doc__(self) -> str:  # type: ignore[override]
        return self.runtime.docstring(self.op)

    @property
    def __signature__(self) -> inspect.Signature:
        return self.runtime.signature(self.op)

    def __repr__(self) -> str:
        return f"<operation {self.op.group}.{self.op.name}: {self.op.method} {self.op.path}>"


class OperationMethod:
    """The descriptor on a generated group class: gives a BoundOperation per group instance."""

    def __init__(self, op: Operation, runtime: SpecRuntime) -> None:
        self.op = op
        self.runtime = runtime
        self.__doc__ = runtime.docstring(op)

    def __get__(self, group: ApiGroup | None, owner: type) -> Any:
        if group is None:
            return self
        return BoundOperation(self.op, self.runtime, group)


class SpecRuntime:
    """What the operations of one loaded spec share: the model, the security choice, the pagination hints."""

    def __init__(self, security: Security, paginate: Mapping[str, Any]) -> None:
        self.security = security
        self.hints: dict[str, Strategy] = {}
        for op in security.model.operations:
            hint = paginate.get(f"{op.group}.{op.name}", paginate.get(op.name, paginate.get(op.operation_id,
                                                                                             op.pagination)))
            if hint is not None:
                self.hints[f"{op.group}.{op.name}"] = strategy_from_hint(hint)
        self.auth = {f"{op.group}.{op.name}": security.for_operation(op) for op in security.model.operations}

    def _split(self, op: Operation, arguments: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        options = {k: v for k, v in arguments.items() if k in CALL_OPTIONS}
        values = {k: v for k, v in arguments.items() if k not in CALL_OPTIONS}
        return values, options

    def _call_args(self, op: Operation, arguments: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        values, options = self._split(op, arguments)
        request = build_request(op, values)
        headers = dict(request.headers)
        given = options.pop("headers", None)
        if isinstance(given, Mapping):
            headers.update(given)
        body = dict(request.body_args)
        content_type = body.pop("content_type", None)
        if content_type:
            headers.setdefault("Content-Type", content_type)
        if headers:
            options["headers"] = headers
        if request.cookies:
            given_cookies = options.get("cookies")
            options["cookies"] = {**request.cookies, **(given_cookies if isinstance(given_cookies, Mapping) else {})}
        if "auth" not in options:
            auth = self.auth.get(f"{op.group}.{op.name}")
            if auth is not None:
                options["auth"] = auth
        options.setdefault("decode", decode_for(op))
        if request.query:
            options["params"] = request.query
        return request.path, {**options, **body}

    def invoke(self, adapter: Adapter, op: Operation, arguments: Mapping[str, Any], *, detailed: bool) -> Any:
        """Check, serialize and send one operation through ``adapter``."""
        path, call = self._call_args(op, arguments)
        try:
            result = adapter.request(op.method, path, detailed=detailed, **call)  # type: ignore[call-overload]
        except HTTPError as error:
            _attach_error_data(op, error)
            raise
        if inspect.isawaitable(result):  # an AsyncClient: the error comes when awaited
            return _attach_when_awaited(op, result)
        return result

    def paginate(self, adapter: Adapter, op: Operation, arguments: Mapping[str, Any]) -> Paginator[Any]:
        """A lazy walk over a list operation (GET only)."""
        from ..strategies import LinkHeader

        if op.method != "GET":
            raise UsageError(f"{op.group}.{op.name} is a {op.method}; only GET operations can be paginated")
        path, call = self._call_args(op, arguments)
        pairs = call.pop("params", None) or []
        params: dict[str, Any] = {}
        for key, value in pairs:
            params[key] = [*params[key], value] if isinstance(params.get(key), list) else (
                [params[key], value] if key in params else value)
        call.pop("decode", None)
        strategy = self.hints.get(f"{op.group}.{op.name}") or LinkHeader()
        return adapter.paginate(path, params, strategy=strategy, **call)

    def docstring(self, op: Operation) -> str:
        """``summary``, then ``Supported methods: VERB /path``, then the arguments."""
        lines = [op.summary or op.operation_id or op.name, "", f"Supported methods: {op.method} {op.path}"]
        for param in op.params:
            need = "required" if param.required else "optional"
            lines.append(f"    {param.py_name}: {param.location} parameter {param.name!r} ({need})")
        if op.body is not None:
            lines.append(f"    body: {op.body.media_type} ({'required' if op.body.required else 'optional'})")
        return "\n".join(lines)

    def signature(self, op: Operation) -> inspect.Signature:
        """Keyword-only parameters: the operation's arguments, then ``**options``."""
        kw = inspect.Parameter.KEYWORD_ONLY
        params = [inspect.Parameter(p.py_name, kw, default=inspect.Parameter.empty if p.required else None)
                  for p in sorted(op.params, key=lambda p: not p.required)]
        if op.body is not None:
            params.append(inspect.Parameter("body", kw, default=inspect.Parameter.empty if op.body.required
                                            else None))
        params.append(inspect.Parameter("options", inspect.Parameter.VAR_KEYWORD))
        return inspect.Signature(params)


async def _attach_when_awaited(op: Operation, awaitable: Any) -> Any:
    try:
        return await awaitable
    except HTTPError as error:
        _attach_error_data(op, error)
        raise


def _attach_error_data(op: Operation, error: HTTPError) -> None:
    """Decode a documented error body onto ``error.data`` (None when undocumented or not decodable)."""
    error.data = None
    documented = op.response_for(error.status)
    response = error.response
    content = getattr(response, "_content", None) if response is not None else None
    if documented is None or not isinstance(content, bytes) or not content:
        return
    if documented.is_json or is_json_type(error.headers.get("Content-Type") or error.headers.get("content-type")):
        from ..redaction import registry

        try:
            error.data = registry.data(json.loads(content))
        except (ValueError, RecursionError):
            error.data = None
