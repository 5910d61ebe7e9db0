"""Read input files safely: size limit, encoding detection, binary refusal.

``read_text`` turns a path or raw bytes into ``(text, warnings)``. Text always has
``\\n`` line ends and no NUL characters. Anything we cannot read becomes an
:class:`~discourse.core.errors.InputError` with a one-line message, never a traceback.

Lone UTF-16 surrogates (what a JavaScript scraper leaves when it cuts an emoji in half: a raw
``"\\ud83d"`` in a Python string, or the JSON escape ``\\ud83d``) cannot be written as UTF-8;
:func:`replace_surrogates` and :func:`load_json` replace each with U+FFFD and the caller records
:func:`surrogate_note`. Valid pairs are one character and are kept.
"""

from __future__ import annotations

import codecs
import json
import os
import re
from pathlib import Path
from typing import Any

from discourse.core.errors import InputError

DEFAULT_MAX_BYTES = 64 * 1024 * 1024

_BOMS = (  # longest first: the UTF-32-LE BOM starts with the UTF-16-LE one
    (codecs.BOM_UTF32_LE, "utf-32-le", "UTF-32"),
    (codecs.BOM_UTF32_BE, "utf-32-be", "UTF-32"),
    (codecs.BOM_UTF8, "utf-8", "UTF-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "UTF-16"),
)
_MAGIC = (
    (b"%PDF", "PDF"),
    (b"\x89PNG", "PNG image"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"GIF8", "GIF image"),
    (b"PK\x03\x04", "ZIP archive (or .docx/.xlsx)"),
    (b"\x1f\x8b", "gzip archive"),
    (b"BZh", "bzip2 archive"),
    (b"\xfd7zXZ\x00", "xz archive"),
    (b"7z\xbc\xaf\x27\x1c", "7z archive"),
    (b"\x7fELF", "executable"),
    (b"MZ\x90\x00", "executable"),
    (b"SQLite format 3\x00", "SQLite database"),
    (b"\xd0\xcf\x11\xe0", "Office document"),
)
# C0 controls other than tab, LF, VT, FF, CR (and ESC, which terminal logs carry), plus DEL.
_CONTROL_BYTES = bytes([*range(0, 9), 14, 15, *range(16, 27), *range(28, 32), 127])
_SAMPLE = 1 << 16
_MAX_NUL_SHARE = 0.01  # more NUL bytes than this (outside UTF-16/32) means binary
_MAX_JUNK_SHARE = 0.05  # more control/undecodable characters than this means binary


def read_text(
    path_or_bytes: str | os.PathLike[str] | bytes | bytearray,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    name: str | None = None,
) -> tuple[str, list[str]]:
    """Read a file (or bytes) as text. Returns ``(text, warnings)``.

    ``name`` labels messages; it defaults to the path, or "input" for bytes.
    Raises InputError for a missing, unreadable, empty, oversized or binary input.
    """
    if isinstance(path_or_bytes, (bytes, bytearray)):
        label = name or "input"
        data = bytes(path_or_bytes)
        if len(data) > max_bytes:
            raise InputError(f"{label} is {_size(len(data))}, over the {_size(max_bytes)} limit")
    else:
        label = name or str(path_or_bytes)
        data = _read_file(Path(path_or_bytes), label, max_bytes)
    if not data:
        raise InputError(f"{label} is empty")
    text, warnings = _decode(data, label)
    if "\x00" in text:
        warnings.append(f"{label}: removed {text.count(chr(0))} NUL character(s)")
        text = text.replace("\x00", "")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise InputError(f"{label} is empty (only whitespace)")
    return text, warnings


def load_json(text: str, label: str, notes: list[str] | None = None) -> Any:
    """``json.loads`` with a one-line InputError naming the line and column.

    Lone surrogates in strings (and keys) come back as U+FFFD; ``notes`` gets a warning saying how many."""
    data, bad = load_json_counted(text, label)
    if bad and notes is not None:
        notes.append(surrogate_note(label, bad))
    return data


def load_json_counted(text: str, label: str) -> tuple[Any, int]:
    """:func:`load_json` that returns the number of lone surrogates replaced instead of a warning."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{label}: not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})") from None
    except RecursionError:
        raise InputError(f"{label}: JSON is nested too deeply to read") from None
    if not _SURROGATE.search(text) and "\\u" not in text:
        return data, 0  # neither raw surrogates nor escapes: nothing to look for
    return _scrub(data)


_SURROGATE = re.compile("[\ud800-\udfff]")


def replace_surrogates(text: str) -> tuple[str, int]:
    """``text`` with every lone UTF-16 surrogate replaced by U+FFFD, and how many there were."""
    return _SURROGATE.subn("\ufffd", text)


def surrogate_note(label: str, count: int) -> str:
    return (
        f"{label}: {count} lone UTF-16 surrogate(s) (half of an emoji or other character cut by the "
        "exporter) replaced with U+FFFD"
    )


def _scrub(data: Any) -> tuple[Any, int]:
    """Replace lone surrogates in every string of a parsed JSON value (iteratively: no recursion limit)."""
    total = 0

    def fix(value: Any) -> Any:
        nonlocal total
        if isinstance(value, str):
            value, n = replace_surrogates(value)
            total += n
        return value

    root = [data]
    stack: list[list[Any] | dict[str, Any]] = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            for i, v in enumerate(node):
                if isinstance(v, (list, dict)):
                    stack.append(v)
                else:
                    node[i] = fix(v)
        else:
            for k in list(node):
                v = node[k]
                key = fix(k)
                if key != k:
                    del node[k]
                    node[key] = v
                if isinstance(v, (list, dict)):
                    stack.append(v)
                else:
                    node[key] = fix(v)
    return root[0], total


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB" if n >= 1024 * 1024 else f"{n} bytes"


def _read_file(path: Path, label: str, max_bytes: int) -> bytes:
    try:
        if path.is_dir():
            raise InputError(f"{label} is a directory, not a file")
        size = path.stat().st_size
        if size > max_bytes:
            raise InputError(f"{label} is {_size(size)}, over the {_size(max_bytes)} limit")
        with path.open("rb") as fh:
            data = fh.read(max_bytes + 1)  # guard files that grow or lie about their size
    except FileNotFoundError:
        raise InputError(f"{label}: no such file") from None
    except PermissionError:
        raise InputError(f"{label}: permission denied") from None
    except OSError as exc:
        raise InputError(f"{label}: cannot read ({exc.strerror or exc})") from None
    if len(data) > max_bytes:
        raise InputError(f"{label} is over the {_size(max_bytes)} limit")
    return data


def _decode(data: bytes, label: str) -> tuple[str, list[str]]:
    for bom, codec, shown in _BOMS:
        if data.startswith(bom):
            return _decode_bom(data[len(bom) :], codec, shown, label)
    head = data[:_SAMPLE]
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            raise InputError(f"{label} looks like binary data ({kind}), not text")
    nuls = head.count(0)
    if nuls:
        utf16 = _bomless_utf16(head)
        if utf16:
            text, warnings = _decode_bom(data, utf16, "UTF-16", label, bom=False)
            return text, [f"{label}: no byte-order mark; decoded as {utf16.upper()}"] + warnings
        if nuls > _MAX_NUL_SHARE * len(head):
            raise InputError(f"{label} looks like binary data, not text (it holds NUL bytes)")
    if _junk_share(head) > _MAX_JUNK_SHARE:
        raise InputError(f"{label} looks like binary data, not text")
    return _decode_legacy(data, label)


def _decode_bom(body: bytes, codec: str, shown: str, label: str, *, bom: bool = True) -> tuple[str, list[str]]:
    text = body.decode(codec, errors="replace")
    warnings = []
    if shown != "UTF-8" and bom:
        warnings.append(f"{label}: decoded as {shown} (byte-order mark)")
    bad = text.count("\ufffd") - (body.decode(codec, errors="ignore").count("\ufffd"))
    if bad:
        warnings.append(f"{label}: {bad} invalid {shown} sequence(s) replaced with U+FFFD")
    _refuse_junk(text, label)
    return text, warnings


def _bomless_utf16(head: bytes) -> str | None:
    """Return the UTF-16 codec when NULs sit at every other byte (ASCII-range UTF-16)."""
    n = len(head) - len(head) % 2
    if n < 4:
        return None
    even = head[0:n:2].count(0) / (n // 2)
    odd = head[1:n:2].count(0) / (n // 2)
    if odd > 0.4 and even < 0.05:
        return "utf-16-le"
    if even > 0.4 and odd < 0.05:
        return "utf-16-be"
    return None


def _junk_share(head: bytes) -> float:
    if not head:
        return 0.0
    return (len(head) - len(head.translate(None, _CONTROL_BYTES))) / len(head)


def _refuse_junk(text: str, label: str) -> None:
    sample = text[:_SAMPLE]
    if not sample:
        return
    junk = sum(
        1 for ch in sample if ch == "\ufffd" or (ord(ch) < 32 and ch not in "\t\n\r\f\v\x1b") or 0x7F <= ord(ch) < 0xA0
    )
    if junk > _MAX_JUNK_SHARE * len(sample):
        raise InputError(f"{label} looks like binary data, not text")


def _decode_legacy(data: bytes, label: str) -> tuple[str, list[str]]:
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError:
        pass
    try:  # UTF-8 that encodes surrogates one by one (CESU-8 / WTF-8, as some exporters write them)
        wtf8 = data.decode("utf-8", errors="surrogatepass")
    except UnicodeDecodeError:
        pass
    else:  # pairs become their character; what is left is a lone half
        text, bad = replace_surrogates(wtf8.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass"))
        return text, [surrogate_note(label, bad)] if bad else []
    # Mostly valid UTF-8 with a few broken bytes (a truncated or mixed file): keep UTF-8.
    lenient = data.decode("utf-8", errors="replace")
    bad = lenient.count("\ufffd") - data.count(b"\xef\xbf\xbd")
    good = sum(1 for ch in lenient if ord(ch) > 127 and ch != "\ufffd")
    if good > 2 * bad:
        _refuse_junk(lenient, label)
        return lenient, [f"{label}: {bad} invalid UTF-8 byte sequence(s) replaced with U+FFFD"]
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        text = ""
    if text:
        _refuse_junk(text, label)
        return text, [f"{label}: not valid UTF-8; decoded as Windows-1252 (cp1252)"]
    return _decode_guessed(data, label)


def _decode_guessed(data: bytes, label: str) -> tuple[str, list[str]]:
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None or best.encoding is None:
        raise InputError(f"{label} looks like binary data, not text (no text encoding fits)")
    text = str(best)
    _refuse_junk(text, label)
    return text, [f"{label}: not valid UTF-8 or Windows-1252; decoded as {best.encoding} (a guess)"]
