"""README command one: the demo runs on its own embedded server and shows what it promises."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest


@pytest.fixture(scope="module")
def demo() -> subprocess.CompletedProcess[str]:
    """One run of the demo, shared by the tests below (it takes ~13 s)."""
    return subprocess.run([sys.executable, "-m", "myclient.demo"], capture_output=True, text=True, timeout=120,
                          check=False)


def _seconds(pattern: str, out: str) -> float:
    found = re.search(pattern, out)
    assert found is not None, pattern
    return float(found.group(1))


def test_demo_runs_and_shows_every_section(demo: subprocess.CompletedProcess[str]) -> None:
    done = demo
    assert done.returncode == 0, done.stderr
    out = done.stdout
    for expected in ("caught NotFound: 404 Not Found", "caught as MyClientError: InternalServerError",
                     "caught as MyClientError: ReadTimeout", "-> {'status': 'up at last'}",
                     "(the Retry-After was honoured)", "(same key: True)", "token requests the server answered: 2",
                     "every article exactly once: True", "(intact: True)",
                     "headers unchanged: True", "client.session is the injected session: True", "Server stopped"):
        assert expected in out
    assert "demo-token" not in out
    assert "demo-client-secret" not in out
    assert done.stderr == ""


def test_demo_shows_the_second_wave_working(demo: subprocess.CompletedProcess[str]) -> None:
    done = demo
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    out = done.stdout
    # Results: the retried call's Result carries the final answer's request id and both attempts;
    # ok_statuses turns a 404 into a Result; decode="bytes" gives the raw body.
    assert "Result: status=200 request_id=req-daily-2 attempts=2" in out
    assert "Result: status=404 ok=False request_id=req-article-99 data={'message': 'article 99 not found'}" in out
    assert """decode='bytes': GET /health -> bytes b'{"status": "ok"}'""" in out
    # Middleware: the server saw the header the middleware added, and only on the copy that has it.
    assert "with_options(middleware=[stamp]).adapter.get('/echo') -> server saw X-Demo-Stamp: '1'" in out
    assert "the original client is unchanged: GET /echo -> server saw X-Demo-Stamp: None" in out
    # Async: a bounded gather, and a cancelled POST that reached the server once and was never retried.
    assert "-> 20 answers in" in out
    assert "in call order: True" in out
    assert "(<= max_workers 4: True)" in out
    assert 1 <= _seconds(r"in flight at once: (\d+) ", out) <= 4
    assert _seconds(r"-> cancelled after ([\d.]+) s", out) < 1.4  # before the server's 1.5 s answer
    assert "requests the server saw for POST /exports: 1 (the cancelled call was cut, not retried)" in out
    # Rate limits: 10 calls at 20/s take 9 intervals; an announced empty budget holds the next call ~1 s.
    assert 0.44 <= _seconds(r"-> 10 calls took ([\d.]+) s", out) < 5
    assert 0.04 <= _seconds(r", ([\d.]+) s on average", out) < 0.5
    assert 0.9 <= _seconds(r"the next call reached the server ([\d.]+) s later", out) < 3
    # OpenAPI: the served document became a client whose snake_case operations call the real routes.
    assert "['articles.list_articles', 'articles.get_article', 'status.get_health']" in out
    assert "api.articles.get_article(article_id=3) -> {'id': 3, 'title': 'article 3'}" in out
    assert "api.articles.list_articles(page=2, per_page=3) -> ids [4, 5, 6]" in out
    assert "api.articles.get_article() -> UsageError:" in out
    # The check that the injected session is untouched runs after every section that used it.
    assert out.index("A client from an OpenAPI document") < out.index("headers unchanged: True")
    assert "demo-token" not in out
