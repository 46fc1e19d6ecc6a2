"""Protected resources and test-only endpoints of the test OAuth2 server.

* :class:`MeView` (``/api/me``) - django-oauth-toolkit's ``ProtectedResourceMetadataView``: a bad
  token is a 401 with ``WWW-Authenticate: Bearer error="invalid_token",...``;
* :class:`ClassicView` (``/api/classic``) - the classic ``ProtectedResourceView``: a bare 403;
* :class:`ForbidInvalidTokenView` (``/api/forbid-invalid-token``) - a 403 that carries
  ``WWW-Authenticate: Bearer error="invalid_token"``;
* :func:`forbid_plain` (``/api/forbid-plain``) - always a 403 without that header;
* :func:`broken_token` (``/broken/token``) - a token endpoint answering a 500 HTML page.

On success the protected views return ``{"user": ..., "client_id": ..., "scope": ...}``
(``user`` is null for a client-credentials token).
"""

# Django ships no type information: its views and decorators are Any to mypy.
# mypy: allow-untyped-decorators, allow-subclassing-any

from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseForbidden, JsonResponse  # type: ignore[import-untyped]
from django.views.decorators.csrf import csrf_exempt  # type: ignore[import-untyped]
from oauth2_provider.views import ProtectedResourceMetadataView, ProtectedResourceView  # type: ignore[import-untyped]
from oauth2_provider.www_authenticate import build_bearer_challenge  # type: ignore[import-untyped]


class _TokenInfoMixin:
    """Keeps oauthlib's verified request and answers GET/POST with what the token grants."""

    oauthlib_request: Any = None

    def verify_request(self, request: HttpRequest) -> tuple[bool, Any]:
        valid, oauthlib_request = super().verify_request(request)  # type: ignore[misc]
        self.oauthlib_request = oauthlib_request
        return valid, oauthlib_request

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        token = self.oauthlib_request.access_token
        user = token.user.get_username() if token.user is not None else None
        return JsonResponse({"user": user, "client_id": token.application.client_id, "scope": token.scope})

    post = get


class MeView(_TokenInfoMixin, ProtectedResourceMetadataView):
    """``/api/me``: RFC 6750 401 + ``WWW-Authenticate`` challenge on a missing or bad token."""


class ClassicView(_TokenInfoMixin, ProtectedResourceView):
    """``/api/classic``: the classic view, a bare 403 on a missing or bad token."""


class ForbidInvalidTokenView(_TokenInfoMixin, ProtectedResourceView):
    """``/api/forbid-invalid-token``: 403 with ``Bearer error="invalid_token"`` on any bad token."""

    def unauthenticated_response(self, request: HttpRequest, oauthlib_request: Any = None) -> HttpResponse:
        error = getattr(oauthlib_request, "oauth2_error", None) or {"error": "invalid_token"}
        response = HttpResponseForbidden()
        response["WWW-Authenticate"] = build_bearer_challenge(request, oauth2_error=error, resource_metadata_url=None)
        return response


@csrf_exempt
def forbid_plain(request: HttpRequest) -> HttpResponse:
    """``/api/forbid-plain``: always 403, no ``WWW-Authenticate``."""
    return HttpResponseForbidden()


BROKEN_PAGE = """<!DOCTYPE html>
<html><head><title>500 Internal Server Error</title></head>
<body><h1>Internal Server Error</h1><p>The token service is having a bad day.</p></body></html>
"""


@csrf_exempt
def broken_token(request: HttpRequest) -> HttpResponse:
    """``/broken/token``: a token endpoint that answers a 500 HTML error page."""
    return HttpResponse(BROKEN_PAGE, status=500, content_type="text/html; charset=utf-8")


def index(request: HttpRequest) -> HttpResponse:
    """``/``: says which server this is (the readiness probe, and where logins land)."""
    return JsonResponse({"server": "myclient test OAuth2 server (django-oauth-toolkit)"})
