"""Test-control endpoints under ``/api/_test/``: no authentication, no CSRF, not counted in the statistics.

They exist only in this test project:

* ``GET /api/_test/config`` - the configuration ``{"ttl", "anonymous_status"}``;
  ``POST /api/_test/config`` - JSON with some of those keys: ``ttl`` (seconds, may be fractional;
  ``0`` issues already expired tokens, ``null`` never-expiring ones) applies to tokens issued from
  now on; ``anonymous_status`` (401 or 403) is what session endpoints answer without a session.
  Answers the whole configuration; a bad value or unknown key is a 400 ``{"detail"}``;
* ``POST /api/_test/revoke_all`` - revokes every active token and ends every session opened by
  ``/session/login``: ``{"tokens": n, "sessions": m}``;
* ``POST /api/_test/users`` - JSON ``{"username", "password"}``: creates the user (201) or sets its
  password (200), ``{"id", "username"}``; any string works, not only what Django's forms allow;
* ``GET /api/_test/stats`` - the counters of :class:`~login_api.state.LoginStats`;
* ``POST /api/_test/reset`` - zeroes the counters, restores the default configuration and deletes
  every stored item; answers ``{"config", "stats"}``.
"""

# Django ships no type information: its decorators are Any to mypy.
# mypy: allow-untyped-decorators

from django.contrib.auth import get_user_model  # type: ignore[import-untyped]
from django.contrib.sessions.models import Session  # type: ignore[import-untyped]
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse  # type: ignore[import-untyped]
from django.utils import timezone  # type: ignore[import-untyped]
from django.views.decorators.csrf import csrf_exempt  # type: ignore[import-untyped]

from .common import credentials, error, read_body
from .models import AuthToken, Item
from .sessions import SESSION_MARKER
from .state import CONFIG, STATS, validate_config


@csrf_exempt
def config(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return JsonResponse(CONFIG.get())
    if request.method != "POST":
        return HttpResponseNotAllowed(["GET", "POST"])
    try:
        changes = validate_config(read_body(request))
    except ValueError as exc:
        return error(400, str(exc))
    return JsonResponse(CONFIG.update(changes))


@csrf_exempt
def revoke_all(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    tokens = AuthToken.objects.filter(revoked__isnull=True).update(revoked=timezone.now())
    marked = [s.pk for s in Session.objects.filter(expire_date__gt=timezone.now()) if SESSION_MARKER in s.get_decoded()]
    Session.objects.filter(pk__in=marked).delete()
    return JsonResponse({"tokens": tokens, "sessions": len(marked)})


@csrf_exempt
def users(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        username, password = credentials(read_body(request))
    except ValueError as exc:
        return error(400, str(exc))
    user, created = get_user_model().objects.get_or_create(username=username)
    user.set_password(password)
    user.save()
    return JsonResponse({"id": user.pk, "username": user.get_username()}, status=201 if created else 200)


@csrf_exempt
def stats(request: HttpRequest) -> HttpResponse:
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    return JsonResponse(STATS.snapshot())


@csrf_exempt
def reset(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    STATS.reset()
    CONFIG.reset()
    Item.objects.all().delete()
    return JsonResponse({"config": CONFIG.get(), "stats": STATS.snapshot()})
