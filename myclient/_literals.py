r"""The bounded index of literal secret values, in every encoding they take, found in O(len(text)).

It owns three things the redaction registry needs and nothing else (names, headers and fields
are the registry's business):

* **Variants.** A secret is not one string on the wire. When a value is registered, every form
  it can appear in is derived once: raw; percent-encoded with ``quote(safe='')``, with
  ``quote``'s default ``/`` kept, as requests re-quotes a URL, and with ``quote_plus`` (``+`` for
  a space), each with upper- and lower-case hex; JSON-escaped (ASCII and not, ``\\/`` too); the
  latin-1 view of its UTF-8 bytes (so binary bodies are searched as text, byte for byte); and
  base64 at the three byte alignments, keeping only the characters its own bits fully determine
  (so ``base64("user:" + password)`` in a Basic header or a data URL is found). Masking, the
  cassette scrubber and the secret scan all look through this one index.

* **Two bounded LRU pools.** *Pinned* secrets are the ones code registers on purpose (tokens,
  passwords, keys: ``add_secret``). *Learned* values are merely observed (cookie values a server
  sets) and must look like secrets to get in (long, not a word, not a number or an address), so
  a server cannot make ordinary words unreadable. Both pools evict their least recently
  registered entry past their bound, so memory is bounded whatever a server sends; re-registering
  a value refreshes it.

* **Lookup whose cost does not depend on how many secrets exist.** Each variant of at least
  ``STRIDE + K - 1`` characters is indexed under its ``K``-grams at ``STRIDE`` consecutive
  offsets (the run least shared with other variants, so common prefixes such as a JWT header
  do not pile up in one bucket); a text is probed only at every ``STRIDE``-th position, one
  dict lookup each, and any occurrence of such a variant holds a probed gram at an indexed
  offset. Shorter variants (only pinned secrets can be that short) sit in a second index probed
  at every position, used only while one exists. A hit is confirmed with ``str.startswith``.
  Registering or evicting a value touches only its own ``STRIDE`` grams per variant: nothing is
  recompiled or rebuilt, ever.
"""

from __future__ import annotations

import base64
import json
import re
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from urllib.parse import quote, quote_plus

__all__ = ["K", "STRIDE", "LiteralIndex", "learnable", "variants"]

#: Gram length, and the shortest value worth registering at all.
K = 4
#: Probe every STRIDE-th position of a text; variants of STRIDE + K - 1 chars or more are "long".
STRIDE = 8
_LONG = STRIDE + K - 1
#: Shortest base64 fragment kept: shorter ones would turn up by chance in any base64 text.
_MIN_BASE64 = 6
#: What requests leaves unquoted when it re-quotes a URL (``requote_uri``), ``%`` aside.
_REQUOTE_SAFE = "!#$&'()*+,/:;=?@[]~"
_HEX = re.compile(r"%[0-9A-F]{2}")
_PLAIN = re.compile(r"[A-Za-z0-9_.~-]*")  # the same raw, percent-encoded and JSON-escaped
_SPACE = re.compile(r"\s")
_LETTER = re.compile(r"[^\W\d_]")
_DIGIT = re.compile(r"\d")

PINNED, LEARNED = 0, 1

# What a gram leads to: one (variant, offset of the gram in it) pair, or, once several variants
# share the gram, a dict of such pairs (O(1) to add and remove; readers take a tuple() snapshot,
# atomic in CPython). Most grams lead to one pair, kept as a bare tuple to save memory.
_Pair = tuple[str, int]
_Bucket = _Pair | dict[_Pair, None]


def _lower_hex(text: str) -> str:
    return _HEX.sub(lambda m: m.group(0).lower(), text)


def _base64_middles(data: bytes) -> Iterator[str]:
    """The base64 characters fixed by ``data`` alone, at each of the 3 byte alignments."""
    for align in range(3):
        encoded = base64.b64encode(b"\0" * align + data).decode("ascii")
        first = -(-8 * align // 6)
        last = (8 * align + 8 * len(data)) // 6
        middle = encoded[first:last]
        if len(middle) >= _MIN_BASE64:
            yield middle
            yield middle.replace("+", "-").replace("/", "_")


def variants(secret: str) -> dict[str, str]:
    """Every form ``secret`` can take in a URL, a body or a header, mapped to what kind it is."""
    found: dict[str, str] = {}

    def add(value: str, kind: str) -> None:
        if len(value) >= K and value not in found:
            found[value] = kind

    add(secret, "raw")
    if not _PLAIN.fullmatch(secret):  # a plain token reads the same percent-encoded and JSON-escaped
        for encoded in (quote(secret, safe=""), quote(secret), quote(secret, safe=_REQUOTE_SAFE),
                        quote_plus(secret, safe="")):
            add(encoded, "percent-encoded")
            add(_lower_hex(encoded), "percent-encoded")
        for escaped in (json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1]):
            add(escaped, "JSON-escaped")
            add(escaped.replace("/", "\\/"), "JSON-escaped")
        if "'" in secret:
            add(secret.replace("'", "''"), "YAML-quoted")
    data = secret.encode("utf-8", "surrogatepass")
    add(data.decode("latin-1"), "UTF-8 bytes")
    for middle in _base64_middles(data):
        add(middle, "base64")
    return found


def learnable(value: str) -> bool:
    """Whether an observed value (a cookie's) looks like a secret rather than a word or a number.

    At least 12 characters and no whitespace; then letters and digits mixed, or 16+ digits
    (a numeric session id, not an address, a date or a count), or 16+ letters of mixed case
    (random, not a word). ``deleted``, ``not found``, ``127.0.0.1``, ``en-US`` stay readable.
    """
    if len(value) < 12 or _SPACE.search(value):
        return False
    if not _LETTER.search(value):
        return sum(map(str.isdigit, value)) >= 16
    if not _DIGIT.search(value):
        return len(value) >= 16 and value.lower() != value and value.upper() != value
    return True


class LiteralIndex:
    """Pinned and learned secret values with all their variants, indexed by grams (thread-safe).

    Readers never lock: dict lookups are atomic and a shared bucket is read through a snapshot.
    """

    def __init__(self, pinned_max: int = 4096, learned_max: int = 256) -> None:
        self._lock = threading.Lock()
        self._pools: tuple[OrderedDict[str, tuple[str, ...]], OrderedDict[str, tuple[str, ...]]] = (
            OrderedDict(), OrderedDict())
        self._bounds = (pinned_max, learned_max)
        self._refs: dict[str, int] = {}
        self._kinds: dict[str, tuple[str, int]] = {}
        self._long: dict[str, _Bucket] = {}
        self._windows: dict[str, int] = {}
        self._short: dict[str, _Bucket] = {}
        #: How many index entries registrations and evictions have touched (for tests and stats).
        self.touched = 0

    # -- registration ---------------------------------------------------------------------------
    def add(self, secret: str, pool: int = PINNED) -> bool:
        """Register ``secret`` in ``pool``; True if it was new. Refreshes a known value instead."""
        pinned, learned = self._pools
        if secret in pinned or (pool == LEARNED and secret in learned):
            with self._lock:
                for known in self._pools:
                    if secret in known:
                        known.move_to_end(secret)
            return False
        found = variants(secret)
        with self._lock:
            if secret in pinned:
                return False
            if secret in learned:  # promoted to pinned: its variants stay indexed
                pinned[secret] = learned.pop(secret)
            else:
                self._pools[pool][secret] = tuple(found)
                for variant, kind in found.items():
                    self._ref(variant, kind, len(secret))
            self._evict()
        return True

    def forget(self, secret: str) -> None:
        """Stop masking ``secret`` (both pools)."""
        with self._lock:
            for pool in self._pools:
                if secret in pool:
                    for variant in pool.pop(secret):
                        self._unref(variant)

    def _evict(self) -> None:
        for pool, bound in zip(self._pools, self._bounds, strict=False):
            while len(pool) > bound:
                _, old = pool.popitem(last=False)
                for variant in old:
                    self._unref(variant)

    def _ref(self, variant: str, kind: str, length: int) -> None:
        count = self._refs.get(variant, 0)
        self._refs[variant] = count + 1
        if count == 0:
            self._kinds[variant] = (kind, length)
            if len(variant) >= _LONG:
                self._windows[variant] = self._rarest_window(variant)
            for index, gram, offset in self._grams(variant):
                self.touched += 1
                pair = (variant, offset)
                bucket = index.get(gram)
                if bucket is None:
                    index[gram] = pair
                elif isinstance(bucket, dict):
                    bucket[pair] = None
                else:
                    index[gram] = {bucket: None, pair: None}

    def _unref(self, variant: str) -> None:
        count = self._refs.pop(variant) - 1
        if count:
            self._refs[variant] = count
            return
        del self._kinds[variant]
        for index, gram, offset in self._grams(variant):
            self.touched += 1
            pair = (variant, offset)
            bucket = index.get(gram)
            if bucket == pair:
                del index[gram]
            elif isinstance(bucket, dict):
                bucket.pop(pair, None)
                if len(bucket) == 1:
                    index[gram] = next(iter(bucket))
                elif not bucket:
                    del index[gram]
        self._windows.pop(variant, None)

    def _rarest_window(self, variant: str) -> int:
        """Where the STRIDE indexed grams of ``variant`` start: the run least shared with others.

        Any STRIDE consecutive offsets catch every occurrence; choosing the least used ones keeps
        buckets small when values share a prefix or a suffix (JWT headers, zero-padded ids).
        """
        index = self._long
        last = len(variant) - K - STRIDE + 1
        get = index.get
        if sum(_size(get(variant[o:o + K])) for o in range(last, last + STRIDE)) <= STRIDE:
            return last  # the usual case: the tail of a random value is (nearly) its own
        sizes = [_size(get(variant[o:o + K])) for o in range(len(variant) - K + 1)]
        cost = sum(sizes[:STRIDE])
        best, best_cost = 0, cost
        for start in range(1, len(sizes) - STRIDE + 1):
            cost += sizes[start + STRIDE - 1] - sizes[start - 1]
            if cost < best_cost:
                best, best_cost = start, cost
        return best

    def _grams(self, variant: str) -> Iterator[tuple[dict[str, _Bucket], str, int]]:
        if len(variant) >= _LONG:
            window = self._windows[variant]
            for offset in range(window, window + STRIDE):
                yield self._long, variant[offset:offset + K], offset
        else:
            yield self._short, variant[:K], 0

    # -- reading --------------------------------------------------------------------------------
    @property
    def values(self) -> frozenset[str]:
        """The registered values, both pools."""
        pinned, learned = self._pools
        return frozenset(pinned) | frozenset(learned)

    def sizes(self) -> tuple[int, int, int]:
        """(pinned values, learned values, index entries): all bounded."""
        return len(self._pools[0]), len(self._pools[1]), len(self._long) + len(self._short)

    def spans(self, text: str) -> list[tuple[int, int]]:
        """(start, end) of every variant occurrence in ``text``, merged where they overlap."""
        found: list[tuple[int, int]] = []
        for start, end, _ in self._hits(text):
            found.append((start, end))
        if len(found) < 2:
            return found
        found.sort()
        merged = [found[0]]
        for start, end in found[1:]:
            last_start, last_end = merged[-1]
            if start < last_end:
                merged[-1] = (last_start, max(last_end, end))
            else:
                merged.append((start, end))
        return merged

    def mask(self, text: str, mask: str) -> str:
        """``text`` with every occurrence of every variant replaced by ``mask``."""
        spans = self.spans(text)
        if not spans:
            return text
        out: list[str] = []
        position = 0
        for start, end in spans:
            out.append(text[position:start])
            out.append(mask)
            position = end
        out.append(text[position:])
        return "".join(out)

    def describe(self, text: str) -> list[str]:
        """What registered values ``text`` holds, by kind and length (never the value itself)."""
        seen: dict[str, None] = {}
        for _, _, variant in self._hits(text):
            kind, length = self._kinds.get(variant, ("raw", len(variant)))
            seen[f"registered secret ({length} chars, {kind})"] = None
        return list(seen)

    def _hits(self, text: str) -> Iterator[tuple[int, int, str]]:
        n = len(text)
        long_index, short_index = self._long, self._short
        if long_index and n >= _LONG:
            get = long_index.get
            for i in range(0, n - K + 1, STRIDE):
                bucket = get(text[i:i + K])
                if bucket is not None:
                    yield from _confirm(text, bucket, i)
        if short_index and n >= K:
            get = short_index.get
            for i in range(n - K + 1):
                bucket = get(text[i:i + K])
                if bucket is not None:
                    yield from _confirm(text, bucket, i)


def _size(bucket: _Bucket | None) -> int:
    return 0 if bucket is None else 1 if isinstance(bucket, tuple) else len(bucket)


def _confirm(text: str, bucket: _Bucket, position: int) -> Iterable[tuple[int, int, str]]:
    for variant, offset in (bucket,) if isinstance(bucket, tuple) else tuple(bucket):
        start = position - offset
        if start >= 0 and text.startswith(variant, start):
            yield start, start + len(variant), variant
