"""Config-driven clients: a small YAML/JSON/TOML file becomes a client of Resources; mistakes name their key."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import myclient
from myclient.testing.mock import MockTransport

YAML = """
name: acme
base_url: https://api.acme.example/v1
auth: {kind: bearer, token: "${ACME_TEST_TOKEN}"}
settings: {timeout: [2, 9], retry: {attempts: 4, backoff: 0}}
resources:
  users: {path: /users, verbs: [list, get, create]}
  order-items: {path: /orders, id_field: number, trailing_slash: true,
                pagination: {style: cursor, next: meta.next, items: data}}
"""


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_a_yaml_config_becomes_a_client_of_resources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACME_TEST_TOKEN", "config-token-0123456789")
    mock = MockTransport()
    mock.add("GET", "/users/7", json={"id": 7})
    mock.add("GET", "/orders/", answers=[myclient.testing.mock.MockResponse(json={"data": [{"number": 1}],
                                                                                    "meta": {"next": "c2"}}),
                                         myclient.testing.mock.MockResponse(json={"data": [{"number": 2}],
                                                                                    "meta": {"next": None}})])
    mock.add("DELETE", "/orders/2/", status=204)
    client: Any = myclient.from_config(_write(tmp_path, "api.yaml", YAML), transport=mock)
    assert client.adapter.timeout == (2.0, 9.0) and client.adapter.retry.attempts == 4
    assert client.users.get(7) == {"id": 7}
    orders = list(client.order_items.list())
    assert orders == [{"number": 1}, {"number": 2}]
    client.order_items.delete(orders[1])  # the item itself, addressed by its id_field
    with pytest.raises(myclient.UsageError, match="does not support delete"):
        client.users.delete(7)
    assert repr(client.adapter.auth) == "BearerAuth(token=***)"
    assert [c.url for c in mock.calls][-1] == "https://api.acme.example/v1/orders/2/"


def test_json_and_toml_configs(tmp_path: Path) -> None:
    config = {"base_url": "https://api.example", "resources": {"items": {"path": "/items"}}}
    assert myclient.from_config(_write(tmp_path, "c.json", json.dumps(config))).base_url == "https://api.example"
    toml = 'base_url = "https://api.example"\n[resources.items]\npath = "/items"\nverbs = ["list"]\n'
    client: Any = myclient.from_config(_write(tmp_path, "c.toml", toml))
    assert client.items.verbs == ("list",)


@pytest.mark.parametrize(("config", "message"), [
    ({"base_url": "https://x.example", "resorces": {}}, "unknown key 'resorces'"),
    ({"resources": {}}, "base_url must be set"),
    ({"base_url": "https://x.example", "resources": {"u": {"path": "/u", "verbs": ["list", "destroy"]}}},
     r"resources\.u\.verbs\[1\]: unknown verb 'destroy'"),
    ({"base_url": "https://x.example", "resources": {"u": {"path": "u"}}}, r"resources\.u\.path"),
    ({"base_url": "https://x.example", "resources": {"u": {"path": "/u", "pagination": {"style": "pages"}}}},
     r"resources\.u\.pagination"),
    ({"base_url": "https://x.example", "auth": {"kind": "magic"}}, r"auth\.kind"),
    ({"base_url": "https://x.example", "auth": {"kind": "bearer", "tokn": "x"}}, r"unknown key 'tokn'"),
    ({"base_url": "https://x.example", "settings": {"timout": 3}}, r"settings: unknown key 'timout'"),
    ({"base_url": "https://x.example", "auth": {"kind": "bearer", "token": "${MYCLIENT_NO_SUCH_VAR}"}},
     "MYCLIENT_NO_SUCH_VAR is not set"),
    ({"base_url": "https://x.example", "resources": {"adapter": {"path": "/a"}}}, "taken by the client"),
])
def test_mistakes_name_the_key(config: dict[str, Any], message: str) -> None:
    with pytest.raises(myclient.UsageError, match=message):
        myclient.from_config(config)
