"""Downloads on `responses`: atomic rename, length checks, Range/If-Range resume, restarts, progress, cleanup."""

from __future__ import annotations

import json
import os
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


def _resumable(client: myclient.Client, dest: Path, size: int, total: int | None = len(DATA)) -> None:
    """A partial file left by an earlier call whose first response gave ETAG (so it may be resumed)."""
    _leftover(dest, size, source=_source(client), validator=ETAG, total=total, encoded=False)


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
    client = _client(retry=None)
    _resumable(client, dest, 100)
    rs.get(URL, status=206, body=DATA[100:500],
           headers={"Content-Range": f"bytes 100-{len(DATA) - 1}/{len(DATA)}", "ETag": ETAG})  # no Content-Length
    with pytest.raises(myclient.ConnectionLost, match=f"ended at byte 500 of {len(DATA)}"):
        client.download("/blob", dest)
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


def test_if_range_prefers_a_strong_etag_then_last_modified_else_nothing_is_kept(
    rs: responses.RequestsMock, tmp_path: Path
) -> None:
    stamp = "Wed, 21 Oct 2015 07:28:00 GMT"
    rs.get(URL, body=DATA[:10],
           headers={"Content-Length": str(len(DATA)), "ETag": 'W/"weak"', "Last-Modified": stamp})
    rs.get(URL, body=DATA[:10], headers={"Content-Length": str(len(DATA))})
    client = _client(retry=None)
    with pytest.raises(myclient.ConnectionLost):
        client.download("/blob", tmp_path / "out.bin")
    assert json.loads((tmp_path / ("out.bin" + META_SUFFIX)).read_text())["validator"] == stamp
    with pytest.raises(myclient.ConnectionLost):
        client.download("/blob", tmp_path / "out.bin")
    assert "Range" not in rs.calls[1].request.headers  # the partial file was not resumed: new download
    assert not (tmp_path / ("out.bin" + META_SUFFIX)).exists()  # and nothing would let it be resumed


def test_a_partial_file_without_a_validator_starts_over_from_byte_zero(
    rs: responses.RequestsMock, tmp_path: Path
) -> None:
    changed = DATA[::-1]
    dest = tmp_path / "out.bin"
    _leftover(dest, 5000)  # a partial file nobody knows anything about (no sidecar)
    _full(rs, changed)
    _client().download("/blob", dest)
    assert dest.read_bytes() == changed  # not DATA[:5000] + changed[5000:]
    assert "Range" not in rs.calls[0].request.headers


def test_a_body_without_a_validator_that_breaks_off_starts_over_within_the_call(
    rs: responses.RequestsMock, tmp_path: Path
) -> None:
    rs.get(URL, body=DATA[:3000], headers={"Content-Length": str(len(DATA))})
    rs.get(URL, body=DATA, headers={"Content-Length": str(len(DATA))})
    dest = tmp_path / "out.bin"
    _client().download("/blob", dest)
    assert dest.read_bytes() == DATA
    assert "Range" not in rs.calls[1].request.headers


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
    client = _client()
    _resumable(client, dest, 4000)
    _partial(rs, 3000)
    with pytest.raises(myclient.InvalidResponse, match="holds bytes 3000-10239/10240, not bytes 4000-"):
        client.download("/blob", dest)
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
    client = _client()
    _resumable(client, dest, 1000)
    rs.get(URL, status=206, body=DATA[1000:6000],
           headers={"Content-Range": f"bytes 1000-5999/{len(DATA)}", "Content-Length": "5000", "ETag": ETAG})
    _partial(rs, 6000)
    client.download("/blob", dest)
    assert dest.read_bytes() == DATA
    assert [c.request.headers["Range"] for c in rs.calls] == ["bytes=1000-", "bytes=6000-"]


def test_416_means_the_partial_file_was_already_complete(rs: responses.RequestsMock, tmp_path: Path) -> None:
    dest = tmp_path / "out.bin"
    client = _client()
    _resumable(client, dest, len(DATA))
    rs.get(URL, status=416, headers={"Content-Range": f"bytes */{len(DATA)}"})
    assert client.download("/blob", dest).read_bytes() == DATA
    assert _leftovers(tmp_path) == []


def test_416_for_a_bigger_partial_file_starts_over(rs: responses.RequestsMock, tmp_path: Path) -> None:
    dest = tmp_path / "out.bin"
    client = _client()
    _resumable(client, dest, 5000, total=None)
    rs.get(URL, status=416, headers={"Content-Range": "bytes */3000"})
    _full(rs, DATA[:3000])
    assert client.download("/blob", dest).read_bytes() == DATA[:3000]


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


# -- a server that serves ranges, to drive resumes ---------------------------------------------------


class RangeServer:
    """A file on `responses` answering Range requests like a static server, with knobs to misbehave.

    ``etag`` None sends no validator; ``cap`` limits the bytes per 206; ``star`` sends ``/*`` for
    the total; ``break_at`` cuts the bodies of the first responses short (one entry per response);
    ``ignore_if_range`` answers 206 even when If-Range no longer matches; ``unsolicited`` answers a
    plain GET with a 206 too. Assign ``data`` (and ``etag``) to change the file.
    """

    def __init__(self, rs: responses.RequestsMock, data: bytes = DATA, etag: str | None = ETAG, *,
                 cap: int | None = None, star: bool = False, break_at: tuple[int, ...] = (),
                 ignore_if_range: bool = False, unsolicited: bool = False) -> None:
        self.data, self.etag, self.cap, self.star = data, etag, cap, star
        self.breaks = list(break_at)
        self.ignore_if_range, self.unsolicited = ignore_if_range, unsolicited
        self.ranges: list[str | None] = []
        rs.add_callback(responses.GET, URL, self.answer)

    def answer(self, request: requests.PreparedRequest) -> tuple[int, dict[str, str], bytes]:
        asked = request.headers.get("Range")
        self.ranges.append(asked)
        headers = {"ETag": self.etag} if self.etag else {}
        if_range = request.headers.get("If-Range")
        start = int(asked[len("bytes="):-1]) if asked else 0
        if (asked and (if_range in (None, self.etag) or self.ignore_if_range)) or self.unsolicited:
            if start >= len(self.data):
                return 416, {"Content-Range": f"bytes */{len(self.data)}"}, b""
            end = len(self.data) - 1 if self.cap is None else min(len(self.data), start + self.cap) - 1
            status, body = 206, self.data[start:end + 1]
            headers["Content-Range"] = f"bytes {start}-{end}/{'*' if self.star else len(self.data)}"
        else:
            status, body = 200, self.data
        headers["Content-Length"] = str(len(body))
        if self.breaks:
            body = body[:self.breaks.pop(0)]
        return status, headers, body


def test_a_206_without_a_validator_after_if_range_is_not_appended_to_a_changed_file(
    rs: responses.RequestsMock, tmp_path: Path
) -> None:
    client = _client()
    dest = tmp_path / "out.bin"
    _resumable(client, dest, 4000)  # DATA[:4000], ETAG
    changed = bytes(reversed(DATA))
    server = RangeServer(rs, changed, etag=None, ignore_if_range=True)  # changed, and the ETag is gone
    client.download("/blob", dest)
    assert dest.read_bytes() == changed
    assert server.ranges == ["bytes=4000-", None]  # the 206 was refused, then the whole file fetched


def test_a_partial_file_without_a_validator_is_not_continued_with_another_file(
    rs: responses.RequestsMock, tmp_path: Path
) -> None:
    dest = tmp_path / "out.bin"
    _leftover(dest, 5000)  # DATA[:5000], nothing known about it
    changed = bytes(reversed(DATA))
    server = RangeServer(rs, changed, etag=None)
    _client().download("/blob", dest)
    assert dest.read_bytes() == changed
    assert server.ranges == [None]


def test_a_body_without_a_validator_that_breaks_off_is_not_continued_with_another_file(
    rs: responses.RequestsMock, tmp_path: Path
) -> None:
    server = RangeServer(rs, DATA, etag=None, break_at=(3000,))
    changed = bytes(reversed(DATA))

    def change(done: int, total: int | None) -> None:
        if done == 3000:
            server.data = changed  # the file changes while the first body is on its way

    dest = tmp_path / "out.bin"
    _client().download("/blob", dest, chunk_size=1000, progress=change)
    assert dest.read_bytes() == changed
    assert server.ranges == [None, None]


def test_an_unsolicited_206_of_unknown_total_without_a_validator_is_refused(
    rs: responses.RequestsMock, tmp_path: Path
) -> None:
    RangeServer(rs, DATA, etag=None, cap=10, star=True, unsolicited=True)  # "206 bytes 0-9/*" to a plain GET
    dest = tmp_path / "out.bin"
    with pytest.raises(myclient.InvalidResponse, match=r"bytes 0-9/\* without an ETag or Last-Modified"):
        _client().download("/blob", dest)
    assert list(tmp_path.iterdir()) == []


def test_an_unsolicited_206_of_unknown_total_is_followed_up_to_the_end(
    rs: responses.RequestsMock, tmp_path: Path
) -> None:
    rs.get(URL, status=206, body=DATA[:10],
           headers={"Content-Range": "bytes 0-9/*", "Content-Length": "10", "ETag": ETAG})
    server = RangeServer(rs, DATA, star=True)  # never says the total: only a 416 ends the download
    dest = tmp_path / "out.bin"
    _client().download("/blob", dest)
    assert dest.read_bytes() == DATA  # not a 10-byte "success"
    assert server.ranges == ["bytes=10-", f"bytes={len(DATA)}-"]


def test_a_range_of_unknown_total_is_followed_up_until_the_first_content_length(
    rs: responses.RequestsMock, tmp_path: Path
) -> None:
    server = RangeServer(rs, DATA, cap=4000, star=True, break_at=(5,))  # 200 of 10240 bytes breaks at 5
    dest = tmp_path / "out.bin"
    _client().download("/blob", dest, chunk_size=1)
    assert dest.read_bytes() == DATA
    assert server.ranges == [None, "bytes=5-", "bytes=4005-", "bytes=8005-"]  # done at 10240: no 416 asked


def test_one_byte_ranges_do_not_drive_one_request_per_byte(rs: responses.RequestsMock, tmp_path: Path) -> None:
    client = _client()
    dest = tmp_path / "out.bin"
    _resumable(client, dest, 10, total=2000)
    server = RangeServer(rs, DATA[:2000], cap=1)
    with pytest.raises(myclient.InvalidResponse, match="pieces too small to finish: 8 requests brought 8 bytes"):
        client.download("/blob", dest)
    assert len(server.ranges) == 8
    assert not dest.exists()
    assert (tmp_path / ("out.bin" + PART_SUFFIX)).read_bytes() == DATA[:18]  # kept, and correct


def test_a_body_that_keeps_breaking_off_is_bounded_by_progress(rs: responses.RequestsMock, tmp_path: Path) -> None:
    server = RangeServer(rs, DATA, break_at=(10,) * 100)
    client = _client(retry=myclient.RetryPolicy(attempts=100))
    with pytest.raises(myclient.ConnectionLost, match="keeps breaking off: 8 requests brought 80 bytes"):
        client.download("/blob", tmp_path / "out.bin", chunk_size=1)
    assert len(server.ranges) == 8


def test_ranges_of_a_sane_size_are_followed_as_long_as_needed(rs: responses.RequestsMock, tmp_path: Path) -> None:
    data = DATA * 100  # 1 000 KiB in 64 KiB ranges from byte 1: 16 requests
    server = RangeServer(rs, data, cap=64 * 1024)
    client = _client()
    dest = tmp_path / "out.bin"
    _resumable(client, dest, 1, total=len(data))
    (tmp_path / ("out.bin" + PART_SUFFIX)).write_bytes(data[:1])
    client.download("/blob", dest)
    assert dest.read_bytes() == data and len(server.ranges) == 16


# -- hostile numbers --------------------------------------------------------------------------------


@pytest.mark.parametrize("length", ["²³¹", "9" * 5000, "-1", "1e4", " "])
def test_a_content_length_that_is_not_ascii_digits_is_ignored(
    rs: responses.RequestsMock, tmp_path: Path, length: str
) -> None:
    rs.get(URL, body=DATA, headers={"Content-Length": length, "ETag": ETAG})
    progress = Recorder()
    dest = tmp_path / "out.bin"
    _client().download("/blob", dest, progress=progress)
    assert dest.read_bytes() == DATA and progress.calls[0] == (0, None)


@pytest.mark.parametrize("content_range", [
    "bytes ١٠٠-١٠٢٣٩/١٠٢٤٠",  # Arabic-Indic digits: int() reads them, HTTP does not
    "bytes 100-" + "9" * 5000 + "/10240",
    "bytes 100-10239/" + "9" * 5000,
    "bytes ¹⁰⁰-10239/10240",
])
def test_a_content_range_that_is_not_ascii_digits_is_invalid_response(
    rs: responses.RequestsMock, tmp_path: Path, content_range: str
) -> None:
    client = _client()
    dest = tmp_path / "out.bin"
    _resumable(client, dest, 100)
    rs.get(URL, status=206, body=DATA[100:], headers={"Content-Range": content_range, "ETag": ETAG})
    with pytest.raises(myclient.InvalidResponse, match="without a valid Content-Range"):
        client.download("/blob", dest)
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize("content_range", ["bytes */" + "9" * 5000, "bytes */١٠٢٤٠", "bytes */¹"])
def test_a_416_size_that_is_not_ascii_digits_starts_over(
    rs: responses.RequestsMock, tmp_path: Path, content_range: str
) -> None:
    client = _client()
    dest = tmp_path / "out.bin"
    _resumable(client, dest, len(DATA))
    rs.get(URL, status=416, headers={"Content-Range": content_range})
    _full(rs)
    assert client.download("/blob", dest).read_bytes() == DATA
    assert "Range" not in rs.calls[1].request.headers


def test_a_206_whose_content_length_contradicts_its_range_is_refused(
    rs: responses.RequestsMock, tmp_path: Path
) -> None:
    rs.get(URL, status=206, body=DATA[:10],
           headers={"Content-Range": "bytes 0-9/*", "Content-Length": str(len(DATA)), "ETag": ETAG})
    with pytest.raises(myclient.InvalidResponse, match=r"bytes 0-9/\* in a 10240-byte body"):
        _client().download("/blob", tmp_path / "out.bin")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("status", [203, 204, 300, 304])
def test_statuses_other_than_2xx_are_not_a_download(
    rs: responses.RequestsMock, tmp_path: Path, status: int
) -> None:
    rs.get(URL, status=status, body=b"" if status in (204, 304) else DATA)
    dest = tmp_path / "out.bin"
    if status < 300:
        assert _client().download("/blob", dest).read_bytes() == (b"" if status == 204 else DATA)
        return
    with pytest.raises(myclient.InvalidResponse, match=f"{status} response to GET .*: not a download"):
        _client().download("/blob", dest)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("meta", [
    "[" * 100_000,                                              # nested too deeply
    '{"source": "S", "validator": "\\"v1\\"\\r\\nX: y", "total": 10240, "encoded": false}',  # header injection
    '{"source": "S", "validator": "\\"v1-abc\\"", "total": "10240", "encoded": false}',
    '{"source": "S", "validator": "\\"v1-abc\\"", "total": 1e400, "encoded": false}',
    '{"source": "S", "validator": "\\"v1-abc\\"", "total": 10240}',
    "x" * 100_000,
])
def test_a_sidecar_that_cannot_be_trusted_means_starting_over(
    rs: responses.RequestsMock, tmp_path: Path, meta: str
) -> None:
    client = _client()
    dest = tmp_path / "out.bin"
    _leftover(dest, 4000)
    (tmp_path / ("out.bin" + META_SUFFIX)).write_text(meta.replace('"S"', json.dumps(_source(client))))
    _full(rs)
    assert client.download("/blob", dest).read_bytes() == DATA
    assert "Range" not in rs.calls[0].request.headers and "If-Range" not in rs.calls[0].request.headers


def test_range_headers_are_download_s_own(tmp_path: Path) -> None:
    with pytest.raises(myclient.UsageError, match="must not set Range"):
        _client().download("/blob", tmp_path / "out.bin", headers={"Range": "bytes=0-9"})
    with pytest.raises(myclient.UsageError, match="NUL"):
        _client().download("/blob", str(tmp_path / "out\x00.bin"))
    with pytest.raises(myclient.UsageError, match="home directory"):
        _client().download("/blob", "~no-such-user-here/out.bin")


# -- files planted at the download's names ------------------------------------------------------------


@pytest.fixture
def victim(tmp_path: Path) -> Path:
    """A file elsewhere that an attacker wants the download to overwrite."""
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    target = outside / "precious.txt"
    target.write_bytes(b"precious\n")
    return target


def _downloads(tmp_path: Path) -> Path:
    folder = tmp_path / "downloads"
    folder.mkdir()
    return folder


@pytest.mark.parametrize("planted", [PART_SUFFIX, META_SUFFIX])
def test_a_symlink_planted_at_a_download_file_is_refused_and_never_written_through(
    rs: responses.RequestsMock, tmp_path: Path, victim: Path, planted: str
) -> None:
    folder = _downloads(tmp_path)
    (folder / ("out.bin" + planted)).symlink_to(victim)
    _full(rs)
    rs.assert_all_requests_are_fired = False
    with pytest.raises(myclient.UsageError, match="is a symbolic link"):
        _client().download("/blob", folder / "out.bin")
    assert victim.read_bytes() == b"precious\n"
    assert not (folder / "out.bin").exists() and len(rs.calls) == 0


def test_a_symlink_to_a_missing_file_is_refused_too(rs: responses.RequestsMock, tmp_path: Path) -> None:
    folder = _downloads(tmp_path)
    (folder / ("out.bin" + PART_SUFFIX)).symlink_to(tmp_path / "would-be-created")
    rs.assert_all_requests_are_fired = False
    with pytest.raises(myclient.UsageError, match="is a symbolic link"):
        _client().download("/blob", folder / "out.bin")
    assert not (tmp_path / "would-be-created").exists()


def test_a_hard_link_planted_at_the_partial_file_is_refused(
    rs: responses.RequestsMock, tmp_path: Path, victim: Path
) -> None:
    folder = _downloads(tmp_path)
    os.link(victim, folder / ("out.bin" + PART_SUFFIX))
    rs.assert_all_requests_are_fired = False
    with pytest.raises(myclient.UsageError, match="other hard links"):
        _client().download("/blob", folder / "out.bin")
    assert victim.read_bytes() == b"precious\n"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_planted_at_the_partial_file_is_refused_without_blocking(
    rs: responses.RequestsMock, tmp_path: Path
) -> None:
    folder = _downloads(tmp_path)
    os.mkfifo(folder / ("out.bin" + PART_SUFFIX))
    rs.assert_all_requests_are_fired = False
    with pytest.raises(myclient.UsageError, match="not a regular file"):
        _client().download("/blob", folder / "out.bin")


@pytest.mark.parametrize("planted", [PART_SUFFIX, META_SUFFIX, META_SUFFIX + ".tmp"])
def test_a_directory_planted_at_a_download_file_is_a_usage_error(
    rs: responses.RequestsMock, tmp_path: Path, planted: str
) -> None:
    folder = _downloads(tmp_path)
    (folder / ("out.bin" + planted)).mkdir()
    _full(rs)
    rs.assert_all_requests_are_fired = False
    with pytest.raises(myclient.UsageError, match=r"not a regular file|cannot remove"):
        _client().download("/blob", folder / "out.bin")
    assert not (folder / "out.bin").exists()


def test_a_symlink_planted_at_the_sidecar_scratch_file_is_replaced_not_written_through(
    rs: responses.RequestsMock, tmp_path: Path, victim: Path
) -> None:
    folder = _downloads(tmp_path)
    (folder / ("out.bin" + META_SUFFIX + ".tmp")).symlink_to(victim)
    _full(rs)
    assert _client().download("/blob", folder / "out.bin").read_bytes() == DATA
    assert victim.read_bytes() == b"precious\n"


@pytest.mark.parametrize("swapped_for", ["symlink", "file"])
def test_a_partial_file_swapped_before_the_rename_is_not_moved_into_place(
    rs: responses.RequestsMock, tmp_path: Path, victim: Path, swapped_for: str
) -> None:
    folder = _downloads(tmp_path)
    part = folder / ("out.bin" + PART_SUFFIX)

    def swap(done: int, total: int | None) -> None:
        if done == total:  # the last chunk is written: swap the file before it is renamed
            part.unlink()
            if swapped_for == "symlink":
                part.symlink_to(victim)
            else:
                part.write_bytes(b"planted content")

    _full(rs)
    message = "is a symbolic link" if swapped_for == "symlink" else "replaced or removed during the download"
    with pytest.raises(myclient.UsageError, match=message):
        _client().download("/blob", folder / "out.bin", progress=swap)
    assert not (folder / "out.bin").exists() and victim.read_bytes() == b"precious\n"


def test_a_symlink_at_the_destination_is_replaced_not_written_through(
    rs: responses.RequestsMock, tmp_path: Path, victim: Path
) -> None:
    folder = _downloads(tmp_path)
    (folder / "out.bin").symlink_to(victim)
    _full(rs)
    _client().download("/blob", folder / "out.bin")
    assert not (folder / "out.bin").is_symlink() and (folder / "out.bin").read_bytes() == DATA
    assert victim.read_bytes() == b"precious\n"


def test_a_body_running_past_its_range_is_refused_before_it_is_written(
    rs: responses.RequestsMock, tmp_path: Path
) -> None:
    client = _client()
    dest = tmp_path / "out.bin"
    _resumable(client, dest, 100)
    rs.get(URL, status=206, body=DATA[100:],  # says 100 bytes, sends 10 140 (no Content-Length to stop it)
           headers={"Content-Range": f"bytes 100-199/{len(DATA)}", "ETag": ETAG}, auto_calculate_content_length=False)
    progress = Recorder()
    with pytest.raises(myclient.InvalidResponse, match="runs past the announced 200 bytes"):
        client.download("/blob", dest, chunk_size=10, progress=progress)
    assert max(done for done, _ in progress.calls) <= 200
    assert _leftovers(tmp_path) == []
