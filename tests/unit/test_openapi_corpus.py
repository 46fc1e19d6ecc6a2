"""A fixed, seeded sample of the OpenAPI corpus: at least 99.5% of documents load through
``myclient.openapi.load`` and at least 99.5% of their operations are callable, with a median load under 50 ms.

"Callable" is defined in tests/openapi_callable.py: arguments valid for the operation's schemas
(tests/openapi_examples.py) produce the operation's request on a recording MockTransport without any exception.
The whole corpus is ``python benchmarks/openapi_corpus.py``; failures are printed grouped by cause either way.
"""

from __future__ import annotations

import collections
import statistics
from pathlib import Path

from openapi_callable import SpecReport, check_spec
from servers.specs import sample_specs, spec_id

SAMPLE = 400
SEED = 20240511
"""The sample: 400 documents (about 13,000 operations), about 5 s on one core."""
TARGET_LOADED = 0.995
TARGET_CALLABLE = 0.995
TARGET_MEDIAN_LOAD = 0.050


def _summary(reports: list[SpecReport]) -> str:
    causes = collections.Counter(f.cause for r in reports for f in r.failures)
    first = {}
    for failure in (f for r in reports for f in r.failures):
        first.setdefault(failure.cause, failure)
    lines = [f"{count:5d}  {cause}\n       e.g. {first[cause].spec} {first[cause].operation}: "
             f"{first[cause].detail[:200]}" for cause, count in causes.most_common()]
    return "failures by cause:\n" + "\n".join(lines) if lines else "no failures"


def test_a_seeded_sample_of_the_corpus_loads_and_is_callable(openapi_corpus: Path) -> None:
    specs = sample_specs(SAMPLE, SEED, openapi_corpus)
    reports = [check_spec(path, spec_id(path, openapi_corpus)) for path in specs]
    loaded = [r for r in reports if r.loaded]
    operations = sum(r.operations for r in loaded)
    callable_ = sum(r.callable for r in loaded)
    median = statistics.median(r.load_seconds for r in loaded) if loaded else float("inf")
    summary = (f"{len(loaded)}/{len(reports)} documents loaded, {callable_}/{operations} operations callable, "
               f"median load {median * 1000:.1f} ms\n{_summary(reports)}")
    print(summary)
    assert operations > 3000, summary  # the sample is not a trivial one
    assert len(loaded) / len(reports) >= TARGET_LOADED, summary
    assert callable_ / operations >= TARGET_CALLABLE, summary
    assert median <= TARGET_MEDIAN_LOAD, summary
