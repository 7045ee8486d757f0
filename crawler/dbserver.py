"""The embedded nx-27017 server, running while any process uses it.

``python -m crawler.dbserver --parent PID --home DIR <nx-27017 arguments>`` runs nx-27017 with
a watchdog thread: when no live lease is left on the data directory ``DIR``
(:mod:`crawler.leases`: every process that uses the server holds one, and a process that ended,
however, holds none), the server stops itself with SIGTERM (nx-27017 then exits cleanly), and if
that does not end it within ``_GRACE`` seconds, at once. ``PID``, the process that started it,
is only named in the log line: the server outlives it while other processes use it.

The process that releases the last lease normally stops the server itself
(:meth:`crawler.database.EmbeddedMongo.stop`); the watchdog is for holders that died (SIGKILL),
so that no server is ever left running for nobody.

Why leases and not the parent alone: a second crawl that reuses the server would lose it when
the first one ends. Why not ``PR_SET_PDEATHSIG`` or a pipe: the first fires when the *thread*
that started the child ends, and a pipe stays open while any forked child of a holder (an
extraction worker) still holds the inherited end.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import signal
import sys
import threading
import time
from pathlib import Path

from crawler.leases import Leases

logger = logging.getLogger(__name__)

_POLL = 0.2  # seconds between checks of the leases
_GRACE = 10.0  # seconds a clean shutdown may take before the process exits at once


def watch_leases(home: Path, parent: int, poll: float = _POLL, grace: float = _GRACE) -> None:
    """Stop this process once no live lease is left on ``home``."""
    leases = Leases(home)
    while True:
        time.sleep(poll)
        with leases.exclusive(wait=False) as locked:
            if not locked or leases.holders():
                continue
            # Nobody uses the server: stop it, holding the lock until this process is gone (a
            # process that wants the server meanwhile waits, then starts a new one).
            _forget(home / "nx-27017.json")
            gone = "" if os.getppid() == parent else \
                f"the process that started it (pid {parent}) is gone and "
            logger.warning("nx-27017: %sno process uses it any more; stopping", gone)
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(grace)
            os._exit(1)


def _forget(state_file: Path) -> None:
    """Remove the address file when it names this server."""
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
        if int(json.loads(state_file.read_text())["pid"]) == os.getpid():
            state_file.unlink()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="crawler.dbserver", add_help=False)
    parser.add_argument("--parent", type=int, required=True)
    parser.add_argument("--home", type=Path, required=True)
    args, rest = parser.parse_known_args(argv)
    threading.Thread(target=watch_leases, args=(args.home, args.parent),
                     name="lease-watchdog", daemon=True).start()
    from nx_27017.nx_27017 import main as nx_main

    sys.argv = ["nx_27017", *rest]
    nx_main()


if __name__ == "__main__":
    main()
