"""Python types as small immutable trees, and how they are written in generated code.

A ``Type`` is ``Any``, a builtin (``str``, ``int``, ``None``, ``bytes``…), a model reference, ``list[T]``,
``dict[str, T]``, ``Literal[...]`` or a union. ``union()`` normalizes (flattens, merges literals, drops
duplicates, puts ``None`` last, lets ``Any`` absorb the rest), so equal types render to equal text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Union

__all__ = ["ANY", "NONE", "Type", "atom", "dict_of", "list_of", "literal", "literal_text", "py_str", "ref", "render",
           "union"]

LiteralValue = Union[str, int, bool]


@dataclass(frozen=True)
class Type:
    """One type: ``kind`` is any, atom (a builtin), ref (a model), list, dict, literal or union."""

    kind: str
    name: str = ""
    args: tuple[Type, ...] = ()
    values: tuple[LiteralValue, ...] = ()

    def refs(self) -> Iterable[str]:
        """The model names this type mentions."""
        if self.kind == "ref":
            yield self.name
        for arg in self.args:
            yield from arg.refs()


ANY = Type("any")
NONE = Type("atom", "None")


def atom(name: str) -> Type:
    """A builtin type written by name: ``str``, ``int``, ``float``, ``bool``, ``bytes``, ``IO[bytes]``."""
    return Type("atom", name)


def ref(name: str) -> Type:
    """A model of the generated ``models`` module."""
    return Type("ref", name)


def list_of(item: Type) -> Type:
    """``list[item]``."""
    return Type("list", args=(item,))


def dict_of(value: Type) -> Type:
    """``dict[str, value]``: a JSON object with free-form keys."""
    return Type("dict", args=(value,))


def _key(value: LiteralValue) -> tuple[str, LiteralValue]:
    return (type(value).__name__, value)  # 1 and True are different literals


def literal(values: Iterable[LiteralValue]) -> Type:
    """``Literal[...]`` of the distinct values, in their first order."""
    seen: dict[tuple[str, LiteralValue], LiteralValue] = {}
    for value in values:
        seen.setdefault(_key(value), value)
    return Type("literal", values=tuple(seen.values())) if seen else ANY


def union(*types: Type) -> Type:
    """The union of ``types``, normalized: nested unions flattened, literals merged, ``None`` last."""
    flat: list[Type] = []
    for item in types:
        flat.extend(item.args if item.kind == "union" else (item,))
    if not flat or any(item.kind == "any" for item in flat):
        return ANY
    values = [v for item in flat if item.kind == "literal" for v in item.values]
    members: list[Type] = []
    merged = False
    for item in flat:
        if item.kind == "literal":
            if not merged:
                members.append(literal(values))
                merged = True
        elif item not in members and item != NONE:
            members.append(item)
    if NONE in flat:
        members.append(NONE)
    return members[0] if len(members) == 1 else Type("union", args=tuple(members))


def py_str(text: str) -> str:
    """``text`` as a Python string literal (double quotes unless the text holds them), every character safe."""
    quote = "'" if '"' in text and "'" not in text and '"""' not in text else '"'
    out = []
    for ch in text:
        if ch == "\\" or ch == quote:
            out.append("\\" + ch)
        elif ch.isprintable() and not 0xD800 <= ord(ch) <= 0xDFFF:
            out.append(ch)
        else:
            out.append(repr(ch)[1:-1])  # \x00, \u2028, \udc80: escaped as Python writes them
    return quote + "".join(out) + quote


def literal_text(value: LiteralValue) -> str:
    """A literal value as Python source."""
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, int):
        return str(value)
    return py_str(value)


def render(t: Type, qualify: Callable[[str], str] = str, shadowed: frozenset[str] = frozenset()) -> str:
    """The annotation text of ``t``.

    Model names go through ``qualify`` (``models.User``); builtins named in ``shadowed`` (a method of the class
    has their name) are written ``builtins.<name>``.
    """

    def builtin(name: str) -> str:
        return f"builtins.{name}" if name in shadowed else name

    if t.kind == "any":
        return "Any"
    if t.kind == "atom":
        if t.name == "None":
            return t.name
        return re.sub(r"\b(bytes|str|int|float|bool|tuple)\b", lambda m: builtin(m.group(1)), t.name)
    if t.kind == "ref":
        return qualify(t.name)
    if t.kind == "list":
        return f"{builtin('list')}[{render(t.args[0], qualify, shadowed)}]"
    if t.kind == "dict":
        return f"{builtin('dict')}[{builtin('str')}, {render(t.args[0], qualify, shadowed)}]"
    if t.kind == "literal":
        return "Literal[" + ", ".join(literal_text(v) for v in t.values) + "]"
    return " | ".join(render(arg, qualify, shadowed) for arg in t.args)
