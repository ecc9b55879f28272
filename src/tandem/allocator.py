"""The C allocator's settings for a process that works on large arrays (glibc only).

numpy takes each large array from ``malloc``. By default glibc serves a block above a moving
threshold with a fresh ``mmap`` and returns it to the system on ``free``, and trims its heap
whenever 128 KiB lie free at the top: an engine that makes and drops dozens of arrays of
8 MB per million tickets then asks the kernel for every page again, each time, as a page
fault. On this project's 2-core virtual machines that cost as much as the arithmetic itself
(``bench/sla.py``, measure() at a million tickets: ~20,000 faults and 50-150 ms of system
time per call with the defaults, a few thousand faults and ~10-25 ms with :func:`tune`).

:func:`tune` keeps blocks of up to 32 MiB in the heap and lets up to 256 MiB of freed
memory stay there for the next array, so memory is reused instead of faulted in again.
Peak memory does not grow (a freed block is reused before the heap grows); a process that
has finished its large work holds at most that much more than it needs.

``tandem`` (every command, the server and the task workers) calls it first; so does the
benchmark, whose timings then are the product's. Elsewhere (musl, macOS, Windows) it does
nothing and says so.
"""

from __future__ import annotations

import ctypes
import sys

#: ``mallopt`` parameters (glibc's malloc.h).
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3

#: Blocks up to this size come from the heap (glibc's largest allowed threshold on 64 bits).
MMAP_THRESHOLD = 32 << 20
#: Freed memory kept at the top of the heap before it goes back to the system.
TRIM_THRESHOLD = 256 << 20


def tune() -> bool:
    """Apply the settings above; ``True`` when glibc took them."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # not glibc
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(
        mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    )
