"""Process-level runtime tuning (opt-in).

Large evaluations allocate and free many 10–100 MB temporaries. glibc serves blocks above
its mmap threshold with fresh ``mmap`` calls and returns them to the OS on free, so every
chunk pays page faults on first touch; on this project's CPU that costs up to 3× for the
PINN bond-order term. :func:`retain_memory` raises the thresholds (``mallopt``) so freed
memory is reused — the same as setting ``MALLOC_MMAP_THRESHOLD_``, ``MALLOC_TRIM_THRESHOLD_``
and ``MALLOC_TOP_PAD_`` in the environment before starting Python. It changes the whole
process's allocator, so it is opt-in: call it, or set ``PHYSML_RETAIN_MEMORY=1``.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

M_TRIM_THRESHOLD = -1
M_TOP_PAD = -2
M_MMAP_THRESHOLD = -3


def retain_memory(threshold: int = 1 << 30) -> bool:
    """Keep freed memory in the process (glibc only). Returns False where unsupported."""
    name = ctypes.util.find_library("c")
    if not name:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    ok = mallopt(M_MMAP_THRESHOLD, min(threshold, 1 << 30)) == 1
    ok &= mallopt(M_TRIM_THRESHOLD, min(4 * threshold, (1 << 31) - 1)) == 1
    ok &= mallopt(M_TOP_PAD, min(threshold, 1 << 30)) == 1
    return bool(ok)


if os.environ.get("PHYSML_RETAIN_MEMORY", "0") not in ("0", "", "false", "False"):
    retain_memory()
