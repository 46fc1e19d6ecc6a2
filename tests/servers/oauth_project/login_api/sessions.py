"""Session login under ``/session/`` with Django's CSRF protection on, as a production Django site over HTTP.

* ``GET /session/csrf`` - sets the ``csrftoken`` cookie; 200 ``{"csrftoken": <a masked token>}``;
* ``POST /session/login`` - a form (``username``, ``password``, CSRF token in the field
  ``csrfmiddlewaretoken`` or the header ``X-CSRFToken``) or JSON (CSRF token in the header): 200
  ``{"id", "username"}`` and the cookie ``sessionid``; Django rotates ``csrftoken`` on login, so the
  token held before no longer passes; bad credentials: 401 ``{"detail"}``; a missing field: 400;
* ``GET /session/whoami`` - 200 ``{"id", "username"}`` with a live session;
* ``GET /session/items`` / ``POST /session/items`` (JSON, CSRF header) - as ``/api/items``, 201;
* ``POST /session/logout`` - ends the session server-side (its row is deleted: the old ``sessionid``
  no longer works), 204; 204 too without a session.

Unsafe methods without a valid CSRF cookie and token, or with an ``Origin`` other than the server's
own, get Django's own 403 HTML page. Without a logged-in session, whoami and items answer
``anonymous_status`` of :data:`~login_api.state.CONFIG` (401 by default, or 403) ``{"detail"}``,
without ``WWW-Authenticate``: session logins have no challenge scheme.

The check is Django's ``CsrfViewMiddleware`` run by ``csrf_protect`` inside :func:`~login_api.common.counted`
(the view itself is ``csrf_exempt`` for the global middleware, which would reject before counting).
"""

# Django ships no type information: its decorators are Any to mypy.
# mypy: allow-untyped-decorators

from django.contrib import auth  # type: ignore[import-untyped]
from django.http import HttpRequest, HttpResponse, JsonResponse  # type: ignore[import-untyped]
from django.middleware.csrf import get_token  # type: ignore[import-untyped]
from django.views.decorators.csrf import (  # type: ignore[import-untyped]
    csrf_exempt,
    csrf_protect,
    ensure_csrf_cookie,
)

from .common import counted, credentials, error, read_body, user_json
from .state import CONFIG, STATS
from .tokens import items_response

FLOW = "session"
SESSION_MARKER = "login_api"
"""Session key set by :func:`login`, so ``revoke_all`` ends only these sessions."""


def _anonymous() -> JsonResponse:
    return error(CONFIG.get()["anonymous_status"], "Not logged in.")


@csrf_exempt
@counted(FLOW, "/session/csrf", ["GET"])
@ensure_csrf_cookie
def csrf(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"csrftoken": get_token(request)})


@csrf_exempt
@counted(FLOW, "/session/login", ["POST"])
@csrf_protect
def login(request: HttpRequest) -> HttpResponse:
    try:
        username, password = credentials(read_body(request))
    except ValueError as exc:
        return error(400, str(exc))
    user = auth.authenticate(request, username=username, password=password)
    if user is None:
        STATS.event(FLOW, "login_failures")
        return error(401, "Invalid username or password.")
    auth.login(request, user)
    request.session[SESSION_MARKER] = True
    STATS.event(FLOW, "logins")
    return JsonResponse(user_json(user))


@csrf_exempt
@counted(FLOW, "/session/whoami", ["GET"])
def whoami(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return _anonymous()
    return JsonResponse(user_json(request.user))


@csrf_exempt
@counted(FLOW, "/session/items", ["GET", "POST"])
@csrf_protect
def items(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return _anonymous()
    return items_response(request, request.user, FLOW)


@csrf_exempt
@counted(FLOW, "/session/logout", ["POST"])
@csrf_protect
def logout(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        auth.logout(request)
        STATS.event(FLOW, "logouts")
    return HttpResponse(status=204)
