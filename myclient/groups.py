"""API groups: thin classes that build a path and call the adapter, plus CRUD Resources and path().

A group holds only its adapter. It knows nothing of sessions, retries or auth; those live below
the adapter.
"""

from __future__ import annotations

import string
import typing
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar, overload
from urllib.parse import quote

from .exceptions import NotFound, UsageError

if TYPE_CHECKING:
    from typing_extensions import TypeVar as _TypeVar
    from typing_extensions import Unpack

    from .pagination import Paginator
    from .settings import CallOptions
    from .strategies import Strategy

__all__ = ["ApiGroup", "Resource", "group", "path"]

if not TYPE_CHECKING:

    def _TypeVar(name: str, default: Any = None) -> Any:  # noqa: N802 - PEP 696 defaults matter to type checkers only
        return TypeVar(name)


#: The adapter a group runs on (``Adapter`` for a Client, ``AsyncAdapter`` for an AsyncClient); ``Any``
#: when not given, so ``class Status(myclient.ApiGroup)`` stays valid under ``mypy --strict``.
A = _TypeVar("A", default=Any)
G = TypeVar("G", bound="ApiGroup[Any]")

_FORMATTER = string.Formatter()


def _segment(name: str, value: Any) -> str:
    """Percent-encode one path value so it stays exactly one segment."""
    if value is None or isinstance(value, bool):
        raise UsageError(f"path value {name!r} must be a string or a number, got {value!r}")
    text = str(value)
    if text in ("", ".", ".."):
        raise UsageError(f"path value {name!r} must not be empty, '.' or '..' (got {text!r})")
    try:
        return quote(text, safe="")
    except UnicodeEncodeError:
        raise UsageError(f"path value {name!r} holds characters that cannot be sent (a lone surrogate?)") from None


def path(template: str, /, **values: Any) -> str:
    """Fill ``{name}`` fields of ``template`` with percent-encoded values.

    Every value becomes exactly one path segment: ``/`` ``%`` ``?`` ``#`` and non-ASCII are
    encoded and empty, ``.`` and ``..`` are refused, so ``"../admin"``, ``"a/b"`` or ``"%2e%2e"``
    can never leave the intended path. Missing or unused values raise UsageError.
    """
    fields: list[str] = []
    out: list[str] = []
    for literal, field, spec, conv in _FORMATTER.parse(template):
        out.append(literal)
        if field is None:
            continue
        if not field or not field.isidentifier() or spec or conv:
            raise UsageError(f"path template field {{{field}}} must be a plain name like {{id}}")
        if field not in values:
            raise UsageError(f"path template {template!r} needs a value for {field!r}")
        fields.append(field)
        out.append(_segment(field, values[field]))
    unused = set(values) - set(fields)
    if unused:
        raise UsageError(f"path template {template!r} has no field for {sorted(unused)}")
    return "".join(out)


class ApiGroup(Generic[A]):
    """Base of a hand-written API group: ``self._adapter`` does the calls.

    Write methods that build a path and call the adapter, with a docstring line such as
    ``Supported methods: GET /health``. Declare a group on a Client (or another group) with
    ``myclient.group(MyGroup)``. One group class serves a Client and an AsyncClient: there
    ``self._adapter.get(...)`` returns the data, here an awaitable. The group is generic in its
    adapter (``Users[myclient.Adapter]``, ``Users[myclient.AsyncAdapter]``) so methods can be typed
    for both with overloads on ``self`` (see README.rst, "One group, sync and async").
    """

    _adapter: Any

    def __init__(self, adapter: A) -> None:
        self._adapter = adapter

    def __repr__(self) -> str:
        return f"<{type(self).__name__} on {self._adapter!r}>"


class group(Generic[G]):  # noqa: N801 - used like a function in class bodies
    """Descriptor: ``users = myclient.group(Users)`` gives each client its own lazily made ``Users``.

    The instance is typed (``client.users`` is a ``Users`` to mypy and IDEs), made on first
    access, cached per owner, and always bound to the owner's *current* adapter, so replacing
    ``client.adapter`` moves every group with it.
    """

    def __init__(self, cls: type[G]) -> None:
        origin = typing.get_origin(cls) or cls  # Users or Users[myclient.AsyncAdapter]
        if not (isinstance(origin, type) and issubclass(origin, ApiGroup)):
            raise UsageError(f"group() takes an ApiGroup subclass, got {cls!r}")
        self.cls = cls
        self.name = origin.__name__

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, obj: None, owner: type) -> group[G]: ...

    @overload
    def __get__(self, obj: object, owner: type) -> G: ...

    def __get__(self, obj: object | None, owner: type) -> group[G] | G:
        if obj is None:
            return self
        adapter = _adapter_of(obj)
        cache: dict[str, ApiGroup] = obj.__dict__.setdefault("_myclient_groups", {})
        instance = cache.get(self.name)
        if instance is None:
            instance = cache[self.name] = self.cls(adapter)
        elif instance._adapter is not adapter:
            instance._adapter = adapter
        return instance  # type: ignore[return-value]

    def __set__(self, obj: object, value: Any) -> None:
        raise AttributeError(f"group {self.name!r} is read-only; replace the client's adapter instead")


def _adapter_of(owner: object) -> Any:
    if isinstance(owner, ApiGroup):
        return owner._adapter
    adapter = getattr(owner, "adapter", None)
    if adapter is None:
        raise UsageError(f"{type(owner).__name__} has no adapter for its groups")
    return adapter


_VERBS = ("list", "get", "create", "update", "replace", "delete")


class Resource(ApiGroup[A]):
    """CRUD for a collection at ``path``: list, get, create, update (PATCH), replace (PUT), delete.

    Subclass and set ``path = "/users"``; ids are percent-encoded as one path segment, and wherever an
    id is taken the item itself works too (its ``id_field``, default ``"id"``). Class attributes shape
    it to the API: ``verbs`` names the operations the API has (others raise
    UsageError, nothing sent), ``trailing_slash = True`` gives DRF-style ``/users/`` and
    ``/users/42/`` URLs, ``pagination`` is the strategy ``list()`` walks the collection with
    (None: RFC 8288 Link headers, so a server that does not paginate gives one page).

    Every method takes the per-call options (``timeout``, ``deadline``, ``retry``, ``headers``, …);
    ``list(**filters)`` treats the other keyword arguments as query filters (pass a filter whose
    name is an option's through ``params=``).
    """

    path: ClassVar[str] = ""
    pagination: ClassVar[Strategy | None] = None
    verbs: ClassVar[tuple[str, ...]] = _VERBS
    trailing_slash: ClassVar[bool] = False
    #: The field holding an item's id: methods taking an id also take the item itself.
    id_field: ClassVar[str] = "id"

    def __init__(self, adapter: A) -> None:
        super().__init__(adapter)
        if not self.path:
            raise UsageError(f"{type(self).__name__} must set the class attribute path, e.g. '/users'")
        unknown = set(self.verbs) - set(_VERBS)
        if unknown:
            raise UsageError(f"{type(self).__name__}.verbs has unknown verbs {sorted(unknown)}; "
                             f"choose from {', '.join(_VERBS)}")

    def _allowed(self, verb: str) -> None:
        if verb not in self.verbs:
            raise UsageError(f"{type(self).__name__} does not support {verb}() (verbs = {self.verbs!r})")

    def _collection(self) -> str:
        base = self.path.rstrip("/")
        return base + "/" if self.trailing_slash else base

    def _item(self, id: Any) -> str:  # noqa: A002 - the REST word
        if isinstance(id, Mapping):
            if self.id_field not in id:
                raise UsageError(f"{type(self).__name__}: the item has no {self.id_field!r} field to address it by")
            id = id[self.id_field]  # noqa: A001
        item = f"{self.path.rstrip('/')}/{_segment('id', id)}"
        return item + "/" if self.trailing_slash else item

    def list(self, params: Mapping[str, Any] | None = None, **filters: Any) -> Paginator[Any]:
        """Supported methods: GET {path}?filters — a lazy iterator over every item, page after page.

        Nothing is sent until it is iterated; see ``myclient.Paginator`` for ``pages()`` and
        ``checkpoint``. The class attribute ``pagination`` says how pages follow each other.
        """
        self._allowed("list")
        from .settings import CALL_OPTIONS
        from .strategies import LinkHeader

        options = {k: v for k, v in filters.items() if k in CALL_OPTIONS}
        query = {**(params or {}), **{k: v for k, v in filters.items() if k not in CALL_OPTIONS}}
        strategy = self.pagination if self.pagination is not None else LinkHeader()
        paginator: Paginator[Any] = self._adapter.paginate(self._collection(), query, strategy=strategy, **options)
        return paginator

    def get(self, id: Any, **options: Unpack[CallOptions]) -> Any:  # noqa: A002
        """Supported methods: GET {path}/{id}."""
        self._allowed("get")
        return self._adapter.get(self._item(id), **options)

    def create(self, data: Any, **options: Unpack[CallOptions]) -> Any:
        """Supported methods: POST {path} with a JSON body."""
        self._allowed("create")
        return self._adapter.post(self._collection(), json=data, **options)

    def update(self, id: Any, data: Any, **options: Unpack[CallOptions]) -> Any:  # noqa: A002
        """Supported methods: PATCH {path}/{id} with a partial JSON body."""
        self._allowed("update")
        return self._adapter.patch(self._item(id), json=data, **options)

    def replace(self, id: Any, data: Any, **options: Unpack[CallOptions]) -> Any:  # noqa: A002
        """Supported methods: PUT {path}/{id} with the whole JSON body."""
        self._allowed("replace")
        return self._adapter.put(self._item(id), json=data, **options)

    def delete(self, id: Any, *, missing_ok: bool = False, **options: Unpack[CallOptions]) -> Any:  # noqa: A002
        """Supported methods: DELETE {path}/{id}; with ``missing_ok=True`` a 404 is not an error (returns None)."""
        self._allowed("delete")
        if not missing_ok:
            return self._adapter.delete(self._item(id), **options)
        try:
            return self._adapter.delete(self._item(id), **options)
        except NotFound:
            return None
