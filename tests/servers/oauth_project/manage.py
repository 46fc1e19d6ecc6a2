#!/usr/bin/env python3
"""Django's command-line utility for the test OAuth2 server (set the ``MYCLIENT_OAUTH_*`` variables first)."""

import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oauth_project.settings")
    from django.core.management import execute_from_command_line  # type: ignore[import-untyped]

    execute_from_command_line(sys.argv)
