"""Config-driven clients: ``myclient.from_config(path_or_dict)`` turns a small YAML/JSON/TOML file into a client.

The file names the base URL, the auth, client settings, and the resources (each a ``Resource`` group with
its path, verbs, pagination style, id field and trailing slash)::

    base_url: https://api.example/v1
    auth: {kind: bearer, token: "${ACME_TOKEN}"}
    settings: {timeout: 10, retry: {attempts: 4}}
    resources:
      users: {path: /users, verbs: [list, get, create], pagination: {style: link}}
      orders: {path: /orders, id_field: number, pagination: {style: cursor, next: meta.next, items: data}}

``${NAME}`` in a string is replaced by the environment variable (secrets stay out of the file; a missing
variable is an error). Every mistake is a ``UsageError`` naming the key it is about
(``resources.users.verbs[2]``); unknown keys are refused so a typo never passes silently.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .client import Client
from .exceptions import UsageError
from .groups import _VERBS, Resource, group

__all__ = ["from_config"]

_TOP = frozenset({"base_url", "auth", "settings", "resources", "name"})
_RESOURCE = frozenset({"path", "verbs", "pagination", "id_field", "trailing_slash"})
_SETTINGS = frozenset({"timeout", "deadline", "retry", "headers", "verify", "cert", "proxies", "idempotency_key",
                       "follow_redirects", "max_redirects", "access_log", "cid_header", "max_body_size"})
_AUTH = {
    "none": set(),
    "bearer": {"token"},
    "basic": {"username", "password"},
    "api_key": {"key", "header", "param"},
    "oauth2_client_credentials": {"token_url", "client_id", "client_secret", "scope"},
    "token_login": {"login_path", "username", "password", "token_path", "token_header", "scheme", "logout_path",
                    "body"},
    "session_login": {"login_path", "username", "password", "csrf_path", "whoami_path", "logout_path", "body"},
}
_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def _read(source: Any) -> tuple[dict[str, Any], str]:
    if isinstance(source, Mapping):
        return dict(source), "config"
    if not isinstance(source, (str, os.PathLike)):
        raise UsageError(f"from_config takes a file path or a dict, got {type(source).__name__}")
    path = Path(os.fspath(source)).expanduser()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read the config file {str(path)!r}: {exc.strerror or exc}") from None
    suffix = path.suffix.lower()
    try:
        if suffix == ".json":
            data = json.loads(text)
        elif suffix == ".toml":
            import importlib

            try:
                tomllib = importlib.import_module("tomllib")
            except ImportError:  # pragma: no cover - Python 3.10
                raise UsageError("TOML config files need Python 3.11+ (tomllib)") from None
            data = tomllib.loads(text)
        else:
            try:
                import yaml
            except ImportError:
                raise UsageError("YAML config files need PyYAML: pip install 'myclient[openapi]'") from None
            data = yaml.safe_load(text)
    except UsageError:
        raise
    except Exception as exc:  # noqa: BLE001 - any parser's error: the file is not valid
        kind = suffix.lstrip(".") or "YAML"
        raise UsageError(f"{path.name} is not valid {kind}: {str(exc).splitlines()[0]}") from None
    if not isinstance(data, dict):
        raise UsageError(f"{path.name} must hold a mapping at its top level")
    return data, path.name


def _expand(value: Any, where: str) -> Any:
    """``${NAME}`` → the environment variable, inside any string of ``value``."""
    if isinstance(value, str):
        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in os.environ:
                raise UsageError(f"{where}: environment variable {name} is not set")
            return os.environ[name]

        return _ENV.sub(replace, value)
    if isinstance(value, Mapping):
        return {k: _expand(v, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, list):
        return [_expand(v, f"{where}[{i}]") for i, v in enumerate(value)]
    return value


def _unknown(mapping: Mapping[str, Any], allowed: frozenset[str] | set[str], where: str) -> None:
    extra = sorted(set(mapping) - set(allowed))
    if extra:
        raise UsageError(f"{where}: unknown key {extra[0]!r} (expected one of {', '.join(sorted(allowed))})")


def _mapping(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise UsageError(f"{where}: must be a mapping, got {type(value).__name__}")
    return value


def _auth(spec: Any) -> Any:
    if spec is None:
        return None
    spec = _mapping(spec, "auth")
    kind = spec.get("kind")
    if kind not in _AUTH:
        raise UsageError(f"auth.kind: must be one of {', '.join(_AUTH)}, got {kind!r}")
    options = {k: v for k, v in spec.items() if k != "kind"}
    _unknown(options, _AUTH[kind], f"auth ({kind})")
    try:
        return _build_auth(str(kind), options)
    except TypeError as exc:
        raise UsageError(f"auth ({kind}): {exc}") from None


def _build_auth(kind: str, o: dict[str, Any]) -> Any:
    from . import auth, logins

    if kind == "none":
        return None
    if kind == "bearer":
        return auth.BearerAuth(o["token"])
    if kind == "basic":
        return auth.BasicAuth(o["username"], o["password"])
    if kind == "api_key":
        return auth.APIKeyAuth(o["key"], header=o.get("header", "X-API-Key"), param=o.get("param"))
    if kind == "oauth2_client_credentials":
        from .grants import ClientCredentials

        return ClientCredentials(o["token_url"], o["client_id"], o["client_secret"], scope=o.get("scope"))
    if kind == "token_login":
        return logins.TokenLogin(**o)
    return logins.SessionLogin(**o)


def _settings(spec: Any) -> dict[str, Any]:
    if spec is None:
        return {}
    settings = dict(_mapping(spec, "settings"))
    _unknown(settings, _SETTINGS, "settings")
    retry = settings.get("retry")
    if isinstance(retry, Mapping):
        from .retry import RetryPolicy

        try:
            settings["retry"] = RetryPolicy(**retry)
        except TypeError as exc:
            raise UsageError(f"settings.retry: {exc}") from None
    if isinstance(settings.get("timeout"), list):
        settings["timeout"] = tuple(settings["timeout"])
    return settings


def _resource(name: str, spec: Any) -> type[Resource]:
    where = f"resources.{name}"
    spec = _mapping(spec, where)
    _unknown(spec, _RESOURCE, where)
    path = spec.get("path")
    if not isinstance(path, str) or not path.startswith("/"):
        raise UsageError(f"{where}.path: must be a path such as '/users', got {path!r}")
    verbs = spec.get("verbs", list(_VERBS))
    if not isinstance(verbs, list):
        raise UsageError(f"{where}.verbs: must be a list of verbs")
    for index, verb in enumerate(verbs):
        if verb not in _VERBS:
            raise UsageError(f"{where}.verbs[{index}]: unknown verb {verb!r} (expected {', '.join(_VERBS)})")
    attributes: dict[str, Any] = {"path": path, "verbs": tuple(verbs), "__doc__": f"The {name} resource at {path}."}
    if "pagination" in spec:
        from .openapi._runtime import strategy_from_hint

        try:
            attributes["pagination"] = strategy_from_hint(spec["pagination"])
        except UsageError as exc:
            raise UsageError(f"{where}.pagination: {exc}") from None
    if "id_field" in spec:
        if not isinstance(spec["id_field"], str) or not spec["id_field"]:
            raise UsageError(f"{where}.id_field: must be a field name")
        attributes["id_field"] = spec["id_field"]
    if "trailing_slash" in spec:
        if not isinstance(spec["trailing_slash"], bool):
            raise UsageError(f"{where}.trailing_slash: must be true or false")
        attributes["trailing_slash"] = spec["trailing_slash"]
    from .openapi._model import snake

    return type(snake(name).title().replace("_", "") or "Resource", (Resource,), attributes)


def from_config(source: Any, **overrides: Any) -> Client:
    """A client from a config file (YAML, JSON or TOML) or dict; keyword arguments override its settings."""
    data, label = _read(source)
    _unknown(data, _TOP, label)
    data = _expand(data, label)
    base_url = data.get("base_url")
    if not isinstance(base_url, str):
        raise UsageError(f"{label}: base_url must be set to the API's URL")
    resources = _mapping(data.get("resources") or {}, "resources")
    namespace: dict[str, Any] = {}
    for name, spec in resources.items():
        from .openapi._model import snake

        attribute = snake(str(name))
        if attribute in ("adapter", "session", "hooks", "base_url", "cid", "login", "logout", "request"):
            raise UsageError(f"resources.{name}: the name is taken by the client itself; choose another")
        namespace[attribute] = group(_resource(str(name), spec))
    title = str(data.get("name") or "Config")
    client_cls = type(re.sub(r"[^0-9A-Za-z]", "", title.title()) + "Client", (Client,), namespace)
    settings = {**_settings(data.get("settings")), **overrides}
    auth = _auth(data.get("auth"))
    if auth is not None and "auth" not in settings and "token" not in settings:
        settings["auth"] = auth
    client: Client = client_cls(base_url, **settings)
    return client
