"""Downloads and pagination against a hostile server on a raw loopback socket: the exact bytes a real
server could send (Latin-1 superscript digits in Content-Length and X-Total-Count, 5000-digit numbers,
partial content of unknown length, one-byte ranges). Only MyClientError subclasses may come out, and
a destination is complete and correct or absent."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import myclient
from myclient import Offset
from myclient.downloads import PART_SUFFIX

DATA = bytes(range(256)) * 20  # 5120 bytes
ETAG = b'"hostile-1"'

#: (request target, request headers with lower-case names) -> the raw response bytes.
Answer = Callable[[str, dict[str, str]], bytes]


class RawServer:
    """One listening socket on 127.0.0.1: each connection gets one request answered by ``answer``, then closed."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.requests: list[tuple[str, dict[str, str]]] = []
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._sock.settimeout(0.05)  # accept() wakes up to notice close()
        self._stop = threading.Event()
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        self._thread = threading.Thread(target=self._serve, name="raw-server", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:
                conn.settimeout(10)
                head = b""
                while b"\r\n\r\n" not in head:
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    head += chunk
                line, *fields = head.split(b"\r\n\r\n")[0].decode("latin-1").split("\r\n")
                headers = {name.strip().lower(): value.strip()
                           for name, _, value in (field.partition(":") for field in fields)}
                target = line.split(" ")[1] if " " in line else "/"
                self.requests.append((target, headers))
                try:
                    conn.sendall(self.answer(target, headers))
                    conn.shutdown(socket.SHUT_WR)
                except OSError:
                    pass

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self._sock.close()


@pytest.fixture
def serve() -> Iterator[Callable[[Answer], RawServer]]:
    started: list[RawServer] = []

    def start(answer: Answer) -> RawServer:
        started.append(RawServer(answer))
        return started[-1]

    yield start
    for server in started:
        server.close()


def _response(status: bytes, body: bytes = b"", *headers: bytes) -> bytes:
    head = b"".join(h + b"\r\n" for h in (b"HTTP/1.1 " + status, *headers, b"Connection: close"))
    return head + b"\r\n" + body


# -- downloads ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("length", [b"\xb2\xb3\xb9", b"9" * 5000], ids=["superscripts", "5000 digits"])
def test_a_content_length_that_is_not_ascii_digits_means_an_unknown_length(
    serve: Callable[[Answer], RawServer], tmp_path: Path, length: bytes
) -> None:
    server = serve(lambda target, headers: _response(b"200 OK", DATA, b"Content-Length: " + length))
    totals: set[int | None] = set()
    got = myclient.Client(server.url).download("/f", tmp_path / "f.bin", progress=lambda d, t: totals.add(t))
    assert got.read_bytes() == DATA and totals == {None}  # read to the end of the connection


def test_a_content_length_with_two_values_is_a_myclient_error_and_nothing_lands(
    serve: Callable[[Answer], RawServer], tmp_path: Path
) -> None:
    server = serve(lambda target, headers: _response(b"200 OK", DATA, b"Content-Length: 1,2"))
    with pytest.raises(myclient.MyClientError):
        myclient.Client(server.url, retry=None).download("/f", tmp_path / "f.bin")
    assert not (tmp_path / "f.bin").exists()


def test_an_unsolicited_206_of_unknown_length_is_not_a_complete_download(
    serve: Callable[[Answer], RawServer], tmp_path: Path
) -> None:
    server = serve(lambda target, headers: _response(b"206 Partial Content", DATA[:10], b"Content-Length: 10",
                                                     b"Content-Range: bytes 0-9/*"))
    with pytest.raises(myclient.InvalidResponse, match=r"bytes 0-9/\* without an ETag or Last-Modified"):
        myclient.Client(server.url).download("/f", tmp_path / "f.bin")
    assert list(tmp_path.iterdir()) == [] and len(server.requests) == 1


def test_one_byte_ranges_stop_after_a_bounded_number_of_requests(
    serve: Callable[[Answer], RawServer], tmp_path: Path
) -> None:
    def answer(target: str, headers: dict[str, str]) -> bytes:
        asked = headers.get("range")
        if asked is None:  # the whole file... cut after 3 bytes
            return _response(b"200 OK", DATA[:3], b"Content-Length: %d" % len(DATA), b"ETag: " + ETAG)
        start = int(asked[len("bytes="):-1])
        return _response(b"206 Partial Content", DATA[start:start + 1], b"Content-Length: 1", b"ETag: " + ETAG,
                         b"Content-Range: bytes %d-%d/%d" % (start, start, len(DATA)))

    server = serve(answer)
    client = myclient.Client(server.url, retry=myclient.RetryPolicy(attempts=3, backoff=0.001))
    with pytest.raises(myclient.InvalidResponse, match="pieces too small to finish: 8 requests brought 10 bytes"):
        client.download("/f", tmp_path / "f.bin", chunk_size=1)
    assert len(server.requests) == 8  # not one per byte of the 5120
    assert server.requests[1][1]["if-range"] == ETAG.decode()
    assert not (tmp_path / "f.bin").exists()
    assert (tmp_path / ("f.bin" + PART_SUFFIX)).read_bytes() == DATA[:10]


def test_a_206_without_a_validator_to_an_if_range_starts_over(
    serve: Callable[[Answer], RawServer], tmp_path: Path
) -> None:
    changed = DATA[::-1]
    state = {"data": DATA, "etag": ETAG}

    def answer(target: str, headers: dict[str, str]) -> bytes:
        data = state["data"]
        asked = headers.get("range")
        if asked is None:
            cut = data[:1000] if data == DATA else data  # the first body breaks off; the file then changes
            extra = [b"ETag: " + ETAG] if data == DATA else []
            state["data"] = changed
            return _response(b"200 OK", cut, b"Content-Length: %d" % len(data), *extra)
        start = int(asked[len("bytes="):-1])  # If-Range ignored, and no ETag any more
        return _response(b"206 Partial Content", data[start:], b"Content-Length: %d" % (len(data) - start),
                         b"Content-Range: bytes %d-%d/%d" % (start, len(data) - 1, len(data)))

    server = serve(answer)
    client = myclient.Client(server.url, retry=myclient.RetryPolicy(attempts=3, backoff=0.001))
    got = client.download("/f", tmp_path / "f.bin", chunk_size=100)
    assert got.read_bytes() == changed  # not DATA[:1000] + changed[1000:]
    assert [headers.get("range") for _, headers in server.requests] == [None, "bytes=1000-", None]


# -- pagination -------------------------------------------------------------------------------------


@pytest.mark.parametrize("count", [b"\xb2\xb3\xb9", b"9" * 5000], ids=["superscripts", "5000 digits"])
def test_an_x_total_count_that_is_not_ascii_digits_is_ignored(
    serve: Callable[[Answer], RawServer], count: bytes
) -> None:
    server = serve(lambda target, headers: _response(b"200 OK", b"[1, 2]", b"Content-Type: application/json",
                                                     b"Content-Length: 6", b"X-Total-Count: " + count))
    pages = list(myclient.Client(server.url).paginate("/p", strategy=Offset(limit=5)).pages())
    assert [(page.items, page.total) for page in pages] == [([1, 2], None)]


def test_a_next_link_with_an_unparsable_host_is_invalid_response(serve: Callable[[Answer], RawServer]) -> None:
    server = serve(lambda target, headers: _response(b"200 OK", b"[1]", b"Content-Type: application/json",
                                                     b"Content-Length: 3", b'Link: <http://[::1>; rel="next"'))
    with pytest.raises(myclient.InvalidResponse, match="the next link"):
        list(myclient.Client(server.url).paginate("/p"))
    assert len(server.requests) == 1
