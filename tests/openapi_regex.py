"""A string that a schema's ``pattern`` matches, made from the regular expression itself.

:func:`sample_regex` walks Python's parse of the pattern (``re._parser``) and writes, for each piece, the
first character it allows: a literal as is, a class's first member (or, negated, a common character it
does not hold), the first branch of an alternation, each repeat its minimum. When the result is shorter
than ``minLength`` the repeats grow until it fits; other branches are tried when the first one cannot be
made to match. Every result is checked with ``re.search`` (the JSON Schema meaning of ``pattern``: not
anchored unless the pattern says so), and the length bounds. :func:`python_pattern` reads ECMAScript and Java
forms Python lacks: ``(?<name>``, ``\\p{L}``-style classes (as ASCII-heavy ranges), ``\\z``. A pattern Python
still cannot parse gives :class:`NoSample`. :func:`matches` checks a value without catastrophic backtracking.
"""

from __future__ import annotations

import re
import signal
import threading
import warnings
from collections.abc import Iterator
from typing import Any

try:
    from re import _parser as sre  # type: ignore[attr-defined]  # Python 3.11+
except ImportError:  # pragma: no cover - Python 3.10
    import sre_parse as sre  # type: ignore[no-redef]

__all__ = ["NoSample", "matches", "python_pattern", "sample_regex"]

_GROW = (0, 1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 128, 256, 512, 1024, 2048)
#: Characters tried, in order, for ``.``, negated classes and NOT_LITERAL.
_COMMON = "aAb0123456789xyzBXYZ_-.:~ "
_CATEGORY_CHARS = {
    "CATEGORY_DIGIT": "1", "CATEGORY_NOT_DIGIT": "a", "CATEGORY_WORD": "a", "CATEGORY_NOT_WORD": "-",
    "CATEGORY_SPACE": " ", "CATEGORY_NOT_SPACE": "a", "CATEGORY_LINEBREAK": "\n", "CATEGORY_NOT_LINEBREAK": "a",
}  # fmt: skip


class NoSample(Exception):
    """No string matching the pattern (within the length bounds) could be made."""


#: ``\\p{...}`` classes as ranges Python reads (ASCII-heavy subsets: enough to make and check examples).
_PROPERTIES = {
    "L": "a-zA-Z\u00c0-\u024f", "Lu": "A-Z", "Ll": "a-z", "Alpha": "a-zA-Z", "N": "0-9", "Nd": "0-9", "Digit": "0-9",
    "Alnum": "a-zA-Z0-9", "Z": " ", "Zs": " ", "Space": " \t\n", "P": "!-/:-@\\[-`{-~", "S": "!-/:-@\\[-`{-~",
    "Punct": "!-/:-@\\[-`{-~", "M": "\u0300-\u036f", "ASCII": "\x00-\x7f", "Print": " -~", "Graph": "!-~",
    "C": "\x00-\x1f\x7f", "Cc": "\x00-\x1f\x7f", "XDigit": "0-9a-fA-F", "LD": "a-zA-Z0-9",
}  # fmt: skip
#: The complements that can stand inside a class (``[\\P{C}\\s]``).
_COMPLEMENTS = {"C": " -~\u00a0-\uffff", "Cc": " -~\u00a0-\uffff", "M": "\x00-\u02ff\u0370-\uffff"}


def python_pattern(pattern: str) -> str:
    """An ECMAScript (or Java) pattern as Python reads it: named groups, ``\\p{...}`` classes, ``\\z``."""
    out: list[str] = []
    in_class = False
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            nxt = pattern[i + 1]
            prop = re.match(r"\{\^?([A-Za-z_]+)\}", pattern[i + 2:]) if nxt in "pP" else None
            if prop and prop.group(1) in _PROPERTIES:
                ranges = _PROPERTIES[prop.group(1)]
                negated = (nxt == "P") != prop.group(0).startswith("{^")
                if in_class and negated:
                    if prop.group(1) not in _COMPLEMENTS:
                        raise NoSample(f"pattern {pattern!r}: a negated property inside a class is not supported")
                    ranges = _COMPLEMENTS[prop.group(1)]
                out.append(ranges if in_class else f"[{'^' if negated else ''}{ranges}]")
                i += 2 + len(prop.group(0))
                continue
            out.append("\\Z" if nxt == "z" else char + nxt)
            i += 2
            if in_class and nxt in "dDwWsS" and pattern.startswith("-", i) and not pattern.startswith("-]", i):
                out.append("\\-")  # ECMAScript reads [\w-.] as \w, "-" and "."; Python refuses the range
                i += 1
            continue
        if char == "[" and not in_class:
            in_class = True
            if pattern.startswith("[^]", i) or pattern.startswith("[]", i):
                raise NoSample(f"pattern {pattern!r}: ECMAScript's []/[^] classes are not supported")
        elif char == "]" and in_class:
            in_class = False
        elif char == "(" and pattern.startswith("(?<", i) and not pattern.startswith(("(?<=", "(?<!"), i):
            out.append("(?P<")
            i += 3
            continue
        out.append(char)
        i += 1
    return "".join(out)


#: Longest value tested against a pattern with nested unbounded repeats (``(a*)*`` can backtrack exponentially)
#: where no CPU-time budget can be set (outside the main thread).
RISKY_LENGTH = 24
#: CPU seconds one such test may take in the main thread (SIGVTALRM; the pytest-timeout SIGALRM is left alone).
RISKY_BUDGET = 0.05
_COMPILED: dict[str, tuple[re.Pattern[str] | None, bool]] = {}


class _OutOfTime(Exception):
    pass


def matches(pattern: str, value: str) -> bool:
    """``re.search(pattern, value)``, safe from catastrophic backtracking.

    A pattern Python cannot read counts as matching (nothing to check against). A pattern with an
    unbounded repeat inside another one gets :data:`RISKY_BUDGET` CPU seconds, after which the value
    counts as not matching (a caller then makes a value of its own); off the main thread, only values
    up to :data:`RISKY_LENGTH` characters are tried.
    """
    found = _COMPILED.get(pattern)
    if found is None:
        try:
            source = python_pattern(pattern)
            compiled, parsed = _read(source)
            found = (compiled, _nested_repeats(parsed, False))
        except (re.error, RecursionError, OverflowError, NoSample):
            found = (None, False)
        _COMPILED[pattern] = found
    compiled, risky = found
    if compiled is None:
        return True
    if not risky:
        return compiled.search(value) is not None
    if threading.current_thread() is not threading.main_thread():
        return len(value) <= RISKY_LENGTH and compiled.search(value) is not None

    def out_of_time(signum: int, frame: Any) -> None:
        raise _OutOfTime

    previous = signal.signal(signal.SIGVTALRM, out_of_time)
    try:
        signal.setitimer(signal.ITIMER_VIRTUAL, RISKY_BUDGET)
        try:
            return compiled.search(value) is not None
        finally:
            signal.setitimer(signal.ITIMER_VIRTUAL, 0)
    except _OutOfTime:
        return False
    finally:
        signal.signal(signal.SIGVTALRM, previous)


def _read(source: str) -> tuple[re.Pattern[str], Any]:
    """The compiled pattern and its parse, quietly: the documents' patterns are not ours to fix."""
    with warnings.catch_warnings():  # "possible nested set" and the like
        warnings.simplefilter("ignore")
        return re.compile(source), sre.parse(source)


def _nested_repeats(parsed: Any, inside: bool) -> bool:
    """Whether an unbounded repeat sits inside another unbounded repeat."""
    for op, av in parsed:
        name = str(op)
        if name in ("MAX_REPEAT", "MIN_REPEAT"):
            unbounded = av[1] == sre.MAXREPEAT or av[1] > 64
            if (unbounded and inside) or _nested_repeats(av[2], inside or unbounded):
                return True
            continue
        inner = [av[-1]] if name in ("SUBPATTERN", "ASSERT", "ASSERT_NOT") else av[1] if name == "BRANCH" else []
        if any(_nested_repeats(sub, inside) for sub in inner):
            return True
    return False


_SAMPLES: dict[tuple[str, int, int | None], str | None] = {}


def sample_regex(pattern: str, min_length: int = 0, max_length: int | None = None) -> str:
    """A string ``re.search(pattern, s)`` accepts, with ``min_length <= len(s) <= max_length`` (cached)."""
    key = (pattern, min_length, max_length)
    if key not in _SAMPLES:
        _SAMPLES[key] = _sample(pattern, min_length, max_length)
    found = _SAMPLES[key]
    if found is None:
        raise NoSample(f"no string of length {min_length}..{max_length} matching {pattern!r} could be made")
    return found


def _sample(pattern: str, min_length: int, max_length: int | None) -> str | None:
    try:
        source = python_pattern(pattern)
        parsed = _read(source)[1]
    except (re.error, RecursionError, OverflowError) as exc:
        raise NoSample(f"pattern {pattern!r} is not a regular expression Python reads ({exc})") from None
    except NoSample:
        raise
    for lowest in dict.fromkeys((max(min_length, 1), min_length)):
        for branch in range(4):
            first = _Writer(0, branch, None)
            if first.write(parsed) is None:
                continue
            for target in [None, *range(first.repeats)]:
                for text in _grown(parsed, branch, target, lowest):
                    if max_length is not None and len(text) > max_length:
                        break
                    if len(text) >= lowest and matches(pattern, text):
                        return text
    return None


def _grown(parsed: Any, branch: int, target: int | None, lowest: int) -> Iterator[str]:
    """The shortest attempt at least ``lowest`` long, growing all repeats or the ``target``-th, and two longer."""

    def attempt(grow: int) -> str | None:
        return _Writer(grow, branch, target).write(parsed)

    previous = -1
    for grow in _GROW:
        text = attempt(grow)
        if text is None:
            return
        if len(text) >= lowest:
            low, high = previous + 1, grow  # the length only grows with ``grow``: bisect to the first long enough
            while low < high:
                middle = (low + high) // 2
                found = attempt(middle)
                if found is not None and len(found) >= lowest:
                    high = middle
                else:
                    low = middle + 1
            for extra in (high, high + 1, high + 2):
                found = attempt(extra)
                if found is not None:
                    yield found
            return
        previous = grow


class _Writer:
    """One attempt: repeats at their minimum plus ``grow`` (all, or the ``target``-th only); the ``branch``-th
    alternative where there is one."""

    def __init__(self, grow: int, branch: int, target: int | None) -> None:
        self.grow = grow
        self.branch = branch
        self.target = target
        self.repeats = 0
        self.groups: dict[int, str] = {}
        self.budget = 8192

    def write(self, parsed: Any) -> str | None:
        out: list[str] = []
        try:
            self._emit(parsed, out)
        except _GiveUp:
            return None
        return "".join(out)

    def _emit(self, parsed: Any, out: list[str]) -> None:
        for op, av in parsed:
            name = str(op)
            if name == "LITERAL":
                out.append(chr(av))
            elif name == "NOT_LITERAL":
                out.append(next(c for c in _COMMON if ord(c) != av))
            elif name == "ANY":
                out.append("a")
            elif name == "IN":
                out.append(_pick(av))
            elif name == "BRANCH":
                options = av[1]
                self._emit(options[min(self.branch, len(options) - 1)], out)
            elif name == "SUBPATTERN":
                start = len(out)
                self._emit(av[-1], out)
                if av[0] is not None:
                    self.groups[av[0]] = "".join(out[start:])
            elif name == "ATOMIC_GROUP":
                self._emit(av, out)
            elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
                low, high, sub = av
                grow = self.grow if self.target is None or self.target == self.repeats else 0
                self.repeats += 1
                count = low + grow if high == sre.MAXREPEAT else min(high, low + grow)
                if count > self.budget:
                    raise _GiveUp
                self.budget -= count
                for _ in range(count):
                    self._emit(sub, out)
            elif name == "GROUPREF":
                out.append(self.groups.get(av, ""))
            elif name == "GROUPREF_EXISTS":
                group, yes, no = av
                self._emit(yes if group in self.groups else (no or []), out)
            elif name in ("AT", "ASSERT", "ASSERT_NOT"):
                continue  # anchors and lookarounds: the final re.search decides
            elif name == "CATEGORY":
                out.append(_CATEGORY_CHARS.get(str(av), "a"))
            else:
                raise _GiveUp


class _GiveUp(Exception):
    pass


def _pick(items: list[tuple[Any, Any]]) -> str:
    """A character of a class: its first member, or for ``[^...]`` a common character outside it."""
    negated = bool(items) and str(items[0][0]) == "NEGATE"
    for candidate in _COMMON:
        if _member(candidate, items[1:] if negated else items) != negated:
            return candidate
    if negated:
        raise _GiveUp
    for op, av in items:
        name = str(op)
        if name == "LITERAL":
            return chr(av)
        if name == "RANGE":
            low, high = av
            for candidate in _COMMON:  # a readable character inside the range when there is one
                if low <= ord(candidate) <= high:
                    return candidate
            return chr(low)
        if name == "CATEGORY":
            return _CATEGORY_CHARS.get(str(av), "a")
    raise _GiveUp


def _member(char: str, items: list[tuple[Any, Any]]) -> bool:
    code = ord(char)
    for op, av in items:
        name = str(op)
        if (name == "LITERAL" and av == code) or (name == "RANGE" and av[0] <= code <= av[1]):
            return True
        if name == "CATEGORY":
            member = _CATEGORY_CHARS.get(str(av))
            if member is not None and re.fullmatch(_CATEGORY_RE[str(av)], char):
                return True
    return False


_CATEGORY_RE = {
    "CATEGORY_DIGIT": r"\d", "CATEGORY_NOT_DIGIT": r"\D", "CATEGORY_WORD": r"\w", "CATEGORY_NOT_WORD": r"\W",
    "CATEGORY_SPACE": r"\s", "CATEGORY_NOT_SPACE": r"\S", "CATEGORY_LINEBREAK": r"\n", "CATEGORY_NOT_LINEBREAK": r".",
}  # fmt: skip
