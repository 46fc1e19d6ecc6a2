"""URLs: django-oauth-toolkit under ``/o/``, the login page, the protected and test-only views.

``/test/token-state`` reports a token's state (:mod:`oauth_project.token_state`); ``/stats`` and
``/stats/reset`` are answered by :mod:`oauth_project.stats`'s middleware.
"""

from django.contrib.auth.views import LoginView  # type: ignore[import-untyped]
from django.urls import include, path  # type: ignore[import-untyped]

from . import token_state, views

urlpatterns = [
    path("", views.index, name="index"),
    path("o/", include("oauth2_provider.urls", namespace="oauth2_provider")),
    path("accounts/login/", LoginView.as_view(), name="login"),
    path("api/me", views.MeView.as_view(), name="me"),
    path("api/classic", views.ClassicView.as_view(), name="classic"),
    path("api/forbid-invalid-token", views.ForbidInvalidTokenView.as_view(), name="forbid-invalid-token"),
    path("api/forbid-plain", views.forbid_plain, name="forbid-plain"),
    path("broken/token", views.broken_token, name="broken-token"),
    path("", include("login_api.urls")),
    path("test/token-state", token_state.token_state, name="token-state"),
]
