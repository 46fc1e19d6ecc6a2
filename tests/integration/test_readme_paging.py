"""The README's "Pagination and downloads" blocks run as written: the checkpoint example against
json-server, the download example against the static nginx (only URLs and file names swapped)."""

from __future__ import annotations

import contextlib
import io
import os
import re
import textwrap
from pathlib import Path

import pytest
from servers import JsonServer, StaticServer

README = Path(__file__).resolve().parents[2] / "README.rst"


def _block(marker: str) -> str:
    text = README.read_text(encoding="utf-8")
    found = [textwrap.dedent(b) for b in re.findall(r"\.\. code-block:: python\n\n((?:    .*\n|\n)+)", text)]
    matches = [b for b in found if marker in b]
    assert len(matches) == 1, f"expected one README block containing {marker!r}"
    return matches[0]


def _run(code: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, str(README), "exec"), {"__name__": "readme"})
    return out.getvalue()


def test_the_checkpoint_example_runs_against_json_server(json_server: JsonServer) -> None:
    output = _run(_block("runnable against json-server").replace("http://127.0.0.1:3000", json_server.url))
    assert output.splitlines() == ["250 250", "1 100 250", "2 100 250", "3 50 250"]


def test_the_download_example_runs_against_nginx(static_server: StaticServer, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("tqdm")
    name = f"dataset-{os.getpid()}.tar"
    data = os.urandom(3 << 20)
    (static_server.www / name).write_bytes(data)
    monkeypatch.chdir(tmp_path)
    code = (_block("tqdm_progress(desc=")
            .replace("http://127.0.0.1:8080", static_server.url)
            .replace("/files/dataset.tar", f"/files/{name}"))
    assert _run(code) == "dataset.tar\n"
    assert (tmp_path / "dataset.tar").read_bytes() == data
