"""The database side of the login API: issued tokens and the items the protected endpoints store.

Tokens live in the database (not in memory) so that revocation, expiry and ``revoke_all`` are
server-side facts every gunicorn thread sees.
"""

# mypy: allow-subclassing-any

from django.conf import settings  # type: ignore[import-untyped]
from django.db import models  # type: ignore[import-untyped]


class AuthToken(models.Model):
    """A login token: 40 hex digits, valid until ``expires`` (``None``: forever) unless ``revoked``."""

    key = models.CharField(max_length=40, primary_key=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="login_api_tokens")
    flow = models.CharField(max_length=16)
    """Which login issued it: ``token`` (``/api/auth/login``) or ``npm``."""
    created = models.DateTimeField()
    expires = models.DateTimeField(null=True)
    revoked = models.DateTimeField(null=True)


class Item(models.Model):
    """A JSON object stored through ``POST /api/items`` or ``POST /session/items``."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="login_api_items")
    flow = models.CharField(max_length=16)
    data = models.JSONField()
