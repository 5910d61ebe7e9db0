"""Hand freed heap memory back to the operating system.

glibc keeps the pages a process frees for its own later use. A stage over a huge thread frees
hundreds of megabytes of short-lived objects (feature matrices, cue lists, score dicts) that sit
between objects that live on, so the resident size keeps every stage's peak: on a
100,000-comment thread the stages after the encoder left ~1 GB resident that nothing used.
``malloc_trim`` returns those pages (a few milliseconds); elsewhere it is a no-op.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from functools import cache
from typing import Any


@cache
def _libc() -> Any:
    try:
        lib = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return lib if hasattr(lib, "malloc_trim") else None
    except OSError:
        return None


def release_heap() -> bool:
    """Return freed heap pages to the OS; False where the C library cannot (not glibc)."""
    lib = _libc()
    if lib is None:
        return False
    lib.malloc_trim(0)
    return True
