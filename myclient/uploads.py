"""Streaming uploads: a file sent as the raw request body, read block by block, with optional progress.

The file is never read whole into memory and goes through the adapter's normal request path;
multipart forms need nothing from here (``files=`` goes to requests as is).
"""

from __future__ import annotations

import mimetypes
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Optional, Union

from .downloads import PathLike, Progress, check_progress
from .exceptions import UsageError

if TYPE_CHECKING:
    from .adapters import Adapter

__all__ = ["upload"]

_UPLOAD_BLOCK = 1 << 16


class _ProgressReader:
    """A read-only file wrapper that reports progress as requests reads the body from it."""

    def __init__(self, raw: IO[bytes], progress: Progress) -> None:
        self._raw = raw
        self._progress = progress
        start = raw.tell()
        raw.seek(0, os.SEEK_END)
        self._size = raw.tell()
        raw.seek(start)
        self._start = start

    def __len__(self) -> int:  # requests' super_len: len() minus tell() is what is left to send
        return self._size

    def read(self, size: int = -1) -> bytes:
        chunk = self._raw.read(size)
        self._progress(self._raw.tell() - self._start, self._size - self._start)
        return chunk

    def tell(self) -> int:
        return self._raw.tell()

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        return self._raw.seek(offset, whence)

    def seekable(self) -> bool:
        return True

    def __iter__(self) -> Iterator[bytes]:  # makes requests treat it as a stream (not form data)
        while True:
            chunk = self.read(_UPLOAD_BLOCK)
            if not chunk:
                return
            yield chunk


def upload(
    adapter: Adapter,
    path: str,
    file_or_path: Union[PathLike, IO[bytes]],
    *,
    method: str = "PUT",
    content_type: Optional[str] = None,
    progress: Optional[Progress] = None,
    params: Any = None,
    **options: Any,
) -> Any:
    """Send a file as the raw request body, streamed from disk (never read whole into memory).

    ``file_or_path`` is a path (opened and closed here) or a binary file object (left open; sent
    from its current position). The body goes with a Content-Length, in the blocks the HTTP
    library reads; a seekable file is rewound if the adapter retries or replays the request.
    ``content_type`` defaults to a guess from the file name, else ``application/octet-stream``.
    ``progress(sent, total)`` follows the bytes read. Returns what the adapter returns.
    """
    check_progress(progress)
    if not isinstance(method, str) or method.upper() not in ("PUT", "POST", "PATCH"):
        raise UsageError(f"upload method must be PUT, POST or PATCH, got {method!r}")
    opened: Optional[IO[bytes]] = None
    if isinstance(file_or_path, (str, os.PathLike)):
        source = Path(os.fspath(file_or_path)).expanduser()
        if not source.is_file():
            raise UsageError(f"upload: {str(source)!r} is not a file")
        opened = source.open("rb")
        body: IO[bytes] = opened
        name: Optional[str] = source.name
    elif hasattr(file_or_path, "read"):
        body = file_or_path
        name = getattr(file_or_path, "name", None)
        name = name if isinstance(name, str) else None
    else:
        raise UsageError(f"upload takes a file path or a binary file object, got {type(file_or_path).__name__}")
    try:
        if content_type is None:
            content_type = (mimetypes.guess_type(name)[0] if name else None) or "application/octet-stream"
        headers = options.pop("headers", None)
        send: dict[str, Any] = {"Content-Type": content_type, **(headers if isinstance(headers, Mapping) else {})}
        if progress is not None and not (hasattr(body, "seekable") and body.seekable()):
            raise UsageError("upload progress needs a seekable file (to know its size)")
        data: Any = _ProgressReader(body, progress) if progress is not None else body
        return adapter.request(method, path, params=params, data=data, headers=send, **options)
    finally:
        if opened is not None:
            opened.close()
