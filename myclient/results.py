"""What a call returns: ``Result[T]`` (status, headers and the decoded data together) and the decoders.

``decode=`` says how a body becomes data: ``"json"`` (the default; None for an empty body, 204 or
HEAD), ``"bytes"``, ``"text"``, ``"auto"`` (JSON when the content type says so, else bytes),
``"response"`` (the ``requests.Response`` itself), a model class (built from the JSON: ``from_dict``,
pydantic's ``model_validate``, else the class called with the object's fields) or any other callable
(called with the Response). A body that does not decode as promised raises ``InvalidResponse``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar

import requests

from ._mapping import decode_text
from .exceptions import Attempt, InvalidResponse, request_id_of
from .redaction import registry

__all__ = ["Result", "decode_body", "is_json_type"]

T = TypeVar("T")


class Result(Generic[T]):
    """One call's outcome in full: ``status``, ``headers``, ``data`` (decoded), ``content`` (the raw bytes).

    ``elapsed`` is the whole call's time in seconds (retries and waits included), ``attempts`` how many
    tries it took (``history`` has each one), ``url`` the final (redacted) URL, ``request_id`` the id
    the server gave, ``response`` the underlying ``requests.Response``. ``ok`` is True for 2xx/3xx.
    """

    __slots__ = ("_request_id", "_url", "attempts", "content", "data", "elapsed", "headers", "history", "method",
                 "response", "status")

    def __init__(
        self, *, status: int, headers: Mapping[str, str], data: T, content: bytes, elapsed: float, attempts: int,
        history: list[Attempt], url: str | Callable[[], str], method: str, response: requests.Response,
    ) -> None:
        self.status = status
        self.headers = headers
        self.data = data
        self.content = content
        self.elapsed = elapsed
        self.attempts = attempts
        self.history = history
        self._url = url
        self.method = method
        self._request_id: str | bool | None = False  # False: not looked up yet
        self.response = response

    @property
    def url(self) -> str:
        """The final URL, secrets masked (computed when first read)."""
        if not isinstance(self._url, str):
            self._url = self._url()
        return self._url

    @property
    def request_id(self) -> str | None:
        """The request id the server gave (X-Request-ID and the usual variants), if any."""
        if self._request_id is False:
            self._request_id = request_id_of(self.headers)
        return self._request_id  # type: ignore[return-value]

    @property
    def ok(self) -> bool:
        """True for a status below 400."""
        return self.status < 400

    def __repr__(self) -> str:
        return f"<Result {self.method} {self.url} {self.status} attempts={self.attempts}>"


def is_json_type(content_type: str | None) -> bool:
    """Whether a Content-Type announces JSON (``application/json``, ``application/problem+json``, …)."""
    if not content_type:
        return False
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or media.endswith("+json") or media == "text/json"


def _charset(content_type: str | None) -> str | None:
    if not content_type:
        return None
    for part in content_type.split(";")[1:]:
        name, _, value = part.partition("=")
        if name.strip().lower() == "charset":
            return value.strip().strip('"').lower() or None
    return None


def _invalid(response: requests.Response, method: str, why: str, content: bytes) -> InvalidResponse:
    ctype = response.headers.get("content-type", "no content type")
    return InvalidResponse(
        f"{response.status_code} response to {method} {registry.url(response.url)} {why} ({ctype})",
        method=method, url=response.url, status=response.status_code,
        body=decode_text(content[:8192], _charset(ctype)), response=response,
    )


def _json(response: requests.Response, method: str, content: bytes) -> Any:
    if not content or content.isspace():
        return None
    charset = _charset(response.headers.get("content-type"))
    try:
        if charset and charset not in ("utf-8", "utf8"):
            return json.loads(content.decode(charset))
        return json.loads(content)
    except RecursionError:
        raise _invalid(response, method, "is JSON nested too deeply to decode", b"") from None
    except (ValueError, LookupError) as exc:
        what = "is not valid UTF-8 JSON" if isinstance(exc, UnicodeError) else "is not JSON"
        raise _invalid(response, method, f"{what}: {type(exc).__name__}", content) from None


def _model(cls: type, data: Any, response: requests.Response, method: str, content: bytes) -> Any:
    try:
        from_dict = getattr(cls, "from_dict", None)
        if callable(from_dict):
            return from_dict(data)
        validate = getattr(cls, "model_validate", None)
        if callable(validate):
            return validate(data)
        if isinstance(data, Mapping):
            return cls(**data)
        return cls(data)
    except Exception as exc:  # noqa: BLE001 - a body that does not fit the model is the server's doing
        raise _invalid(response, method, f"does not fit {cls.__name__}: {type(exc).__name__}: "
                       f"{registry.text(str(exc))[:200]}", content) from None


def decode_body(response: requests.Response, decode: Any, method: str) -> Any:
    """The data of a response read by the transport, as ``decode`` says (see the module docstring)."""
    if decode == "response":
        return response
    if decode == "json" or (isinstance(decode, type) and decode is not str and decode is not bytes):
        content = b"" if method == "HEAD" or response.status_code in (204, 304) else (response.content or b"")
        data = _json(response, method, content)
        return data if decode == "json" or data is None else _model(decode, data, response, method, content)
    content = response.content or b""
    if decode == "bytes" or decode is bytes:
        return content
    if decode == "text" or decode is str:
        return decode_text(content, _charset(response.headers.get("content-type")))
    if decode == "auto":
        if is_json_type(response.headers.get("content-type")):
            return _json(response, method, content)
        return content
    try:
        return decode(response)
    except InvalidResponse:
        raise
    except Exception as exc:  # noqa: BLE001 - the user's decoder failed on what the server sent
        raise _invalid(response, method, f"could not be decoded by {getattr(decode, '__name__', decode)!r}: "
                       f"{type(exc).__name__}", content) from None
