"""The app configuration of :mod:`login_api`."""

# mypy: allow-subclassing-any

from django.apps import AppConfig  # type: ignore[import-untyped]


class LoginApiConfig(AppConfig):
    """``login_api``: no migrations module, so ``migrate --run-syncdb`` creates its tables."""

    name = "login_api"
    default_auto_field = "django.db.models.BigAutoField"
