"""Every operation of a spec called through ``myclient.openapi.load`` against Prism: :func:`exercise`.

For each operation, :class:`~openapi_examples.Examples` makes arguments valid for its schemas (an operation
for which none can be made is *not example-able*, with the reason). The call goes through the runtime client
(``.detailed``), and Prism's verdict is read from the response (:func:`~servers.prism_verdict.judge`):

* ``rejected``: Prism found the request invalid for the spec (or matching no operation). Must not happen.
* ``mock_failed``: Prism accepted the request but could not make a valid answer: its static example breaks
  the spec (``#VIOLATIONS``), or the 2xx it sent, decoded faithfully, does not fit the declared schema
  (Prism's static answers for schemas without examples ignore patterns). :func:`exercise` calls those again
  against a ``fallback`` server (``-d`` with a fixed ``--seed``: answers generated from the schemas) when given.
* ``decoded``: a 2xx the client decoded into the declared type: a JSON body as exactly its JSON document, and
  that document valid for the response schema (:meth:`Examples.mismatch`); text as ``str``; other types as
  ``bytes``; an empty body as None. ``undecoded`` when the client got it wrong.
* ``other``: any other answer (a documented non-2xx the spec lists first, ...), with its status.
* ``errors``: the call raised something that is not an HTTP answer (a bug, or a transport failure).

:func:`credentials_for` gives the credentials that keep Prism's security check satisfied for the named specs.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from openapi_examples import RESPONSE, Examples, NotExampleable
from servers.prism import PrismServer
from servers.prism_verdict import Verdict, judge

import myclient
from myclient.openapi import Operation, SpecClient, load
from myclient.results import is_json_type

__all__ = ["CREDENTIALS", "LiveReport", "credentials_for", "exercise"]

#: ``load`` keyword arguments per named spec: credentials for its security schemes.
CREDENTIALS: dict[str, dict[str, Any]] = {
    "github": {},
    "github-octokit": {"token": "ghp_prism_token"},
    "twilio": {"credentials": {"accountSid_authToken": ("AC00000000000000000000000000000000", "prism-auth-token")}},
    "asana": {"token": "asana-personal-access-token"},
    "digitalocean": {"token": "dop_v1_prism_token"},
    "clerk": {"token": "sk_test_prism_token"},
}


def credentials_for(name: str) -> dict[str, Any]:
    """The ``load`` keyword arguments (credentials) for a named spec."""
    return dict(CREDENTIALS.get(name, {}))


@dataclass
class LiveReport:
    """What :func:`exercise` saw, by outcome; each entry is ``(group.name, detail)``."""

    spec: str
    operations: int = 0
    called: int = 0
    fallback_calls: int = 0
    seconds: float = 0.0
    decoded: list[tuple[str, str]] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)
    mock_failed: list[tuple[str, str]] = field(default_factory=list)
    undecoded: list[tuple[str, str]] = field(default_factory=list)
    other: list[tuple[str, str]] = field(default_factory=list)
    not_example_able: list[tuple[str, str]] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)

    def summary(self) -> str:
        """One line of counts, then every entry that is not a decoded 2xx."""
        lines = [f"{self.spec}: {self.operations} operations, {self.called} called "
                 f"({self.fallback_calls} again with -d), {len(self.rejected)} rejected, {len(self.decoded)} 2xx "
                 f"decoded, {len(self.undecoded)} 2xx not decoded, {len(self.mock_failed)} Prism mock failures, "
                 f"{len(self.other)} other answers, {len(self.errors)} errors, {len(self.not_example_able)} not "
                 f"example-able; {self.seconds:.1f} s"]
        for title, entries in (("REJECTED", self.rejected), ("2xx NOT DECODED", self.undecoded),
                               ("ERRORS", self.errors), ("NOT EXAMPLE-ABLE", self.not_example_able),
                               ("PRISM MOCK FAILURES", self.mock_failed), ("OTHER ANSWERS", self.other)):
            lines += [f"  {title}: {label}: {detail[:300]}" for label, detail in entries]
        return "\n".join(lines)


def _client(spec: Any, server: PrismServer, settings: dict[str, Any]) -> SpecClient:
    # No redirects followed: a mock's Location points at the real service, and only loopback may be called.
    return load(spec, base_url=server.url, retry=None, timeout=60, follow_redirects=False, **settings)


def exercise(spec: Any, name: str, server: PrismServer, *, fallback: Callable[[], PrismServer] | None = None,
             only: list[str] | None = None) -> LiveReport:
    """Call every operation of ``spec`` (or those named in ``only``, as ``group.name``) on ``server``."""
    settings = credentials_for(name)
    client = _client(spec, server, settings)
    examples = Examples(client.spec)
    report = LiveReport(name)
    operations = [op for op in client.spec.operations if only is None or f"{op.group}.{op.name}" in only]
    report.operations = len(operations)
    started = time.perf_counter()
    second: SpecClient | None = None
    with client:
        for op in operations:
            label = f"{op.group}.{op.name}"
            try:
                arguments = examples.arguments(op)
            except NotExampleable as exc:
                report.not_example_able.append((label, f"{op.method} {op.path}: {exc}"))
                continue
            outcome = _call(client, op, arguments, examples)
            report.called += 1
            if outcome[0] == "mock_failed" and fallback is not None:
                if second is None:
                    second = _client(spec, fallback(), settings)
                outcome = _call(second, op, arguments, examples)
                report.fallback_calls += 1
            getattr(report, outcome[0]).append((label, f"{op.method} {op.path}: {outcome[1]}"))
    if second is not None:
        second.close()
    report.seconds = time.perf_counter() - started
    return report


def _call(client: SpecClient, op: Operation, arguments: dict[str, Any], examples: Examples) -> tuple[str, str]:
    """(outcome, detail) of one call; outcome is a LiveReport list name."""
    method = getattr(getattr(client, op.group), op.name)
    try:
        result = method.detailed(**arguments)
    except myclient.HTTPError as error:
        content = getattr(error.response, "_content", None)
        body = content if isinstance(content, bytes) and content else error.body.encode()
        verdict = judge(error.status, dict(error.headers), body)
        return _classify(verdict, f"{error.status} {verdict.describe()[:400]}")
    except myclient.InvalidResponse as exc:
        return "undecoded", f"InvalidResponse: {exc}"
    except Exception as exc:  # noqa: BLE001 - a finding, reported with its type
        return "errors", f"{type(exc).__name__}: {exc}"
    verdict = judge(result.status, dict(result.headers), result.content)
    if verdict.rejected or verdict.mock_failed:
        return _classify(verdict, verdict.describe())
    if not 200 <= result.status < 300:
        return "other", f"{result.status} (the operation documents {', '.join(sorted(op.responses))})"
    problem = _undecoded(op, result)
    if problem:
        return "undecoded", problem
    documented = op.response_for(result.status)
    schema = documented.schema if documented is not None and documented.is_json else None
    unfit = examples.mismatch(result.data, schema, RESPONSE) if schema and result.content else None
    if unfit:  # decoded faithfully (checked above), but Prism's own answer breaks the spec
        return "mock_failed", f"{result.status}: Prism's answer does not fit the declared schema: {unfit}"
    return "decoded", f"{result.status}"


def _classify(verdict: Verdict, detail: str) -> tuple[str, str]:
    if verdict.rejected:
        return "rejected", detail
    if verdict.mock_failed:
        return "mock_failed", detail
    return "other", detail


def _undecoded(op: Operation, result: Any) -> str | None:
    """Why a 2xx was not decoded into its declared type (None when it was): JSON must come back as the
    document the body holds, text as ``str``, anything else as ``bytes``; an empty body as None."""
    media = (result.headers.get("Content-Type") or "").split(";")[0].strip()
    if result.status == 204 or not result.content:
        return None if result.data is None else f"an empty body decoded as {type(result.data).__name__}"
    if is_json_type(media):
        try:
            expected = json.loads(result.content)
        except ValueError:
            return "the body is not JSON (and the client did not say so)"
        return None if result.data == expected and type(result.data) is type(expected) else (
            f"a {media} body decoded as {type(result.data).__name__}, not as its JSON document")
    if media.startswith("text/"):
        return None if isinstance(result.data, str) else f"a {media} body decoded as {type(result.data).__name__}"
    return None if isinstance(result.data, bytes) else f"a {media} body decoded as {type(result.data).__name__}"
