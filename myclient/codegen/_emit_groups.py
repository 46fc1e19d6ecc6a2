"""Writing the group modules (one ``myclient.ApiGroup`` subclass per tag) and the package's ``__init__.py``.

Each operation is two methods with the same keyword-only arguments, ``name(...) -> T`` and ``name_detailed(...)
-> myclient.Result[T]``, whose bodies are one call of the operation's ``Op`` constant (declared at the end of the
module: method, path, parameters with their wire names and styles, body and response media types, security).
Overriding one operation is subclassing the group and declaring the subclass on a subclass of the client.
"""

from __future__ import annotations

from ._emit_models import Imports
from ._format import WIDTH, Block, call, docstring, py_value, signature
from ._plan import Argument, Group, Method, Plan
from ._types import NONE, Type, py_str, render, union

__all__ = ["group_module", "init_module"]

_BUILTINS = frozenset({"list", "dict", "str", "int", "float", "bool", "bytes", "tuple"})
_DEFAULT_STYLE = {"query": "form", "cookie": "form", "path": "simple", "header": "simple"}
_OPTIONS = "**options: Unpack[myclient.CallOptions]"


class _Typer:
    """Renders types for one group module, recording the imports they need."""

    def __init__(self, shadowed: frozenset[str]) -> None:
        self.imports = Imports()
        self.shadowed = shadowed
        self.models = False

    def __call__(self, t: Type) -> str:
        self.imports.scan(t)
        self.models = self.models or any(True for _ in t.refs())
        return render(t, lambda name: f"models.{name}", self.shadowed)


def _params(arguments: list[Argument], typer: _Typer) -> list[str]:
    params = ["self", "*"] if arguments else ["self"]
    for arg in arguments:
        if arg.required:
            params.append(f"{arg.py}: {typer(arg.type)}")
        else:
            params.append(f"{arg.py}: {typer(union(arg.type, NONE))} = None")
    return [*params, _OPTIONS]


def _doc(method: Method) -> list[str]:
    op = method.op
    paragraphs = [op.summary or op.operation_id or method.name, f"Supported methods: {op.method} {op.path}"]
    if op.deprecated:
        paragraphs.append("Deprecated by the API.")
    described = [f"{arg.py}: {arg.doc}" for arg in method.arguments if arg.doc]
    if described:
        paragraphs.append("\n".join(described))
    return paragraphs


def _overloaded(name: str, params: list[str], returns: str, group: str, body: list[str]) -> list[str]:
    """One method typed for both clients: data on a Client, an awaitable of it on an AsyncClient."""
    lines: list[str] = []
    for adapter, shown in (("Adapter", returns), ("AsyncAdapter", f"Awaitable[{returns}]")):
        stub = signature("    ", name, [f"self: {group}[myclient.{adapter}]", *params[1:]], shown)
        lines += ["    @overload", *stub[:-1], stub[-1] + " ..."]
    return [*lines, *signature("    ", name, params, "Any"), *body]


def _method_lines(method: Method, typer: _Typer, group: str) -> list[str]:
    params = _params(method.arguments, typer)
    returns = typer(method.returns)
    arguments = Block("{", tuple(f"{py_str(a.py)}: {a.py}" for a in method.arguments), "}")
    body = docstring(_doc(method), "        ")
    body += call(f"return {method.constant}.call(", ["self", arguments, "options"], ")", "        ")
    lines = _overloaded(method.name, params, returns, group, body)
    lines.append("")
    body = docstring([f"The same call as {method.name}(), returning a myclient.Result: status, headers, data.",
                      f"Supported methods: {method.op.method} {method.op.path}"], "        ")
    body += call(f"return {method.constant}.call_detailed(", ["self", arguments, "options"], ")", "        ")
    lines += _overloaded(f"{method.name}_detailed", params, f"myclient.Result[{returns}]", group, body)
    return [*lines, ""]


def _param(arg: Argument) -> str:
    param = arg.param
    assert param is not None
    parts = [py_str(param.location), py_str(param.name)]
    if arg.py != param.name:
        parts.append(py_str(arg.py))
    if param.required and param.location != "path":
        parts.append("required=True")
    if param.style != _DEFAULT_STYLE.get(param.location):
        parts.append(f"style={py_str(param.style)}")
    if param.explode != (param.style == "form"):
        parts.append(f"explode={param.explode}")
    return f"P({', '.join(parts)})"


def _op_lines(method: Method, plan: Plan, typer: _Typer, group: Group) -> list[str]:
    op = method.op
    args: list[str | Block] = [py_str(op.method), py_str(op.path), py_str(f"{group.attr}.{method.name}")]
    params = [a for a in method.arguments if a.param is not None]
    params.sort(key=lambda a: op.params.index(a.param) if a.param in op.params else 0)
    if params:
        args.append(Block("[", tuple(_param(a) for a in params), "]"))
    if op.body is not None:
        args.append(f"body={py_str(op.body.media_type)}")
        if op.body.required:
            args.append("body_required=True")
    if op.responses:
        items = tuple(f"{py_str(status)}: {_media(r.media_type)}" for status, r in op.responses.items())
        args.append(Block("responses={", items, "}"))
    if op.security != plan.security:
        args.append(f"security={py_value(op.security)}")
    head = f"{method.constant}: Op[{typer(method.returns)}] = Op("
    return [*call(head, args, ")", ""), ""]


def _media(media: str | None) -> str:
    if media is None:
        return "None"
    return "JSON" if media == "application/json" else py_str(media)


def group_module(header: str, plan: Plan, group: Group) -> str:
    """The text of one group's module."""
    shadowed = frozenset(m.name for m in group.methods) & _BUILTINS
    shadowed |= frozenset(f"{m.name}_detailed" for m in group.methods) & _BUILTINS
    typer = _Typer(shadowed)
    body = [f"class {group.cls}(myclient.ApiGroup[_A]):"]
    body += [*docstring([f"Operations tagged {group.tag!r} of {plan.title}.", group.doc,
                         f"On a Client the methods return data; on an AsyncClient, awaitables of it "
                         f"({group.cls}[myclient.Adapter] and {group.cls}[myclient.AsyncAdapter] to mypy)."],
                        "    "), ""]
    for method in group.methods:
        body += _method_lines(method, typer, group.cls)
    while body[-1] == "":
        body.pop()
    body += ["", ""]
    ops: list[str] = []
    for method in group.methods:
        ops += _op_lines(method, plan, typer, group)
    runtime = ["Op"] + (["P"] if any(m.op.params for m in group.methods) else []) + ["Unpack"]
    if any(r.media_type == "application/json" for m in group.methods for r in m.op.responses.values()):
        runtime.insert(0, "JSON")
    lines = [header, *docstring([f"{group.cls}: the operations tagged {group.tag!r} of {plan.title}."], ""), "",
             "from __future__ import annotations", ""]
    standard = ["import builtins"] if typer.shadowed and any("builtins." in line for line in body + ops) else []
    standard += ["from collections.abc import Awaitable"]
    typing_line = typer.imports.line(("Any", "TypeVar", "overload"))
    standard += [typing_line] if typing_line else []
    lines += [*standard, ""] if standard else []
    lines += ["import myclient", f"from myclient.codegen.runtime import {', '.join(runtime)}", ""]
    if typer.models:
        lines += ["from . import models", ""]
    lines += ['_A = TypeVar("_A")', "", "", *body, *ops]
    while lines[-1] == "":
        lines.pop()
    return "\n".join(lines) + "\n"


def _scheme_doc(name: str, scheme: dict[str, object]) -> str:
    kind = scheme.get("type")
    if kind == "http":
        what = "a (username, password) pair" if str(scheme.get("scheme", "")).lower() == "basic" else "a token"
        return f"{name}: http {scheme.get('scheme', '')}, {what}"
    if kind == "apiKey":
        return f"{name}: an API key sent in the {scheme.get('in')} as {scheme.get('name')!r}"
    return f"{name}: {kind}, a token" + (" or {'client_id': ..., 'client_secret': ...}" if "flows" in scheme else "")


def init_module(header: str, plan: Plan, base_url: str | None) -> str:
    """The text of the package's ``__init__.py``: the client class and the re-exports."""
    about = [f"A typed client for {plan.title} {plan.version}, generated by myclient.codegen.".replace("  ", " ")]
    if plan.groups:
        first = plan.groups[0]
        about.append(f"client = {plan.client}({'' if base_url else 'base_url, '}token=...)\n"
                     f"client.{first.attr}.{first.methods[0].name}(...)")
    else:
        about.append("The document describes no operations.")
    lines = [header, *docstring(about, ""), "", "from __future__ import annotations", ""]
    lines += ["import myclient"] if plan.groups else []
    lines += ["from myclient.codegen.runtime import GeneratedAsyncClient, GeneratedClient", "", "from . import models"]
    for g in sorted(plan.groups, key=lambda g: g.module):
        line = f"from .{g.module} import {g.cls}"
        lines += [line] if len(line) <= WIDTH else [f"from .{g.module} import (", f"    {g.cls},", ")"]
    async_client = _async_name(plan.client)
    names = sorted([plan.client, async_client, "models", *(g.cls for g in plan.groups)])
    lines += ["", *call("__all__ = [", [py_str(n) for n in names], "]", ""), "", ""]
    for cls, base, adapter, kind in ((plan.client, "GeneratedClient", "Adapter", "myclient.Client"),
                                     (async_client, "GeneratedAsyncClient", "AsyncAdapter", "myclient.AsyncClient")):
        lines.append(f"class {cls}({base}):")
        doc = [f"{plan.title} {plan.version}: one attribute per group of operations"
               + (" (awaitable: async with ...)." if base == "GeneratedAsyncClient" else "."),
               "Security schemes (credentials={name: ...}; token= fills the bearer ones):\n" + "\n".join(
                   _scheme_doc(name, s) for name, s in plan.schemes.items()) if plan.schemes else "",
               f"Other keyword arguments are {kind} settings (timeout, retry, session, hooks, ...)."]
        lines += [*docstring(doc, "    "), ""]
        lines.append(f"    default_base_url = {py_str(base_url) if base_url else 'None'}")
        if plan.schemes:
            lines.append(f"    security_schemes = {py_value(plan.schemes, '    ')}")
            lines.append(f"    security = {py_value(plan.security, '    ')}")
        lines.append("")
        lines += [f"    {g.attr} = myclient.group({g.cls}[myclient.{adapter}])" for g in plan.groups]
        lines += ["", ""]
    while lines[-1] == "":
        lines.pop()
    return "\n".join(lines) + "\n"


def _async_name(client: str) -> str:
    """``DemoAPIClient`` -> ``DemoAPIAsyncClient``."""
    return client[: -len("Client")] + "AsyncClient" if client.endswith("Client") else client + "Async"
