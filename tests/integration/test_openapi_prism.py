"""Spec-loaded clients against Prism: every example-able operation of GitHub, Twilio, Asana and DigitalOcean.

Prism (``prism mock --errors``) serves each document from the corpus on 127.0.0.1 and rejects any request
that breaks the spec. Each operation is called through ``myclient.openapi.load`` with arguments valid for its
schemas (tests/openapi_live.py, tests/openapi_examples.py), with credentials for the spec's security schemes.
Asserted: no request rejected (each response's verdict, and Prism's log), no error, every 2xx decoded into
the declared type, and few operations not example-able (each listed with its reason in the output).
Operations whose static example breaks the spec are called again against ``prism mock --errors -d --seed 1``.

GitHub runs a fixed sample of 250 of its 845 operations here, to keep the suite's time reasonable;
``python benchmarks/openapi_prism.py`` calls every operation of every spec (and Clerk's, where present).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from openapi_live import exercise
from servers import PrismServer

from myclient.openapi import SpecModel, read_document

SPECS = {"github": 250, "twilio": None, "asana": None, "digitalocean": None}
"""Named spec -> how many operations to call (None: all of them), drawn with :data:`SEED`."""
SEED = 7
MAX_NOT_EXAMPLE_ABLE = 0.02
"""At most this share of operations (and at most 2 below 100) may lack valid arguments."""

Prism = Callable[..., PrismServer]


@pytest.mark.parametrize("name", list(SPECS))
def test_every_example_able_operation_is_accepted_and_decoded(name: str, prism: Prism,
                                                              openapi_spec: Callable[[str], Path]) -> None:
    path = openapi_spec(name)
    document = read_document(path)
    only = None
    if SPECS[name] is not None:
        labels = [f"{op.group}.{op.name}" for op in SpecModel(document).operations]
        only = random.Random(SEED).sample(labels, SPECS[name])
    server = prism(path, verbose="warn")
    mark = server.log_position()
    dynamic: dict[str, Any] = {}

    def fallback() -> PrismServer:
        if "server" not in dynamic:
            dynamic["server"] = prism(path, dynamic=True, seed=1, verbose="warn")
            dynamic["mark"] = dynamic["server"].log_position()
        server_d: PrismServer = dynamic["server"]
        return server_d

    report = exercise(document, name, server, only=only, fallback=fallback)
    logs = [server.log_report(mark)] + ([dynamic["server"].log_report(dynamic["mark"])] if dynamic else [])
    print(report.summary())
    assert report.called > 0 and report.called == report.operations - len(report.not_example_able)
    assert report.rejected == [], report.summary()
    assert [log.rejected for log in logs] == [0] * len(logs), [line for log in logs for line in log.lines][:20]
    assert report.undecoded == [] and report.errors == [], report.summary()
    assert len(report.not_example_able) <= max(2, MAX_NOT_EXAMPLE_ABLE * report.operations), report.summary()
    # What is neither decoded nor rejected is listed: documented non-2xx answers and Prism's own failures.
    assert len(report.decoded) >= 0.95 * report.called, report.summary()
