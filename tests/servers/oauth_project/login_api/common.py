"""What the login endpoints share: request counting, JSON bodies and answers, issuing and checking tokens.

* :func:`counted` wraps a view: other methods get a 405, and every answer is recorded in
  :data:`~login_api.state.STATS` (so a CSRF rejection raised inside the wrapped view counts too);
* :func:`read_body` parses a JSON object or a form body;
* :func:`issue_token` / :func:`check_token` create tokens (TTL from
  :data:`~login_api.state.CONFIG`) and tell why a presented one is refused.
"""

import functools
import json
import secrets
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse  # type: ignore[import-untyped]
from django.utils import timezone  # type: ignore[import-untyped]

from .models import AuthToken
from .state import CONFIG, STATS

View = Callable[..., HttpResponse]


def counted(flow: str, route: str, methods: Sequence[str]) -> Callable[[View], View]:
    """Answer ``methods`` with the view (405 otherwise); record each answer as ``"METHOD route"`` of ``flow``."""

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            allowed = request.method in methods
            response = view(request, *args, **kwargs) if allowed else HttpResponseNotAllowed(methods)
            STATS.request(flow, f"{request.method} {route}", request.path, response.status_code, dict(request.headers))
            return response

        return wrapper

    return decorate


def error(status: int, detail: str, *, key: str = "detail", challenge: str | None = None) -> JsonResponse:
    """A JSON error ``{key: detail}``, with ``WWW-Authenticate: challenge`` if given."""
    response = JsonResponse({key: detail}, status=status)
    if challenge is not None:
        response["WWW-Authenticate"] = challenge
    return response


def is_json(request: HttpRequest) -> bool:
    """Whether the body is declared JSON (``application/json`` or ``application/*+json``)."""
    media_type = (request.content_type or "").lower()
    return media_type == "application/json" or (media_type.startswith("application/") and media_type.endswith("+json"))


def read_body(request: HttpRequest) -> dict[str, Any]:
    """The request's JSON object, or its form fields (last value wins); :class:`ValueError` if unreadable."""
    if is_json(request):
        try:
            data = json.loads(request.body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError(f"the body is not valid JSON: {exc}") from None
        if not isinstance(data, dict):
            raise ValueError("expected a JSON object")
        return data
    return {key: request.POST.get(key) for key in request.POST}


def credentials(data: dict[str, Any], user_field: str = "username") -> tuple[str, str]:
    """``(username, password)`` from a parsed body; :class:`ValueError` if either is missing or not a string."""
    username, password = data.get(user_field), data.get("password")
    if not isinstance(username, str) or not isinstance(password, str) or not username or not password:
        raise ValueError(f"{user_field} and password are required (strings)")
    return username, password


def issue_token(user: Any, flow: str) -> tuple[AuthToken, float | None]:
    """A new token for ``user`` living the configured TTL; returns it and the TTL in seconds."""
    ttl = CONFIG.get()["ttl"]
    now = timezone.now()
    expires = None if ttl is None else now + timedelta(seconds=ttl)
    token = AuthToken.objects.create(key=secrets.token_hex(20), user=user, flow=flow, created=now, expires=expires)
    return token, ttl


def presented_token(request: HttpRequest, schemes: Sequence[str]) -> tuple[str | None, str]:
    """The key sent as ``Authorization: <scheme> <key>`` (scheme case-insensitive), or ``None`` and why not."""
    header = request.headers.get("Authorization")
    if header is None:
        return None, "Authentication credentials were not provided."
    parts = header.split()
    if len(parts) != 2 or parts[0].lower() not in schemes:
        return None, "Invalid token header."
    return parts[1], ""


def check_token(key: str) -> tuple[AuthToken | None, str]:
    """The active token ``key`` with its user, or ``None`` and why it is refused."""
    token = AuthToken.objects.select_related("user").filter(key=key).first()
    if token is None:
        return None, "Invalid token."
    if token.revoked is not None:
        return None, "Token has been revoked."
    if token.expires is not None and token.expires <= timezone.now():
        return None, "Token has expired."
    if not token.user.is_active:
        return None, "User inactive or deleted."
    return token, ""


def revoke(token: AuthToken) -> None:
    """Mark ``token`` revoked (a single UPDATE, so concurrent logouts cannot undo each other)."""
    AuthToken.objects.filter(pk=token.pk, revoked__isnull=True).update(revoked=timezone.now())


def user_json(user: Any) -> dict[str, Any]:
    return {"id": user.pk, "username": user.get_username()}
