"""Atomic writes: readers see the old file (or folder) or the new one, never half of either.

A file is written to a temporary file in the destination's directory (so ``os.replace`` is a
rename on one filesystem), flushed and fsynced, then renamed over the destination. On any
failure the temporary file is removed and the previous file is left intact.

A folder (:func:`atomic_folder`) is built in a hidden sibling ``.discourse-tmp.<name>.*`` and
renamed into place; an existing folder is first renamed aside (``.discourse-old.<name>.*``) and
removed once the new one is in place. A process killed between those two renames leaves the old
folder aside; :func:`recover_folders` puts it back (and removes abandoned temporary folders).
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, TextIO

TMP_PREFIX = ".discourse-tmp."
OLD_PREFIX = ".discourse-old."


def _default_mode() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


_DEFAULT_MODE = _default_mode()  # read once at import: os.umask is process-wide
_DIR_MODE = (_DEFAULT_MODE | 0o111) & 0o777  # rw-bits of the umask default, plus search


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically; create missing parent folders. Returns the path.

    The file keeps the mode of the file it replaces (a new file gets the umask default).
    """
    with atomic_writer(path) as fh:
        fh.write(data)
    return Path(path)


@contextlib.contextmanager
def atomic_writer(path: str | Path) -> Iterator[BinaryIO]:
    """Yield a binary file that replaces ``path`` atomically when the block ends without an
    exception (as :func:`atomic_write_bytes`, for output written in pieces, so a big file is
    never held whole in memory). On an exception the temporary file is removed and ``path``
    is untouched."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = target.stat().st_mode & 0o777
    except OSError:
        mode = _DEFAULT_MODE
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)  # mkstemp makes 0600; keep the old file's mode or the umask default
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(target.parent)


@contextlib.contextmanager
def atomic_text_writer(path: str | Path, encoding: str = "utf-8", newline: str | None = "") -> Iterator[TextIO]:
    """:func:`atomic_writer` as text (newlines written as given unless ``newline`` says otherwise)."""
    with atomic_writer(path) as raw:
        fh = io.TextIOWrapper(raw, encoding=encoding, newline=newline)
        yield fh
        fh.flush()
        fh.detach()  # the binary file is closed (and fsynced) by atomic_writer


def atomic_write_text(path: str | Path, text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically (UTF-8, newlines as given)."""
    return atomic_write_bytes(path, text.encode(encoding))


@contextlib.contextmanager
def atomic_folder(path: str | Path) -> Iterator[Path]:
    """Yield an empty hidden folder beside ``path``; when the block ends without an exception,
    it replaces ``path`` whole (a folder already there is replaced, never merged into). On any
    exception, KeyboardInterrupt included, the hidden folder is removed and ``path`` is untouched.

    Not safe for two processes writing the same ``path`` at once: callers hold a lock."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f"{TMP_PREFIX}{target.name}.", dir=target.parent))
    try:
        yield tmp
        try:
            mode = target.stat().st_mode & 0o777
        except OSError:
            mode = _DIR_MODE
        os.chmod(tmp, mode)  # mkdtemp makes 0700
        if target.exists():
            aside = Path(tempfile.mkdtemp(prefix=f"{OLD_PREFIX}{target.name}.", dir=target.parent))
            os.rename(target, aside)  # onto the empty folder just made: a rename on POSIX
            try:
                os.rename(tmp, target)
            except BaseException:
                os.rename(aside, target)
                raise
            shutil.rmtree(aside, ignore_errors=True)
        else:
            os.rename(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _fsync_dir(target.parent)


def recover_folders(parent: str | Path) -> None:
    """Undo what a killed :func:`atomic_folder` left in ``parent``: a folder renamed aside whose
    replacement never arrived goes back; abandoned temporary folders are removed."""
    folder = Path(parent)
    for p in folder.iterdir():
        if p.name.startswith(OLD_PREFIX) and p.is_dir():
            original = folder / p.name[len(OLD_PREFIX) :].rsplit(".", 1)[0]
            if original.name and not os.path.lexists(original) and any(p.iterdir()):
                os.rename(p, original)
            else:
                shutil.rmtree(p, ignore_errors=True)
        elif p.name.startswith(TMP_PREFIX) and p.is_dir():
            shutil.rmtree(p, ignore_errors=True)


def _fsync_dir(folder: Path) -> None:
    """Persist the rename itself where the platform allows it (POSIX); ignore elsewhere."""
    if not hasattr(os, "O_DIRECTORY"):
        return
    try:
        dfd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(dfd)
    except OSError:
        pass
    finally:
        os.close(dfd)
