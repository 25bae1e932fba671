"""Give the C allocator's freed memory back to the operating system: :func:`return_freed_memory`.

Why (issue 21, P8): a process's resident memory does not fall when Python or a C extension frees
memory; glibc's ``malloc`` keeps the freed pages for later allocations, fragmented between live ones.
At the Italian scale a market session's first clearing frees 0.4 GiB this way (the four Pyomo compiles
of its parameter map, the model's rows, the bidding layer's per-device temporaries), which then stayed
resident beside HiGHS's copy of the model for the whole day. ``malloc_trim(0)`` returns every whole
free page of every arena (``madvise``); it takes a few milliseconds and changes no value.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys


def return_freed_memory() -> bool:
    """``malloc_trim(0)`` of glibc; False (doing nothing) where the C library is not glibc."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim = libc.malloc_trim
    except (OSError, AttributeError):  # musl and others have no malloc_trim
        return False
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return bool(trim(0))
