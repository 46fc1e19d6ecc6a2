"""Test-only login endpoints next to the OAuth2 server: a token API, npm-style login, a session login.

A Django app of the ``oauth_project`` test project, served by the same gunicorn process:

* :mod:`.tokens` - ``/api/auth/*`` and ``/api/items``: a DRF-token style API (``Authorization: Token``
  or ``Bearer``; tokens in the database with a server-side TTL);
* :mod:`.npm` - ``/-/user/...`` and ``/-/whoami``: the npm / Verdaccio registry login;
* :mod:`.sessions` - ``/session/*``: a form or JSON login setting ``sessionid``, CSRF enforced by
  Django's ``CsrfViewMiddleware`` (cookie ``csrftoken``, header ``X-CSRFToken``);
* :mod:`.control` - ``/api/_test/*``: test-control endpoints (configuration, revoke-all, users,
  statistics), without authentication: they exist only in this test project.

:mod:`.state` holds the request statistics and the configuration; ``tests/servers/login.py`` is the
harness side (URLs, credentials, control calls). Django ships no type information, hence the
``# type: ignore[import-untyped]`` on its imports.
"""
