"""The token API (DRF-token / internal-API style) under ``/api/``; CSRF-exempt like every token API.

* ``POST /api/auth/login`` - JSON ``{"username", "password"}`` or a form body: 200
  ``{"token", "user": {"id", "username"}, "expires_in", "auth": {"token", "scheme", "expires_in"}}``
  (``auth.token`` is a nested copy, for clients reading a JSON path) and the header ``X-Auth-Token``;
  bad credentials: 401 ``{"detail"}``; a missing field or unreadable body: 400;
* ``GET /api/auth/me`` - the token's user ``{"id", "username"}``;
* ``GET /api/items`` - the user's items (a JSON list); ``POST /api/items`` - stores a JSON object,
  201 with the object and its ``id``;
* ``POST /api/auth/logout`` - revokes the presented token, 204.

Protected endpoints take ``Authorization: Token <key>`` or ``Authorization: Bearer <key>``; a missing,
unknown, expired or revoked token is a 401 ``{"detail"}`` with ``WWW-Authenticate: Token``, and so is
a failed login.
"""

# Django ships no type information: its decorators are Any to mypy.
# mypy: allow-untyped-decorators

from typing import Any

from django.contrib.auth import authenticate  # type: ignore[import-untyped]
from django.http import HttpRequest, HttpResponse, JsonResponse  # type: ignore[import-untyped]
from django.views.decorators.csrf import csrf_exempt  # type: ignore[import-untyped]

from .common import (
    check_token,
    counted,
    credentials,
    error,
    is_json,
    issue_token,
    presented_token,
    read_body,
    revoke,
    user_json,
)
from .models import AuthToken, Item
from .state import STATS

FLOW = "token"
CHALLENGE = "Token"
TOKEN_HEADER = "X-Auth-Token"
SCHEMES = ("token", "bearer")


def _unauthorized(detail: str) -> JsonResponse:
    return error(401, detail, challenge=CHALLENGE)


def _authenticated(request: HttpRequest) -> tuple[AuthToken | None, HttpResponse | None]:
    """The request's active token, or the 401 to answer instead."""
    key, why = presented_token(request, SCHEMES)
    if key is None:
        return None, _unauthorized(why)
    token, why = check_token(key)
    if token is None:
        return None, _unauthorized(why)
    return token, None


@csrf_exempt
@counted(FLOW, "/api/auth/login", ["POST"])
def login(request: HttpRequest) -> HttpResponse:
    try:
        username, password = credentials(read_body(request))
    except ValueError as exc:
        return error(400, str(exc))
    user = authenticate(request, username=username, password=password)
    if user is None:
        STATS.event(FLOW, "login_failures")
        return _unauthorized("Invalid username or password.")
    token, ttl = issue_token(user, FLOW)
    STATS.event(FLOW, "logins")
    body: dict[str, Any] = {"token": token.key, "user": user_json(user), "expires_in": ttl}
    body["auth"] = {"token": token.key, "scheme": "Token", "expires_in": ttl}
    response = JsonResponse(body)
    response[TOKEN_HEADER] = token.key
    return response


@csrf_exempt
@counted(FLOW, "/api/auth/me", ["GET"])
def me(request: HttpRequest) -> HttpResponse:
    token, refusal = _authenticated(request)
    if token is None:
        return refusal
    return JsonResponse(user_json(token.user))


@csrf_exempt
@counted(FLOW, "/api/items", ["GET", "POST"])
def items(request: HttpRequest) -> HttpResponse:
    token, refusal = _authenticated(request)
    if token is None:
        return refusal
    return items_response(request, token.user, FLOW)


def items_response(request: HttpRequest, user: Any, flow: str) -> HttpResponse:
    """``GET``: the user's items; ``POST``: store the JSON object, 201 with its ``id`` (shared with sessions)."""
    if request.method == "GET":
        stored = Item.objects.filter(owner=user).order_by("pk")
        return JsonResponse([{**item.data, "id": item.pk} for item in stored], safe=False)
    try:
        data = read_body(request) if is_json(request) else None
    except ValueError as exc:
        return error(400, str(exc))
    if data is None:
        return error(400, "expected a JSON object (Content-Type: application/json)")
    item = Item.objects.create(owner=user, flow=flow, data=data)
    return JsonResponse({**data, "id": item.pk}, status=201)


@csrf_exempt
@counted(FLOW, "/api/auth/logout", ["POST"])
def logout(request: HttpRequest) -> HttpResponse:
    token, refusal = _authenticated(request)
    if token is None:
        return refusal
    revoke(token)
    STATS.event(FLOW, "logouts")
    return HttpResponse(status=204)
