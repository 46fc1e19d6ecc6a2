"""Fuzzing download() with hypothesis over `responses`: scripted servers that mix statuses, Content-Length,
Content-Range, validators and cut bodies, and change the file between responses.

Whatever they send, only MyClientError subclasses come out, the number of requests stays bounded, and
the destination is either absent or complete and correct: one version of the file, never a mix.

The servers are hostile but never lie in a way no client could detect: a total they state is the
file's real size, a validator belongs to one version only, and a body cut short is always one whose
length was announced (otherwise the end of the connection is the end of the file).
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import requests
import responses
from fuzzing import examples
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import myclient
from myclient.downloads import META_SUFFIX, PART_SUFFIX, _source_id

BASE = "https://files.example"
URL = f"{BASE}/blob"

#: Header values no parser may trip on (Latin-1 superscripts, Arabic-Indic digits, overlong numbers, ...).
#: ("1,2" is left to the raw-socket tests: `responses` builds its urllib3 response outside requests'
#: adapter, so urllib3's InvalidHeader would escape here where a real exchange maps it.)
HOSTILE_NUMBERS = ["²³¹", "١٢٣", "9" * 5000, "-1", "1e3", "0x10", "", " ", "12 34", "９"]


def _version(n: int, size: int) -> bytes:
    """Version ``n`` of the file: two versions never share a first byte, so they never mix unnoticed."""
    return bytes((i * (7 + 6 * n) + 1 + 4 * n) % 256 for i in range(size))


VALIDATORS = [{"etag": '"v0"', "modified": "Mon, 01 Jan 2024 00:00:00 GMT"},
              {"etag": '"v1"', "modified": "Tue, 02 Jan 2024 00:00:00 GMT"}]

responses_spec = st.fixed_dictionaries({
    "version": st.integers(0, 1),
    "status": st.sampled_from([200, 200, 206, 206, 206, 416, 404, 503, 304, 204]),
    "validator": st.sampled_from(["etag", "modified", "both", "weak", "none"]),
    "length": st.sampled_from(["right", "absent", "hostile", "wrong"]),
    "hostile": st.sampled_from(HOSTILE_NUMBERS),
    "start": st.sampled_from(["asked", "asked", "zero", "other"]),
    "end": st.one_of(st.none(), st.integers(0, 3000)),
    "total": st.sampled_from(["right", "right", "star", "hostile", "absent"]),
    "cut": st.one_of(st.none(), st.none(), st.integers(0, 3000)),
})


class ScriptedServer:
    """Answers each request with the next spec, read against the Range asked for; 404 once the script ends."""

    def __init__(self, sizes: tuple[int, int], script: list[dict[str, Any]]) -> None:
        self.files = [_version(0, sizes[0]), _version(1, sizes[1]), b""]  # 2: the empty file a 204 says
        self.script = list(script)
        self.calls = 0

    def answer(self, request: requests.PreparedRequest) -> tuple[int, dict[str, str], bytes]:
        self.calls += 1
        if not self.script:
            return 404, {}, b""
        spec = self.script.pop(0)
        if spec["status"] == 204:
            return 204, {}, b""
        data = self.files[spec["version"]]
        asked = request.headers.get("Range")
        offset = int(asked[len("bytes="):-1]) if asked else 0
        headers = self.validators(spec)
        status = spec["status"]
        if status == 416:
            if spec["total"] == "hostile":
                headers["Content-Range"] = f"bytes */{spec['hostile']}"
            elif spec["total"] != "absent":
                headers["Content-Range"] = f"bytes */{len(data)}"
            return 416, headers, b""
        if status == 206:
            start = {"asked": offset, "zero": 0, "other": (offset + 17) % len(data)}[spec["start"]]
            start = min(start, len(data) - 1)
            end = len(data) - 1 if spec["end"] is None else min(spec["end"], len(data) - 1)
            body = data[start:end + 1]
            total = {"right": str(len(data)), "star": "*", "hostile": spec["hostile"]}.get(spec["total"])
            if total is not None:
                headers["Content-Range"] = f"bytes {start}-{end}/{total}"
        elif status == 200:
            body = data
        else:
            body = b""
        cut = spec["cut"]
        if spec["length"] == "right" or (cut is not None and status not in (206,)):
            headers["Content-Length"] = str(len(body))  # a cut body is always one with an announced length
        elif spec["length"] == "hostile":
            headers["Content-Length"] = spec["hostile"]
        elif spec["length"] == "wrong" and status == 206:
            headers["Content-Length"] = str(len(body) + 1)  # contradicts the Content-Range
        if cut is not None and cut < len(body):
            body = body[:cut]
        return status, headers, body

    @staticmethod
    def validators(spec: dict[str, Any]) -> dict[str, str]:
        known = VALIDATORS[spec["version"]]
        kind = spec["validator"]
        headers = {}
        if kind in ("etag", "both"):
            headers["ETag"] = known["etag"]
        if kind in ("modified", "both"):
            headers["Last-Modified"] = known["modified"]
        if kind == "weak":
            headers["ETag"] = "W/" + known["etag"]
        return headers


@settings(max_examples=examples(300), deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(
    sizes=st.tuples(st.integers(1, 3000), st.integers(1, 3000)),
    script=st.lists(responses_spec, min_size=1, max_size=6),
    leftover=st.one_of(st.none(), st.tuples(st.integers(1, 3000), st.sampled_from(["sidecar", "bare", "other"]))),
    chunk_size=st.sampled_from([1, 7, 256, 4096]),
)
def test_only_myclient_errors_escape_and_the_file_is_complete_and_correct_or_absent(
    sizes: tuple[int, int], script: list[dict[str, Any]], leftover: tuple[int, str] | None, chunk_size: int
) -> None:
    server = ScriptedServer(sizes, script)
    client = myclient.Client(BASE, sleep=lambda s: None, random=lambda: 0.0)
    with tempfile.TemporaryDirectory() as folder, responses.RequestsMock(assert_all_requests_are_fired=False) as rs:
        rs.add_callback(responses.GET, URL, server.answer)
        dest = Path(folder) / "out.bin"
        if leftover is not None:  # what an earlier call left: a prefix of version 0
            size, kind = leftover
            dest.with_name(dest.name + PART_SUFFIX).write_bytes(server.files[0][:size])
            if kind != "bare":
                meta = {"source": _source_id(client.adapter, "/blob", None), "validator": VALIDATORS[0]["etag"],
                        "total": len(server.files[0]) if kind == "sidecar" else 99_999, "encoded": False}
                dest.with_name(dest.name + META_SUFFIX).write_text(json.dumps(meta))
        try:
            result = client.download("/blob", dest, chunk_size=chunk_size)
        except myclient.MyClientError as error:
            event(type(error).__name__)
            assert not dest.exists()
        else:
            event("complete")
            assert result == dest and dest.read_bytes() in server.files
            assert not dest.with_name(dest.name + PART_SUFFIX).exists()
        assert server.calls <= len(script) + 1
        assert not dest.with_name(dest.name + META_SUFFIX + ".tmp").exists()
