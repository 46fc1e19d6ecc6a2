"""Writing ``models.py``: every definition of the ModelSet as a TypedDict or a type alias, sorted by name.

A TypedDict with required and optional keys is two classes (a ``total=True`` base holding the required keys, a
``total=False`` class adding the rest), which needs nothing newer than Python 3.10. Keys that cannot be
written in a class body (``@type``, ``x-rate``, ``from``, ``__meta``) use the functional ``TypedDict("Name",
{...})`` syntax. Annotations are lazy (``from __future__ import annotations``); values evaluated at import time
(aliases, functional TypedDicts) are quoted whenever they name a model, so definition order never matters.
"""

from __future__ import annotations

from collections.abc import Sequence

from ._format import WIDTH, Block, call, clean, docstring, pack
from ._names import is_identifier
from ._schemas import AliasDef, Definition, Field, TypedDictDef
from ._types import Type, literal_text, py_str, render

__all__ = ["models_module"]


class Imports:
    """The ``typing`` names a module's annotations use, found while rendering them."""

    def __init__(self) -> None:
        self.typing: set[str] = set()

    def scan(self, t: Type) -> None:
        """Record what ``t`` needs."""
        if t.kind == "any":
            self.typing.add("Any")
        elif t.kind == "literal":
            self.typing.add("Literal")
        elif t.kind == "atom" and "IO[" in t.name:
            self.typing.add("IO")
        for arg in t.args:
            self.scan(arg)

    def line(self, extra: Sequence[str] = ()) -> str | None:
        """``from typing import ...`` in isort's order (constants, classes, then the rest), or None."""
        names = self.typing | set(extra)
        if not names:
            return None
        order = sorted(names, key=lambda n: (0 if n.isupper() and len(n) > 1 else 1 if n[:1].isupper() else 2, n))
        return "from typing import " + ", ".join(order)


def _value(t: Type, imports: Imports) -> str:
    """A type evaluated at import time: quoted when it names a model (or uses ``|``)."""
    imports.scan(t)
    text = render(t)
    return py_str(text) if any(True for _ in t.refs()) or " | " in text else text


def _class(name: str, bases: str, doc: str, fields: list[Field], imports: Imports) -> list[str]:
    lines = [f"class {name}({bases}):"]
    if doc:
        lines += docstring([doc], "    ")
    for f in fields:
        imports.scan(f.type)
        lines.append(f"    {f.key}: {render(f.type)}")
    if not doc and not fields:
        lines.append("    pass")
    return [*lines, "", ""]


def _functional(name: str, fields: list[Field], total: bool, doc: str, imports: Imports) -> list[str]:
    items = tuple(f"{py_str(f.key)}: {_value(f.type, imports)}" for f in fields)
    args: list[str | Block] = [py_str(name), Block("{", items, "}")]
    if not total:
        args.append("total=False")
    return [*_comment(doc), *call(f"{name} = TypedDict(", args, ")", ""), "", ""]


def _comment(doc: str) -> list[str]:
    """A doc comment (``#: ...``) for what cannot have a docstring."""
    text = " ".join(clean(doc).split())
    return [f"#: {text}"[:WIDTH]] if text else []


def _typed_dict(d: TypedDictDef, imports: Imports) -> list[str]:
    required = [f for f in d.fields if f.required]
    optional = [f for f in d.fields if not f.required]
    doc = clean(d.doc)

    def plain(fields: list[Field]) -> bool:
        return all(is_identifier(f.key) for f in fields)

    if not required or not optional:
        if plain(d.fields):
            return _class(d.name, "TypedDict" if not optional else "TypedDict, total=False", doc, d.fields, imports)
        return _functional(d.name, d.fields, not optional, doc, imports)
    base = f"_{d.name}Required"
    lines = _class(base, "TypedDict", "", required, imports) if plain(required) else _functional(
        base, required, True, "", imports)
    if plain(optional):
        return [*lines, *_class(d.name, f"{base}, total=False", doc, optional, imports)]
    extra = f"_{d.name}Optional"
    return [*lines, *_functional(extra, optional, False, "", imports),
            *_class(d.name, f"{base}, {extra}", doc or f"{d.name}.", [], imports)]


def _alias(d: AliasDef, imports: Imports) -> list[str]:
    imports.typing.add("TypeAlias")
    head = f"{d.name}: TypeAlias = "
    comment = _comment(d.doc)
    value = _value(d.type, imports)
    if len(head) + len(value) <= WIDTH:
        return [*comment, head + value, "", ""]
    t = d.type
    if t.kind == "literal":
        return [*comment, *call(head + "Literal[", [literal_text(v) for v in t.values], "]", ""), "", ""]
    members = list(t.args) if t.kind == "union" else [t]
    quoted = value.startswith(("'", '"'))
    lines = [*comment, head + "("]
    for index, member in enumerate(members):
        text = render(member) if index == 0 else f" | {render(member)}" if quoted else f"| {render(member)}"
        if quoted:
            lines.append(f"    {py_str(text)}")
        elif member.kind == "literal" and len(text) > WIDTH - 8:
            prefix = "" if index == 0 else "| "
            lines += [f"    {prefix}Literal[", *pack([literal_text(v) for v in member.values], "        "), "    ]"]
        else:
            lines.append(f"    {text}")
    return [*lines, ")", "", ""]


def models_module(header: str, title: str, definitions: list[Definition]) -> str:
    """The text of ``models.py``."""
    imports = Imports()
    body: list[str] = []
    for d in definitions:
        body += _typed_dict(d, imports) if isinstance(d, TypedDictDef) else _alias(d, imports)
    if any(isinstance(d, TypedDictDef) for d in definitions):
        imports.typing.add("TypedDict")
    lines = [header, *docstring([f"The data types of {title}.", "JSON objects are TypedDicts (keys spelled as the API "
                                 "spells them), other schemas type aliases."], ""), "",
             "from __future__ import annotations", ""]
    typing_line = imports.line()
    if typing_line:
        lines += [typing_line, ""]
    if body:
        lines += ["", *body] if body[0].startswith("class ") else body  # isort: two blank lines before a class
    while lines and lines[-1] == "":
        lines.pop()
    return "\n".join(lines) + "\n"
