"""Writing Python text: docstrings from untrusted spec prose, calls and signatures wrapped at 120 columns, values.

Everything a spec says ends up in a docstring or a string literal, never in code: text is cleaned of control
characters and lone surrogates, ``\"\"\"`` cannot close a docstring early, and backslashes get a raw docstring.
A code line that still cannot fit (an unbreakable literal) gets ``# noqa: E501``.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Union

from ._types import py_str

__all__ = ["WIDTH", "Block", "call", "clean", "docstring", "finish_file", "pack", "py_value", "signature"]

WIDTH = 120


def clean(text: Any) -> str:
    """Spec prose made safe for a docstring: printable text, tabs as spaces, no ``\"\"\"``."""
    raw = str(text or "").replace("\r\n", "\n").replace("\r", "\n").replace("\t", "    ")
    safe = "".join(ch if ch == "\n" or (ch.isprintable() and not 0xD800 <= ord(ch) <= 0xDFFF) else " " for ch in raw)
    return safe.replace('"""', "'''").strip()


def docstring(paragraphs: Sequence[str], indent: str) -> list[str]:
    """A docstring's lines: the summary line, then the other paragraphs wrapped, blank lines between.

    The first paragraph is the summary (capitalized); one too long for a line is cut there and given in full
    below it.
    """
    width = WIDTH - len(indent)
    texts = [t for t in (clean(p) for p in paragraphs) if t] or ["."]
    prefix = 'r"""' if any("\\" in t for t in texts) else '"""'
    summary = " ".join(texts[0].split())
    summary = summary[:1].upper() + summary[1:]
    room = width - len(prefix) - 3
    if len(summary) > room:
        texts = [summary[: room - 1].rsplit(" ", 1)[0] + "…", summary, *texts[1:]]
    else:
        texts[0] = summary
    if len(texts) == 1 and not summary.endswith('"'):
        return [f'{indent}{prefix}{summary}"""']
    lines = [f"{indent}{prefix}{texts[0]}"]
    for text in texts[1:]:
        lines.append("")
        for line in text.split("\n"):
            wrapped = textwrap.wrap(line, width, break_on_hyphens=False) or [""]
            lines += [f"{indent}{part}".rstrip() for part in wrapped]
    return [*lines, f'{indent}"""']


@dataclass(frozen=True)
class Block:
    """A bracketed argument (``[...]``, ``{...}``) whose items may go on their own lines."""

    opener: str
    items: tuple[str, ...]
    closer: str

    def flat(self) -> str:
        return self.opener + ", ".join(self.items) + self.closer


Arg = Union[str, Block]


def _text(arg: Arg) -> str:
    return arg.flat() if isinstance(arg, Block) else arg


def pack(items: Sequence[str], indent: str, trailing: str = ",") -> list[str]:
    """Items joined by ", " into lines of at most WIDTH, each line ending with ``trailing``."""
    lines: list[str] = []
    current = ""
    for item in items:
        candidate = f"{current} {item}," if current else f"{item},"
        if current and len(indent) + len(candidate) > WIDTH:
            lines.append(indent + current)
            current = f"{item},"
        else:
            current = candidate
    if current:
        lines.append(indent + current)
    if trailing != ",":
        lines[-1] = lines[-1][:-1] + trailing
    return lines


def call(head: str, args: Sequence[Arg], tail: str, indent: str) -> list[str]:
    """``head(arg, arg)tail`` on one line when it fits, else arguments packed on lines below."""
    flat = f"{indent}{head}{', '.join(_text(a) for a in args)}{tail}"
    if len(flat) <= WIDTH:
        return [flat]
    inner = indent + "    "
    lines = [f"{indent}{head}"]
    pending: list[str] = []
    for arg in args:
        if isinstance(arg, Block) and len(inner) + len(arg.flat()) + 1 > WIDTH:
            lines += pack(pending, inner)
            pending = []
            lines.append(f"{inner}{arg.opener}")
            lines += pack(arg.items, inner + "    ")
            lines.append(f"{inner}{arg.closer},")
        else:
            pending.append(_text(arg))
    lines += pack(pending, inner)
    lines.append(f"{indent}{tail.lstrip(',')}" if tail else indent)
    return lines


def signature(indent: str, name: str, params: Sequence[str], returns: str) -> list[str]:
    """A ``def`` line, or the parameters packed below it when it is too long."""
    flat = f"{indent}def {name}({', '.join(params)}) -> {returns}:"
    if len(flat) <= WIDTH:
        return [flat]
    return [f"{indent}def {name}(", *pack(params, indent + "    "), f"{indent}) -> {returns}:"]


def py_value(value: Any, indent: str = "", width: int = WIDTH) -> str:
    """A JSON-like value as Python source (dict order kept), one item per line when it does not fit."""
    flat = _flat_value(value)
    if len(indent) + len(flat) <= width or not isinstance(value, (Mapping, list)) or not value:
        return flat
    inner = indent + "    "
    if isinstance(value, Mapping):
        items = [f"{inner}{py_str(str(k))}: {py_value(v, inner, width)}," for k, v in value.items()]
        return "{\n" + "\n".join(items) + f"\n{indent}}}"
    items = [f"{inner}{py_value(v, inner, width)}," for v in value]
    return "[\n" + "\n".join(items) + f"\n{indent}]"


def _flat_value(value: Any) -> str:
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{py_str(str(k))}: {_flat_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_flat_value(v) for v in value) + "]"
    if isinstance(value, str):
        return py_str(value)
    if value is None or isinstance(value, (bool, int, float)):
        return repr(value)
    return py_str(str(value))


def finish_file(lines: Sequence[str]) -> str:
    """The file's text: trailing spaces dropped, ``# noqa: E501`` on a code line that cannot be wrapped."""
    out: list[str] = []
    in_doc = False
    for line in lines:
        line = line.rstrip()
        quotes = line.count('"""')
        if not in_doc and quotes != 1 and len(line) > WIDTH and "# noqa" not in line:
            line += "  # noqa: E501"
        if quotes % 2 == 1:
            in_doc = not in_doc
        out.append(line)
    return "\n".join(out).rstrip("\n") + "\n"
