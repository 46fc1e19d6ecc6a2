"""The async face: ``AsyncClient`` and ``AsyncAdapter`` run the same sync send path in a bounded thread pool.

Design (argued in README.rst): requests is synchronous, and the user's ``requests.Session`` — its gateway
headers, client certificates, mounted adapters — must keep working unchanged, so an async call runs the
one sync send path (adapter, middleware, transport) in a worker thread, as ``asyncio.to_thread`` users do,
done right:

* the pool is bounded (default: the session's connection-pool size for the base URL, so threads never
  wait for connections), and callers beyond it wait on a semaphore — nothing is queued without bound,
  nothing is dropped, and a call cancelled while waiting sends nothing;
* the event loop never blocks: every byte of I/O happens in a worker;
* cancelling the awaiting task (``task.cancel()``, ``asyncio.timeout()``) stops the wait at once, cuts the
  worker's exchange (its socket is shut down, the connection is discarded, not returned to the pool) and
  stops further attempts, so a cancelled POST is never retried;
* token renewal is shared with threads: the flows' single-flight locks already serialise workers;
* async hooks are awaited on the loop (the worker waits for them, as for sync hooks).

Groups are shared with the sync client: a group calls ``self._adapter.get(...)``, which returns the data
on a Client and an awaitable on an AsyncClient.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import threading
from collections.abc import AsyncIterator, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any, ClassVar, Generic, Literal, Optional, TypeVar, overload

import requests

from . import _context
from .adapters import Adapter, JSONAdapter
from .client import Client
from .exceptions import UsageError
from .pagination import Page, Paginator
from .results import Result
from .settings import CallOptions

if TYPE_CHECKING:
    from typing_extensions import Self, Unpack

    from .downloads import PathLike
    from .hooks import Hooks
    from .settings import ClientOptions, Settings
    from .strategies import Strategy
    from .transport import Transport

__all__ = ["AsyncAdapter", "AsyncClient", "AsyncPaginator"]

T = TypeVar("T")
R = TypeVar("R")
DEFAULT_WORKERS = 10


def _pool_size(adapter: Adapter) -> int:
    """The connection-pool size of the session's adapter for the base URL (requests' default: 10)."""
    try:
        mounted = adapter.session.get_adapter(adapter.base_url)
    except (UsageError, requests.RequestException):
        return DEFAULT_WORKERS
    size = getattr(mounted, "_pool_maxsize", None)
    return size if isinstance(size, int) and size > 0 else DEFAULT_WORKERS


class _Pool:
    """A bounded set of worker threads and, per event loop, the semaphore that gives callers backpressure."""

    def __init__(self, workers: int) -> None:
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise UsageError(f"max_workers must be an int >= 1, got {workers!r}")
        self.workers = workers
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="myclient-async")
        # Start every worker now: spawned on first use they would be created on the event loop's thread,
        # all at once when a burst of calls starts, and stall the loop for milliseconds.
        ready = threading.Barrier(workers + 1)
        for _ in range(workers):
            self._executor.submit(ready.wait, 10)
        ready.wait(10)
        self._slots: dict[int, asyncio.Semaphore] = {}
        self._lock = threading.Lock()
        self.in_flight = 0

    def _semaphore(self, loop: asyncio.AbstractEventLoop) -> asyncio.Semaphore:
        with self._lock:
            slot = self._slots.get(id(loop))
            if slot is None:
                slot = self._slots[id(loop)] = asyncio.Semaphore(self.workers)
            return slot

    async def run(self, fn: Callable[..., R], *args: Any, **kwargs: Any) -> R:
        """Run ``fn(*args, **kwargs)`` in a worker, within the pool's bound; cancellation cuts it."""
        loop = asyncio.get_running_loop()
        async with self._semaphore(loop):
            cancel = _context.Cancellation()
            context = contextvars.copy_context()
            context.run(_context.cancellation.set, cancel)
            context.run(_context.event_loop.set, loop)
            call = functools.partial(context.run, fn, *args, **kwargs)
            self.in_flight += 1
            future = loop.run_in_executor(self._executor, call)
            try:
                return await future
            except asyncio.CancelledError:
                cancel.cancel()  # cut the exchange in flight; no further attempt
                raise
            finally:
                self.in_flight -= 1

    def shutdown(self) -> None:
        """Stop the workers (running calls finish first)."""
        self._executor.shutdown(wait=True, cancel_futures=True)


class AsyncAdapter:
    """The async face of an Adapter: the same methods, returning awaitables; the same settings and session."""

    def __init__(self, adapter: Adapter, *, max_workers: int | None = None) -> None:
        if not isinstance(adapter, Adapter):
            raise UsageError(f"AsyncAdapter wraps an Adapter, got {type(adapter).__name__}")
        self.sync = adapter
        self._pool = _Pool(max_workers if max_workers is not None else _pool_size(adapter))

    @property
    def max_workers(self) -> int:
        """How many calls run at once (more wait for a free worker)."""
        return self._pool.workers

    @property
    def in_flight(self) -> int:
        """Calls running in workers right now."""
        return self._pool.in_flight

    # -- what is the same as the sync adapter -----------------------------------------------------
    base_url = property(lambda self: self.sync.base_url, doc="The base URL (no trailing slash).")
    cid = property(lambda self: self.sync.cid, doc="The correlation id.")

    @property
    def settings(self) -> Settings:
        """The frozen settings (shared with the sync adapter)."""
        return self.sync.settings

    @property
    def hooks(self) -> Hooks:
        """The hooks registry; hooks may be sync functions or coroutine functions."""
        return self.sync.hooks

    @property
    def session(self) -> requests.Session:
        """The session the calls go through."""
        return self.sync.session

    @property
    def transport(self) -> Transport:
        """The transport the calls go through."""
        return self.sync.transport

    def url(self, path: str) -> str:
        """The absolute URL for ``path`` (as the sync adapter resolves it)."""
        return self.sync.url(path)

    def __repr__(self) -> str:
        return f"<AsyncAdapter {self.sync!r} workers={self.max_workers}>"

    # -- calls ------------------------------------------------------------------------------------------
    @overload
    async def request(self, method: str, path: str, *, params: Any = ..., json: Any = ..., data: Any = ...,
                      files: Any = ..., stream: bool = ..., detailed: Literal[False] = ...,
                      **options: Unpack[CallOptions]) -> Any: ...

    @overload
    async def request(self, method: str, path: str, *, params: Any = ..., json: Any = ..., data: Any = ...,
                      files: Any = ..., stream: bool = ..., detailed: Literal[True],
                      **options: Unpack[CallOptions]) -> Result[Any]: ...

    async def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """``Adapter.request`` in a worker; the same options, errors and results."""
        return await self._pool.run(self.sync.request, method, path, **kwargs)

    async def request_raw(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """``Adapter.request_raw`` in a worker."""
        return await self._pool.run(self.sync.request_raw, method, path, **kwargs)

    async def request_url(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        """``Adapter.request_url`` in a worker."""
        return await self._pool.run(self.sync.request_url, method, url, **kwargs)

    async def get(self, path: str, **kwargs: Any) -> Any:
        """GET ``path``; see ``request``."""
        return await self._pool.run(self.sync.request, "GET", path, **kwargs)

    async def head(self, path: str, **kwargs: Any) -> Any:
        """HEAD ``path``; see ``request``."""
        return await self._pool.run(self.sync.request, "HEAD", path, **kwargs)

    async def post(self, path: str, **kwargs: Any) -> Any:
        """POST ``path``; see ``request``."""
        return await self._pool.run(self.sync.request, "POST", path, **kwargs)

    async def put(self, path: str, **kwargs: Any) -> Any:
        """PUT ``path``; see ``request``."""
        return await self._pool.run(self.sync.request, "PUT", path, **kwargs)

    async def patch(self, path: str, **kwargs: Any) -> Any:
        """PATCH ``path``; see ``request``."""
        return await self._pool.run(self.sync.request, "PATCH", path, **kwargs)

    async def delete(self, path: str, **kwargs: Any) -> Any:
        """DELETE ``path``; see ``request``."""
        return await self._pool.run(self.sync.request, "DELETE", path, **kwargs)

    def paginate(self, path: str, params: Mapping[str, Any] | None = None, *, strategy: Strategy | None = None,
                 max_items: int | None = None, max_pages: int | None = None,
                 resume: Mapping[str, Any] | str | None = None, **options: Unpack[CallOptions]) -> AsyncPaginator[Any]:
        """``async for item in adapter.paginate(...)``: pages fetched in a worker, one page in memory."""
        sync = self.sync.paginate(path, params, strategy=strategy, max_items=max_items, max_pages=max_pages,
                                  resume=resume, **options)
        return AsyncPaginator(sync, self._pool)

    async def download(self, path: str, dest: PathLike, **kwargs: Any) -> Path:
        """``Adapter.download`` in a worker (the whole download, under the call's deadline)."""
        return await self._pool.run(self.sync.download, path, dest, **kwargs)

    async def upload(self, path: str, file_or_path: PathLike | IO[bytes], **kwargs: Any) -> Any:
        """``Adapter.upload`` in a worker."""
        return await self._pool.run(self.sync.upload, path, file_or_path, **kwargs)

    async def run(self, fn: Callable[..., R], *args: Any, **kwargs: Any) -> R:
        """Run any blocking function of this client (a login, a flow's method) in the pool."""
        return await self._pool.run(fn, *args, **kwargs)

    def close(self) -> None:
        """Stop the workers and close what the sync adapter owns."""
        self._pool.shutdown()
        self.sync.close()


_END: Any = object()


def _step(iterator: Any) -> Any:
    """``next(iterator)``, or the ``_END`` sentinel when it is exhausted."""
    try:
        return next(iterator)
    except StopIteration:
        return _END


class AsyncPaginator(Generic[T]):
    """``async for`` over a collection: each page is fetched in a worker; items are handed out on the loop.

    ``checkpoint``, ``done`` and ``resume=`` work as on the sync ``Paginator`` (it does the walking).
    """

    def __init__(self, paginator: Paginator[T], pool: _Pool) -> None:
        self.sync = paginator
        self._pool = pool

    def __aiter__(self) -> AsyncPaginator[T]:
        return self

    async def __anext__(self) -> T:
        sync = self.sync
        if sync.buffered():
            return next(sync)
        item = await self._pool.run(_step, sync)  # StopIteration cannot cross a future: a sentinel does
        if item is _END:
            raise StopAsyncIteration
        return item  # type: ignore[no-any-return]

    async def pages(self) -> AsyncIterator[Page]:
        """Pages instead of items."""
        walker = self.sync.pages()
        while True:
            page = await self._pool.run(_step, walker)
            if page is _END:
                return
            yield page

    @property
    def checkpoint(self) -> dict[str, Any]:
        """Where the walk stands (see ``Paginator.checkpoint``)."""
        return self.sync.checkpoint

    @property
    def done(self) -> bool:
        """Whether the whole collection has been walked."""
        return self.sync.done


A = TypeVar("A", bound="AsyncClient")


class AsyncClient:
    """The async client: ``async with AsyncClient(base_url, **settings) as client: await client.adapter.get(...)``.

    Takes exactly the Client's settings (and ``session=``, ``adapter=`` an Adapter class, ``transport=``),
    plus ``max_workers`` (default: the session's connection-pool size). Groups declared with
    ``myclient.group`` work here unchanged and return awaitables. ``client.sync`` is the sync client
    sharing the same adapter, session and tokens.
    """

    default_base_url: ClassVar[Optional[str]] = None
    default_settings: ClassVar[Mapping[str, Any]] = {}
    env_prefix: ClassVar[Optional[str]] = None

    def __init__(self, base_url: str | None = None, *, session: requests.Session | None = None,
                 adapter: type[Adapter] = JSONAdapter, transport: Transport | None = None,
                 max_workers: int | None = None, **settings: Unpack[ClientOptions]) -> None:
        base = base_url if base_url is not None else type(self).default_base_url
        self.sync = Client(base, session=session, adapter=adapter, transport=transport,
                           **{**type(self).default_settings, **settings})
        self._adapter = AsyncAdapter(self.sync.adapter, max_workers=max_workers)

    @classmethod
    def from_env(cls, prefix: str | None = None, *, environ: Mapping[str, str] | None = None,
                 **settings: Any) -> Self:
        """Like ``Client.from_env``: settings from ``<prefix>BASE_URL``, ``<prefix>TOKEN``, …"""
        prefix = prefix if prefix is not None else cls.env_prefix
        if not prefix:
            raise UsageError(f"{cls.__name__}.from_env needs a prefix such as 'ACME_' (or set env_prefix)")
        probe = Client.from_env(prefix, environ=environ)
        given = probe.adapter.settings.given()
        given.pop("decode", None)
        given.update(settings)
        return cls(probe.base_url, **given)

    @property
    def adapter(self) -> AsyncAdapter:
        """The async adapter every group calls."""
        return self._adapter

    base_url = property(lambda self: self.sync.base_url, doc="The base URL (no trailing slash).")
    cid = property(lambda self: self.sync.cid, doc="The correlation id.")
    session = property(lambda self: self.sync.session, doc="The session in use.")
    hooks = property(lambda self: self.sync.hooks, doc="The hooks (sync functions or coroutine functions).")
    settings = property(lambda self: self.sync.settings, doc="The frozen settings the calls are sent with.")

    def with_options(self, **settings: Unpack[ClientOptions]) -> Self:
        """A copy with some settings changed, sharing the session and the worker pool."""
        new = object.__new__(type(self))
        new.__dict__.update({k: v for k, v in self.__dict__.items() if k != "_myclient_groups"})
        new.sync = self.sync.with_options(**settings)
        new._adapter = AsyncAdapter.__new__(AsyncAdapter)
        new._adapter.sync = new.sync.adapter
        new._adapter._pool = self._adapter._pool
        return new

    @overload
    async def request(self, method: str, path: str, *, detailed: Literal[False] = ..., **kwargs: Any) -> Any: ...

    @overload
    async def request(self, method: str, path: str, *, detailed: Literal[True], **kwargs: Any) -> Result[Any]: ...

    async def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """``await client.request(...)``: shortcut for ``client.adapter.request(...)``."""
        return await self._adapter.request(method, path, **kwargs)

    async def login(self, *args: Any, **kwargs: Any) -> Any:
        """Log in through the auth flow (in a worker): ``await client.login(username, password)``."""
        return await self._adapter.run(self.sync.login, *args, **kwargs)

    async def logout(self) -> None:
        """Log out through the auth flow (in a worker)."""
        await self._adapter.run(self.sync.logout)

    async def is_authenticated(self) -> bool:
        """Whether the client holds usable credentials (a flow may ask the server, in a worker)."""
        return await self._adapter.run(self.sync.is_authenticated)

    def paginate(self, path: str, params: Mapping[str, Any] | None = None, **kwargs: Any) -> AsyncPaginator[Any]:
        """``async for item in client.paginate(...)``; see ``Client.paginate``."""
        return self._adapter.paginate(path, params, **kwargs)

    async def download(self, path: str, dest: PathLike, **kwargs: Any) -> Path:
        """``await client.download(...)``; see ``Client.download``."""
        return await self._adapter.download(path, dest, **kwargs)

    async def upload(self, path: str, file_or_path: PathLike | IO[bytes], **kwargs: Any) -> Any:
        """``await client.upload(...)``; see ``Client.upload``."""
        return await self._adapter.upload(path, file_or_path, **kwargs)

    async def aclose(self) -> None:
        """Stop the workers (in a thread, so the loop does not block) and close an own session."""
        await asyncio.get_running_loop().run_in_executor(None, self._adapter.close)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        from .redaction import registry

        return f"<{type(self).__name__} {registry.url(self.base_url)!r} cid={self.cid!r}>"

