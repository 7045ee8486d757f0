"""glibc's memory allocator set for the crawl process and the embedded database.

A crawl allocates, for every page, buffers of 100 kB and more (the response body, the page
pickled for its worker) from several threads. With glibc's defaults each thread that allocates
gets an arena of its own, up to eight per core, and each arena keeps what was freed in it (the
crawl process runs the reactor, the WARC writer, pymongo's and pebble's threads; nx-27017 serves
each connection in a thread).

The crawl process gets two arenas (``mallopt``, when the crawler is built:
crawler/extensions/malloc_tuning.py), the embedded database two arenas (``GLIBC_TUNABLES`` when
it is started). Measured on the web-mode benchmark (N = 1810, docs/performance.md "The crawl
process holds no page text"): the database peaks at 84-88 MB instead of 119-144, the whole
crawl 15 MB lower, at no cost in CPU. Fixing the mmap threshold at 128 kB as well (every
page-sized buffer mapped on its own and given back) took the crawl process 28 MB lower, but
cost the crawl about a quarter more CPU (paired, 3 rounds: 0.77 of the rate without it), so it
is not set. The extraction workers are left alone: their peak is a large page's own.

Nothing here changes what is computed. Where the C library is not glibc (``mallopt`` missing or
refusing), nothing is set.
"""

from __future__ import annotations

import ctypes
import logging
from collections.abc import Mapping

logger = logging.getLogger(__name__)

ARENA_MAX = 2
# For a server about to start: its threads' arenas (its large buffers are few)
TUNABLES = f"glibc.malloc.arena_max={ARENA_MAX}"
ENVIRONMENT_KEY = "GLIBC_TUNABLES"
# mallopt's parameters (glibc's malloc.h)
_M_ARENA_MAX = -8


def tune_process() -> bool:
    """Set this process's allocator (for what it allocates from now on); False where the C
    library has no such settings."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    done = mallopt(_M_ARENA_MAX, ARENA_MAX) == 1
    if not done:
        logger.debug("malloc not tuned: mallopt refused")
    return done


def child_environment(environment: Mapping[str, str]) -> dict[str, str]:
    """``environment`` for a server about to start, with two malloc arenas
    (:data:`TUNABLES`), unless it sets glibc's tunables itself."""
    if ENVIRONMENT_KEY in environment:
        return dict(environment)
    return {**environment, ENVIRONMENT_KEY: TUNABLES}
