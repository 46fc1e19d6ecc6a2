"""Resource CRUD against json-server 0.17.4, with its real statuses: POST 201, DELETE 200 ``{}``,
PUT/PATCH of a missing id 404, and a duplicate id 500 with a text/html stack trace."""

from __future__ import annotations

import itertools
import os
from typing import Any

import pytest
from servers import JsonServer

import myclient
from myclient import Offset

# Unique ids per test process (xdist workers have their own json-server, but tests share it).
_IDS = itertools.count(10_000 + os.getpid() % 1000 * 100)


class Notes(myclient.Resource):
    path = "/notes"
    pagination = Offset(offset_param="_start", limit_param="_limit", limit=2)


class NotesApi(myclient.Client):
    notes = myclient.group(Notes)


@pytest.fixture
def api(json_server: JsonServer) -> NotesApi:
    return NotesApi(json_server.url, retry=None)


def test_create_get_update_replace_delete(api: NotesApi) -> None:
    note_id = next(_IDS)
    created = api.notes.create({"id": note_id, "text": "draft", "tags": ["a"]})
    assert created == {"id": note_id, "text": "draft", "tags": ["a"]}  # 201 with the stored item
    assert api.notes.get(note_id)["text"] == "draft"
    assert api.notes.update(note_id, {"text": "edited"}) == {"id": note_id, "text": "edited", "tags": ["a"]}
    assert api.notes.replace(note_id, {"text": "replaced"}) == {"id": note_id, "text": "replaced"}
    assert api.notes.delete(note_id) == {}  # json-server answers 200 with {}
    with pytest.raises(myclient.NotFound):
        api.notes.get(note_id)


def test_a_created_item_without_id_gets_one(api: NotesApi) -> None:
    created = api.notes.create({"text": "no id given"})
    assert isinstance(created["id"], int)
    assert api.notes.delete(created["id"]) == {}


def test_put_and_patch_of_a_missing_id_are_not_found(api: NotesApi) -> None:
    with pytest.raises(myclient.NotFound) as caught:
        api.notes.replace(999_999, {"text": "ghost"})
    assert caught.value.status == 404 and caught.value.method == "PUT"
    with pytest.raises(myclient.NotFound):
        api.notes.update(999_999, {"text": "ghost"})
    with pytest.raises(myclient.NotFound):
        api.notes.delete(999_999)


def test_a_duplicate_id_is_a_500_with_an_html_body(api: NotesApi) -> None:
    note_id = next(_IDS)
    api.notes.create({"id": note_id, "text": "original"})
    try:
        with pytest.raises(myclient.InternalServerError) as caught:
            api.notes.create({"id": note_id, "text": "duplicate"})
        error = caught.value
        assert error.status == 500 and error.method == "POST"
        assert error.headers["Content-Type"].startswith("text/html")  # express' error page: a stack trace
        assert "Insert failed, duplicate id" in error.body
        assert api.notes.get(note_id)["text"] == "original"
    finally:
        api.notes.delete(note_id)


def test_list_walks_the_collection_with_the_resource_strategy(api: NotesApi) -> None:
    made = [api.notes.create({"id": next(_IDS), "text": f"n{i}"})["id"] for i in range(5)]
    try:
        walk = api.notes.list()
        ids = [note["id"] for note in walk]
        assert set(made) <= set(ids) and len(ids) == len(set(ids))
        assert walk.checkpoint["page"] > 3  # pages of 2: several requests
        assert [n["id"] for n in api.notes.list(text="n3")] == [made[3]]
    finally:
        for note_id in made:
            api.notes.delete(note_id)


def test_a_config_file_client_walks_and_edits_json_server(json_server: Any, tmp_path: Any) -> None:
    config = tmp_path / "api.yaml"
    config.write_text(f"""
base_url: {json_server.url}
settings: {{timeout: 10}}
resources:
  posts: {{path: /posts, pagination: {{style: link}}}}
  comments: {{path: /comments, verbs: [list, get]}}
""")
    client: Any = myclient.from_config(config)
    posts = list(client.posts.list(_page=1, _limit=40))
    assert len(posts) == len({p["id"] for p in posts}) >= 200
    created = client.posts.create({"title": "from a config file"})
    assert client.posts.get(created)["title"] == "from a config file"
    client.posts.delete(created)
    with pytest.raises(myclient.UsageError, match="does not support create"):
        client.comments.create({"body": "x"})
