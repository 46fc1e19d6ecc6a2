"""Real servers for the integration tests, started on 127.0.0.1 on free ports.

Each module starts one kind of server in the same style, on top of the
generic helpers in :mod:`._proc` (``ManagedProcess``: start / wait-ready /
stop / log-tail):

* :mod:`.httpbin` - httpbin under gunicorn (in-process werkzeug fallback);
* :mod:`.pki` - a throw-away test CA, server and client certificates;
* :mod:`.nginx` - nginx as an API gateway (key header, HTTPS, mTLS) in front
  of httpbin.

``tests/conftest.py`` turns them into session-scoped pytest fixtures.
"""

from ._proc import (
    HarnessError,
    InProcessWSGIServer,
    ManagedProcess,
    ServerStartError,
    ServerUnavailable,
    free_port,
    http_probe,
    retry_on_port_conflict,
    tcp_probe,
)
from .httpbin import HttpbinServer, start_httpbin
from .nginx import GATEWAY_HEADER, GATEWAY_KEY, Gateway, NginxGateway, find_nginx, start_gateway
from .pki import PKI, create_pki, find_openssl

__all__ = [
    "GATEWAY_HEADER",
    "GATEWAY_KEY",
    "PKI",
    "Gateway",
    "HarnessError",
    "HttpbinServer",
    "InProcessWSGIServer",
    "ManagedProcess",
    "NginxGateway",
    "ServerStartError",
    "ServerUnavailable",
    "create_pki",
    "find_nginx",
    "find_openssl",
    "free_port",
    "http_probe",
    "retry_on_port_conflict",
    "start_gateway",
    "start_httpbin",
    "tcp_probe",
]
