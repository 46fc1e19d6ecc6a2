"""Groups: the typed lazy descriptor, adapter replacement, Resource CRUD and safe path building."""

from __future__ import annotations

from typing import Any

import pytest

import myclient

BASE = "https://api.example/v1"


class Users(myclient.Resource):
    path = "/users"


class Status(myclient.ApiGroup):
    def health(self) -> Any:
        """Supported methods: GET /health"""
        return self._adapter.get("/health")


class Admin(myclient.ApiGroup):
    status = myclient.group(Status)


class Acme(myclient.Client):
    users = myclient.group(Users)
    status = myclient.group(Status)
    admin = myclient.group(Admin)



def test_group_is_made_lazily_once_per_client() -> None:
    a, b = Acme(BASE), Acme(BASE)
    assert "_myclient_groups" not in vars(a)
    assert a.users is a.users
    assert a.users is not b.users
    assert isinstance(a.users, Users)
    assert a.users._adapter is a.adapter


def test_class_access_gives_the_descriptor_and_groups_are_read_only() -> None:
    assert isinstance(Acme.users, myclient.group)
    with pytest.raises(AttributeError, match="read-only"):
        Acme(BASE).users = Users(myclient.JSONAdapter(BASE))  # type: ignore[misc]


def test_groups_follow_a_replaced_adapter(rs: Any) -> None:
    rs.get("https://new.example/health", json={"from": "new"})
    client = Acme(BASE)
    held = client.status
    nested = client.admin.status
    client.adapter = myclient.JSONAdapter("https://new.example")
    assert client.status.health() == {"from": "new"}
    assert client.status is held
    assert client.admin.status is nested
    assert nested._adapter is client.adapter


def test_adapter_setter_refuses_non_adapters() -> None:
    with pytest.raises(myclient.UsageError):
        Acme(BASE).adapter = "nope"  # type: ignore[assignment]


def test_group_requires_an_api_group_class() -> None:
    with pytest.raises(myclient.UsageError):
        myclient.group(dict)  # type: ignore[type-var]


def test_nested_group_uses_parent_adapter(rs: Any) -> None:
    rs.get(f"{BASE}/health", json={"ok": True})
    assert Acme(BASE).admin.status.health() == {"ok": True}


def test_resource_crud_methods_and_paths(rs: Any) -> None:
    rs.get(f"{BASE}/users", json=[{"id": 1}])
    rs.get(f"{BASE}/users?role=admin", json=[])
    rs.get(f"{BASE}/users/1", json={"id": 1})
    rs.post(f"{BASE}/users", status=201, json={"id": 2})
    rs.patch(f"{BASE}/users/2", json={"id": 2, "name": "B"})
    rs.put(f"{BASE}/users/2", json={"id": 2, "name": "C"})
    rs.delete(f"{BASE}/users/2", status=204)
    users = Acme(BASE).users
    assert list(users.list()) == [{"id": 1}]
    assert list(users.list(role="admin")) == []
    assert users.get(1) == {"id": 1}
    assert users.create({"name": "A"}) == {"id": 2}
    assert users.update(2, {"name": "B"}) == {"id": 2, "name": "B"}
    assert users.replace(2, {"name": "C"}) == {"id": 2, "name": "C"}
    assert users.delete(2) is None
    methods = [(c.request.method, c.request.body) for c in rs.calls]
    assert methods[3] == ("POST", b'{"name": "A"}')
    assert methods[4] == ("PATCH", b'{"name": "B"}')
    assert methods[5] == ("PUT", b'{"name": "C"}')


def test_resource_ids_cannot_escape_the_collection(rs: Any) -> None:
    rs.get(f"{BASE}/users/..%2Fadmin", json={})
    Acme(BASE).users.get("../admin")
    with pytest.raises(myclient.UsageError):
        Acme(BASE).users.get("..")
    with pytest.raises(myclient.UsageError):
        Acme(BASE).users.delete("")


def test_resource_without_path_is_refused() -> None:
    class Nameless(myclient.Resource):
        pass

    with pytest.raises(myclient.UsageError, match="path"):
        Nameless(myclient.JSONAdapter(BASE))


def test_not_found_from_resource_has_method_and_url(rs: Any) -> None:
    rs.get(f"{BASE}/users/42", status=404)
    with pytest.raises(myclient.NotFound) as info:
        Acme(BASE).users.get(42)
    assert (info.value.status, info.value.method, info.value.url) == (404, "GET", f"{BASE}/users/42")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (42, "/users/42"),
        ("ann", "/users/ann"),
        ("../admin", "/users/..%2Fadmin"),
        ("a/b", "/users/a%2Fb"),
        ("%2e%2e", "/users/%252e%252e"),
        ("a?b#c", "/users/a%3Fb%23c"),
        ("zoë ü", "/users/zo%C3%AB%20%C3%BC"),
        ("...", "/users/..."),
    ],
)
def test_path_percent_encodes_every_value(value: Any, expected: str) -> None:
    assert myclient.path("/users/{id}", id=value) == expected


@pytest.mark.parametrize("value", ["", ".", "..", None, True])
def test_path_refuses_values_that_would_change_the_path(value: Any) -> None:
    with pytest.raises(myclient.UsageError):
        myclient.path("/users/{id}", id=value)


def test_path_checks_fields_against_values() -> None:
    assert myclient.path("/orgs/{org}/repos/{repo}", org="a b", repo="c") == "/orgs/a%20b/repos/c"
    with pytest.raises(myclient.UsageError, match="needs a value"):
        myclient.path("/users/{id}")
    with pytest.raises(myclient.UsageError, match="no field"):
        myclient.path("/users/{id}", id=1, extra=2)
    with pytest.raises(myclient.UsageError, match="plain name"):
        myclient.path("/users/{}", id=1)
    with pytest.raises(myclient.UsageError, match="plain name"):
        myclient.path("/users/{id!r}", id=1)
    assert myclient.path("/static") == "/static"
