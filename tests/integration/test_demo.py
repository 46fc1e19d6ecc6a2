"""README command one: the demo runs on its own embedded server and shows what it promises."""

from __future__ import annotations

import subprocess
import sys


def test_demo_runs_and_shows_every_section() -> None:
    done = subprocess.run([sys.executable, "-m", "myclient.demo"], capture_output=True, text=True, timeout=120,
                          check=False)
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
