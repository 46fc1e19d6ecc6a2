"""Checking generated packages as a user meets them: mypy --strict, ruff, import, and every operation called.

Used by ``tests/integration/test_codegen_corpus.py`` (a seeded sample of the corpus) and
``benchmarks/bench_codegen.py`` (as much of the corpus as asked). Nothing here knows how the generator works:

* request arguments are synthesized from the generated methods' own annotations (read from their text, the
  way a type checker reads them), required ones always;
* the answer a mock transport sends is synthesized from the *document's* response schema, independently of the
  generator, and the value the method returns must equal it and conform to the method's declared return type
  (TypedDict required keys present, literals, unions, lists, dicts, ``None``) — so a wrong type mapping fails;
* the request must use the operation's method and a URL matching its path template, and carry credentials
  exactly when the operation requires a security scheme.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import os
import re
import subprocess
import sys
import typing
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
BASE = "https://api.example.test/base"
RUFF_ARGS = ["--isolated", "--select", "E,F,W,I,B,UP", "--line-length", "120", "--target-version", "py310"]
MYPY_CONFIG = """[mypy]
strict = True
python_version = 3.10
[mypy-myclient.*]
follow_imports = silent
[mypy-oauthlib.*,tqdm.*,vcr.*,yaml.*]
ignore_missing_imports = True
"""


# -- static checks ------------------------------------------------------------------------------------
def _by_package(lines: Iterable[str], out: Path) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in lines:
        match = re.match(r"^(?:\S*/)?([A-Za-z_]\w*)/\w+\.py:\d+", line.replace(str(out) + os.sep, ""))
        if match and (": error:" in line or re.search(r"\b[A-Z]+\d+\b", line)):
            found.setdefault(match.group(1), []).append(line.strip())
    return found


def run_mypy(out: Path, targets: Sequence[str]) -> subprocess.CompletedProcess[str]:
    """``mypy --strict`` (target Python 3.10, myclient as if installed) in ``out`` on ``targets``
    (``-p package`` pairs, file names)."""
    config = out / "mypy.ini"
    config.write_text(MYPY_CONFIG)
    args = [sys.executable, "-m", "mypy", "--config-file", str(config), "--cache-dir", str(out / ".mypy_cache"),
            "--no-error-summary", "--show-error-codes", "--hide-error-context", *targets]
    env = {**os.environ, "MYPYPATH": f"{REPO}{os.pathsep}{out}"}
    return subprocess.run(args, cwd=out, env=env, capture_output=True, text=True, check=False)


def mypy_errors(out: Path, packages: Sequence[str]) -> dict[str, list[str]]:
    """``run_mypy`` over ``packages`` in one run: errors by package."""
    proc = run_mypy(out, [arg for name in packages for arg in ("-p", name)])
    found = _by_package(proc.stdout.splitlines(), out)
    if proc.returncode == 2 and found:  # a blocking error (syntax): check the others without those packages
        rest = [name for name in packages if name not in found]
        return {**found, **(mypy_errors(out, rest) if rest else {})}
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"mypy crashed: {proc.stdout[-1000:]} {proc.stderr[-2000:]}")
    return found


def ruff_errors(out: Path, packages: Sequence[str]) -> dict[str, list[str]]:
    """``ruff check`` (E, F, W, I, B, UP at 120 columns) over ``packages``: errors by package."""
    args = ["ruff", "check", *RUFF_ARGS, "--output-format", "concise", "--no-cache", *packages]
    proc = subprocess.run(args, cwd=out, capture_output=True, text=True, check=False)
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"ruff failed: {proc.stderr[-2000:]}")
    return _by_package(proc.stdout.splitlines(), out)


def build(spec: Any, out: Path, package: str) -> Any:
    """Generate ``package`` from ``spec`` into ``out`` and import it afresh (``out`` must be on sys.path)."""
    from myclient.codegen import write

    write(spec, package, out)
    for name in [m for m in sys.modules if m == package or m.startswith(package + ".")]:
        del sys.modules[name]
    importlib.invalidate_caches()
    return importlib.import_module(package)


# -- reading annotations --------------------------------------------------------------------------------
class _Reader:
    """Turns annotation text (or typing objects) of one generated package into small tuples."""

    def __init__(self, module: Any, models: Any) -> None:
        self.module_ns = vars(module)
        self.models_ns = vars(models)

    def text(self, text: str, ns: Mapping[str, Any]) -> tuple[Any, ...]:
        return self.node(ast.parse(text, mode="eval").body, ns)

    def node(self, node: ast.expr, ns: Mapping[str, Any]) -> tuple[Any, ...]:
        if isinstance(node, ast.Constant):
            return ("none",) if node.value is None else self.text(node.value, self.models_ns)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
            return ("union", (self.node(node.left, ns), self.node(node.right, ns)))
        if isinstance(node, ast.Subscript):
            head = ast.unparse(node.value).removeprefix("builtins.")
            items = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
            if head == "Literal":
                return ("literal", tuple(ast.literal_eval(item) for item in items))
            if head == "list":
                return ("list", self.node(items[0], ns))
            if head == "dict":
                return ("dict", self.node(items[1], ns))
            return ("skip",)  # IO[bytes], tuple[...], myclient.Result is read by the caller
        name = ast.unparse(node)
        return self.value(self._lookup(name, ns), name)

    def _lookup(self, name: str, ns: Mapping[str, Any]) -> Any:
        if name.startswith("models."):
            return ("alias", name[7:]) if isinstance(self.models_ns.get(name[7:]), str) else self.models_ns[name[7:]]
        if name in self.models_ns and ns is self.models_ns:
            return ("alias", name) if isinstance(self.models_ns[name], str) else self.models_ns[name]
        return {"Any": typing.Any, "None": None}.get(name) or getattr(__import__("builtins"), name.split(".")[-1])

    def value(self, obj: Any, name: str = "") -> tuple[Any, ...]:
        if isinstance(obj, tuple) and obj and obj[0] == "alias":
            return obj
        if obj is typing.Any:
            return ("any",)
        if obj is None or obj is type(None):
            return ("none",)
        if isinstance(obj, typing.ForwardRef):
            return self.text(obj.__forward_arg__, self.models_ns)
        if isinstance(obj, str):
            return self.text(obj, self.models_ns)
        if typing.is_typeddict(obj):
            return ("typeddict", obj)
        origin, args = typing.get_origin(obj), typing.get_args(obj)
        if origin is typing.Literal:
            return ("literal", args)
        if origin is typing.Union or type(obj).__name__ == "UnionType":
            return ("union", tuple(self.value(a) for a in args))
        if origin is list:
            return ("list", self.value(args[0]))
        if origin is dict:
            return ("dict", self.value(args[1]))
        if obj in (str, int, float, bool, bytes):
            return ("builtin", obj)
        return ("skip",)

    def alias(self, name: str) -> tuple[Any, ...]:
        return self.text(self.models_ns[name], self.models_ns)

    def fields(self, cls: Any) -> dict[str, tuple[Any, ...]]:
        return {key: self.value(hint) if not isinstance(hint, str) else self.text(hint, self.models_ns)
                for key, hint in cls.__annotations__.items()}


def conforms(value: Any, t: tuple[Any, ...], reader: _Reader, depth: int = 0) -> str | None:
    """None when ``value`` fits the type ``t``, else why not."""
    kind = t[0]
    if kind in ("any", "skip") or depth > 40:
        return None
    if kind == "alias":
        return conforms(value, reader.alias(t[1]), reader, depth + 1)
    if kind == "none":
        return None if value is None else f"{value!r:.60} is not None"
    if kind == "builtin":
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) if t[1] is float else isinstance(
            value, t[1])
        return None if ok else f"{value!r:.60} is not {t[1].__name__}"
    if kind == "literal":
        return None if any(value == v and type(value) is type(v) for v in t[1]) else f"{value!r:.60} not in {t[1]}"
    if kind == "union":
        reasons = [conforms(value, member, reader, depth + 1) for member in t[1]]
        return None if any(r is None for r in reasons) else " and ".join(r for r in reasons if r)[:300]
    if kind == "list":
        if not isinstance(value, list):
            return f"{value!r:.60} is not a list"
        return next((r for r in (conforms(v, t[1], reader, depth + 1) for v in value) if r), None)
    if kind == "dict":
        if not isinstance(value, dict):
            return f"{value!r:.60} is not a dict"
        return next((r for r in (conforms(v, t[1], reader, depth + 1) for v in value.values()) if r), None)
    if kind == "typeddict":
        if not isinstance(value, dict):
            return f"{value!r:.60} is not a dict ({t[1].__name__})"
        missing = sorted(set(t[1].__required_keys__) - set(value))
        if missing:
            return f"{t[1].__name__} lacks required {missing}"
        fields = reader.fields(t[1])
        for key, item in value.items():
            if key in fields:
                reason = conforms(item, fields[key], reader, depth + 1)
                if reason:
                    return f"{t[1].__name__}[{key!r}]: {reason}"
        return None
    return f"unknown type {t!r}"


def synthesize(t: tuple[Any, ...], reader: _Reader, depth: int = 0) -> Any:
    """A value of type ``t`` (required TypedDict keys only): what a caller passes."""
    kind = t[0]
    if kind == "alias":
        return synthesize(reader.alias(t[1]), reader, depth + 1)
    if kind == "builtin":
        return {str: "x", int: 1, float: 1.5, bool: True, bytes: b"x"}[t[1]]
    if kind == "literal":
        return next((v for v in t[1] if v != ""), t[1][0])  # an empty string cannot be a path segment
    if kind == "union":  # a string first: "x" matches the fewest alternatives (a path id that is int | str)
        members = [m for m in t[1] if m[0] != "none"] or [("none",)]
        members.sort(key=lambda m: m != ("builtin", str))
        return synthesize(members[0], reader, depth + 1)
    if kind == "list":
        return [synthesize(t[1], reader, depth + 1)] if depth < 6 else []
    if kind == "dict":
        return {}
    if kind == "typeddict":
        fields = reader.fields(t[1])
        return {key: synthesize(fields[key], reader, depth + 1) for key in sorted(t[1].__required_keys__)}
    if kind == "none":
        return None
    return "x"


# -- answers synthesized from the document ----------------------------------------------------------------
_SAMPLES = {"string": "s", "integer": 7, "number": 2.5, "boolean": False, "null": None}
_TYPED = {"type", "properties", "items", "enum", "$ref", "allOf", "oneOf", "anyOf", "const", "additionalProperties"}
_FORMATS = {"date-time": "2024-01-02T03:04:05Z", "date": "2024-01-02", "uuid": "00000000-0000-4000-8000-000000000000"}


def _flatten(schema: Any, refs: Any, seen: frozenset[str] = frozenset()) -> Any:
    """``schema`` with its refs followed and its allOf parts merged (properties, required, type)."""
    ref = schema.get("$ref") if isinstance(schema, Mapping) else None
    if isinstance(ref, str):
        return _flatten(refs.pointer(ref), refs, seen | {ref}) if ref not in seen else {}
    if not isinstance(schema, Mapping) or not isinstance(schema.get("allOf"), list):
        return schema
    flat: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
    props: dict[str, Any] = dict(flat.get("properties") or {})
    required: list[Any] = list(flat.get("required") or [])
    for part in schema["allOf"]:
        part = _flatten(part, refs, seen)
        if not isinstance(part, Mapping):
            continue
        for key, value in part.items():
            if key == "properties" and isinstance(value, Mapping):
                props.update(value)
            elif key == "required" and isinstance(value, list):
                required += value
            else:
                flat.setdefault(key, value)
    if props:
        flat["properties"] = props
    if required:
        flat["required"] = required
    return flat


def sample(schema: Any, refs: Any, depth: int = 0) -> Any:
    """A JSON value valid for ``schema`` (every property down to a few levels, required ones always)."""
    schema = _flatten(schema, refs)
    if not isinstance(schema, Mapping) or depth > 14:
        return None
    kinds = schema.get("type")
    if depth >= 2 and (schema.get("nullable") is True or (isinstance(kinds, list) and "null" in kinds)):
        return None  # nested nullable values are null, as servers send them
    props = schema.get("properties") if isinstance(schema.get("properties"), Mapping) else {}
    merged: dict[str, Any] = {}
    for keyword in ("oneOf", "anyOf"):
        members = [m for m in schema.get(keyword) or [] if isinstance(refs.resolve(m), Mapping)]
        typed = [m for m in members if set(refs.resolve(m)) & _TYPED]
        if typed:
            value = sample(typed[0], refs, depth + 1)
            if not isinstance(value, dict) or not props:
                return value
            merged.update(value)
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return next((v for v in schema["enum"] if v is not None), None)
    if "const" in schema:
        return schema["const"]
    kinds = schema.get("type")
    kind = next((k for k in kinds if k != "null"), "null") if isinstance(kinds, list) else kinds
    if kind == "object" or props or (kind is None and ("additionalProperties" in schema or "properties" in schema)):
        required = set(schema.get("required") or []) if isinstance(schema.get("required"), list) else set()
        for key, value in props.items():
            if key in required or depth < 4:
                merged[str(key)] = sample(value, refs, depth + 1)
        return merged
    if kind == "array" or (kind is None and "items" in schema):
        return [sample(schema.get("items"), refs, depth + 1)] if depth < 6 else []
    if kind == "string" and schema.get("format") in _FORMATS:
        return _FORMATS[schema["format"]]
    return _SAMPLES.get(str(kind), {"free": "form"}) if kind is not None or not schema else "s"


def _success(op: Any) -> tuple[int, Any]:
    statuses = sorted(s for s in op.responses if s.startswith("2"))
    status = statuses[0] if statuses else "default" if "default" in op.responses else None
    if status is None:
        return 200, None
    return (int(status) if status.isdecimal() else 200), op.responses[status]


def _answer(op: Any, refs: Any) -> tuple[int, dict[str, str], bytes | None, Any]:
    """The mock answer for ``op`` and what the call must return: status, headers, body, expected data."""
    from myclient.results import is_json_type

    status, response = _success(op)
    if op.method == "HEAD" or response is None or response.media_type is None or status in (204, 205):
        return (204 if response is None or status == 200 else status), {}, None, None
    if is_json_type(response.media_type) or response.media_type == "*/*":
        value = sample(response.schema, refs) if response.schema is not None else {"free": "form"}
        media = response.media_type if response.media_type != "*/*" else "application/json"
        return status, {"Content-Type": media}, json.dumps(value).encode(), value
    if response.media_type.lower().startswith("text/"):
        return status, {"Content-Type": response.media_type}, b"text", "text"
    return status, {"Content-Type": response.media_type}, b"\x89bin", b"\x89bin"


def _credentials(schemes: Mapping[str, Any]) -> dict[str, Any]:
    basic = ("user", "user-pass-3b9d1f")  # a weak password such as "pass" would be masked in every later message
    return {name: basic if s.get("type") == "http" and str(s.get("scheme", "")).lower() == "basic"
            else "secret-value" for name, s in schemes.items()}


def _template(path: str) -> re.Pattern[str]:
    """The URLs (under BASE) a path template allows; a query written into the template must be kept."""
    parts = re.split(r"(\{[^{}]+\})", path)
    pattern = "".join("[^/?]+" if p.startswith("{") else re.escape(p) for p in parts)
    return re.compile("^" + re.escape(BASE) + pattern + ("(&.*)?$" if "?" in path else r"(\?.*)?$"))


def exercise(package: str, spec: Path) -> list[str]:
    """Call every operation of the imported ``package`` (and its ``_detailed`` twin); the problems found."""
    from myclient.codegen.runtime import GeneratedClient, Op
    from myclient.openapi import SpecModel, read_document
    from myclient.testing.mock import MockResponse, MockTransport

    model = SpecModel(read_document(spec))
    pkg = importlib.import_module(package)
    models = importlib.import_module(f"{package}.models")
    client_cls = next(v for v in vars(pkg).values() if isinstance(v, type) and issubclass(v, GeneratedClient)
                      and v is not GeneratedClient)
    transport = MockTransport()
    creds = _credentials(client_cls.security_schemes)
    client = client_cls(BASE, transport=transport, credentials=creds or None, retry=None)
    by_route = {(op.method, op.path): op for op in model.operations}
    problems: list[str] = []
    for attr, descriptor in vars(client_cls).items():
        cls = getattr(descriptor, "cls", None)
        if cls is None:
            continue
        module = sys.modules[cls.__module__]
        reader = _Reader(module, models)
        group = getattr(client, attr)
        for name, func in vars(cls).items():
            if name.startswith("_") or name.endswith("_detailed") or not callable(func):
                continue
            declared = vars(module).get("_" + name.upper())
            if not isinstance(declared, Op):
                problems.append(f"{attr}.{name}: no Op constant")
                continue
            op = by_route[(declared.method, declared.path)]
            try:
                problem = _call_one(group, name, func, op, model, reader, transport, MockResponse)
            except Exception as exc:  # noqa: BLE001 - every failure is a finding
                problem = f"{type(exc).__name__}: {str(exc)[:200]}"
            if problem:
                problems.append(f"{attr}.{name} ({op.method} {op.path}): {problem}")
    return problems


def _call_one(group: Any, name: str, func: Any, op: Any, model: Any, reader: _Reader, transport: Any,
              answer_cls: Any) -> str | None:
    arguments: dict[str, Any] = {}
    for param in inspect.signature(func).parameters.values():
        if param.kind is param.KEYWORD_ONLY and param.default is param.empty:
            arguments[param.name] = synthesize(reader.text(param.annotation, reader.module_ns), reader)
    status, headers, body, expected = _answer(op, model.refs)
    transport.routes.clear()
    transport.calls.clear()
    transport.add("*", "", answers=[answer_cls(status, body=body, headers=headers)])
    returned = getattr(group, name)(**arguments)
    if returned != expected:
        return f"returned {returned!r:.80}, expected {expected!r:.80}"
    why = conforms(returned, reader.text(func.__annotations__["return"], reader.module_ns), reader)
    if why:
        return f"the answer does not fit the declared type: {why}"
    call = transport.calls[-1]
    if call.method != op.method or not _template(op.path).match(call.url):
        return f"sent {call.method} {call.url}"
    wants_auth = next((bool(r) for r in op.security if not r or all(n in model.security_schemes for n in r)), False)
    if wants_auth != (call.options.auth is not None):
        return f"credentials {'missing' if wants_auth else 'sent'} (security {op.security})"
    detailed = getattr(group, f"{name}_detailed")(**arguments)
    if detailed.data != expected or detailed.status != status:
        return f"{name}_detailed returned {detailed!r}"
    return None
