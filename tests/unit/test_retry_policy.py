"""RetryPolicy.decide(): the pure decision, tested exhaustively over methods, outcomes and time."""

from __future__ import annotations

import itertools

import pytest

import myclient
from myclient.exceptions import ConnectionLost
from myclient.retry import IDEMPOTENT_METHODS, RetryPolicy, sent_before_failure

METHODS = ["GET", "HEAD", "OPTIONS", "PUT", "DELETE", "POST", "PATCH"]


def _lost(before_response: bool) -> ConnectionLost:
    err = ConnectionLost("lost")
    err.before_response = before_response
    return err


def _tls(cert: bool, message: str = "handshake failed") -> myclient.TLSError:
    err = myclient.TLSError(message)
    err.verify_failed = cert
    return err


def _proxy(status: int | None, message: str = "proxy down") -> myclient.ProxyError:
    err = myclient.ProxyError(message)
    err.status = status
    return err


NOT_SENT = [myclient.ConnectError("refused"), myclient.ConnectTimeout("slow connect"),
            _tls(cert=False), myclient.ProxyError("proxy down")]
SENT = [myclient.ReadTimeout("slow"), _lost(before_response=False), _lost(before_response=True)]
NEVER = [myclient.TooManyRedirects("loop"), myclient.DeadlineExceeded("late"),
         myclient.InvalidResponse("bad"), _tls(cert=True), _proxy(407, "Tunnel failed: 407"),
         myclient.TransportError("other")]


@pytest.mark.parametrize(("method", "keyed"), itertools.product(METHODS, [False, True]))
@pytest.mark.parametrize("error", NOT_SENT, ids=lambda e: type(e).__name__)
def test_failures_before_sending_are_retried_for_every_method(
    method: str, keyed: bool, error: myclient.MyClientError
) -> None:
    decision = RetryPolicy().decide(attempt=1, method=method, keyed=keyed, error=error, random=0.5)
    assert decision.retry, decision.reason
    assert decision.delay == pytest.approx(0.25)


@pytest.mark.parametrize(("method", "keyed"), itertools.product(METHODS, [False, True]))
@pytest.mark.parametrize("error", SENT, ids=lambda e: f"{type(e).__name__}-{getattr(e, 'before_response', '')}")
def test_failures_after_sending_are_retried_only_when_safe(
    method: str, keyed: bool, error: myclient.MyClientError
) -> None:
    decision = RetryPolicy().decide(attempt=1, method=method, keyed=keyed, error=error)
    assert decision.retry is (keyed or method in IDEMPOTENT_METHODS)
    if not decision.retry:
        assert "not idempotent" in decision.reason


@pytest.mark.parametrize("method", METHODS)
def test_dead_pooled_connection_is_retried_for_every_method(method: str) -> None:
    decision = RetryPolicy().decide(attempt=1, method=method, error=_lost(True), reused=True)
    assert decision.retry
    assert "before the request was sent" in decision.reason


def test_loss_after_response_started_on_reused_connection_is_not_safe_for_post() -> None:
    assert not RetryPolicy().decide(attempt=1, method="POST", error=_lost(False), reused=True).retry


@pytest.mark.parametrize("error", NEVER, ids=lambda e: type(e).__name__)
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_permanent_failures_are_never_retried(error: myclient.MyClientError, method: str) -> None:
    assert not RetryPolicy().decide(attempt=1, method=method, keyed=True, error=error).retry


@pytest.mark.parametrize(("method", "keyed"), itertools.product(METHODS, [False, True]))
@pytest.mark.parametrize("status", [429, 502, 503, 504])
def test_retryable_statuses_retry_only_safe_calls(method: str, keyed: bool, status: int) -> None:
    decision = RetryPolicy().decide(attempt=1, method=method, keyed=keyed, status=status)
    assert decision.retry is (keyed or method in IDEMPOTENT_METHODS)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 418, 422, 500, 501, 520])
def test_other_statuses_are_not_retried_by_default(status: int) -> None:
    assert not RetryPolicy().decide(attempt=1, method="GET", status=status).retry


def test_500_is_opt_in() -> None:
    policy = RetryPolicy(statuses=frozenset({500, 503}))
    assert policy.decide(attempt=1, method="GET", status=500).retry


def test_attempts_are_bounded() -> None:
    policy = RetryPolicy(attempts=3)
    assert policy.decide(attempt=2, method="GET", status=503).retry
    decision = policy.decide(attempt=3, method="GET", status=503)
    assert not decision.retry
    assert decision.reason == "gave up after 3 attempts"
    assert not RetryPolicy.off().decide(attempt=1, method="GET", status=503).retry


@pytest.mark.parametrize(
    ("attempt", "random", "expected"),
    [(1, 1.0, 0.5), (2, 1.0, 1.0), (3, 1.0, 2.0), (4, 1.0, 4.0), (5, 1.0, 8.0), (9, 1.0, 8.0),
     (3, 0.0, 0.0), (3, 0.25, 0.5), (200, 0.5, 4.0)],
)
def test_backoff_is_full_jitter_under_the_cap(attempt: int, random: float, expected: float) -> None:
    assert RetryPolicy(backoff=0.5, backoff_cap=8.0).backoff_delay(attempt, random) == pytest.approx(expected)


def test_retry_after_is_honoured_up_to_the_cap() -> None:
    policy = RetryPolicy(retry_after_cap=60)
    decision = policy.decide(attempt=1, method="GET", status=429, retry_after=30, random=0.1)
    assert decision.retry
    assert decision.delay == 30
    too_long = policy.decide(attempt=1, method="GET", status=429, retry_after=3600)
    assert not too_long.retry
    assert "exceeds the cap" in too_long.reason


def test_retry_after_can_be_ignored() -> None:
    policy = RetryPolicy(respect_retry_after=False)
    decision = policy.decide(attempt=1, method="GET", status=503, retry_after=3600, random=1.0)
    assert decision.retry
    assert decision.delay == 0.5


def test_wait_longer_than_time_left_is_not_taken() -> None:
    policy = RetryPolicy()
    assert policy.decide(attempt=1, method="GET", status=503, retry_after=1, time_left=1.5).retry
    decision = policy.decide(attempt=1, method="GET", status=503, retry_after=3, time_left=2.0)
    assert not decision.retry
    assert "deadline" in decision.reason
    assert not policy.decide(attempt=1, method="GET", error=myclient.ConnectError("x"), time_left=0.0).retry


def test_unreplayable_body_is_not_resent_once_sent() -> None:
    policy = RetryPolicy()
    assert not policy.decide(attempt=1, method="PUT", status=503, replayable=False).retry
    assert policy.decide(attempt=1, method="PUT", error=myclient.ConnectError("x"), replayable=False).retry


def test_sent_before_failure_classification() -> None:
    assert not sent_before_failure(myclient.ConnectError("x"), reused=False)
    assert sent_before_failure(_lost(True), reused=False)
    assert not sent_before_failure(_lost(True), reused=True)
    assert sent_before_failure(myclient.ReadTimeout("x"), reused=True)


@pytest.mark.parametrize(
    "kwargs",
    [{"attempts": 0}, {"attempts": 1.5}, {"attempts": True}, {"backoff": -1}, {"backoff_cap": float("inf")},
     {"retry_after_cap": "x"}, {"statuses": frozenset({200})}],
)
def test_invalid_policies_are_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(myclient.UsageError):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]


def test_policy_is_immutable_and_replace_validates() -> None:
    policy = RetryPolicy()
    with pytest.raises(AttributeError):
        policy.attempts = 5  # type: ignore[misc]
    assert policy.replace(attempts=5).attempts == 5
    assert policy.attempts == 3
    with pytest.raises(myclient.UsageError):
        policy.replace(attempts=0)
    assert RetryPolicy(idempotent_methods=frozenset({"get"})).is_safe("GET", keyed=False)


def test_decide_needs_an_outcome() -> None:
    with pytest.raises(myclient.UsageError):
        RetryPolicy().decide(attempt=1, method="GET")


def test_stale_connection_resends_can_be_turned_off() -> None:
    policy = RetryPolicy(resend_on_stale_connection=False)
    assert not policy.decide(attempt=1, method="POST", error=_lost(True), reused=True).retry
    assert policy.decide(attempt=1, method="GET", error=_lost(True), reused=True).retry


def test_proxy_that_closed_after_the_request_went_out_is_not_safe_for_post() -> None:
    err = myclient.ProxyError("Remote end closed connection without response")
    err.lost_after_send = True
    assert not RetryPolicy().decide(attempt=1, method="POST", error=err).retry
    assert RetryPolicy().decide(attempt=1, method="GET", error=err).retry
    assert RetryPolicy().decide(attempt=1, method="POST", error=err, reused=True).retry


def test_decisions_read_facts_not_message_text() -> None:
    """A URL that happens to contain '407' or 'hostname' must not make a retryable failure permanent."""
    policy = RetryPolicy()
    proxy_lost = _proxy(None, "ProxyError: GET https://api.example/orders/407: proxy connection reset")
    assert policy.decide(attempt=1, method="GET", error=proxy_lost).retry
    tls = _tls(False, "TLSError: GET https://api.example/hostname-check: handshake reset by peer")
    assert policy.decide(attempt=1, method="GET", error=tls).retry
    assert not policy.decide(attempt=1, method="GET", error=_tls(True, "anything")).retry
    assert not policy.decide(attempt=1, method="GET", error=_proxy(407, "anything")).retry
    assert not policy.decide(attempt=1, method="GET", error=_proxy(403, "anything")).retry
    assert policy.decide(attempt=1, method="GET", error=_proxy(502, "anything")).retry


@pytest.mark.parametrize("kwargs", [{"backoff": 1e308}, {"backoff_cap": float("inf")}, {"retry_after_cap": 1e300},
                                    {"attempts": 10**9}])
def test_absurd_numbers_are_refused_up_front(kwargs: dict[str, float]) -> None:
    with pytest.raises(myclient.UsageError):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]
