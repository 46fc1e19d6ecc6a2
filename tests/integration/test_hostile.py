"""Hostile servers on raw loopback sockets: malformed, trickling, cut and misleading answers.

The contract each test pins: only MyClientError subclasses escape, no call outlives its deadline by
more than 0.5 s, a POST without an idempotency key reaches the server at most once, and no secret
appears in a message or traceback.
"""

from __future__ import annotations

import gzip
import logging
import pickle
import resource
import socket
import struct
import threading
import time
import traceback
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from servers.hostile import HostileServer, Seen, hostile, read_request, respond, trickle

import myclient

QUICK = myclient.RetryPolicy(attempts=3, backoff=0.0, backoff_cap=0.0)


def _client(url: str, **settings: Any) -> myclient.Client:
    session = requests.Session()
    session.trust_env = False
    settings.setdefault("retry", QUICK)
    settings.setdefault("timeout", (2.0, 5.0))
    return myclient.Client(url, session=session, **settings)


def _reset(conn: socket.socket) -> None:
    """Close with an RST (SO_LINGER 0), as a crashed or hostile peer does."""
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()


# -- 10.1: an authority the parsers read differently never carries credentials -------------------------


def test_backslash_authority_is_refused_and_nothing_reaches_either_server() -> None:
    def ok(conn: socket.socket, seen: Seen) -> None:
        if read_request(conn, seen):
            respond(conn)

    with hostile(ok) as api, hostile(ok) as evil:
        client = _client(api.url, token="bearer-secret-0123456789", headers={"X-Gateway-Key": "gw-secret-42"})
        trick = f"http://localhost:{evil.port}\\@127.0.0.1:{api.port}/x"
        with pytest.raises(myclient.CrossOriginError):
            client.adapter.get(trick)
        assert evil.seen.connections == 0 and api.seen.connections == 0


def test_redirect_and_link_to_a_backslash_authority_never_send_credentials() -> None:
    def evil_script(conn: socket.socket, seen: Seen) -> None:
        if read_request(conn, seen):
            respond(conn, body=b"[]")

    with hostile(evil_script) as evil:
        def api_script(conn: socket.socket, seen: Seen) -> None:
            while True:
                head = read_request(conn, seen)
                if head is None:
                    return
                path = head.split(b" ")[1]
                trick = f"http://localhost:{evil.port}\\@127.0.0.1:{api.port}/next"
                if path == b"/redirect":
                    respond(conn, "302 Found", b"", {"Location": trick})
                else:
                    respond(conn, body=b"[1]", headers={"Link": f'<{trick}>; rel="next"'})

        with hostile(api_script) as api:
            client = _client(api.url, token="bearer-secret-0123456789", headers={"X-Gateway-Key": "gw-secret-42"})
            with pytest.raises(myclient.MyClientError):
                client.adapter.get("/redirect")
            with pytest.raises((myclient.CrossOriginError, myclient.InvalidResponse)):
                list(client.paginate("/list"))
            tampered = {"v": 1, "strategy": "link", "path": "/list", "skip": 0, "page": 2, "items": 1,
                        "request": {"url": f"http://localhost:{evil.port}\\@127.0.0.1:{api.port}/x", "params": None}}
            with pytest.raises(myclient.CrossOriginError):
                client.paginate("/list", resume=tampered)
        for head in evil.seen.heads:
            assert b"bearer-secret" not in head and b"gw-secret" not in head


# -- 10.2: a malformed answer means the request was sent --------------------------------------------------


MALFORMED = {
    "status line over 64 KiB": b"HTTP/1.1 200 " + b"x" * 70000 + b"\r\n\r\n",
    "header line over 64 KiB": b"HTTP/1.1 200 OK\r\nX-Big: " + b"y" * 70000 + b"\r\n\r\n",
    "more than 100 headers": b"HTTP/1.1 200 OK\r\n" + b"".join(b"X-%d: 1\r\n" % i for i in range(150)) + b"\r\n",
    "HTTP/2.0 status line": b"HTTP/2.0 200 OK\r\nContent-Length: 2\r\n\r\n{}",
    "garbage status line": b"NOT HTTP AT ALL\r\n\r\n",
}


@pytest.mark.parametrize("answer", list(MALFORMED), ids=list(MALFORMED))
def test_unkeyed_post_with_a_malformed_answer_is_sent_once(answer: str) -> None:
    def script(conn: socket.socket, seen: Seen) -> None:
        if read_request(conn, seen):
            conn.sendall(MALFORMED[answer])

    with hostile(script) as server:
        with pytest.raises(myclient.ConnectionLost) as info:
            _client(server.url).adapter.post("/orders", json={"amount": 5})
        assert server.seen.count("POST") == 1
        assert not info.value.before_response
        with pytest.raises(myclient.ConnectionLost):
            _client(server.url).adapter.get("/orders")
        assert server.seen.count("GET") == 3  # a GET may be repeated


# -- 10.3 / 10.12 / 10.14: the deadline covers every phase --------------------------------------------


def _trickling(prefix: bytes, every: float = 0.1) -> Any:
    def script(conn: socket.socket, seen: Seen) -> None:
        if read_request(conn, seen):
            trickle(conn, prefix + b"x" * 1000, every)

    return script


@pytest.mark.parametrize("prefix", [b"", b"HTTP/1.1 200 OK\r\nX-Slow: "], ids=["status line", "header line"])
def test_deadline_cuts_a_server_trickling_its_status_or_headers(prefix: bytes) -> None:
    with hostile(_trickling(prefix)) as server:
        started = time.monotonic()
        with pytest.raises(myclient.DeadlineExceeded):
            _client(server.url).adapter.get("/slow", deadline=1)
        assert time.monotonic() - started < 1.5


def test_deadline_is_checked_between_redirect_hops() -> None:
    def script(conn: socket.socket, seen: Seen) -> None:
        while True:
            head = read_request(conn, seen)
            if head is None:
                return
            hop = int(head.split(b" ")[1].rsplit(b"/", 1)[1])
            time.sleep(0.4)
            respond(conn, "302 Found", b"", {"Location": f"/hop/{hop + 1}"})

    with hostile(script) as server:
        started = time.monotonic()
        with pytest.raises(myclient.DeadlineExceeded):
            _client(server.url, max_redirects=9).adapter.get("/hop/0", deadline=1)
        assert time.monotonic() - started < 1.5
        assert server.seen.count() <= 4


def test_deadline_bounds_an_upload_to_a_slow_reader() -> None:
    stop = threading.Event()

    def script(conn: socket.socket, seen: Seen) -> None:
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        while not stop.is_set():
            if not conn.recv(16):
                return
            time.sleep(0.05)

    with hostile(script) as server:
        started = time.monotonic()
        with pytest.raises(myclient.DeadlineExceeded):
            _client(server.url).adapter.put("/upload", data=b"z" * (8 << 20), deadline=1)
        stop.set()
        assert time.monotonic() - started < 1.5


# -- 10.4: tracebacks and logs never show a query secret ----------------------------------------------------


def test_transport_error_traceback_hides_query_secrets(caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = _client(f"http://127.0.0.1:{port}", retry=None)
    secret = "qs-secret-7d1e0c55a9"
    with pytest.raises(myclient.ConnectError) as info:
        client.adapter.get("/x", params={"api_key": secret, "page": 1})
    text = "".join(traceback.format_exception(info.value))
    assert secret not in text and secret not in repr(info.value) and secret not in info.value.cause
    logger = logging.getLogger("test.hostile")
    with caplog.at_level(logging.ERROR):
        try:
            raise info.value
        except myclient.MyClientError:
            logger.exception("call failed")
    assert secret not in caplog.text
    assert "ConnectionRefusedError" in info.value.cause


# -- 10.5 / 10.7 / 10.11 / 10.32: hostile bodies ------------------------------------------------------------


def _answer(status: str, body: bytes, headers: dict[str, str], content_type: str = "application/json") -> Any:
    def script(conn: socket.socket, seen: Seen) -> None:
        while read_request(conn, seen):
            respond(conn, status, body, headers, content_type=content_type)

    return script


def test_error_body_with_an_unknown_charset_is_decoded_leniently() -> None:
    body = "<p>erreur: donnée invalide</p>".encode()
    with hostile(_answer("500 Internal Server Error", body, {}, "text/html; charset=utf8mb4")) as server:
        with pytest.raises(myclient.InternalServerError) as info:
            _client(server.url, retry=None).adapter.get("/x")
    assert "donnée invalide" in info.value.body


def test_deeply_nested_json_is_an_invalid_response_not_a_recursion_error() -> None:
    deep = b"[" * 200_000 + b"]" * 200_000
    with hostile(_answer("200 OK", deep, {})) as server:
        with pytest.raises(myclient.InvalidResponse):
            _client(server.url).adapter.get("/deep")
    nested_error = b'{"error": ' + b'{"a": ' * 500 + b"1" + b"}" * 500 + b"}"
    with hostile(_answer("400 Bad Request", nested_error, {})) as server:
        with pytest.raises(myclient.BadRequest):
            _client(server.url).adapter.get("/deep")


def test_latin1_body_labelled_json_is_invalid_not_mangled() -> None:
    with hostile(_answer("200 OK", '{"name": "Zoë"}'.encode("latin-1"), {})) as server:
        with pytest.raises(myclient.InvalidResponse, match="UTF-8"):
            _client(server.url).adapter.get("/x")


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def test_gzip_bomb_and_huge_error_body_stay_bounded() -> None:
    bomb = gzip.compress(b"0" * (64 << 20), 9)
    assert len(bomb) < 200_000
    with hostile(_answer("200 OK", bomb, {"Content-Encoding": "gzip"})) as server:
        before = _rss_mib()
        with pytest.raises(myclient.InvalidResponse, match="max_body_size"):
            _client(server.url, max_body_size=1 << 20).adapter.get("/bomb")
        assert _rss_mib() - before < 24
    def huge(conn: socket.socket, seen: Seen) -> None:  # 128 MiB, streamed: the test holds none of it
        if read_request(conn, seen):
            conn.sendall(b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain\r\n"
                         b"Content-Length: %d\r\n\r\n" % (128 << 20))
            chunk = b"e" * (1 << 20)
            for _ in range(128):
                conn.sendall(chunk)

    with hostile(huge) as server:
        before = _rss_mib()
        with pytest.raises(myclient.InternalServerError) as info:
            _client(server.url, retry=None).adapter.get("/huge")
        assert _rss_mib() - before < 24
    assert len(info.value.body) == 2048


# -- 10.9 / 10.10: misleading redirects and cut headers -----------------------------------------------------


@pytest.mark.parametrize("location", ["http://a b/", "http://[::1", "http://h:99999/x", "ftp://files.example/x"])
def test_a_redirect_to_an_invalid_url_is_an_invalid_response(location: str) -> None:
    with hostile(_answer("302 Found", b"", {"Location": location})) as server:
        with pytest.raises(myclient.MyClientError) as info:
            _client(server.url).adapter.get("/r")
    assert isinstance(info.value, (myclient.InvalidResponse, myclient.CrossOriginError))


def test_a_response_cut_inside_its_header_block_is_connection_lost() -> None:
    def script(conn: socket.socket, seen: Seen) -> None:
        if read_request(conn, seen):
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")

    with hostile(script) as server:
        with pytest.raises(myclient.ConnectionLost):
            _client(server.url, retry=None).adapter.get("/cut")
        with pytest.raises(myclient.ConnectionLost):
            _client(server.url).adapter.post("/cut", json={})
        assert server.seen.count("POST") == 1


def test_an_empty_close_delimited_body_after_a_complete_header_block_is_fine() -> None:
    def script(conn: socket.socket, seen: Seen) -> None:
        if read_request(conn, seen):
            conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n")

    with hostile(script) as server:
        assert _client(server.url).adapter.get("/empty") is None


# -- 10.16: the stale-connection resend applies only before any response byte -------------------------------


def _keepalive_then(second: Any) -> Any:
    def script(conn: socket.socket, seen: Seen) -> None:
        if read_request(conn, seen):
            respond(conn)  # the warm-up GET leaves the connection in the pool
        if read_request(conn, seen):
            second(conn)

    return script


def test_reset_after_part_of_the_response_on_a_reused_connection_is_not_resent() -> None:
    def partial_then_reset(conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-")
        time.sleep(0.05)
        _reset(conn)

    with hostile(_keepalive_then(partial_then_reset)) as server:
        client = _client(server.url)
        client.adapter.get("/warm")
        with pytest.raises(myclient.ConnectionLost) as info:
            client.adapter.post("/orders", json={"n": 1})
        assert server.seen.count("POST") == 1
        assert not info.value.before_response


def test_reset_before_any_response_byte_on_a_reused_connection_is_resent() -> None:
    def later(conn: socket.socket, seen: Seen) -> None:
        if read_request(conn, seen):
            respond(conn)
        if read_request(conn, seen):
            _reset(conn)

    with hostile(later) as server:
        client = _client(server.url)
        client.adapter.get("/warm")
        assert client.adapter.post("/orders", json={"n": 1}) == {}
        assert server.seen.count("POST") == 2  # the documented stale-connection resend (proven: zero bytes)


# -- 10.17: 307/308 and a one-shot body ---------------------------------------------------------------------


def test_307_with_a_one_shot_body_raises_instead_of_sending_it_empty() -> None:
    def script(conn: socket.socket, seen: Seen) -> None:
        while True:
            head = read_request(conn, seen)
            if head is None:
                return
            if head.split(b" ")[1] == b"/old":
                respond(conn, "307 Temporary Redirect", b"", {"Location": "/new"})
            else:
                respond(conn, "201 Created", seen.bodies[-1], content_type="application/octet-stream")

    with hostile(script) as server:
        client = _client(server.url, decode="bytes")
        with pytest.raises(myclient.RedirectError):
            client.adapter.post("/old", data=(chunk for chunk in [b"one-", b"shot"]))
        assert server.seen.count("POST", "/new") == 0
        assert client.adapter.post("/old", data=b"replayable") == b"replayable"
        import io

        source = io.BytesIO(b"prefix:seekable body")
        source.seek(7)
        assert client.adapter.post("/old", data=source) == b"seekable body"


# -- 10.20 / 10.33: exceptions and the access log ------------------------------------------------------------


def test_pickled_error_carries_no_credentials_and_access_log_finds_the_request_id(
    caplog: pytest.LogCaptureFixture,
) -> None:
    token = "pickle-token-5f1d8a9c0b"
    with hostile(_answer("404 Not Found", b'{"message": "gone"}', {"x-REQUEST-id": "rid-77"})) as server:
        client = _client(server.url, token=token, access_log=True)
        with caplog.at_level(logging.INFO, logger="myclient.access"), pytest.raises(myclient.NotFound) as info:
            client.adapter.get("/thing", params={"access_token": token})
    blob = pickle.dumps(info.value)
    assert token.encode() not in blob
    copy = pickle.loads(blob)
    assert copy.response is None and copy.status == 404 and copy.request_id == "rid-77"
    assert "rid=rid-77" in caplog.text and token not in caplog.text


@pytest.fixture
def counting() -> Iterator[HostileServer]:
    def script(conn: socket.socket, seen: Seen) -> None:
        while read_request(conn, seen):
            respond(conn)

    with hostile(script) as server:
        yield server


def test_header_injection_is_refused_without_sending_or_retrying(counting: HostileServer) -> None:
    slept: list[float] = []
    client = _client(counting.url, sleep=slept.append)
    with pytest.raises(myclient.UsageError, match="header"):
        client.adapter.get("/x", headers={"X-Note": "a\r\nX-Evil: 1"})
    client.adapter.headers["X-Late"] = "b\r\nX-Evil: 2"
    with pytest.raises(myclient.UsageError):
        client.adapter.get("/x")
    assert counting.seen.connections == 0 and slept == []


def test_urllib3_debug_lines_are_redacted_when_opted_in(counting: HostileServer,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    secret = "u3-secret-0a1b2c3d4e"
    client = _client(counting.url)
    with caplog.at_level(logging.DEBUG):
        client.adapter.get("/x", params={"api_key": secret})
    assert secret in caplog.text  # urllib3's own line, before opting in
    caplog.clear()
    myclient.redact_urllib3_logging()
    try:
        with caplog.at_level(logging.DEBUG):
            client.adapter.get("/x", params={"api_key": secret})
        assert "api_key=***" in caplog.text and secret not in caplog.text
    finally:
        myclient.redact_urllib3_logging(False)
