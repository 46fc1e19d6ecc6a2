"""Ready-made ``progress(done, total)`` callbacks for downloads and uploads: a tqdm bar and a plain text bar.

They only display what they are told; tqdm stays optional (imported only when a tqdm bar is asked
for) and nothing here affects the transfer itself.
"""

from __future__ import annotations

import sys
from types import TracebackType
from typing import Any, Optional, TextIO

from .exceptions import UsageError

__all__ = ["MissingDependency", "TextProgress", "TqdmProgress", "tqdm_progress"]


class MissingDependency(UsageError, ImportError):
    """An optional dependency is not installed (catch it as UsageError or as ImportError)."""


def _size(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"  # pragma: no cover - unreachable


class _Closing:
    """Context-manager plumbing shared by the bars: ``with bar: ...`` closes it."""

    def close(self) -> None:
        """Finish the display (idempotent)."""

    def __enter__(self) -> Any:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class TqdmProgress(_Closing):
    """A tqdm bar driven by ``progress(done, total)`` calls; made on the first call, closed at the end.

    The bar closes itself once ``done`` reaches a known ``total`` (or on ``close()``/``with``).
    A download that starts over (``done`` going back) resets the bar. Extra keyword arguments go
    to ``tqdm`` (``desc=``, ``leave=``, ``file=``, ...).
    """

    def __init__(self, **tqdm_kwargs: Any) -> None:
        try:
            from tqdm.auto import tqdm
        except ImportError as exc:
            raise MissingDependency(
                "tqdm_progress() needs tqdm, which is not installed: pip install tqdm "
                "(or pass your own progress(done, total) callable, e.g. myclient.progress.TextProgress())"
            ) from exc
        self._factory = tqdm
        self._options = {"unit": "B", "unit_scale": True, "unit_divisor": 1024, "miniters": 1, **tqdm_kwargs}
        self.bar: Any = None
        self.closed = False

    def __call__(self, done: int, total: Optional[int]) -> None:
        if self.closed:
            return
        bar = self.bar
        if bar is None:
            bar = self.bar = self._factory(total=total, initial=done, **self._options)
        elif done < bar.n:
            bar.reset(total=total)
            bar.update(done)
        else:
            if total != bar.total:
                bar.total = total
                bar.refresh()
            bar.update(done - bar.n)
        if total is not None and done >= total:
            self.close()

    def close(self) -> None:
        """Close the bar (idempotent)."""
        if self.bar is not None and not self.closed:
            self.bar.close()
        self.closed = True


def tqdm_progress(**tqdm_kwargs: Any) -> TqdmProgress:
    """A progress callback showing a tqdm bar: ``client.download(p, dest, progress=tqdm_progress(desc=...))``.

    Raises MissingDependency (a UsageError and an ImportError) when tqdm is not installed.
    """
    return TqdmProgress(**tqdm_kwargs)


class TextProgress(_Closing):
    """A one-line text bar on ``stream`` (default stderr), redrawn in place; no dependency.

    It redraws when the whole percentage changes (or every MiB when the total is unknown) and
    ends the line once ``done`` reaches ``total`` (or on ``close()``).
    """

    def __init__(self, label: str = "", *, stream: Optional[TextIO] = None, width: int = 30) -> None:
        if isinstance(width, bool) or not isinstance(width, int) or width < 1:
            raise UsageError(f"width must be an int >= 1, got {width!r}")
        self.label = label
        self.stream = stream
        self.width = width
        self._last: Optional[tuple[int, Optional[int]]] = None
        self.closed = False

    def __call__(self, done: int, total: Optional[int]) -> None:
        if self.closed:
            return
        step = (done * 100 // total, total) if total else (done >> 20, None)
        if step == self._last:
            return
        self._last = step
        if total:
            filled = min(self.width, done * self.width // total)
            line = f"[{'#' * filled}{'.' * (self.width - filled)}] {step[0]:3d}% {_size(done)} / {_size(total)}"
        else:
            line = f"{_size(done)}"
        out = self.stream if self.stream is not None else sys.stderr
        out.write(f"\r{self.label + ' ' if self.label else ''}{line}")
        out.flush()
        if total is not None and done >= total:
            self.close()

    def close(self) -> None:
        """End the line (idempotent)."""
        if not self.closed and self._last is not None:
            out = self.stream if self.stream is not None else sys.stderr
            out.write("\n")
            out.flush()
        self.closed = True
