"""json-server 0.17.4 (npm package ``json-server``), a fake REST API with real pagination headers.

:func:`start_json_server` writes a fresh ``db.json`` (generated, a few hundred records) into its
work directory on every start, since json-server writes every mutation back to that file, then
runs ``node <json-server>/lib/cli/bin.js --host 127.0.0.1 --port P --quiet db.json`` as a child
process. What the tests rely on (0.17.4; the 1.x betas dropped the pagination headers):

* ``GET /posts?_page=N&_limit=M`` answers with ``X-Total-Count`` and an RFC 8288 ``Link`` header
  (first/prev/next/last, absolute URLs built from the request's Host header); the last page has
  no ``next``; ``?_start=S&_limit=M`` (offset) sends ``X-Total-Count`` too; a plain ``GET /posts``
  is the whole collection with no pagination headers;
* ``POST`` answers 201 with the stored item, ``DELETE`` 200 with ``{}``, ``PUT``/``PATCH`` of a
  missing id 404, and a ``POST`` with an id that exists 500 with an HTML error page.

json-server is found under ``MYCLIENT_NPM_DIR`` (default ``.tmp/npm``), where ``tests/run.sh``
installs it with ``npm install --prefix <dir> json-server@0.17.4``; ``MYCLIENT_JSON_SERVER``
overrides the path of its ``bin.js``. node is ``MYCLIENT_NODE`` if set, else ``node`` on PATH.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ._proc import (
    LOCALHOST,
    ManagedProcess,
    ServerUnavailable,
    find_executable,
    free_port,
    http_probe,
    retry_on_port_conflict,
)
from .wiremock import npm_dir

#: The version the tests are written against (pinned in tests/run.sh).
JSON_SERVER_VERSION = "0.17.4"
#: Records in the generated collections.
POSTS = 250
USERS = 12


def find_node() -> str:
    """Path of the node binary (``MYCLIENT_NODE`` overrides)."""
    return find_executable("node", env_var="MYCLIENT_NODE")


def find_json_server() -> Path:
    """Path of json-server's ``bin.js``, refusing any version but 0.17.x."""
    override = os.environ.get("MYCLIENT_JSON_SERVER", "").strip()
    if override:
        if not Path(override).is_file():
            raise ServerUnavailable(f"MYCLIENT_JSON_SERVER={override!r} is not a file")
        return Path(override)
    package = npm_dir() / "node_modules" / "json-server"
    manifest = package / "package.json"
    if not manifest.is_file():
        raise ServerUnavailable(
            f"json-server is not installed under {npm_dir()}; run `bash tests/run.sh` or "
            f"`npm install --prefix {npm_dir()} json-server@{JSON_SERVER_VERSION}`"
        )
    version = str(json.loads(manifest.read_text(encoding="utf-8")).get("version", "?"))
    if not version.startswith("0.17."):
        raise ServerUnavailable(
            f"json-server {version} under {npm_dir()}; the tests need {JSON_SERVER_VERSION} (1.x dropped the "
            f"pagination headers): npm install --prefix {npm_dir()} json-server@{JSON_SERVER_VERSION}"
        )
    return package / "lib" / "cli" / "bin.js"


def make_db(posts: int = POSTS) -> dict[str, Any]:
    """The database every run starts from: ``posts`` (paginated reads), ``users`` and ``notes`` (CRUD)."""
    return {
        "posts": [
            {"id": i, "userId": (i - 1) % USERS + 1, "title": f"post {i}", "body": f"body of post {i}"}
            for i in range(1, posts + 1)
        ],
        "users": [{"id": i, "name": f"user {i}"} for i in range(1, USERS + 1)],
        "notes": [{"id": 1, "text": "first note"}],
    }


class JsonServer:
    """A running json-server; ``url`` is like ``http://127.0.0.1:PORT``, ``db`` the data it started with."""

    def __init__(self, url: str, process: ManagedProcess, db_path: Path, db: dict[str, Any]) -> None:
        self.url = url
        self.process = process
        self.db_path = db_path
        self.db = db

    def __repr__(self) -> str:
        return f"<JsonServer {self.url} pid={self.process.pid}>"

    def log_tail(self, lines: int = 40) -> str:
        return self.process.log_tail(lines)

    def stop(self) -> None:
        self.process.stop()


def _start(node: str, script: Path, workdir: Path, db: dict[str, Any], timeout: float | None) -> JsonServer:
    port = free_port()
    url = f"http://{LOCALHOST}:{port}"
    db_path = workdir / "db.json"
    db_path.write_text(json.dumps(db, indent=1), encoding="utf-8")  # fresh: json-server writes to it
    process = ManagedProcess(
        "json-server",
        [node, str(script), "--host", LOCALHOST, "--port", str(port), "--quiet", str(db_path)],
        log_path=workdir / "json-server.log",
        ready=http_probe(f"{url}/posts?_limit=1", ok_statuses={200}),
        cwd=workdir,
    )
    process.start_and_wait(timeout)
    return JsonServer(url, process, db_path, db)


def start_json_server(workdir: Path, *, posts: int = POSTS, timeout: float | None = None) -> JsonServer:
    """Start json-server on a fresh generated database under ``workdir``."""
    script = find_json_server()
    node = find_node()
    workdir.mkdir(parents=True, exist_ok=True)
    db = make_db(posts)
    return retry_on_port_conflict(lambda: _start(node, script, workdir, db, timeout))
