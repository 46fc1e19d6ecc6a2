"""Python names for generated code: CamelCase class names, UPPER constants, and a registry that keeps them unique.

Every name is a pure function of the text it comes from plus what was named before it, and everything is named in
document order, so the same spec always gives the same names.
"""

from __future__ import annotations

import keyword
import re

__all__ = ["Names", "camel", "constant", "is_identifier"]

#: Names a generated module already uses for itself (imports), never given to a model or a group.
RESERVED = frozenset({
    "Any", "IO", "Literal", "TypeAlias", "TypedDict", "TYPE_CHECKING", "Unpack", "Op", "P", "ClassVar",
    "GeneratedClient", "None", "True", "False", "NotImplemented", "Ellipsis",
})


def camel(text: str, fallback: str = "Model") -> str:
    """``"user-profile"`` → ``UserProfile``, ``"getUser"`` → ``GetUser``: a CamelCase identifier from any text."""
    words = re.findall(r"[A-Za-z0-9]+", str(text))
    name = "".join(word[:1].upper() + word[1:] for word in words)
    if not name:
        return fallback
    if name[0].isdigit():
        name = fallback + name
    return name


def constant(text: str) -> str:
    """``"users.get_user"`` → ``_USERS_GET_USER``: a private module constant (never a parameter's name)."""
    return "_" + (re.sub(r"[^0-9A-Za-z]+", "_", text).strip("_").upper() or "OP")


def is_identifier(text: str) -> bool:
    """Whether ``text`` can be written as a bare name in a class body (a TypedDict key, an argument)."""
    return text.isidentifier() and not keyword.iskeyword(text) and not text.startswith("__") and text.isascii()


class Names:
    """One namespace of generated names: ``claim(wanted)`` returns ``wanted``, or ``wanted2``, ``wanted3``, …"""

    def __init__(self, taken: frozenset[str] | set[str] = RESERVED) -> None:
        self._taken: set[str] = set(taken)
        self._lower: set[str] = {name.lower() for name in taken}

    def claim(self, wanted: str) -> str:
        """A name not given before (also unique ignoring case, so file names differ on any file system)."""
        candidate, n = wanted, 2
        while candidate in self._taken or candidate.lower() in self._lower:
            candidate = f"{wanted}{n}"
            n += 1
        self._taken.add(candidate)
        self._lower.add(candidate.lower())
        return candidate

    def __contains__(self, name: object) -> bool:
        return name in self._taken
