"""Streaming uploads on `responses`, and the ready-made progress callbacks (text bar, tqdm bar)."""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import responses

import myclient
from myclient.progress import MissingDependency, TextProgress, TqdmProgress, tqdm_progress

BASE = "https://up.example"


@pytest.fixture
def rs() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock() as mock:
        yield mock


def _received(request: requests.PreparedRequest) -> bytes:
    """What would go over the wire: the body read the way http.client reads a file body."""
    body: Any = request.body
    if isinstance(body, bytes):
        return body
    out = b""
    while True:
        block = body.read(8192)
        if not block:
            return out
        out += block


def test_a_path_is_streamed_as_the_body_with_a_guessed_type_and_closed(
    rs: responses.RequestsMock, tmp_path: Path
) -> None:
    source = tmp_path / "report.json"
    source.write_bytes(b'{"rows": [1, 2, 3]}' * 1000)
    seen: dict[str, Any] = {}

    def answer(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        seen["body"] = _received(request)
        seen["headers"] = dict(request.headers)
        return 201, {"Content-Type": "application/json"}, '{"stored": true}'

    rs.add_callback(responses.PUT, f"{BASE}/files/report.json", callback=answer)
    progress: list[tuple[int, int | None]] = []
    opened: list[Any] = []
    real_open = Path.open

    def spy_open(self: Path, *args: Any, **kwargs: Any) -> Any:
        opened.append(real_open(self, *args, **kwargs))
        return opened[-1]

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(Path, "open", spy_open)
        result = myclient.Client(BASE).upload("/files/report.json", source,
                                              progress=lambda d, t: progress.append((d, t)))
    assert result == {"stored": True}
    assert seen["body"] == source.read_bytes()  # (responses reads the stream; the wire test is integration)
    assert seen["headers"]["Content-Type"] == "application/json"
    assert seen["headers"]["Content-Length"] == str(source.stat().st_size)
    assert progress[-1] == (19000, 19000)
    assert opened and all(f.closed for f in opened)


def test_a_file_object_is_sent_from_its_position_and_left_open(rs: responses.RequestsMock) -> None:
    rs.post(f"{BASE}/in", json={"ok": 1})
    handle = io.BytesIO(b"HEADERpayload")
    handle.seek(6)
    myclient.Client(BASE).upload("/in", handle, method="POST", content_type="application/x-thing")
    request = rs.calls[0].request
    assert request.headers["Content-Type"] == "application/x-thing"
    assert not handle.closed


def test_a_retried_upload_sends_the_whole_file_again(rs: responses.RequestsMock, tmp_path: Path) -> None:
    source = tmp_path / "data.bin"
    source.write_bytes(bytes(range(256)) * 100)
    bodies: list[bytes] = []

    def answer(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        bodies.append(_received(request))
        return (503 if len(bodies) == 1 else 200), {}, "{}"

    rs.add_callback(responses.PUT, f"{BASE}/d", callback=answer)
    myclient.Client(BASE, sleep=lambda s: None).upload("/d", source, progress=lambda d, t: None)
    assert bodies == [source.read_bytes(), source.read_bytes()]


def test_upload_arguments_are_validated(tmp_path: Path) -> None:
    client = myclient.Client(BASE)
    with pytest.raises(myclient.UsageError, match="PUT, POST or PATCH"):
        client.upload("/x", io.BytesIO(b""), method="GET")
    with pytest.raises(myclient.UsageError, match="is not a file"):
        client.upload("/x", tmp_path / "missing.bin")
    with pytest.raises(myclient.UsageError, match="file path or a binary file object"):
        client.upload("/x", 42)  # type: ignore[arg-type]

    class Pipe(io.RawIOBase):
        def readable(self) -> bool:
            return True

        def seekable(self) -> bool:
            return False

    with pytest.raises(myclient.UsageError, match="seekable"):
        client.upload("/x", Pipe(), progress=lambda d, t: None)  # type: ignore[arg-type]


# -- progress bars -------------------------------------------------------------------------------


def test_text_progress_redraws_per_percent_and_ends_the_line() -> None:
    out = io.StringIO()
    bar = TextProgress("file", stream=out, width=10)
    for done in (0, 5, 10, 15, 500, 1000):
        bar(done, 1000)
    text = out.getvalue()
    assert text.count("\r") == 4  # 0 %, 1 %, 50 %, 100 %: 5 and 15 change nothing visible
    assert text.endswith("[##########] 100% 1000 B / 1000 B\n")
    bar(1000, 1000)
    assert out.getvalue() == text  # closed: nothing more


def test_text_progress_without_a_total_shows_bytes_per_mib() -> None:
    out = io.StringIO()
    with TextProgress(stream=out) as bar:
        for done in (0, 1000, 1 << 20, (1 << 20) + 5, 3 << 20):
            bar(done, None)
    assert out.getvalue() == "\r0 B\r1.0 MiB\r3.0 MiB\n"
    with pytest.raises(myclient.UsageError, match="width"):
        TextProgress(width=0)


def test_tqdm_progress_follows_done_resets_on_restart_and_closes_at_the_end() -> None:
    pytest.importorskip("tqdm")
    out = io.StringIO()
    bar = tqdm_progress(file=out, desc="blob")
    bar(0, 100)
    bar(40, 100)
    assert bar.bar.n == 40 and bar.bar.total == 100
    bar(10, 100)  # the server answered 200 to a resume: starting over
    assert bar.bar.n == 10
    bar(100, 100)
    assert bar.closed and "blob" in out.getvalue()
    resumed = TqdmProgress(file=out)
    resumed(60, None)
    resumed(70, 100)
    assert resumed.bar.n == 70 and resumed.bar.total == 100
    resumed.close()
    resumed.close()


def test_tqdm_progress_without_tqdm_says_how_to_get_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)  # import fails as if not installed
    with pytest.raises(MissingDependency, match="pip install tqdm") as caught:
        tqdm_progress()
    assert isinstance(caught.value, myclient.UsageError) and isinstance(caught.value, ImportError)
