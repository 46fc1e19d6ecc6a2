"""Pagination on `responses`: every strategy, laziness, limits, checkpoints, resume, cross-origin refusal."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses

import myclient
from myclient import Cursor, LinkHeader, Offset, PageNumber

BASE = "https://api.example/v1"
ITEMS = [{"id": i} for i in range(1, 24)]  # 23 items: pages of 5 -> 5, 5, 5, 5, 3

pytestmark = pytest.mark.loose_mock  # the shared ``rs`` fixture: unused stubs are fine here



def _query(request: requests.PreparedRequest) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(urlsplit(request.url or "").query).items()}


class FakeAPI:
    """A paginated collection served on `responses`, the way each strategy expects it."""

    def __init__(self, rs: responses.RequestsMock, items: list[Any] = ITEMS, path: str = "/things") -> None:
        self.items = items
        self.requests: list[dict[str, str]] = []
        rs.add_callback(responses.GET, re.compile(re.escape(BASE + path) + r"(\?.*)?$"), self.answer)
        self.url = BASE + path

    def answer(self, request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        q = _query(request)
        self.requests.append(q)
        headers = {"Content-Type": "application/json", "X-Total-Count": str(len(self.items))}
        if "cursor" in q or q.get("mode") == "cursor":
            start = int(q.get("cursor", "0"))
            chunk = self.items[start:start + 5]
            more = start + 5 < len(self.items)
            return 200, headers, json.dumps({"data": chunk, "meta": {"next": str(start + 5) if more else None}})
        if "offset" in q:
            start, limit = int(q["offset"]), int(q.get("limit", "5"))
            return 200, headers, json.dumps(self.items[start:start + limit])
        page, size = int(q.get("page", "1")), int(q.get("per_page", "5"))
        chunk = self.items[(page - 1) * size: page * size]
        if page * size < len(self.items):
            headers["Link"] = f'<{self.url}?page={page + 1}&per_page={size}>; rel="next"'
        return 200, headers, json.dumps(chunk)


STRATEGIES: dict[str, tuple[Any, dict[str, Any]]] = {
    "link": (LinkHeader(), {"page": 1, "per_page": 5}),
    "cursor": (Cursor(next="meta.next", items="data"), {"mode": "cursor"}),
    "page": (PageNumber(size_param="per_page", size=5), {}),
    "offset": (Offset(limit=5), {}),
}


def _client(**kwargs: Any) -> myclient.Client:
    return myclient.Client(BASE, sleep=lambda s: None, **kwargs)


@pytest.mark.parametrize("name", list(STRATEGIES))
def test_every_strategy_walks_the_whole_collection_in_order(rs: responses.RequestsMock, name: str) -> None:
    api = FakeAPI(rs)
    strategy, params = STRATEGIES[name]
    walk = _client().paginate("/things", params, strategy=strategy)
    assert api.requests == []  # lazy: nothing sent before iteration
    assert list(walk) == ITEMS
    assert len(api.requests) == 5
    assert walk.done


def test_a_server_without_link_headers_gives_one_page(rs: responses.RequestsMock) -> None:
    rs.get(f"{BASE}/plain", json=[1, 2, 3])
    assert list(_client().paginate("/plain")) == [1, 2, 3]
    assert len(rs.calls) == 1


def test_relative_next_links_resolve_against_the_page_url(rs: responses.RequestsMock) -> None:
    rs.get(f"{BASE}/rel", json=[1], headers={"Link": '</v1/rel?after=1>; rel="next"'},
           match=[responses.matchers.query_string_matcher("")])
    rs.get(f"{BASE}/rel?after=1", json=[2], match=[responses.matchers.query_string_matcher("after=1")])
    assert list(_client().paginate("/rel")) == [1, 2]


def test_a_next_link_to_another_origin_is_refused_before_anything_is_sent(rs: responses.RequestsMock) -> None:
    rs.get(f"{BASE}/x", json=[1, 2], headers={"Link": '<https://evil.example/v1/x?page=2>; rel="next"'})
    walk = _client(token="secret").paginate("/x")
    assert [next(walk), next(walk)] == [1, 2]
    with pytest.raises(myclient.CrossOriginError, match=r"evil\.example"):
        next(walk)
    assert [c.request.url for c in rs.calls] == [f"{BASE}/x"]


def test_items_at_a_dotted_path_and_clear_errors_when_they_are_not_there(rs: responses.RequestsMock) -> None:
    rs.get(f"{BASE}/a", json={"result": {"items": [1, 2]}})
    rs.get(f"{BASE}/b", json={"result": {}})
    rs.get(f"{BASE}/c", json={"result": {"items": {"not": "a list"}}})
    rs.get(f"{BASE}/d", json={"data": [1]})
    rs.get(f"{BASE}/e", body="<html>oops</html>", content_type="text/html")
    client = _client()
    assert list(client.paginate("/a", strategy=LinkHeader(items="result.items"))) == [1, 2]
    with pytest.raises(myclient.InvalidResponse, match=r"no 'result\.items' key"):
        list(client.paginate("/b", strategy=LinkHeader(items="result.items")))
    with pytest.raises(myclient.InvalidResponse, match="is a dict, not a list"):
        list(client.paginate("/c", strategy=LinkHeader(items="result.items")))
    with pytest.raises(myclient.InvalidResponse, match=r"LinkHeader\(items='data'\)"):
        list(client.paginate("/d"))
    with pytest.raises(myclient.InvalidResponse, match="not JSON"):
        list(client.paginate("/e"))


def test_an_empty_body_is_an_empty_last_page(rs: responses.RequestsMock) -> None:
    rs.get(f"{BASE}/none", status=204)
    walk = _client().paginate("/none")
    pages = list(walk.pages())
    assert [p.items for p in pages] == [[]]
    assert walk.done


def test_cursor_stops_on_has_more_false_and_sends_its_limit(rs: responses.RequestsMock) -> None:
    rs.get(f"{BASE}/c", json={"data": [1, 2], "next": "abc", "more": True},
           match=[responses.matchers.query_param_matcher({"size": "2"})])
    rs.get(f"{BASE}/c", json={"data": [3], "next": "def", "more": False},
           match=[responses.matchers.query_param_matcher({"size": "2", "cursor": "abc"})])
    strategy = Cursor(next="next", has_more="more", limit_param="size", limit=2)
    assert list(_client().paginate("/c", strategy=strategy)) == [1, 2, 3]
    assert len(rs.calls) == 2


def test_page_number_without_total_stops_on_a_short_page_or_an_empty_one(rs: responses.RequestsMock) -> None:
    rs.get(f"{BASE}/p", json=[1, 2], match=[responses.matchers.query_param_matcher({"page": "1", "n": "2"})])
    rs.get(f"{BASE}/p", json=[3], match=[responses.matchers.query_param_matcher({"page": "2", "n": "2"})])
    assert list(_client().paginate("/p", strategy=PageNumber(size_param="n", size=2))) == [1, 2, 3]
    rs.get(f"{BASE}/q", json=[1, 2], match=[responses.matchers.query_param_matcher({"page": "0"})])
    rs.get(f"{BASE}/q", json=[], match=[responses.matchers.query_param_matcher({"page": "1"})])
    assert list(_client().paginate("/q", strategy=PageNumber(start=0))) == [1, 2]


def test_offset_reads_the_total_from_the_body(rs: responses.RequestsMock) -> None:
    rs.get(f"{BASE}/o", json={"rows": [1, 2], "meta": {"total": 3}},
           match=[responses.matchers.query_param_matcher({"offset": "0", "limit": "2"})])
    rs.get(f"{BASE}/o", json={"rows": [3], "meta": {"total": 3}},
           match=[responses.matchers.query_param_matcher({"offset": "2", "limit": "2"})])
    walk = _client().paginate("/o", strategy=Offset(limit=2, items="rows", total="meta.total"))
    pages = list(walk.pages())
    assert [(p.number, p.items, p.total) for p in pages] == [(1, [1, 2], 3), (2, [3], 3)]


def test_offset_uses_x_total_count_to_stop_without_an_extra_request(rs: responses.RequestsMock) -> None:
    api = FakeAPI(rs, items=ITEMS[:10])
    assert list(_client().paginate("/things", strategy=Offset(limit=5))) == ITEMS[:10]
    assert len(api.requests) == 2  # 10 of 10 after two full pages: no third request


def test_max_items_stops_mid_page_without_fetching_more(rs: responses.RequestsMock) -> None:
    api = FakeAPI(rs)
    walk = _client().paginate("/things", strategy=Offset(limit=5), max_items=7)
    assert list(walk) == ITEMS[:7]
    assert len(api.requests) == 2
    assert walk.checkpoint["skip"] == 2 and not walk.done


def test_max_pages_counts_pages_fetched_in_this_run(rs: responses.RequestsMock) -> None:
    api = FakeAPI(rs)
    walk = _client().paginate("/things", strategy=Offset(limit=5), max_pages=2)
    assert list(walk) == ITEMS[:10]
    assert len(api.requests) == 2
    again = _client().paginate("/things", strategy=Offset(limit=5), max_pages=2, resume=walk.checkpoint)
    assert list(again) == ITEMS[10:20]


@pytest.mark.parametrize("name", list(STRATEGIES))
@pytest.mark.parametrize("stop_after", [1, 4, 5, 6, 22, 23])
def test_a_checkpoint_resumes_exactly_where_the_walk_stopped(
    rs: responses.RequestsMock, name: str, stop_after: int
) -> None:
    FakeAPI(rs)
    strategy, params = STRATEGIES[name]
    walk = _client().paginate("/things", params, strategy=strategy)
    first = [next(walk) for _ in range(stop_after)]
    saved = json.dumps(walk.checkpoint)  # JSON-serialisable, stored anywhere
    rest = list(_client().paginate("/things", params, strategy=strategy, resume=json.loads(saved)))
    assert first + rest == ITEMS


def test_checkpoint_format_and_a_finished_walk(rs: responses.RequestsMock) -> None:
    FakeAPI(rs)
    walk = _client().paginate("/things", {"q": "x"}, strategy=Offset(limit=5))
    assert walk.checkpoint == {"v": 1, "strategy": "offset", "path": "/things",
                               "request": {"url": "/things", "params": {"q": "x", "offset": 0, "limit": 5}},
                               "skip": 0, "page": 1, "items": 0}
    for _ in range(7):
        next(walk)
    assert walk.checkpoint["request"]["params"]["offset"] == 5
    assert (walk.checkpoint["skip"], walk.checkpoint["page"], walk.checkpoint["items"]) == (2, 2, 7)
    list(walk)
    assert walk.checkpoint["request"] is None and walk.done
    resumed = _client().paginate("/things", {"q": "x"}, strategy=Offset(limit=5), resume=json.dumps(walk.checkpoint))
    assert list(resumed) == []


def test_pages_carry_headers_status_url_and_move_the_checkpoint_past_each_page(rs: responses.RequestsMock) -> None:
    FakeAPI(rs)
    walk = _client().paginate("/things", {"page": 1, "per_page": 5})
    seen = []
    for page in walk.pages():
        seen.append((page.number, page.status, page.headers["X-Total-Count"], len(page.items)))
        assert walk.checkpoint["page"] == page.number + 1
        if page.number == 2:
            assert page.url == f"{BASE}/things?page=2&per_page=5"
            assert page.next == (f"{BASE}/things?page=3&per_page=5", None)
            break
    assert seen == [(1, 200, "23", 5), (2, 200, "23", 5)]
    rest = list(_client().paginate("/things", {"page": 1, "per_page": 5}, resume=walk.checkpoint))
    assert rest == ITEMS[10:]


def test_pages_honour_max_items_and_a_resumed_page_holds_only_the_rest(rs: responses.RequestsMock) -> None:
    FakeAPI(rs)
    walk = _client().paginate("/things", strategy=Offset(limit=5), max_items=7)
    assert [len(p.items) for p in walk.pages()] == [5, 2]
    resumed = _client().paginate("/things", strategy=Offset(limit=5), resume=walk.checkpoint)
    first = next(resumed.pages())
    assert (first.skipped, first.items) == (2, ITEMS[7:10])


def test_items_and_pages_cannot_be_mixed(rs: responses.RequestsMock) -> None:
    FakeAPI(rs)
    walk = _client().paginate("/things", strategy=Offset(limit=5))
    next(walk)
    with pytest.raises(myclient.UsageError, match="one or the other"):
        next(walk.pages())
    other = _client().paginate("/things", strategy=Offset(limit=5))
    next(other.pages())
    with pytest.raises(myclient.UsageError, match="one or the other"):
        next(other)


def test_each_page_goes_through_retries_and_auth(rs: responses.RequestsMock) -> None:
    rs.get(f"{BASE}/r", json=[1], headers={"Link": f'<{BASE}/r?p=2>; rel="next"'},
           match=[responses.matchers.query_string_matcher("")])
    rs.get(f"{BASE}/r?p=2", status=503)
    rs.get(f"{BASE}/r?p=2", json=[2])
    slept: list[float] = []
    client = myclient.Client(BASE, token="t0k", sleep=slept.append, random=lambda: 0.5)
    assert list(client.paginate("/r")) == [1, 2]
    assert len(slept) == 1
    assert all(c.request.headers["Authorization"] == "Bearer t0k" for c in rs.calls)


def test_a_next_link_to_the_same_page_is_not_followed_forever(rs: responses.RequestsMock) -> None:
    rs.get(f"{BASE}/loop?p=1", json=[1], headers={"Link": f'<{BASE}/loop?p=1>; rel="next"'})
    with pytest.raises(myclient.InvalidResponse, match="same page"):
        list(_client().paginate(f"{BASE}/loop?p=1"))


def test_resource_list_is_a_lazy_walk_with_the_class_strategy(rs: responses.RequestsMock) -> None:
    api = FakeAPI(rs)

    class Things(myclient.Resource):
        path = "/things"
        pagination = Offset(limit=5)

    class Api(myclient.Client):
        things = myclient.group(Things)

    walk = Api(BASE).things.list(q="x")
    assert isinstance(walk, myclient.Paginator) and api.requests == []
    assert list(walk) == ITEMS
    assert api.requests[0] == {"q": "x", "offset": "0", "limit": "5"}


# -- validation ----------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [0, -1, True, 2.5, "3"])
def test_bad_limits_are_refused(value: Any) -> None:
    client = _client()
    with pytest.raises(myclient.UsageError, match="max_items"):
        client.paginate("/x", max_items=value)
    with pytest.raises(myclient.UsageError, match="max_pages"):
        client.paginate("/x", max_pages=value)


def test_bad_strategy_and_params_are_refused() -> None:
    client = _client()
    with pytest.raises(myclient.UsageError, match="pagination strategy"):
        client.paginate("/x", strategy="link")  # type: ignore[arg-type]
    with pytest.raises(myclient.UsageError, match=r"params must not set 'offset'.*Offset sets it"):
        client.paginate("/x", {"offset": 10}, strategy=Offset())
    with pytest.raises(myclient.UsageError, match=r"'page', 'per_page'.*sets them"):
        client.paginate("/x", {"page": 2, "per_page": 9}, strategy=PageNumber(size_param="per_page", size=5))
    with pytest.raises(myclient.UsageError, match="goes into the checkpoint"):
        client.paginate("/x", {"when": object()})
    with pytest.raises(myclient.UsageError, match="mapping"):
        client.paginate("/x", [("a", 1)])  # type: ignore[arg-type]
    with pytest.raises(myclient.CrossOriginError):
        client.paginate("https://elsewhere.example/x")


@pytest.mark.parametrize(("make", "message"), [
    (lambda: Offset(limit=0), "limit must be an int >= 1"),
    (lambda: Offset(offset_param="n", limit_param="n"), "must differ"),
    (lambda: PageNumber(size_param="n"), "size_param needs a size"),
    (lambda: PageNumber(param=""), "param must be a non-empty string"),
    (lambda: Cursor(limit_param="n"), "both limit_param and limit"),
    (lambda: Cursor(next="meta..next"), "empty segment"),
    (lambda: LinkHeader(items=""), "items must be a non-empty string"),
])
def test_strategy_settings_are_validated(make: Any, message: str) -> None:
    with pytest.raises(myclient.UsageError, match=message):
        make()


def test_unknown_strategy_settings_are_a_type_error() -> None:
    with pytest.raises(TypeError, match="page_size"):
        PageNumber(page_size=10)  # type: ignore[call-arg]


@pytest.mark.parametrize(("change", "message"), [
    ({"v": 2}, "unsupported checkpoint version"),
    ({"strategy": "cursor"}, "for a 'cursor' walk"),
    ({"path": "/other"}, "for '/other'"),
    ({"skip": -1}, "skip must be an int >= 0"),
    ({"page": 0}, "page must be an int >= 1"),
    ({"request": {"params": {}}}, "request must be"),
    ({"request": {"url": "https://evil.example/x", "params": None}}, "refusing"),
])
def test_a_bad_checkpoint_is_refused(change: dict[str, Any], message: str) -> None:
    checkpoint = {"v": 1, "strategy": "offset", "path": "/x", "request": {"url": "/x", "params": {"offset": 5}},
                  "skip": 0, "page": 2, "items": 5, **change}
    with pytest.raises(myclient.UsageError, match=message):
        _client().paginate("/x", strategy=Offset(), resume=checkpoint)


def test_resume_must_be_a_checkpoint() -> None:
    with pytest.raises(myclient.UsageError, match="invalid JSON"):
        _client().paginate("/x", resume="{nope")
    with pytest.raises(myclient.UsageError, match="checkpoint dict"):
        _client().paginate("/x", resume=[1])  # type: ignore[arg-type]


def test_the_deadline_applies_to_each_page_not_to_the_whole_walk(rs: responses.RequestsMock) -> None:
    api = FakeAPI(rs)
    now = [0.0]

    def clock() -> float:  # every look at the clock costs a second
        now[0] += 1.0
        return now[0]

    client = myclient.Client(BASE, clock=clock, sleep=lambda s: None)
    assert list(client.paginate("/things", strategy=Offset(limit=5), deadline=10)) == ITEMS
    assert now[0] > 20  # the walk took longer than two deadlines; no page took one
    with pytest.raises(myclient.DeadlineExceeded):
        list(client.paginate("/things", strategy=Offset(limit=5), deadline=0.5))
    assert len(api.requests) == 5


# -- hostile pages: only MyClientError escapes, and a walk never goes round in circles ------------


@pytest.mark.parametrize("count", ["²³¹", "١٢", "9" * 5000, "-3", "1e3", "0x10", "12abc"])
def test_a_total_that_is_not_ascii_digits_is_ignored(rs: responses.RequestsMock, count: str) -> None:
    rs.get(f"{BASE}/t", json=[1, 2], headers={"X-Total-Count": count},
           match=[responses.matchers.query_param_matcher({"offset": "0", "limit": "5"})])
    rs.get(f"{BASE}/b", json={"rows": [1], "total": count})
    pages = list(_client().paginate("/t", strategy=Offset(limit=5)).pages())
    assert [(p.items, p.total) for p in pages] == [([1, 2], None)]  # a short page ends the walk instead
    pages = list(_client().paginate("/b", strategy=LinkHeader(items="rows", total="total")).pages())
    assert [(p.items, p.total) for p in pages] == [([1], None)]


def test_a_list_index_in_a_dotted_path_is_ascii_digits_only(rs: responses.RequestsMock) -> None:
    rs.get(f"{BASE}/d", json={"results": [[1, 2]]})
    assert list(_client().paginate("/d", strategy=LinkHeader(items="results.0"))) == [1, 2]
    with pytest.raises(myclient.InvalidResponse, match=r"no 'results\.²' key"):
        list(_client().paginate("/d", strategy=LinkHeader(items="results.²")))


def test_a_page_nested_too_deeply_is_invalid_response(rs: responses.RequestsMock) -> None:
    rs.get(f"{BASE}/deep", body="[" * 100_000 + "]" * 100_000, content_type="application/json")
    with pytest.raises(myclient.InvalidResponse, match="nested too deeply"):
        list(_client().paginate("/deep"))


def test_a_checkpoint_nested_too_deeply_is_a_usage_error() -> None:
    with pytest.raises(myclient.UsageError, match="not a checkpoint"):
        _client().paginate("/x", resume="[" * 100_000)


@pytest.mark.parametrize("link", [
    "<http://[::1>",                       # does not parse
    "<http://[::1]:99999/v1/x>",           # port out of range
    "<https://api.example/v1/a b>",        # whitespace
    "<https://api.example/v1/\x7f>",       # control character
    "<javascript:alert(1)>",               # not http(s)
    "<mailto:x@api.example>",
    "<http://:80/v1/x>",                   # no host
    "<https://user:pw@api.example/v1/x>",  # credentials in a next link
    "<https://api.example/" + "x" * 9000 + ">",
])
def test_a_next_link_that_is_not_a_valid_http_url_is_invalid_response(
    rs: responses.RequestsMock, link: str
) -> None:
    rs.get(f"{BASE}/l", json=[1], headers={"Link": f'{link}; rel="next"'})
    with pytest.raises(myclient.InvalidResponse, match="the next link"):
        list(_client().paginate("/l"))
    assert len(rs.calls) == 1  # nothing sent to it


def test_a_next_link_with_a_fragment_is_followed_without_it(rs: responses.RequestsMock) -> None:
    rs.get(f"{BASE}/f", json=[1], headers={"Link": '</v1/f?p=2#top>; rel="next"'},
           match=[responses.matchers.query_string_matcher("")])
    rs.get(f"{BASE}/f", json=[2], match=[responses.matchers.query_string_matcher("p=2")])
    walk = _client().paginate("/f")
    assert list(walk) == [1, 2]
    assert rs.calls[1].request.url == f"{BASE}/f?p=2"


def _links(rs: responses.RequestsMock, chain: dict[str, str | None]) -> None:
    """Pages at BASE + path, each with a next link to the next path (relative, as servers often send)."""
    for index, (path, following) in enumerate(chain.items()):
        query = urlsplit(path).query
        headers = {"Link": f'</v1{following}>; rel="next"'} if following else {}
        rs.get(f"{BASE}{urlsplit(path).path}", json=[index], headers=headers,
               match=[responses.matchers.query_string_matcher(query)])


def test_a_next_link_back_to_an_earlier_page_is_refused(rs: responses.RequestsMock) -> None:
    _links(rs, {"/a": "/b", "/b": "/a"})  # /a -> /b -> /a -> ...
    walk = _client().paginate("/a", max_pages=50)
    assert next(walk) == 0
    with pytest.raises(myclient.InvalidResponse, match=r"repeats page 1 of this walk"):
        next(walk)
    assert [urlsplit(c.request.url).path for c in rs.calls] == ["/v1/a", "/v1/b"]
    assert walk.checkpoint["page"] == 2  # /b was not handed out: resuming fetches it again


def test_a_repeat_is_caught_whatever_the_order_of_the_query(rs: responses.RequestsMock) -> None:
    _links(rs, {"/a?x=1&y=2": "/b", "/b": "/c", "/c": "/a?y=2&x=1"})
    with pytest.raises(myclient.InvalidResponse, match="repeats page 1"):
        list(_client().paginate("/a", {"x": 1, "y": 2}, max_pages=50))
    assert len(rs.calls) == 3


def test_a_loop_longer_than_the_remembered_pages_is_still_caught(
    rs: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    from myclient import pagination

    monkeypatch.setattr(pagination, "REMEMBERED_PAGES", 3)
    ring = [f"/p{i}" for i in range(10)]  # p0 -> p1 -> ... -> p9 -> p0: ten pages, three remembered
    _links(rs, {path: ring[(i + 1) % 10] for i, path in enumerate(ring)})
    walk = _client().paginate("/p0", max_pages=1000)
    with pytest.raises(myclient.InvalidResponse, match="repeats page"):
        list(walk)
    assert 10 < len(rs.calls) <= 30  # caught within two turns of the loop
    assert len(walk._seen._recent) == 3


def test_a_cursor_that_comes_back_is_refused(rs: responses.RequestsMock) -> None:
    rs.get(f"{BASE}/c", json={"data": [1], "next_cursor": "c2"}, match=[responses.matchers.query_string_matcher("")])
    rs.get(f"{BASE}/c", json={"data": [2], "next_cursor": "c3"},
           match=[responses.matchers.query_string_matcher("cursor=c2")])
    rs.get(f"{BASE}/c", json={"data": [3], "next_cursor": "c2"},
           match=[responses.matchers.query_string_matcher("cursor=c3")])
    with pytest.raises(myclient.InvalidResponse, match="repeats page 2"):
        list(_client().paginate("/c", strategy=Cursor(), max_pages=50))
    assert len(rs.calls) == 3


@pytest.mark.parametrize("strategy", [PageNumber(size_param="n", size=2), Offset(limit=2)], ids=repr)
def test_a_server_that_ignores_the_page_parameter_is_refused(rs: responses.RequestsMock, strategy: Any) -> None:
    rs.get(re.compile(re.escape(f"{BASE}/same") + r"(\?.*)?$"), json=[1, 2])  # always the first page, no total
    walk = _client().paginate("/same", strategy=strategy, max_pages=50)
    with pytest.raises(myclient.InvalidResponse, match=r"previous page again.*ignore the paging parameters"):
        list(walk)
    assert len(rs.calls) == 2
    assert walk.checkpoint["items"] == 2
