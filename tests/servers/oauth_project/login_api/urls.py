"""URLs of the login app, included at the project's root (see each view module for what they answer)."""

from django.urls import path  # type: ignore[import-untyped]

from . import control, npm, sessions, tokens

urlpatterns = [
    # Token API (DRF-token style).
    path("api/auth/login", tokens.login, name="login-api-login"),
    path("api/auth/me", tokens.me, name="login-api-me"),
    path("api/auth/logout", tokens.logout, name="login-api-logout"),
    path("api/items", tokens.items, name="login-api-items"),
    # npm / Verdaccio registry login.
    path("-/user/org.couchdb.user:<str:name>", npm.add_user, name="login-npm-add-user"),
    path("-/user/token/<str:key>", npm.delete_token, name="login-npm-delete-token"),
    path("-/whoami", npm.whoami, name="login-npm-whoami"),
    # Session login with CSRF.
    path("session/csrf", sessions.csrf, name="login-session-csrf"),
    path("session/login", sessions.login, name="login-session-login"),
    path("session/whoami", sessions.whoami, name="login-session-whoami"),
    path("session/items", sessions.items, name="login-session-items"),
    path("session/logout", sessions.logout, name="login-session-logout"),
    # Test control (no authentication; this test project only).
    path("api/_test/config", control.config, name="login-test-config"),
    path("api/_test/revoke_all", control.revoke_all, name="login-test-revoke-all"),
    path("api/_test/users", control.users, name="login-test-users"),
    path("api/_test/stats", control.stats, name="login-test-stats"),
    path("api/_test/reset", control.reset, name="login-test-reset"),
]
