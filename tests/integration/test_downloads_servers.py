"""Downloads against real servers: httpbin (/range, /stream-bytes, /drip), nginx static files with Range and
If-Range (an interrupted download resumed, a changed file restarted, a partial file without a validator
started over, links planted at the partial file refused), and a broken body from WireMock."""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any

import pytest
import requests
from servers import StaticServer, WireMockAdmin

import myclient
from myclient.downloads import META_SUFFIX, PART_SUFFIX

MiB = 1 << 20


def _alphabet(n: int, start: int = 0) -> bytes:
    """What httpbin's /range/N serves: a, b, c, ... z, a, ... from byte ``start``."""
    return bytes(ord("a") + i % 26 for i in range(start, n))


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Calls:
    def __init__(self) -> None:
        self.calls: list[tuple[int, int | None]] = []

    def __call__(self, done: int, total: int | None) -> None:
        self.calls.append((done, total))


# -- httpbin -------------------------------------------------------------------------------------


def _sidecar(client: myclient.Client, dest: Path, path: str, validator: str, total: int | None) -> None:
    """What an earlier, interrupted download of ``path`` left next to ``dest.part``."""
    from myclient.downloads import _source_id

    meta = {"source": _source_id(client.adapter, path, None), "validator": validator, "total": total,
            "encoded": False}
    dest.with_name(dest.name + META_SUFFIX).write_text(json.dumps(meta))


def test_httpbin_range_downloads_whole_and_resumes_with_206(httpbin_url: str, tmp_path: Path) -> None:
    client = myclient.Client(httpbin_url)
    dest = tmp_path / "range.bin"
    assert client.download("/range/5000", dest, chunk_size=1000).read_bytes() == _alphabet(5000)
    resumed = tmp_path / "resumed.bin"
    (tmp_path / ("resumed.bin" + PART_SUFFIX)).write_bytes(_alphabet(1234))
    _sidecar(client, resumed, "/range/5000", "range5000", 5000)  # httpbin's ETag for /range/5000
    progress = Calls()
    assert client.download("/range/5000", resumed, progress=progress).read_bytes() == _alphabet(5000)
    assert progress.calls[0] == (1234, 5000) and progress.calls[-1] == (5000, 5000)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["range.bin", "resumed.bin"]


def test_httpbin_a_partial_file_without_a_sidecar_is_downloaded_again(httpbin_url: str, tmp_path: Path) -> None:
    dest = tmp_path / "again.bin"
    (tmp_path / ("again.bin" + PART_SUFFIX)).write_bytes(b"not what the server has")
    progress = Calls()
    assert myclient.Client(httpbin_url).download("/range/5000", dest, progress=progress).read_bytes() == (
        _alphabet(5000))
    assert progress.calls[0] == (0, 5000)


def test_httpbin_stream_bytes_without_a_length(httpbin_url: str, tmp_path: Path) -> None:
    url = "/stream-bytes/50000?seed=7&chunk_size=999"
    expected = requests.get(httpbin_url + url, timeout=10).content
    progress = Calls()
    got = myclient.Client(httpbin_url).download(url, tmp_path / "s.bin", chunk_size=4096, progress=progress)
    assert got.read_bytes() == expected and len(expected) == 50000
    assert {total for _, total in progress.calls} == {None}
    assert progress.calls[-1][0] == 50000


def test_httpbin_drip_reports_progress_as_bytes_trickle_in(httpbin_url: str, tmp_path: Path) -> None:
    progress = Calls()
    got = myclient.Client(httpbin_url).download("/drip", tmp_path / "d.bin", chunk_size=1,
                                                params={"numbytes": 20, "duration": 1, "delay": 0},
                                                progress=progress)
    assert got.read_bytes() == b"*" * 20
    assert progress.calls == [(n, 20) for n in range(21)]


def test_a_deadline_cuts_a_drip_short_and_keeps_the_partial_file(httpbin_url: str, tmp_path: Path) -> None:
    dest = tmp_path / "slow.bin"
    with pytest.raises(myclient.DeadlineExceeded):
        myclient.Client(httpbin_url).download("/drip", dest, chunk_size=1, deadline=0.6,
                                              params={"numbytes": 30, "duration": 3, "delay": 0})
    assert not dest.exists()
    assert 0 < (tmp_path / ("slow.bin" + PART_SUFFIX)).stat().st_size < 30


# -- nginx static files --------------------------------------------------------------------------


@pytest.fixture
def big_file(static_server: StaticServer, request: pytest.FixtureRequest) -> tuple[str, bytes]:
    """A random 10 MiB file in nginx's www directory: (name, content)."""
    name = f"{request.node.name}-{os.getpid()}.bin"
    data = os.urandom(10 * MiB)
    (static_server.www / name).write_bytes(data)
    return name, data


def _last(static_server: StaticServer, uri: str, count: int = 1) -> dict[str, Any]:
    """The latest access-log entry for ``uri``, once at least ``count`` are there (nginx logs a request
    just after its last byte went out, so the client can be a moment ahead)."""
    deadline = time.monotonic() + 5
    while True:
        found = [e for e in static_server.log_entries() if e["uri"] == uri]
        if len(found) >= count or time.monotonic() > deadline:
            return found[-1]
        time.sleep(0.02)


def test_a_big_static_file_arrives_intact(static_server: StaticServer, big_file: tuple[str, bytes],
                                          tmp_path: Path) -> None:
    name, data = big_file
    got = myclient.Client(static_server.url).download(f"/files/{name}", tmp_path / "big.bin")
    assert _sha(got.read_bytes()) == _sha(data)
    entry = _last(static_server, f"/files/{name}")
    assert (entry["status"], entry["sent"], entry["range"]) == (200, len(data), "")


def test_an_interrupted_download_resumes_with_range_and_if_range(
    static_server: StaticServer, big_file: tuple[str, bytes], tmp_path: Path
) -> None:
    name, data = big_file
    client = myclient.Client(static_server.url)
    dest = tmp_path / "big.bin"
    with pytest.raises(myclient.DeadlineExceeded):  # /slow/ sends 4 MiB/s: 1 s is not enough
        client.download(f"/slow/{name}", dest, deadline=1.0)
    assert not dest.exists()
    part = tmp_path / ("big.bin" + PART_SUFFIX)
    kept = part.stat().st_size
    assert 0 < kept < len(data)
    assert part.read_bytes() == data[:kept]

    progress = Calls()
    got = client.download(f"/slow/{name}", dest, progress=progress)
    assert _sha(got.read_bytes()) == _sha(data)
    assert progress.calls[0] == (kept, len(data))
    entry = _last(static_server, f"/slow/{name}", count=2)
    assert entry["status"] == 206 and entry["range"] == f"bytes={kept}-"
    assert entry["sent"] == len(data) - kept
    assert entry["if_range"].startswith('"')  # the strong ETag nginx gave the first time
    assert not part.exists() and not (tmp_path / ("big.bin" + META_SUFFIX)).exists()


def test_a_file_changed_between_calls_is_downloaded_again_from_the_start(
    static_server: StaticServer, big_file: tuple[str, bytes], tmp_path: Path
) -> None:
    name, _ = big_file
    client = myclient.Client(static_server.url)
    dest = tmp_path / "big.bin"
    with pytest.raises(myclient.DeadlineExceeded):
        client.download(f"/slow/{name}", dest, deadline=0.7)
    changed = os.urandom(3 * MiB)  # another size: another ETag even within the same second
    (static_server.www / name).write_bytes(changed)
    got = client.download(f"/slow/{name}", dest)
    assert _sha(got.read_bytes()) == _sha(changed)
    entry = _last(static_server, f"/slow/{name}", count=2)
    assert entry["status"] == 200 and entry["if_range"] and entry["range"]  # If-Range failed: whole file


def test_a_complete_partial_file_is_settled_by_416(static_server: StaticServer, tmp_path: Path) -> None:
    name = f"small-{os.getpid()}.txt"
    (static_server.www / name).write_bytes(b"complete already\n")
    etag = requests.head(f"{static_server.url}/files/{name}", timeout=10).headers["ETag"]
    client = myclient.Client(static_server.url)
    (tmp_path / ("s.txt" + PART_SUFFIX)).write_bytes(b"complete already\n")
    _sidecar(client, tmp_path / "s.txt", f"/files/{name}", etag, 17)
    got = client.download(f"/files/{name}", tmp_path / "s.txt")
    assert got.read_bytes() == b"complete already\n"
    entry = _last(static_server, f"/files/{name}")
    assert (entry["status"], entry["if_range"]) == (416, etag)


def test_a_partial_file_nothing_proves_is_downloaded_again_from_byte_zero(
    static_server: StaticServer, big_file: tuple[str, bytes], tmp_path: Path
) -> None:
    name, data = big_file
    dest = tmp_path / "big.bin"
    (tmp_path / ("big.bin" + PART_SUFFIX)).write_bytes(os.urandom(MiB))  # no sidecar: whose bytes are these?
    got = myclient.Client(static_server.url).download(f"/files/{name}", dest)
    assert _sha(got.read_bytes()) == _sha(data)
    entry = _last(static_server, f"/files/{name}")
    assert (entry["status"], entry["range"], entry["sent"]) == (200, "", len(data))


@pytest.mark.parametrize("planted", [PART_SUFFIX, META_SUFFIX])
def test_a_symlink_planted_next_to_the_destination_is_refused(
    static_server: StaticServer, tmp_path: Path, planted: str
) -> None:
    name = f"planted-{os.getpid()}.txt"
    (static_server.www / name).write_bytes(b"served content\n")
    victim = tmp_path / "precious.txt"
    victim.write_bytes(b"precious\n")
    folder = tmp_path / "downloads"
    folder.mkdir()
    (folder / ("out.txt" + planted)).symlink_to(victim)
    with pytest.raises(myclient.UsageError, match="symbolic link"):
        myclient.Client(static_server.url).download(f"/files/{name}", folder / "out.txt")
    assert victim.read_bytes() == b"precious\n" and not (folder / "out.txt").exists()
    assert not [e for e in static_server.log_entries() if e["uri"] == f"/files/{name}"]  # nothing was asked for


def test_a_missing_file_is_not_found_and_leaves_nothing(static_server: StaticServer, tmp_path: Path) -> None:
    with pytest.raises(myclient.NotFound):
        myclient.Client(static_server.url).download("/files/no-such-file", tmp_path / "x.bin")
    assert list(tmp_path.iterdir()) == []


# -- a body that breaks -----------------------------------------------------------------------------


def test_a_broken_body_is_connection_lost_and_never_lands(wiremock_admin: WireMockAdmin, wiremock: Any,
                                                          tmp_path: Path) -> None:
    wiremock_admin.stub_fault("GET", "/blob", "MALFORMED_RESPONSE_CHUNK")
    dest = tmp_path / "blob.bin"
    with pytest.raises(myclient.ConnectionLost):
        myclient.Client(wiremock.url, retry=None).download("/blob", dest)
    assert not dest.exists()
    policy = myclient.RetryPolicy(attempts=3, backoff=0.01)
    with pytest.raises(myclient.ConnectionLost):
        myclient.Client(wiremock.url, retry=policy).download("/blob", dest)
    assert wiremock_admin.count("GET", "/blob") == 1 + 3  # the body failure is retried as the policy says
    assert not dest.exists()
