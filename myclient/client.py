"""Client: turns constructor arguments into an Adapter and owns the lifecycle (close, ``with``).

Subclasses declare API groups with ``myclient.group``; the client itself sends nothing — every
call goes through ``client.adapter``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Optional, TypeVar, Union

import requests
from requests.auth import AuthBase

from .adapters import DEFAULT_TIMEOUT, Adapter, JSONAdapter, TimeoutSpec
from .auth import BearerAuth, TokenSource
from .downloads import DEFAULT_CHUNK_SIZE, PathLike, Progress, download
from .exceptions import UsageError
from .hooks import Hooks, HookSpec
from .pagination import Paginator
from .retry import RetryPolicy
from .strategies import LinkHeader, Strategy
from .uploads import upload

__all__ = ["Client"]

AdapterSpec = Union[type[Adapter], Adapter]
_LINK_HEADER = LinkHeader()
C = TypeVar("C", bound="Client")


class Client:
    """A client for one REST API at ``base_url`` (which may carry a path prefix such as ``/v1``).

    ``token=`` sends ``Authorization: Bearer``; ``auth=`` takes any ``requests.auth.AuthBase``.
    An injected ``session`` is used as given and never modified, and is left open by ``close()``;
    a session the client made itself is closed with it. ``adapter`` is an Adapter class to build
    (default JSONAdapter: calls return decoded JSON) or a ready Adapter instance.

    ``retry`` (a RetryPolicy; None for no retries), ``deadline`` (seconds for a whole call) and
    ``idempotency_key`` (True: every POST/PATCH gets one generated key, sent on all its attempts
    in ``idempotency_header``) are defaults each call may override. ``sleep``, ``clock`` and
    ``random`` replace time.sleep, time.monotonic and random.random, for tests. ``hooks`` maps
    hook names (``on_request``, ``on_response``, ``on_retry``, ``on_give_up``) to callables
    receiving a redacted ``myclient.hooks.Event``; ``access_log=True`` writes one INFO line per
    call to the ``myclient.access`` logger.
    """

    def __init__(
        self,
        base_url: str,
        *,
        token: TokenSource | None = None,
        auth: AuthBase | None = None,
        session: requests.Session | None = None,
        timeout: TimeoutSpec = DEFAULT_TIMEOUT,
        verify: bool | str | None = None,
        cert: str | tuple[str, str] | None = None,
        proxies: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        adapter: AdapterSpec = JSONAdapter,
        cid: str | None = None,
        cid_header: str | None = "X-Correlation-ID",
        retry: RetryPolicy | None = RetryPolicy(),  # noqa: B008 - immutable value
        deadline: float | None = None,
        idempotency_key: bool = False,
        idempotency_header: str | None = "Idempotency-Key",
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] | None = None,
        random: Callable[[], float] | None = None,
        hooks: Mapping[str, HookSpec] | None = None,
        access_log: bool = False,
    ) -> None:
        if token is not None and auth is not None:
            raise UsageError("give token= or auth=, not both")
        if token is not None:
            auth = BearerAuth(token)
        if isinstance(adapter, Adapter):
            given = [name for name, value in (
                ("auth/token", auth), ("session", session), ("verify", verify), ("cert", cert),
                ("proxies", proxies), ("headers", headers), ("cid", cid), ("deadline", deadline),
                ("sleep", sleep), ("clock", clock), ("random", random), ("hooks", hooks),
            ) if value is not None]
            if given or timeout != DEFAULT_TIMEOUT:
                raise UsageError(
                    f"{', '.join(given) or 'timeout'} cannot be combined with a ready adapter "
                    "instance; configure the adapter itself"
                )
            if adapter.base_url != base_url.rstrip("/"):
                raise UsageError(f"base_url {base_url!r} differs from the adapter's {adapter.base_url!r}")
            self._adapter = adapter
        elif isinstance(adapter, type) and issubclass(adapter, Adapter):
            self._adapter = adapter(
                base_url,
                session=session,
                auth=auth,
                timeout=timeout,
                verify=verify,
                cert=cert,
                proxies=proxies,
                headers=headers,
                cid=cid,
                cid_header=cid_header,
                retry=retry,
                deadline=deadline,
                idempotency_key=idempotency_key,
                idempotency_header=idempotency_header,
                sleep=sleep,
                clock=clock,
                random=random,
                hooks=hooks,
                access_log=access_log,
            )
        else:
            raise UsageError(f"adapter must be an Adapter subclass or instance, got {adapter!r}")
        self._bind_auth()

    def _bind_auth(self) -> None:
        """Let a token flow send its token requests through this client's adapter and session."""
        bind = getattr(self._adapter.auth, "bind", None)
        if callable(bind):
            bind(self._adapter)

    @property
    def adapter(self) -> Adapter:
        """The adapter every group calls; assign a new one and all groups follow it."""
        return self._adapter

    @adapter.setter
    def adapter(self, value: Adapter) -> None:
        if not isinstance(value, Adapter):
            raise UsageError(f"adapter must be an Adapter instance, got {type(value).__name__}")
        self._adapter = value
        self._bind_auth()

    @property
    def hooks(self) -> Hooks:
        """The adapter's hooks: ``client.hooks.add("on_retry", fn)`` (see myclient.hooks)."""
        return self._adapter.hooks

    @property
    def base_url(self) -> str:
        """The base URL calls resolve under (no trailing slash)."""
        return self._adapter.base_url

    @property
    def session(self) -> requests.Session:
        """The session in use (the injected one, if any)."""
        return self._adapter.session

    @property
    def cid(self) -> str:
        """The correlation id of this client, sent in ``cid_header`` on every request."""
        return self._adapter.cid

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """Shortcut for ``client.adapter.request(...)``."""
        return self._adapter.request(method, path, **kwargs)

    def login(self, *args: Any, **kwargs: Any) -> Any:
        """Obtain a token now through the auth flow.

        E.g. ``login(username, password)`` for the password grant, ``login(redirect_url)`` for the
        authorization code, ``login()`` for client credentials.
        """
        return self._flow("login")(*args, **kwargs)

    def logout(self) -> None:
        """Revoke the flow's tokens where the server supports it (RFC 7009) and forget them."""
        self._flow("logout")()

    def is_authenticated(self) -> bool:
        """Whether the client holds credentials usable now (a static token or an unexpired one)."""
        auth = self._adapter.auth
        check = getattr(auth, "is_authenticated", None)
        return bool(check()) if callable(check) else auth is not None

    def _flow(self, name: str) -> Any:
        method = getattr(self._adapter.auth, name, None)
        if not callable(method):
            raise UsageError(f"{name}() needs an OAuth2 flow as auth= (got {type(self._adapter.auth).__name__})")
        return method

    def close(self) -> None:
        """Release the session if the client created it; an injected session stays open."""
        self._adapter.close()

    def __enter__(self: C) -> C:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._adapter.base_url!r} cid={self.cid!r}>"

    def paginate(
        self,
        path: str,
        params: Optional[Mapping[str, Any]] = None,
        *,
        strategy: Strategy = _LINK_HEADER,
        max_items: Optional[int] = None,
        max_pages: Optional[int] = None,
        resume: Optional[Union[Mapping[str, Any], str]] = None,
        headers: Optional[Mapping[str, str]] = None,
        timeout: Optional[TimeoutSpec] = None,
        deadline: Optional[float] = None,
    ) -> Paginator:
        """A lazy iterator over every item of the collection at ``path``, fetched page by page.

        ``strategy`` says how pages follow each other: ``myclient.LinkHeader()`` (default; a server
        without Link headers gives one page), ``Cursor(...)``, ``PageNumber(...)`` or ``Offset(...)``.
        Each page goes through the adapter (retries, auth refresh, ``timeout``/``deadline`` per
        page). Iterate it for items or call ``.pages()``; ``.checkpoint`` is a JSON-serialisable
        dict that ``resume=`` continues from exactly (no item lost or repeated).
        """
        return Paginator(self._adapter, path, params, strategy=strategy, max_items=max_items, max_pages=max_pages,
                         resume=resume, headers=headers, timeout=timeout, deadline=deadline)

    def download(
        self,
        path: str,
        dest: PathLike,
        *,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        progress: Optional[Progress] = None,
        params: Any = None,
        headers: Optional[Mapping[str, str]] = None,
        timeout: Optional[TimeoutSpec] = None,
        deadline: Optional[float] = None,
    ) -> Path:
        """Stream GET ``path`` into the file ``dest`` (via ``dest.part``, renamed when complete).

        Resumes a partial download with Range/If-Range, checks the length (ConnectionLost when the
        body is short), and calls ``progress(done, total)`` as bytes arrive, e.g.
        ``myclient.progress.tqdm_progress()``. ``deadline`` (else the client's) covers the whole
        download. Returns the final path. See ``myclient.downloads.download``.
        """
        return download(self._adapter, path, dest, chunk_size=chunk_size, progress=progress, params=params,
                        headers=headers, timeout=timeout, deadline=deadline)

    def upload(
        self,
        path: str,
        file_or_path: Union[PathLike, IO[bytes]],
        *,
        method: str = "PUT",
        content_type: Optional[str] = None,
        progress: Optional[Progress] = None,
        params: Any = None,
        headers: Optional[Mapping[str, str]] = None,
        timeout: Optional[TimeoutSpec] = None,
        deadline: Optional[float] = None,
    ) -> Any:
        """Send a file (a path or a binary file object) as the request body, streamed from disk.

        ``method`` is PUT (default), POST or PATCH; ``content_type`` defaults to a guess from the
        file name. Returns what the adapter returns. For multipart forms use
        ``client.adapter.post(path, files=...)``. See ``myclient.uploads.upload``.
        """
        return upload(self._adapter, path, file_or_path, method=method, content_type=content_type,
                      progress=progress, params=params, headers=headers, timeout=timeout, deadline=deadline)
