"""npm / Verdaccio-style registry login (what ``npm login`` and ``npm logout`` send), CSRF-exempt.

* ``PUT /-/user/org.couchdb.user:<name>`` - JSON ``{"name", "password", ...}`` (extra CouchDB fields
  such as ``_id``, ``type``, ``roles``, ``date`` are ignored): 201
  ``{"ok": true, "id": "org.couchdb.user:<name>", "token"}``; wrong password or unknown user: 401
  ``{"error"}``; a body ``name`` differing from the path's (percent-decoded) name, or no password: 400;
* ``GET /-/whoami`` - with ``Authorization: Bearer <token>``: ``{"username"}``;
* ``DELETE /-/user/token/<token>`` - authenticated by a Bearer token of the same user, revokes
  ``<token>``: 200 ``{"ok": true}``; a token of someone else, or not active: 404 ``{"error"}``.

Tokens are the same database tokens as the token API's (same TTL, same ``revoke_all``); a missing
or refused token is a 401 ``{"error"}`` with ``WWW-Authenticate: Bearer``.
"""

# Django ships no type information: its decorators are Any to mypy.
# mypy: allow-untyped-decorators

from django.contrib.auth import authenticate  # type: ignore[import-untyped]
from django.http import HttpRequest, HttpResponse, JsonResponse  # type: ignore[import-untyped]
from django.views.decorators.csrf import csrf_exempt  # type: ignore[import-untyped]

from .common import check_token, counted, credentials, error, issue_token, presented_token, read_body, revoke
from .models import AuthToken
from .state import STATS

FLOW = "npm"
CHALLENGE = "Bearer"


def _authenticated(request: HttpRequest) -> tuple[AuthToken | None, HttpResponse | None]:
    """The request's active Bearer token, or the 401 to answer instead."""
    key, why = presented_token(request, ("bearer",))
    token = None
    if key is not None:
        token, why = check_token(key)
    if token is None:
        return None, error(401, why, key="error", challenge=CHALLENGE)
    return token, None


@csrf_exempt
@counted(FLOW, "/-/user/org.couchdb.user:{name}", ["PUT"])
def add_user(request: HttpRequest, name: str) -> HttpResponse:
    try:
        data = read_body(request)
        if data.get("name", name) != name:
            raise ValueError(f"the body's name {data.get('name')!r} is not the URL's {name!r}")
        username, password = credentials({**data, "name": name}, "name")
    except ValueError as exc:
        return error(400, str(exc), key="error")
    user = authenticate(request, username=username, password=password)
    if user is None:
        STATS.event(FLOW, "login_failures")
        return error(401, "bad username/password, access denied", key="error", challenge=CHALLENGE)
    token, _ = issue_token(user, FLOW)
    STATS.event(FLOW, "logins")
    return JsonResponse({"ok": True, "id": f"org.couchdb.user:{name}", "token": token.key}, status=201)


@csrf_exempt
@counted(FLOW, "/-/whoami", ["GET"])
def whoami(request: HttpRequest) -> HttpResponse:
    token, refusal = _authenticated(request)
    if token is None:
        return refusal
    return JsonResponse({"username": token.user.get_username()})


@csrf_exempt
@counted(FLOW, "/-/user/token/{token}", ["DELETE"])
def delete_token(request: HttpRequest, key: str) -> HttpResponse:
    token, refusal = _authenticated(request)
    if token is None:
        return refusal
    target, _ = check_token(key)
    if target is None or target.user.pk != token.user.pk:
        return error(404, "token not found", key="error")
    revoke(target)
    STATS.event(FLOW, "logouts")
    return JsonResponse({"ok": True})
