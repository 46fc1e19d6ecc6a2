"""Code generation over the OpenAPI corpus: generation time and size, mypy --strict, ruff, import, every call.

    python benchmarks/bench_codegen.py --sample 200 --seed 7     # a seeded sample
    python benchmarks/bench_codegen.py --all                     # the whole corpus (about an hour on 2 cores)
    python benchmarks/bench_codegen.py --spec github --spec clerk --spec twilio
    python benchmarks/bench_codegen.py --all --check             # exit 1 below 99% passing

Each document is generated into a temporary folder as its own package, imported, and every operation is
called through a MockTransport (see tests/servers/codegen.py for what is checked); mypy runs once per batch of
packages (target Python 3.10), ruff once over all. The summary lists failures grouped by cause.
"""

from __future__ import annotations

import argparse
import collections
import json
import re
import sys
import tempfile
import time
from pathlib import Path

import _common  # noqa: F401 - puts the repository root on sys.path

from myclient.codegen import generate

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the harness: tests/servers/


def _cause(message: str) -> str:
    """A failure message with names and numbers blurred, so alike failures group together."""
    text = re.sub(r"^.*?\.py:\d+(:\d+)?:? ", "", message)
    text = re.sub(r'"[^"]*"|\'[^\']*\'', "…", text)
    return re.sub(r"\d+", "N", text)[:110]


def main() -> int:
    from servers.codegen import exercise, mypy_errors, ruff_errors
    from servers.specs import corpus_dir, iter_specs, named_spec, sample_specs

    parser = argparse.ArgumentParser()
    parser.add_argument("--all", action="store_true")
    parser.add_argument("--sample", type=int, default=0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--spec", action="append", default=[], help="a named spec (github, clerk, ...) or a path")
    parser.add_argument("--batch", type=int, default=60, help="packages per mypy run")
    parser.add_argument("--max-lines", type=int, default=200_000, help="skip mypy above this size (reported)")
    parser.add_argument("--out", help="keep the generated packages here")
    parser.add_argument("--json", help="write the per-document results here")
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()

    specs: list[Path] = [Path(s) if Path(s).exists() else named_spec(s) for s in args.spec]
    if args.all:
        specs += list(iter_specs())
    elif args.sample:
        specs += sample_specs(args.sample, args.seed)
    if not specs:
        parser.error("give --all, --sample N or --spec NAME")
    out = Path(args.out or tempfile.mkdtemp(prefix="codegen-"))
    out.mkdir(parents=True, exist_ok=True)
    sys.path.insert(0, str(out))
    results: dict[str, dict[str, object]] = {}
    names: dict[str, str] = {}
    started = time.perf_counter()
    for index, spec in enumerate(specs):
        key = spec.relative_to(corpus_dir()).as_posix() if corpus_dir() in spec.parents else spec.name
        package = f"s{index:04d}"
        t0 = time.perf_counter()
        try:
            files = generate(spec, package)
        except Exception as exc:  # noqa: BLE001 - reported
            results[key] = {"generate": f"{type(exc).__name__}: {exc}"[:300]}
            continue
        seconds = time.perf_counter() - t0
        for name, text in files.items():
            (out / name).parent.mkdir(parents=True, exist_ok=True)
            (out / name).write_text(text, encoding="utf-8")
        lines = sum(t.count("\n") for t in files.values())
        results[key] = {"package": package, "lines": lines, "seconds": round(seconds, 3)}
        names[package] = key
        try:
            problems = exercise(package, spec)
        except Exception as exc:  # noqa: BLE001 - an import failure is a finding
            problems = [f"import: {type(exc).__name__}: {exc}"[:300]]
        results[key]["calls"] = problems[:20]
        results[key]["call_failures"] = len(problems)
        for module in [m for m in sys.modules if m == package or m.startswith(package + ".")]:
            del sys.modules[module]
    generated = [p for p in names if int(str(results[names[p]]["lines"])) <= args.max_lines]
    for start in range(0, len(generated), args.batch):
        batch = generated[start:start + args.batch]
        for package, errors in mypy_errors(out, batch).items():
            results[names[package]]["mypy"] = errors[:20]
    for package, errors in ruff_errors(out, list(names)).items():
        results[names[package]]["ruff"] = errors[:20]
    return _report(results, args, time.perf_counter() - started)


def _report(results: dict[str, dict[str, object]], args: argparse.Namespace, elapsed: float) -> int:
    causes: collections.Counter[str] = collections.Counter()
    examples: dict[str, str] = {}
    passing = 0
    for key, result in results.items():
        failures = [f"generate: {result['generate']}"] if "generate" in result else []
        for kind in ("mypy", "ruff", "calls"):
            failures += [f"{kind}: {_cause(str(m))}" for m in result.get(kind, [])]  # type: ignore[attr-defined]
        if int(str(result.get("lines", 0))) > args.max_lines:
            failures.append("mypy: not run (package above --max-lines)")
        for cause in set(failures):
            causes[cause] += 1
            examples.setdefault(cause, key)
        passing += not failures
    sizes = sorted(int(str(r["lines"])) for r in results.values() if "lines" in r)
    times = sorted(float(str(r["seconds"])) for r in results.values() if "seconds" in r)
    print(f"{len(results)} documents, {passing} pass everything ({100 * passing / max(len(results), 1):.1f}%), "
          f"{elapsed:.0f}s in all")
    if sizes:
        print(f"lines: median {sizes[len(sizes) // 2]}, p90 {sizes[int(len(sizes) * 0.9)]}, max {sizes[-1]}; "
              f"generation: median {times[len(times) // 2]:.2f}s, max {times[-1]:.1f}s")
    for key in ("github.com/api.github.com.json", "twilio.com/api.json", "asana.com.json", "bapi-2026-05-12.yml"):
        if key in results and "lines" in results[key]:
            print(f"  {key}: {results[key]['lines']} lines in {results[key]['seconds']}s")
    for cause, count in causes.most_common(40):
        print(f"{count:5d}  {cause}   (e.g. {examples[cause]})")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1, sort_keys=True))
    return 1 if args.check and passing < 0.99 * len(results) else 0


if __name__ == "__main__":
    sys.exit(main())
