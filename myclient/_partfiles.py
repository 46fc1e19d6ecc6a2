"""The files of a download on disk: the destination, ``dest.part`` and its ``dest.part.meta`` sidecar.

Nothing here follows a symbolic link: a file is created only where nothing exists (``O_EXCL``),
an existing one is opened with ``O_NOFOLLOW`` and checked to be a plain regular file with no
other hard link, and the sidecar is replaced by a rename (which never follows a link either).
Whatever else an attacker plants at those names (a symlink to another file, a FIFO, a hard link)
is refused with UsageError before a byte is written, so a download never writes through it.
"""

from __future__ import annotations

import errno
import json
import os
import stat
from pathlib import Path
from typing import Any, Optional

from ._parse import ascii_int
from ._ranges import is_validator
from .exceptions import UsageError

__all__ = ["Identity", "MAX_META_BYTES", "append", "check", "create", "destination", "identity_of", "load_meta",
           "read_json", "remove", "write_json"]

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_COMMON = _NOFOLLOW | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NONBLOCK", 0)
#: Largest sidecar read (a real one is about 200 bytes); a bigger file is ignored.
MAX_META_BYTES = 64 * 1024

#: (device, inode) of a file: what proves the file renamed into place is the one written.
Identity = tuple[int, int]


def _refuse(path: Path, why: str) -> UsageError:
    return UsageError(f"refusing to use {str(path)!r} for a download: {why}; remove it and try again")


def _verify(path: Path, info: os.stat_result) -> None:
    if stat.S_ISLNK(info.st_mode):
        raise _refuse(path, "it is a symbolic link")
    if not stat.S_ISREG(info.st_mode):
        raise _refuse(path, "it is not a regular file")
    if info.st_nlink > 1:
        raise _refuse(path, "it has other hard links")


def check(path: Path) -> Optional[os.stat_result]:
    """The file's status (not following a link), None when absent; UsageError when it is not plain."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot inspect {str(path)!r}: {exc}") from None
    _verify(path, info)
    return info


def identity_of(info: os.stat_result) -> Identity:
    return (info.st_dev, info.st_ino)


def remove(path: Path) -> None:
    """Unlink ``path`` if it exists (a symlink is removed itself, its target is never touched)."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    except OSError as exc:  # a directory planted there, or a folder we may not write
        raise UsageError(f"cannot remove {str(path)!r}: {exc.strerror or exc}") from None


def _opened(path: Path, fd: int, size: Optional[int]) -> tuple[int, Identity]:
    try:
        info = os.fstat(fd)
        _verify(path, info)
        if size is not None and info.st_size != size:
            raise _refuse(path, f"it changed during the download ({info.st_size} bytes, not {size})")
    except BaseException:
        os.close(fd)
        raise
    return fd, identity_of(info)


def create(path: Path) -> tuple[int, Identity]:
    """A new empty file at ``path`` for writing (what was there is unlinked first), and its identity."""
    remove(path)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _COMMON, 0o666)
    except FileExistsError:
        raise _refuse(path, "something else created it at the same moment") from None
    except OSError as exc:
        raise UsageError(f"cannot create {str(path)!r}: {exc.strerror or exc}") from None
    return _opened(path, fd, 0)


def append(path: Path, size: int) -> tuple[int, Identity]:
    """The existing file at ``path`` (``size`` bytes long) opened to append, and its identity."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | _COMMON)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.EMLINK):  # O_NOFOLLOW met a link (EMLINK on FreeBSD)
            raise _refuse(path, "it is a symbolic link") from None
        if exc.errno == errno.ENXIO:  # a FIFO with no reader
            raise _refuse(path, "it is not a regular file") from None
        raise UsageError(f"cannot open {str(path)!r}: {exc.strerror or exc}") from None
    return _opened(path, fd, size)


def read_json(path: Path) -> dict[str, Any]:
    """The JSON object in ``path``; {} when absent, unreadable, too big, not a regular file or not JSON."""
    try:
        fd = os.open(path, os.O_RDONLY | _COMMON)
    except OSError:
        return {}
    with os.fdopen(fd, "rb") as source:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_META_BYTES:
            return {}
        data = source.read(MAX_META_BYTES + 1)
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError):
        return {}
    return doc if isinstance(doc, dict) else {}


def write_json(path: Path, doc: dict[str, Any]) -> None:
    """Replace ``path`` atomically with ``doc`` as JSON (written to a fresh file, then renamed over it)."""
    scratch = path.with_name(path.name + ".tmp")
    fd, _ = create(scratch)
    try:
        with os.fdopen(fd, "wb") as sink:
            sink.write(json.dumps(doc).encode("utf-8"))
        os.replace(scratch, path)
    except BaseException:
        remove(scratch)
        raise


def destination(dest: Any) -> Path:
    """The download's final path, checked: a file path whose directory exists (UsageError otherwise)."""
    if not isinstance(dest, (str, os.PathLike)) or not isinstance(os.fspath(dest), str) or not os.fspath(dest):
        raise UsageError(f"dest must be a file path (str or os.PathLike), got {dest!r}")
    if "\x00" in os.fspath(dest):
        raise UsageError(f"dest must not contain a NUL character, got {dest!r}")
    try:
        target = Path(os.fspath(dest)).expanduser()
    except RuntimeError as exc:  # "~user/..." for a user without a home directory
        raise UsageError(f"dest {os.fspath(dest)!r}: {exc}") from None
    if target.is_dir():
        raise UsageError(f"dest {str(target)!r} is a directory; give the file's path")
    if not target.parent.is_dir():
        raise UsageError(f"dest's directory {str(target.parent)!r} does not exist")
    return target


def load_meta(path: Path, source: str) -> dict[str, Any]:
    """The sidecar of a partial download of ``source``: its validator and total; {} when unusable."""
    doc = read_json(path)
    validator, total = doc.get("validator"), doc.get("total")
    if doc.get("source") != source or doc.get("encoded") is not False or not is_validator(validator):
        return {}
    if total is not None and (type(total) is not int or ascii_int(total) is None):
        return {}
    return {"source": source, "validator": validator, "total": total, "encoded": False}
