"""WSGI entry point (``oauth_project.wsgi:application``) for gunicorn."""

import os

from django.core.wsgi import get_wsgi_application  # type: ignore[import-untyped]

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oauth_project.settings")

application = get_wsgi_application()
