"""The embedded nx-27017 server, tied to the process that started it.

``python -m crawler.dbserver --parent PID <nx-27017 arguments>`` runs nx-27017 with a watchdog
thread: when the process ``PID`` is no longer this process's parent (it ended, however: exit,
exception, SIGKILL, and this process was re-parented), the server stops itself with SIGTERM
(nx-27017 then exits cleanly), and if that does not end it within ``_GRACE`` seconds, at once.

Why the parent PID and not the alternatives: ``PR_SET_PDEATHSIG`` fires when the *thread* that
started the child ends (a server started from a worker thread would die with that thread), and
a pipe whose end-of-file means "parent gone" stays open while any forked child of the parent
(an extraction worker, say) still holds the inherited write end. The parent PID check has
neither problem and also covers a parent that died before the watchdog started.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
import time

logger = logging.getLogger(__name__)

_POLL = 0.2  # seconds between checks of the parent
_GRACE = 10.0  # seconds a clean shutdown may take before the process exits at once


def watch_parent(parent: int, poll: float = _POLL, grace: float = _GRACE) -> None:
    """Stop this process once ``parent`` is no longer its parent."""
    while os.getppid() == parent:
        time.sleep(poll)
    logger.warning("nx-27017: the process that started it (pid %d) is gone; stopping", parent)
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(grace)
    os._exit(1)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="crawler.dbserver", add_help=False)
    parser.add_argument("--parent", type=int, required=True)
    args, rest = parser.parse_known_args(argv)
    threading.Thread(target=watch_parent, args=(args.parent,), name="parent-watchdog",
                     daemon=True).start()
    from nx_27017.nx_27017 import main as nx_main

    sys.argv = ["nx_27017", *rest]
    nx_main()


if __name__ == "__main__":
    main()
