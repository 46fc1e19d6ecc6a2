"""How a test tells that Prism (5.14.2) rejected a request as invalid: :func:`judge`, :func:`parse_log`.

* Prism validates every request against its operation (parameters, body, content type,
  security). A request with a violation of severity ``Error`` is answered with the operation's
  own 422 or 400 response (401 for security; 415, 422 or 400 for a content type), whatever the
  spec has there, and the response carries the header ``sl-violations``: a JSON list of
  ``{"location": ["request", ...], "severity": "Error", "code": ..., "message": ...}``.
  The body is the spec's own error example, so only that header tells it from a real 4xx.
* If the operation defines no such response, Prism answers ``application/problem+json`` of type
  ``https://stoplight.io/prism/errors#UNPROCESSABLE_ENTITY`` (422, the violations in
  ``validation``, their locations without the ``request`` prefix), ``#UNAUTHORIZED`` (401) or
  ``#INVALID_CONTENT_TYPE`` (415), with no ``sl-violations`` header.
* A request matching no operation gets problem+json ``#NO_PATH_MATCHED_ERROR`` (404) or
  ``#NO_METHOD_MATCHED_ERROR`` (405); an Accept header that no response satisfies gets
  ``#NOT_ACCEPTABLE`` (406). These count as rejections too: the spec describes no such request.
* All of this is the same with or without ``--errors``. That flag only makes Prism answer 500
  problem+json ``#VIOLATIONS`` when its own response (a static example) breaks the spec; those
  violations' locations start with ``response``. That is a mock failure (:attr:`Verdict.mock_failed`),
  not a rejected request: use ``-d`` with a fixed ``--seed`` for documents whose examples are wrong.
* Past 8 KiB the header is cut and prefixed ``Too many violations!``; request violations come
  first in it, and :func:`judge` reads every complete entry.

The log says the same. Each request that failed validation writes exactly one line ``Request did
not pass the validation rules`` (and, on the spec's-4xx path, ``Violation: request... <message>``
lines); a routing or Accept failure writes ``Request terminated with error:
https://stoplight.io/prism/errors#NO_...``. :func:`parse_log` counts them, a cross-check over many
requests.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

ERRORS_PREFIX = "https://stoplight.io/prism/errors#"
MARK_PATH = "/__harness_mark__/"
"""Path prefix of the log marker requests (``PrismServer.mark``); :func:`parse_log` skips their lines."""
VIOLATIONS_HEADER = "sl-violations"

#: Prism's own problem types that mean the request does not fit the spec.
REQUEST_ERRORS = frozenset({
    "UNPROCESSABLE_ENTITY", "UNAUTHORIZED", "INVALID_CONTENT_TYPE", "NOT_ACCEPTABLE",
    "NO_PATH_MATCHED_ERROR", "NO_METHOD_MATCHED_ERROR", "NO_SERVER_MATCHED_ERROR",
    "NO_RESOURCE_PROVIDED_ERROR", "NO_BASE_URL_ERROR", "NO_SERVER_CONFIGURATION_PROVIDED_ERROR",
})  # fmt: skip
#: Problem types logged without a validation line before them (routing, content negotiation).
_UNVALIDATED_ERRORS = REQUEST_ERRORS - {"UNPROCESSABLE_ENTITY", "UNAUTHORIZED", "INVALID_CONTENT_TYPE"}


@dataclass(frozen=True)
class Violation:
    """One entry of Prism's validation output."""

    location: tuple[str, ...]
    severity: str
    code: str
    message: str

    @classmethod
    def parse(cls, raw: Mapping[str, Any], prefix: tuple[str, ...] = ()) -> Violation:
        location = tuple(str(part) for part in raw.get("location") or ())
        text = {key: str(raw.get(key, "")) for key in ("severity", "code", "message")}
        return cls(prefix + location, text["severity"], text["code"], text["message"])

    @property
    def in_request(self) -> bool:
        return bool(self.location) and self.location[0] == "request"

    @property
    def is_error(self) -> bool:
        return self.severity == "Error"


@dataclass(frozen=True)
class Verdict:
    """What Prism thought of one exchange (see the module docstring)."""

    status: int
    violations: tuple[Violation, ...] = ()
    prism_error: str | None = None
    """The problem type (after ``#``) when the body is Prism's own problem+json, else None."""

    @property
    def request_errors(self) -> tuple[Violation, ...]:
        """Violations of severity Error in the request."""
        return tuple(v for v in self.violations if v.in_request and v.is_error)

    @property
    def rejected(self) -> bool:
        """Prism found the request invalid (or matching no operation)."""
        return bool(self.request_errors) or self.prism_error in REQUEST_ERRORS

    @property
    def mock_failed(self) -> bool:
        """Prism could not produce a valid response for a request it accepted (e.g. ``#VIOLATIONS``)."""
        return not self.rejected and self.prism_error is not None

    def describe(self) -> str:
        what = "; ".join(f"{'.'.join(v.location)}: {v.message}" for v in self.violations)
        return f"{self.status} {self.prism_error or ''} {what}".strip()


def _header(headers: Mapping[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


def _violation_entries(raw: str) -> list[dict[str, Any]]:
    """The objects of an ``sl-violations`` value, also from a cut one (``Too many violations! [...``)."""
    try:
        parsed = json.loads(raw)
    except ValueError:
        parsed = None
    if isinstance(parsed, list):
        return [entry for entry in parsed if isinstance(entry, dict)]
    decoder = json.JSONDecoder()
    entries: list[dict[str, Any]] = []
    for match in re.finditer(r'\{"location":', raw):
        try:
            entry, _ = decoder.raw_decode(raw, match.start())
        except ValueError:
            break  # the cut-off last entry
        if isinstance(entry, dict):
            entries.append(entry)
    return entries


def judge(status: int, headers: Mapping[str, str], body: bytes | str) -> Verdict:
    """Read Prism's verdict on one exchange from the response's status, headers and body."""
    violations = [Violation.parse(e) for e in _violation_entries(_header(headers, VIOLATIONS_HEADER) or "")]
    prism_error = None
    content_type = (_header(headers, "content-type") or "").split(";")[0].strip().lower()
    if content_type == "application/problem+json":
        try:
            problem = json.loads(body)
        except ValueError:
            problem = None
        kind = problem.get("type") if isinstance(problem, dict) else None
        if isinstance(kind, str) and kind.startswith(ERRORS_PREFIX):
            prism_error = kind[len(ERRORS_PREFIX) :]
            listed = problem.get("validation") if isinstance(problem, dict) else None
            if prism_error == "UNPROCESSABLE_ENTITY" and isinstance(listed, list) and not violations:
                violations = [Violation.parse(e, ("request",)) for e in listed if isinstance(e, dict)]
    return Verdict(status, tuple(violations), prism_error)


@dataclass
class LogReport:
    """What Prism's log says about the requests in a stretch of it."""

    received: int = 0
    """``Request received`` lines (logged at ``info`` and below only)."""
    rejected: int = 0
    """Requests that failed validation or matched no operation."""
    mock_errors: int = 0
    """Requests Prism accepted but ended in an error of its own (``#VIOLATIONS``, ...)."""
    lines: list[str] = field(default_factory=list)
    """The lines behind ``rejected`` and ``mock_errors``, and every ``Violation:`` line."""


_TERMINATED = re.compile(r"Request terminated with error: " + re.escape(ERRORS_PREFIX) + r"([A-Z_]+)")


def parse_log(text: str) -> LogReport:
    """Count rejected requests and mock errors in a stretch of Prism's log."""
    report = LogReport()
    for line in text.splitlines():
        if MARK_PATH in line:
            continue
        if "Request received" in line:
            report.received += 1
            continue
        terminated = _TERMINATED.search(line)
        kind = terminated.group(1) if terminated else None
        if "Request did not pass the validation rules" in line or kind in _UNVALIDATED_ERRORS:
            report.rejected += 1
        elif kind is not None and kind not in REQUEST_ERRORS:
            report.mock_errors += 1
        elif "Violation: " not in line:
            continue
        report.lines.append(line)
    return report
