"""A minimal Django project running django-oauth-toolkit as a real OAuth2 server for the tests.

Started by ``tests/servers/oauth.py`` (``bootstrap`` sets up the database, gunicorn serves ``wsgi``);
everything it needs comes from ``MYCLIENT_OAUTH_*`` environment variables, see ``settings``.
Django ships no type information, hence the ``# type: ignore[import-untyped]`` on its imports.
"""
