"""Whether a corpus document loads and its operations are callable: :func:`check_spec`, :class:`SpecReport`.

*Loaded* means ``myclient.openapi.load`` gives a client (a ``base_url`` is passed only when the document
has no absolute server URL of its own, which ``load`` documents as needed). *Callable* means, for one
operation, that the arguments :class:`~openapi_examples.Examples` makes (every required parameter and a
required body, valid for their schemas) produce a call that reaches a recording
:class:`~myclient.testing.MockTransport` without any exception, and that the request it records is the
operation's: its method, its path with every ``{field}`` filled, each required query parameter serialized
under the name its style gives, each required header and cookie present, and a body when one is required.
The transport answers with the operation's documented success (status, media type, a body valid for its
schema), so the answer is decoded too.

A failure has a *cause*: the stage (``load``, ``arguments``, ``call``, ``request``) and the error with
names and numbers blanked, so that one defect over many operations is one line of a report.
"""

from __future__ import annotations

import re
import time
import tracemalloc
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from openapi_examples import Examples, NotExampleable

from myclient import MyClientError
from myclient.openapi import Operation, SpecClient, load, read_document, server_url
from myclient.testing.mock import MockResponse, MockTransport

__all__ = ["FALLBACK_BASE", "Failure", "SpecReport", "cause_of", "check_spec", "peak_memory"]

FALLBACK_BASE = "https://api.example.test"
"""The base URL passed to ``load`` for a document whose first server URL is relative or missing."""


@dataclass(frozen=True)
class Failure:
    """One failed load or operation: where, why (``cause``: stage + normalized error), and the full text."""

    spec: str
    operation: str
    cause: str
    detail: str


@dataclass
class SpecReport:
    """What :func:`check_spec` found for one document."""

    spec: str
    loaded: bool = False
    load_seconds: float = 0.0
    peak_bytes: int = 0
    operations: int = 0
    callable: int = 0
    failures: list[Failure] = field(default_factory=list)


def cause_of(stage: str, exc: BaseException) -> str:
    """``stage: ErrorType: message`` with quoted names, numbers and paths blanked (one line per defect)."""
    text = str(exc).splitlines()[0] if str(exc) else ""
    text = re.sub(r"'[^']*'|\"[^\"]*\"", "'…'", text)
    text = re.sub(r"/[^\s,;()]+", "/…", text)
    text = re.sub(r"\b\d+(\.\d+)?\b", "N", text)
    text = re.sub(r"\b[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*\(\)", "op()", text)
    return f"{stage}: {type(exc).__name__}: {text[:110]}"


def _base_url(document: dict[str, Any]) -> str | None:
    """None when the document's own first server works as the base URL, else :data:`FALLBACK_BASE`."""
    servers = document.get("servers")
    try:
        url = server_url(SimpleNamespace(servers=servers if isinstance(servers, list) else []))  # type: ignore[arg-type]
    except MyClientError:
        return FALLBACK_BASE
    return None if url and re.match(r"^https?://[^/{}]+", url) else FALLBACK_BASE


def peak_memory(path: Path) -> int:
    """The peak memory (bytes, tracemalloc) of ``load(path)``: reading, parsing, the model and the client."""
    tracemalloc.start()
    try:
        document = read_document(path)
        load(document, base_url=_base_url(document)).close()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def check_spec(path: Path, name: str, *, memory: bool = False) -> SpecReport:
    """Load one document and call each of its operations through a recording MockTransport."""
    report = SpecReport(name)
    transport = MockTransport()
    current: list[Any] = [None, None]  # the operation being called, its Examples
    transport.add("*", "", answers=[lambda call: _answer(current[0], current[1])])
    try:
        started = time.perf_counter()
        document = read_document(path)
        client = load(document, base_url=_base_url(document), transport=transport)
        report.load_seconds = time.perf_counter() - started
    except Exception as exc:  # noqa: BLE001 - every failure is a finding, listed by cause
        report.failures.append(Failure(name, "", cause_of("load", exc), repr(exc)))
        return report
    report.loaded = True
    if memory:
        report.peak_bytes = peak_memory(path)
    examples = Examples(client.spec)
    current[1] = examples
    report.operations = len(client.spec.operations)
    base_path = urlsplit(client.adapter.base_url).path.rstrip("/")
    with client:
        for op in client.spec.operations:
            label = f"{op.group}.{op.name}"
            try:
                problem = _call_one(client, op, examples, transport, base_path, current)
            except Exception as exc:  # noqa: BLE001
                stage = "arguments" if isinstance(exc, NotExampleable) else "call"
                if not isinstance(exc, (MyClientError, NotExampleable)):
                    stage = "call (not a MyClientError)"
                report.failures.append(Failure(name, label, cause_of(stage, exc), f"{op.method} {op.path}: {exc!r}"))
                continue
            if problem:
                report.failures.append(Failure(name, label, f"request: {problem[0]}",
                                               f"{op.method} {op.path}: {problem[1]}"))
            else:
                report.callable += 1
    return report


def _answer(op: Operation, examples: Examples) -> MockResponse:
    status, media, body = examples.answer(op)
    if media is None or body is None:
        return MockResponse(status)
    if isinstance(body, bytes):
        return MockResponse(status, body=body, headers={"Content-Type": media})
    return MockResponse(status, json=body, headers={"Content-Type": media})


def _call_one(client: SpecClient, op: Operation, examples: Examples, transport: MockTransport, base_path: str,
              current: list[Any]) -> tuple[str, str] | None:
    """Call ``op`` once; a (cause, detail) pair when the recorded request is not the operation's."""
    arguments = examples.arguments(op)
    current[0] = op
    sent = len(transport.calls)
    getattr(getattr(client, op.group), op.name)(**arguments)
    if len(transport.calls) != sent + 1:
        return "not sent exactly once", f"{len(transport.calls) - sent} calls"
    return check_request(op, arguments, transport.calls[-1], base_path)


def check_request(op: Operation, arguments: dict[str, Any], call: Any, base_path: str) -> tuple[str, str] | None:
    """Whether a recorded call is ``op`` with ``arguments``: a (cause, detail) pair when it is not."""
    if call.method != op.method:
        return "wrong method", f"{call.method} sent"
    url = urlsplit(call.url)
    path = url.path[len(base_path):] if url.path.startswith(base_path) else url.path
    template, _, fixed_query = op.path.split("#", 1)[0].partition("?")  # a fragment is never sent
    pattern = _path_pattern(template)
    if not pattern.match(path) and not pattern.match(unquote(path)):  # literal parts may be percent-encoded
        return "path does not match the template", path
    query = [k for k, _ in parse_qsl(url.query, keep_blank_values=True)]
    if not all(k in query for k, _ in parse_qsl(fixed_query, keep_blank_values=True)):
        return "the path key's own query is missing", url.query
    query += [str(k) for k, _ in (call.params or [])]
    for param in op.params:
        if not param.required or param.py_name not in arguments:
            continue
        value = arguments[param.py_name]
        if param.location == "query":
            names = _query_names(param.name, param.style, param.explode, value)
            if not all(name in query for name in names):
                return "required query parameter missing", f"{names} not in {query}"
        elif param.location == "header" and not any(k.lower() == param.name.lower() for k in call.headers):
            return "required header missing", param.name
        elif param.location == "cookie" and param.name not in (call.options.cookies or {}):
            return "required cookie missing", param.name
    if op.body is not None and op.body.required and call.json is None and not call.data and not call.files:
        return "required body missing", ""
    return None


def _query_names(name: str, style: str, explode: bool, value: Any) -> list[str]:
    if isinstance(value, dict):
        if style == "deepObject":
            return [f"{name}[{k}]" for k in value]
        if explode and style == "form":
            return [str(k) for k in value]
    return [name]


_PATTERNS: dict[str, re.Pattern[str]] = {}


def _path_pattern(template: str) -> re.Pattern[str]:
    found = _PATTERNS.get(template)
    if found is None:
        parts = re.split(r"(\{[^{}/]+\})", template)
        body = "".join("[^/]+" if p.startswith("{") and p.endswith("}") else re.escape(p) for p in parts)
        found = _PATTERNS[template] = re.compile(f"^{body}$")
    return found
