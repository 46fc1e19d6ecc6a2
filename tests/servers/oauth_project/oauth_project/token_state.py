"""Test-only: what the server's database says about one token, at ``POST /test/token-state``.

A test that revokes a token needs proof from the server itself, without spending the token
(asking for a refresh with it would rotate it if it were still valid). The form field ``token``
is looked up by its checksum, as django-oauth-toolkit does; the answer is
``{"access_token": "active" | "expired" | "absent", "refresh_token": "active" | "revoked" | "absent"}``
(a revoked access token is deleted, so it is ``absent``).
"""

# Django ships no type information: its views and decorators are Any to mypy.
# mypy: allow-untyped-decorators

import hashlib

from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse  # type: ignore[import-untyped]
from django.views.decorators.csrf import csrf_exempt  # type: ignore[import-untyped]
from oauth2_provider.models import get_access_token_model, get_refresh_token_model  # type: ignore[import-untyped]


@csrf_exempt
def token_state(request: HttpRequest) -> HttpResponse:
    """``POST /test/token-state`` with ``token=...``: the token's state as an access and a refresh token."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    checksum = hashlib.sha256(request.POST.get("token", "").encode("utf-8")).hexdigest()
    access = get_access_token_model().objects.filter(token_checksum=checksum).first()
    refreshes = list(get_refresh_token_model().objects.filter(token_checksum=checksum))
    access_state = "absent" if access is None else "expired" if access.is_expired() else "active"
    live = any(r.revoked is None for r in refreshes)
    refresh_state = "absent" if not refreshes else "active" if live else "revoked"
    return JsonResponse({"access_token": access_state, "refresh_token": refresh_state})
