"""Uploads against real servers: multipart ``files=`` end to end (httpbin's echo and WireMock's journal),
and large bodies streamed from disk into nginx's WebDAV PUT (flat memory, chunked for generators)."""

from __future__ import annotations

import base64
import email.parser
import email.policy
import hashlib
import os
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from servers import StaticServer, WireMockAdmin

import myclient

MiB = 1 << 20
BINARY = bytes(range(256)) * 4


def test_multipart_names_bytes_files_and_types_reach_httpbin(httpbin_url: str, tmp_path: Path) -> None:
    attachment = tmp_path / "notes.txt"
    attachment.write_text("line one\nline two\n")
    with attachment.open("rb") as handle:
        echo = myclient.Client(httpbin_url).adapter.post("/post", data={"note": "hi"}, files={
            "report": ("report.csv", b"a,b\n1,2\n", "text/csv"),
            "blob": ("blob.bin", BINARY, "application/x-custom"),
            "notes": handle,
        })
    assert echo["form"] == {"note": "hi"}
    assert echo["files"]["report"] == "a,b\n1,2\n"
    assert echo["files"]["notes"] == "line one\nline two\n"
    prefix, encoded = echo["files"]["blob"].split(",", 1)  # httpbin echoes binary parts as data URLs
    assert prefix == "data:application/x-custom;base64"
    assert base64.b64decode(encoded) == BINARY
    assert echo["headers"]["Content-Type"].startswith("multipart/form-data; boundary=")


def test_multipart_part_headers_as_wiremock_received_them(wiremock_admin: WireMockAdmin, wiremock: Any) -> None:
    wiremock_admin.stub({"request": {"method": "POST", "urlPath": "/forms"}, "response": {"status": 204}})
    myclient.Client(wiremock.url).adapter.post("/forms", files={
        "doc": ("résumé.pdf", b"%PDF-1.4 fake", "application/pdf"),
        "blob": ("blob.bin", BINARY, "application/octet-stream"),
    })
    logged = wiremock_admin.requests("POST", "/forms")[0]
    content_type = next(v for k, v in logged["headers"].items() if k.lower() == "content-type")
    raw = base64.b64decode(logged["bodyAsBase64"])
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + raw)
    parts = {p.get_param("name", header="content-disposition"): p for p in message.iter_parts()}
    assert set(parts) == {"doc", "blob"}
    assert parts["doc"].get_content_type() == "application/pdf"
    assert parts["doc"].get_filename() == "résumé.pdf"
    assert parts["doc"].get_payload(decode=True) == b"%PDF-1.4 fake"
    assert parts["blob"].get_payload(decode=True) == BINARY


@pytest.fixture
def big_upload(tmp_path: Path) -> Path:
    """48 MiB of random bytes on disk."""
    path = tmp_path / "big.bin"
    with path.open("wb") as out:
        for _ in range(48):
            out.write(os.urandom(MiB))
    return path


def _sha(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(MiB):
            digest.update(block)
    return digest.hexdigest()


def _logged(static_server: StaticServer, uri: str) -> dict[str, Any]:
    deadline = time.monotonic() + 5
    while True:
        found = [e for e in static_server.log_entries() if e["uri"] == uri]
        if found or time.monotonic() > deadline:
            return found[-1]
        time.sleep(0.02)


def test_a_large_file_is_streamed_with_flat_memory(static_server: StaticServer, big_upload: Path) -> None:
    name = f"big-{os.getpid()}.bin"
    sent: list[tuple[int, int | None]] = []
    client = myclient.Client(static_server.url)
    tracemalloc.start()
    try:
        client.upload(f"/upload/{name}", big_upload, progress=lambda done, total: sent.append((done, total)))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    size = big_upload.stat().st_size
    assert peak < 4 * MiB, f"peak Python allocations {peak / MiB:.1f} MiB for a {size // MiB} MiB upload"
    assert _sha(static_server.uploads / name) == _sha(big_upload)
    entry = _logged(static_server, f"/upload/{name}")
    assert entry["status"] == 201 and entry["request_length"] >= size and entry["transfer_encoding"] == ""
    assert len(sent) > 100 and sent[-1] == (size, size)


def test_a_plain_open_file_as_data_streams_too(static_server: StaticServer, big_upload: Path) -> None:
    name = f"plain-{os.getpid()}.bin"
    tracemalloc.start()
    try:
        with big_upload.open("rb") as handle:
            myclient.Client(static_server.url).adapter.put(f"/upload/{name}", data=handle)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 * MiB
    assert _sha(static_server.uploads / name) == _sha(big_upload)


def test_a_generator_body_goes_chunked(static_server: StaticServer) -> None:
    name = f"chunked-{os.getpid()}.bin"

    def blocks() -> Iterator[bytes]:
        for n in range(64):
            yield bytes([n]) * 65536

    myclient.Client(static_server.url).adapter.put(f"/upload/{name}", data=blocks(), retry=None)
    stored = (static_server.uploads / name).read_bytes()
    assert stored == b"".join(bytes([n]) * 65536 for n in range(64))
    assert _logged(static_server, f"/upload/{name}")["transfer_encoding"] == "chunked"
