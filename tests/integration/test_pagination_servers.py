"""Pagination against real servers: json-server 0.17.4 (Link, page number, offset with X-Total-Count) and
cursor pages stubbed in WireMock; interrupted walks resumed from a checkpoint saved as JSON."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from servers import JsonServer, WireMockAdmin
from servers.wiremock import header

import myclient
from myclient import Cursor, LinkHeader, Offset, PageNumber

ALL_POSTS = 250


class Posts(myclient.Resource):
    path = "/posts"


class Blog(myclient.Client):
    posts = myclient.group(Posts)


def _ids(items: list[dict[str, Any]]) -> list[int]:
    return [item["id"] for item in items]


STRATEGIES: dict[str, tuple[myclient.Strategy, dict[str, Any], int]] = {
    # name: (strategy, first params, page size)
    "link": (LinkHeader(), {"_page": 1, "_limit": 17}, 17),
    "page": (PageNumber(param="_page", size_param="_limit", size=25), {}, 25),
    "offset": (Offset(offset_param="_start", limit_param="_limit", limit=40), {}, 40),
}


@pytest.mark.parametrize("name", list(STRATEGIES))
def test_each_strategy_walks_every_post_once_in_order(json_server: JsonServer, name: str) -> None:
    strategy, params, size = STRATEGIES[name]
    walk = myclient.Client(json_server.url).paginate("/posts", params, strategy=strategy)
    pages = list(walk.pages())
    assert _ids([item for page in pages for item in page.items]) == list(range(1, ALL_POSTS + 1))
    assert len(pages) == math.ceil(ALL_POSTS / size)  # the total header saves a trailing empty request
    assert all(page.total == ALL_POSTS and page.status == 200 for page in pages)
    assert pages[-1].next is None and walk.done


def test_json_server_link_headers_are_followed_as_sent(json_server: JsonServer) -> None:
    walk = myclient.Client(json_server.url).paginate("/posts", {"_page": 1, "_limit": 100})
    pages = list(walk.pages())
    assert [len(p.items) for p in pages] == [100, 100, 50]
    assert pages[0].headers["Link"].count('rel="next"') == 1
    assert pages[1].url == f"{json_server.url}/posts?_page=2&_limit=100"


def test_resource_list_gives_one_page_without_pagination_params_and_follows_links_with_them(
    json_server: JsonServer,
) -> None:
    blog = Blog(json_server.url)
    assert _ids(list(blog.posts.list(userId=3))) == list(range(3, ALL_POSTS + 1, 12))
    walk = blog.posts.list(_page=1, _limit=60)
    assert _ids(list(walk)) == list(range(1, ALL_POSTS + 1))
    assert walk.checkpoint["page"] == 6 and walk.done  # 5 pages walked


@pytest.mark.parametrize("name", list(STRATEGIES))
@pytest.mark.parametrize("stop_after", [1, 77, 200, 249])
def test_an_interrupted_walk_resumes_from_a_saved_checkpoint(
    json_server: JsonServer, tmp_path: Path, name: str, stop_after: int
) -> None:
    strategy, params, _ = STRATEGIES[name]
    first_run = myclient.Client(json_server.url).paginate("/posts", params, strategy=strategy)
    seen = []
    for item in first_run:
        seen.append(item["id"])
        if len(seen) == stop_after:
            break
    saved = tmp_path / "checkpoint.json"
    saved.write_text(json.dumps(first_run.checkpoint))
    del first_run  # the process "dies" here

    with myclient.Client(json_server.url) as fresh:
        second_run = fresh.paginate("/posts", params, strategy=strategy, resume=json.loads(saved.read_text()))
        rest = [item["id"] for item in second_run]
    assert sorted(seen + rest) == list(range(1, ALL_POSTS + 1))
    assert len(seen) + len(rest) == ALL_POSTS  # exactly once each


def test_max_items_and_max_pages_against_json_server(json_server: JsonServer) -> None:
    client = myclient.Client(json_server.url)
    strategy = Offset(offset_param="_start", limit_param="_limit", limit=30)
    assert _ids(list(client.paginate("/posts", strategy=strategy, max_items=45))) == list(range(1, 46))
    walk = client.paginate("/posts", strategy=strategy, max_pages=3)
    assert len(list(walk)) == 90 and not walk.done


def test_a_next_link_built_for_another_host_is_refused(json_server: JsonServer) -> None:
    # json-server builds Link URLs from the Host header: sending another one makes it point away.
    walk = myclient.Client(json_server.url).paginate("/posts", {"_page": 1, "_limit": 10},
                                                     headers={"Host": "elsewhere.example"})
    first = [next(walk) for _ in range(10)]
    assert _ids(first) == list(range(1, 11))
    with pytest.raises(myclient.CrossOriginError, match=r"elsewhere\.example"):
        next(walk)


# -- cursor pages in WireMock --------------------------------------------------------------------

CURSOR_PAGES = [(None, "c2"), ("c2", "c3"), ("c3", "c4"), ("c4", None)]


def _stub_cursor_pages(admin: WireMockAdmin) -> None:
    for index, (cursor, following) in enumerate(CURSOR_PAGES):
        query: dict[str, Any] = {"limit": {"equalTo": "3"}}
        query["cursor"] = {"absent": True} if cursor is None else {"equalTo": cursor}
        items = [{"id": index * 3 + n} for n in range(1, 4)]
        admin.stub({
            "request": {"method": "GET", "urlPath": "/feed", "queryParameters": query},
            "response": {"status": 200, "jsonBody": {"data": items, "paging": {"next": following}},
                         "headers": {"Content-Type": "application/json"}},
        })


def test_cursor_pages_in_wiremock_walk_and_resume(wiremock_admin: WireMockAdmin, wiremock: Any) -> None:
    _stub_cursor_pages(wiremock_admin)
    strategy = Cursor(next="paging.next", limit_param="limit", limit=3)
    client = myclient.Client(wiremock.url, token="feed-token")
    assert _ids(list(client.paginate("/feed", strategy=strategy))) == list(range(1, 13))
    walk = client.paginate("/feed", strategy=strategy)
    head = [next(walk)["id"] for _ in range(5)]
    saved = json.dumps(walk.checkpoint)
    tail = _ids(list(client.paginate("/feed", strategy=strategy, resume=json.loads(saved))))
    assert head + tail == list(range(1, 13))
    sent = wiremock_admin.requests("GET", "/feed")
    assert [r["url"] for r in sent[:4]] == ["/feed?limit=3", "/feed?limit=3&cursor=c2",
                                            "/feed?limit=3&cursor=c3", "/feed?limit=3&cursor=c4"]
    assert all(header(r, "Authorization") == "Bearer feed-token" for r in sent)


def test_a_failing_page_is_retried_like_any_call(wiremock_admin: WireMockAdmin, wiremock: Any) -> None:
    _stub_cursor_pages(wiremock_admin)
    wiremock_admin.stub({  # the request for page c3 fails once, then the normal stub answers
        "priority": 1, "scenarioName": "c3", "requiredScenarioState": "Started", "newScenarioState": "ok",
        "request": {"method": "GET", "urlPath": "/feed", "queryParameters": {"cursor": {"equalTo": "c3"}}},
        "response": {"status": 503},
    })
    client = myclient.Client(wiremock.url, retry=myclient.RetryPolicy(backoff=0.01))
    assert _ids(list(client.paginate("/feed", strategy=Cursor(next="paging.next", limit_param="limit",
                                                                      limit=3)))) == list(range(1, 13))
    assert wiremock_admin.count("GET", "/feed") == 5


# -- pages that would make a walk loop, or hostile pages ------------------------------------------------


def test_json_server_ignoring_the_offset_parameter_is_refused_not_walked(json_server: JsonServer) -> None:
    # json-server knows _start, not _skip: every page is the first 40 posts (and X-Total-Count says 250).
    strategy = Offset(offset_param="_skip", limit_param="_limit", limit=40)
    walk = myclient.Client(json_server.url).paginate("/posts", strategy=strategy)
    with pytest.raises(myclient.InvalidResponse, match=r"previous page again.*ignore the paging parameters"):
        list(walk)
    assert walk.checkpoint["items"] == 40  # the first page only, never the same posts twice


def _page(admin: WireMockAdmin, path: str, items: list[int], link: str | None = None,
          body: str | None = None, **headers: str) -> None:
    if link is not None:
        headers["Link"] = f'<{link}>; rel="next"'
    response: dict[str, Any] = {"status": 200, "headers": {"Content-Type": "application/json", **headers}}
    response["body"] = json.dumps(items) if body is None else body
    admin.stub({"request": {"method": "GET", "url": path}, "response": response})


def test_link_headers_that_come_back_to_an_earlier_page_are_refused(
    wiremock_admin: WireMockAdmin, wiremock: Any
) -> None:
    _page(wiremock_admin, "/loop/a", [1], link=f"{wiremock.url}/loop/b")
    _page(wiremock_admin, "/loop/b", [2], link="/loop/c?x=1&y=2")
    _page(wiremock_admin, "/loop/c?x=1&y=2", [3], link="/loop/a")
    walk = myclient.Client(wiremock.url).paginate("/loop/a", max_pages=100)
    assert [next(walk), next(walk)] == [1, 2]
    with pytest.raises(myclient.InvalidResponse, match="repeats page 1 of this walk"):
        next(walk)
    assert [r["url"] for r in wiremock_admin.requests("GET")] == ["/loop/a", "/loop/b", "/loop/c?x=1&y=2"]


def test_a_cursor_that_comes_back_is_refused(wiremock_admin: WireMockAdmin, wiremock: Any) -> None:
    for cursor, following in [(None, "c2"), ("c2", "c3"), ("c3", "c2")]:
        query = {"cursor": {"absent": True} if cursor is None else {"equalTo": cursor}}
        wiremock_admin.stub({
            "request": {"method": "GET", "urlPath": "/ring", "queryParameters": query},
            "response": {"status": 200, "jsonBody": {"data": [cursor or "c1"], "next": following},
                         "headers": {"Content-Type": "application/json"}},
        })
    walk = myclient.Client(wiremock.url).paginate("/ring", strategy=Cursor(next="next"), max_pages=100)
    with pytest.raises(myclient.InvalidResponse, match="repeats page 2 of this walk"):
        list(walk)
    assert wiremock_admin.count("GET", "/ring") == 3


@pytest.mark.parametrize("link", ["http://[::1", "http://a b/", "javascript:alert(1)", "http://[::1]:99999/x"])
def test_a_next_link_that_is_not_a_valid_url_is_invalid_response(
    wiremock_admin: WireMockAdmin, wiremock: Any, link: str
) -> None:
    _page(wiremock_admin, "/bad-link", [1, 2], link=link)
    with pytest.raises(myclient.InvalidResponse, match="the next link"):
        list(myclient.Client(wiremock.url).paginate("/bad-link"))
    assert wiremock_admin.count("GET", "/bad-link") == 1


def test_a_page_nested_too_deeply_is_invalid_response(wiremock_admin: WireMockAdmin, wiremock: Any) -> None:
    _page(wiremock_admin, "/deep", [], body="[" * 50_000 + "]" * 50_000)
    with pytest.raises(myclient.InvalidResponse, match="nested too deeply"):
        list(myclient.Client(wiremock.url).paginate("/deep"))
