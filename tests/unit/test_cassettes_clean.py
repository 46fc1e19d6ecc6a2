"""The committed cassettes pass the secret scan (what ``python -m myclient.testing scan cassettes`` checks)."""

from __future__ import annotations

from pathlib import Path

from myclient.testing import scan_paths

CASSETTES = Path(__file__).resolve().parents[2] / "cassettes"


def test_committed_cassettes_hold_no_secrets() -> None:
    files = list(CASSETTES.rglob("*.yaml"))
    assert len(files) >= 4
    assert scan_paths([CASSETTES]) == {}
