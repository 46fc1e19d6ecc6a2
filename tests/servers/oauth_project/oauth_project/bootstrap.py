"""Prepare a fresh database: ``python -m oauth_project.bootstrap SPEC.json``.

Runs ``migrate --run-syncdb`` (the settings turn migrations off), creates the user and runs
``createapplication`` once per application in the spec, all in one process (each ``manage.py``
run would cost a Django start-up). The spec (written by ``servers.oauth``)::

    {"user": {"username": ..., "password": ...},
     "applications": [{"client_type": ..., "grant_type": ..., "client_id": ..., "name": ...,
                       "client_secret": ... (optional), "redirect_uris": ... (optional),
                       "skip_authorization": true/false}, ...]}
"""

import io
import json
import os
import sys
from pathlib import Path


def main(spec_path: str) -> int:
    spec = json.loads(Path(spec_path).read_text(encoding="utf-8"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oauth_project.settings")
    import django  # type: ignore[import-untyped]

    django.setup()
    from django.contrib.auth import get_user_model  # type: ignore[import-untyped]
    from django.core.management import call_command  # type: ignore[import-untyped]

    call_command("migrate", interactive=False, run_syncdb=True, verbosity=0)
    user = spec["user"]
    get_user_model().objects.create_user(user["username"], password=user["password"])
    for app in spec["applications"]:
        options = {key: app[key] for key in ("client_id", "client_secret", "redirect_uris", "name") if app.get(key)}
        out = io.StringIO()
        call_command(
            "createapplication",
            app["client_type"],
            app["grant_type"],
            skip_authorization=bool(app.get("skip_authorization")),
            stdout=out,
            **options,
        )
        # createapplication reports validation errors on stdout and still exits normally.
        if "created successfully" not in out.getvalue():
            print(f"createapplication {app['client_id']} failed:\n{out.getvalue()}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} SPEC.json")
    sys.exit(main(sys.argv[1]))
