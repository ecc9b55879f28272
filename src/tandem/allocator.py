"""The allocators' settings for a process that works on large arrays: glibc's (numpy's
arrays) and jemalloc's (Polars' columns).

numpy takes each large array from ``malloc``. By default glibc serves a block above a moving
threshold with a fresh ``mmap`` and returns it to the system on ``free``, and trims its heap
whenever 128 KiB lie free at the top: an engine that makes and drops dozens of arrays of
8 MB per million tickets then asks the kernel for every page again, each time, as a page
fault. On this project's 2-core virtual machines that cost as much as the arithmetic itself
(``bench/sla.py``, measure() at a million tickets: ~20,000 faults and 50-150 ms of system
time per call with the defaults, a few thousand faults and ~10-25 ms with :func:`tune`).

:func:`tune` keeps blocks of up to 32 MiB in the heap, lets up to 256 MiB of freed memory
stay there for the next array, and has every thread allocate from that one heap, so memory is
reused instead of faulted in again.
Peak memory does not grow much (a freed block is reused before the heap grows; one heap for
all threads wastes less than one per thread); a process that has finished its large work holds
at most 256 MiB more than it needs.

Polars brings its own allocator, jemalloc, which Polars sets (as it loads) to hand freed pages
back to the system within half a second to a second, in a steady trickle: a column of two
million ids then costs thousands of page faults each time it is built (measure()'s output
cells at a million tickets: ~5,000 faults and 32 ms a call instead of none and 17). Polars
appends what ``_RJEM_MALLOC_CONF`` holds to its own settings, so :func:`tune` puts
jemalloc's stock ten seconds there (:data:`JEMALLOC_CONF`); it must run before the first
``import polars`` for that. A worker hands its memory back ten seconds after a large job.

``tandem`` (every command, the server and the task workers) calls it first; so does the
benchmark, whose timings then are the product's. Elsewhere (musl, macOS, Windows) glibc's
part does nothing and says so.
"""

from __future__ import annotations

import ctypes
import os
import sys

#: ``mallopt`` parameters (glibc's malloc.h).
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8

#: Blocks up to this size come from the heap (glibc's largest allowed threshold on 64 bits).
MMAP_THRESHOLD = 32 << 20
#: Heaps (arenas) threads allocate from: one, the main heap, which the two settings below
#: govern. Each other thread's arena is a separate mapping that glibc grows and shrinks on
#: its own terms: with them, at a million tickets, measure() after reading the CSV files in
#: the same process (what ``tandem sla measure`` does) faulted ~25,000 pages per call and took
#: 0.11-0.14 s at best; with one arena ~8,000 and 0.08 s, and the process' peak fell from
#: 1.2 to 0.9 GB (two interleaved rounds of each setting, one process each).
ARENAS = 1
#: Freed memory kept at the top of the heap before it goes back to the system.
TRIM_THRESHOLD = 256 << 20


#: jemalloc's settings for Polars (unless the environment sets its own): freed pages stay
#: with the process for about ten seconds, dirty or "muzzy" alike, before they go back.
JEMALLOC_CONF = "dirty_decay_ms:10000,muzzy_decay_ms:10000"
#: The variable Polars' jemalloc reads (Polars puts its own settings first, then these).
JEMALLOC_VARIABLE = "_RJEM_MALLOC_CONF"


def tune() -> bool:
    """Apply the settings above; ``True`` when glibc took them. (jemalloc's take effect only
    if Polars has not been loaded yet.)"""
    os.environ.setdefault(JEMALLOC_VARIABLE, JEMALLOC_CONF)
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # not glibc
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return all(
        mallopt(parameter, value)
        for parameter, value in (
            (_M_ARENA_MAX, ARENAS),
            (_M_MMAP_THRESHOLD, MMAP_THRESHOLD),
            (_M_TRIM_THRESHOLD, TRIM_THRESHOLD),
        )
    )
