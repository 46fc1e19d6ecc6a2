"""Fuzzing the Paginator with hypothesis over `responses`: scripted pages with arbitrary Link headers,
X-Total-Count values, cursors and bodies (deeply nested, not JSON, the wrong shape), for every strategy.

Whatever the pages hold, walking them raises nothing but MyClientError subclasses and sends a
bounded number of requests.
"""

from __future__ import annotations

import json
from typing import Any

import requests
import responses
from fuzzing import examples
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import myclient
from myclient import Cursor, LinkHeader, Offset, PageNumber

BASE = "https://api.example/v1"

HOSTILE_NUMBERS = ["²³¹", "١٢٣", "9" * 5000, "-1", "1e3", "0x10", "", " ", "1,2", "12 34", "９", "NaN"]
# Header text as a server can send it: Latin-1, no line breaks.
header_text = st.text(st.characters(max_codepoint=0xFF, exclude_characters="\r\n"), max_size=80)

link_target = st.one_of(
    st.sampled_from([
        "/v1/items?p=2", "items?p=3", f"{BASE}/items?p=4", "https://evil.example/v1/items", "http://[::1",
        "http://[::1]:99999/x", "http://a b/", "javascript:alert(1)", "//api.example/v1/items?p=5",
        "https://user:pw@api.example/v1/items", "/v1/items#frag", "", "https://api.example:0/v1/x",
        "https://api.example:443/v1/items?p=6", "\x00", "/v1/items?p=" + "9" * 5000,
    ]),
    header_text,
)
link_header = st.one_of(
    st.none(),
    link_target.map(lambda url: f'<{url}>; rel="next"'),
    st.tuples(link_target, header_text).map(lambda pair: f'<{pair[0]}>; rel="next", {pair[1]}'),
    header_text,
)
total_header = st.one_of(st.none(), st.sampled_from(HOSTILE_NUMBERS), st.integers(0, 50).map(str), header_text)

DEPTHS = st.sampled_from([2, 500, 990, 1500, 100_000])  # around the recursion limit, and far past it
json_leaf = st.one_of(st.none(), st.booleans(), st.integers(-(10**20), 10**20),
                      st.floats(allow_nan=False), st.text(max_size=10))
json_value = st.recursive(json_leaf, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(["data", "next", "meta", "total", "more"]), inner,
                                                 max_size=4)), max_leaves=12)
body = st.one_of(
    st.lists(st.integers(0, 99), max_size=4).map(json.dumps),  # a plain list of items
    st.fixed_dictionaries({"data": st.lists(st.integers(0, 99), max_size=4), "next": json_value,
                           "more": json_value, "meta": st.fixed_dictionaries({"total": json_value})}).map(json.dumps),
    json_value.map(json.dumps),
    DEPTHS.map(lambda depth: "[" * depth + "]" * depth),
    DEPTHS.map(lambda depth: '{"data": ' * depth + "[]" + "}" * depth),
    st.binary(max_size=40).map(lambda raw: raw.decode("latin-1")),
    st.sampled_from(["", "   ", "[1, 2", "NaN", "[Infinity]", '{"data": [1], "next": NaN}']),
)
page = st.fixed_dictionaries({
    "status": st.sampled_from([200, 200, 200, 200, 204, 206, 301, 404, 500, 503]),
    "link": link_header,
    "total": total_header,
    "body": body,
})

STRATEGIES = [LinkHeader(), LinkHeader(items="data", total="meta.total"), Cursor(next="next", items="data"),
              Cursor(next="next", has_more="more", items="data", limit_param="n", limit=2),
              PageNumber(size_param="n", size=2), PageNumber(items="data.0"), Offset(limit=2),
              Offset(limit=2, items="data", total="meta.total")]


class ScriptedPages:
    """Answers each request with the next page of the script, whatever was asked; 404 once it ends."""

    def __init__(self, script: list[dict[str, Any]]) -> None:
        self.script = list(script)
        self.calls = 0

    def answer(self, request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        self.calls += 1
        if not self.script:
            return 404, {}, ""
        spec = self.script.pop(0)
        headers = {"Content-Type": "application/json"}
        if spec["link"] is not None:
            headers["Link"] = spec["link"]
        if spec["total"] is not None:
            headers["X-Total-Count"] = spec["total"]
        if spec["status"] >= 300:  # error bodies are the adapter's to decode: kept plain here
            return spec["status"], headers, '{"message": "no"}'
        return spec["status"], headers, spec["body"]


@settings(max_examples=examples(400), deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(
    script=st.lists(page, min_size=1, max_size=6),
    strategy=st.sampled_from(STRATEGIES),
    by_pages=st.booleans(),
)
def test_walking_hostile_pages_raises_only_myclient_errors(
    script: list[dict[str, Any]], strategy: myclient.Strategy, by_pages: bool
) -> None:
    server = ScriptedPages(script)
    client = myclient.Client(BASE, sleep=lambda s: None, random=lambda: 0.0)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rs:
        rs.add_callback(responses.GET, f"{BASE}/items", server.answer)
        walk = client.paginate("/items", strategy=strategy, max_pages=10)
        try:
            if by_pages:
                pages = list(walk.pages())
                assert all(isinstance(p.items, list) and (p.total is None or p.total >= 0) for p in pages)
            else:
                list(walk)
        except myclient.MyClientError as error:
            event(type(error).__name__)
        else:
            event("walked")
        json.dumps(walk.checkpoint)  # the checkpoint stays JSON whatever happened
    assert server.calls <= len(script) + 1
