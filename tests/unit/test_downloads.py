"""Downloads on `responses`: atomic rename, length checks, Range/If-Range resume, restarts, progress, cleanup."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import responses

import myclient
from myclient.downloads import META_SUFFIX, PART_SUFFIX

BASE = "https://files.example"
URL = f"{BASE}/blob"
DATA = bytes(range(256)) * 40  # 10 240 bytes
ETAG = '"v1-abc"'


@pytest.fixture
def rs() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock() as mock:
        yield mock


class Recorder:
    """progress() calls, and the responses the adapter handed out (to check they were closed)."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, int | None]] = []

    def __call__(self, done: int, total: int | None) -> None:
        self.calls.append((done, total))


def _client(**kwargs: Any) -> myclient.Client:
    kwargs.setdefault("sleep", lambda s: None)
    kwargs.setdefault("random", lambda: 0.0)
    return myclient.Client(BASE, **kwargs)


def _full(rs: responses.RequestsMock, body: bytes = DATA, **headers: str) -> None:
    rs.get(URL, body=body,
           headers={"Content-Length": str(len(body)), "ETag": ETAG, "Accept-Ranges": "bytes", **headers})


def _partial(rs: responses.RequestsMock, start: int, body: bytes = DATA, total: int | None = None,
             **headers: str) -> None:
    chunk = body[start:]
    size = len(body) if total is None else total
    rs.get(URL, status=206, body=chunk,
           headers={"Content-Length": str(len(chunk)), "Content-Range": f"bytes {start}-{len(body) - 1}/{size}",
                    "ETag": ETAG, **headers})


def _leftover(dest: Path, size: int, **meta: Any) -> None:
    dest.with_name(dest.name + PART_SUFFIX).write_bytes(DATA[:size])
    if meta:
        dest.with_name(dest.name + META_SUFFIX).write_text(json.dumps(meta))


def _source(client: myclient.Client, path: str = "/blob") -> str:
    from myclient.downloads import _source_id

    return _source_id(client.adapter, path, None)


def _leftovers(tmp_path: Path) -> list[str]:
    return sorted(p.name for p in tmp_path.iterdir() if p.name != "out.bin")


def test_a_download_lands_under_its_name_only_when_complete(rs: responses.RequestsMock, tmp_path: Path) -> None:
    _full(rs)
    progress = Recorder()
    dest = tmp_path / "out.bin"
    result = _client().download("/blob", str(dest), chunk_size=4096, progress=progress)
    assert result == dest and dest.read_bytes() == DATA
    assert _leftovers(tmp_path) == []
    assert progress.calls == [(0, 10240), (4096, 10240), (8192, 10240), (10240, 10240)]
    sent = rs.calls[0].request.headers
    assert sent["Accept-Encoding"] == "identity" and "Range" not in sent


def test_a_short_body_raises_connection_lost_and_keeps_the_partial_file(
    rs: responses.RequestsMock, tmp_path: Path
) -> None:
    rs.get(URL, body=DATA[:3000], headers={"Content-Length": str(len(DATA)), "ETag": ETAG})
    dest = tmp_path / "out.bin"
    with pytest.raises(myclient.ConnectionLost):
        _client(retry=None).download("/blob", dest, chunk_size=1000)
    assert not dest.exists()
    assert (tmp_path / ("out.bin" + PART_SUFFIX)).read_bytes() == DATA[:3000]
    meta = json.loads((tmp_path / ("out.bin" + META_SUFFIX)).read_text())
    assert meta["validator"] == ETAG and meta["total"] == len(DATA)


def test_a_206_ending_before_its_content_range_is_a_short_body(rs: responses.RequestsMock, tmp_path: Path) -> None:
    dest = tmp_path / "out.bin"
    _leftover(dest, 100)
    rs.get(URL, status=206, body=DATA[100:500],
           headers={"Content-Range": f"bytes 100-{len(DATA) - 1}/{len(DATA)}"})  # no Content-Length
    with pytest.raises(myclient.ConnectionLost, match=f"ended at byte 500 of {len(DATA)}"):
        _client(retry=None).download("/blob", dest)
    assert (tmp_path / ("out.bin" + PART_SUFFIX)).stat().st_size == 500


def test_a_body_that_breaks_off_is_resumed_within_the_call(rs: responses.RequestsMock, tmp_path: Path) -> None:
    rs.get(URL, body=DATA[:3000], headers={"Content-Length": str(len(DATA)), "ETag": ETAG})
    _partial(rs, 3000)
    slept: list[float] = []
    dest = tmp_path / "out.bin"
    _client(sleep=slept.append, random=lambda: 0.5).download("/blob", dest, chunk_size=1000)
    assert dest.read_bytes() == DATA
    second = rs.calls[1].request.headers
    assert (second["Range"], second["If-Range"]) == ("bytes=3000-", ETAG)
    assert slept == [0.25] and _leftovers(tmp_path) == []


def test_a_partial_file_is_resumed_with_range_and_if_range(rs: responses.RequestsMock, tmp_path: Path) -> None:
    client = _client()
    dest = tmp_path / "out.bin"
    _leftover(dest, 4000, source=_source(client), validator=ETAG, total=len(DATA), encoded=False)
    _partial(rs, 4000)
    progress = Recorder()
    client.download("/blob", dest, progress=progress)
    assert dest.read_bytes() == DATA
    sent = rs.calls[0].request.headers
    assert (sent["Range"], sent["If-Range"]) == ("bytes=4000-", ETAG)
    assert progress.calls[0] == (4000, len(DATA)) and progress.calls[-1] == (len(DATA), len(DATA))


def test_if_range_prefers_a_strong_etag_then_last_modified_else_none(
    rs: responses.RequestsMock, tmp_path: Path
) -> None:
    stamp = "Wed, 21 Oct 2015 07:28:00 GMT"
    rs.get(URL, body=DATA[:10],
           headers={"Content-Length": str(len(DATA)), "ETag": 'W/"weak"', "Last-Modified": stamp})
    rs.get(URL, body=DATA[:10], headers={"Content-Length": str(len(DATA))})
    client = _client(retry=None)
    for _ in range(2):
        with pytest.raises(myclient.ConnectionLost):
            client.download("/blob", tmp_path / "out.bin")
        meta = json.loads((tmp_path / ("out.bin" + META_SUFFIX)).read_text())
        (tmp_path / ("out.bin" + PART_SUFFIX)).unlink()
        assert meta["validator"] == (stamp if len(rs.calls) == 1 else None)
    rs.get(URL, status=206, body=DATA[5:],
           headers={"Content-Range": f"bytes 5-{len(DATA) - 1}/{len(DATA)}", "Content-Length": str(len(DATA) - 5)})
    _leftover(tmp_path / "out.bin", 5)  # a partial file nobody knows anything about
    client.download("/blob", tmp_path / "out.bin")
    assert "If-Range" not in rs.calls[2].request.headers
    assert rs.calls[2].request.headers["Range"] == "bytes=5-"


def test_a_200_to_a_range_request_starts_over_cleanly(rs: responses.RequestsMock, tmp_path: Path) -> None:
    client = _client()
    dest = tmp_path / "out.bin"
    _leftover(dest, 4000, source=_source(client), validator='"old"', total=len(DATA), encoded=False)
    new = DATA[::-1]
    _full(rs, new)
    progress = Recorder()
    client.download("/blob", dest, progress=progress)
    assert dest.read_bytes() == new
    assert progress.calls[0] == (0, len(new))
    assert rs.calls[0].request.headers["If-Range"] == '"old"'


def test_a_206_at_the_wrong_offset_is_refused_and_the_partial_file_dropped(
    rs: responses.RequestsMock, tmp_path: Path
) -> None:
    dest = tmp_path / "out.bin"
    _leftover(dest, 4000)
    _partial(rs, 3000)
    with pytest.raises(myclient.InvalidResponse, match="holds bytes 3000-10239/10240, not bytes 4000-"):
        _client().download("/blob", dest)
    assert list(tmp_path.iterdir()) == []


def test_a_206_for_a_changed_resource_starts_over(rs: responses.RequestsMock, tmp_path: Path) -> None:
    client = _client()
    dest = tmp_path / "out.bin"
    _leftover(dest, 4000, source=_source(client), validator=ETAG, total=99999, encoded=False)
    _partial(rs, 4000)  # total 10240: not the file the partial one came from
    _full(rs)
    client.download("/blob", dest)
    assert dest.read_bytes() == DATA
    assert "Range" not in rs.calls[1].request.headers


def test_ranges_shorter_than_the_rest_are_followed_up(rs: responses.RequestsMock, tmp_path: Path) -> None:
    dest = tmp_path / "out.bin"
    _leftover(dest, 1000)
    rs.get(URL, status=206, body=DATA[1000:6000],
           headers={"Content-Range": f"bytes 1000-5999/{len(DATA)}", "Content-Length": "5000"})
    _partial(rs, 6000)
    _client().download("/blob", dest)
    assert dest.read_bytes() == DATA
    assert [c.request.headers["Range"] for c in rs.calls] == ["bytes=1000-", "bytes=6000-"]


def test_416_means_the_partial_file_was_already_complete(rs: responses.RequestsMock, tmp_path: Path) -> None:
    dest = tmp_path / "out.bin"
    _leftover(dest, len(DATA))
    rs.get(URL, status=416, headers={"Content-Range": f"bytes */{len(DATA)}"})
    assert _client().download("/blob", dest).read_bytes() == DATA
    assert _leftovers(tmp_path) == []


def test_416_for_a_bigger_partial_file_starts_over(rs: responses.RequestsMock, tmp_path: Path) -> None:
    dest = tmp_path / "out.bin"
    _leftover(dest, 5000)
    rs.get(URL, status=416, headers={"Content-Range": "bytes */3000"})
    _full(rs, DATA[:3000])
    assert _client().download("/blob", dest).read_bytes() == DATA[:3000]


def test_a_partial_file_of_another_url_is_not_resumed(rs: responses.RequestsMock, tmp_path: Path) -> None:
    dest = tmp_path / "out.bin"
    _leftover(dest, 4000, source="0" * 64, validator=ETAG, total=len(DATA))
    _full(rs)
    _client().download("/blob", dest)
    assert "Range" not in rs.calls[0].request.headers
    assert dest.read_bytes() == DATA


def test_an_http_error_leaves_no_file_behind(rs: responses.RequestsMock, tmp_path: Path) -> None:
    rs.get(URL, status=404, json={"message": "no such blob"})
    with pytest.raises(myclient.NotFound):
        _client().download("/blob", tmp_path / "out.bin")
    assert list(tmp_path.iterdir()) == []


def test_the_response_is_closed_on_success_and_on_failure(rs: responses.RequestsMock, tmp_path: Path) -> None:
    _full(rs)
    rs.get(URL, body=DATA[:10], headers={"Content-Length": str(len(DATA))})
    client = _client(retry=None)
    handed: list[requests.Response] = []
    original = client.adapter.request_raw

    def spy(*args: Any, **kwargs: Any) -> requests.Response:
        handed.append(original(*args, **kwargs))
        return handed[-1]

    client.adapter.request_raw = spy  # type: ignore[method-assign]
    client.download("/blob", tmp_path / "a.bin")
    with pytest.raises(myclient.ConnectionLost):
        client.download("/blob", tmp_path / "b.bin")

    def failing(done: int, total: int | None) -> None:
        raise KeyboardInterrupt

    _full(rs)
    with pytest.raises(KeyboardInterrupt):
        client.download("/blob", tmp_path / "c.bin", progress=failing)
    assert len(handed) == 3 and all(r.raw.closed for r in handed)
    assert not (tmp_path / "c.bin").exists()


def test_a_content_coded_body_is_not_length_checked_nor_resumed(rs: responses.RequestsMock, tmp_path: Path) -> None:
    import gzip

    rs.get(URL, body=gzip.compress(DATA), headers={"Content-Encoding": "gzip"})
    progress = Recorder()
    dest = tmp_path / "out.bin"
    _client().download("/blob", dest, progress=progress)
    assert dest.read_bytes() == DATA and progress.calls[0] == (0, None)


def test_the_deadline_covers_the_download(rs: responses.RequestsMock, tmp_path: Path) -> None:
    now = [0.0]

    def clock() -> float:
        now[0] += 3.0
        return now[0]

    with pytest.raises(myclient.DeadlineExceeded, match="within the 2s deadline"):
        _client(clock=clock).download("/blob", tmp_path / "out.bin", deadline=2)
    assert len(rs.calls) == 0


def test_arguments_are_validated(tmp_path: Path) -> None:
    client = _client()
    with pytest.raises(myclient.UsageError, match="is a directory"):
        client.download("/blob", tmp_path)
    with pytest.raises(myclient.UsageError, match="does not exist"):
        client.download("/blob", tmp_path / "missing" / "out.bin")
    with pytest.raises(myclient.UsageError, match="chunk_size"):
        client.download("/blob", tmp_path / "out.bin", chunk_size=0)
    with pytest.raises(myclient.UsageError, match="progress"):
        client.download("/blob", tmp_path / "out.bin", progress="bar")  # type: ignore[arg-type]
    with pytest.raises(myclient.UsageError, match="deadline"):
        client.download("/blob", tmp_path / "out.bin", deadline=-1)
    with pytest.raises(myclient.CrossOriginError):
        client.download("https://elsewhere.example/blob", tmp_path / "out.bin")
    with pytest.raises(myclient.UsageError, match="dest"):
        client.download("/blob", 42)  # type: ignore[arg-type]
