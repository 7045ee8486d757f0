"""Leases on the embedded database: the server runs while any process uses it.

Every process that uses the embedded server of a data directory, the one that started it and
each one that reuses it (a second ``newscrawl run`` on another sources file, a ``scrapy
crawl`` beside it, ``newscrawl db``), holds a *lease*: a file
``<data dir>/nx-27017.leases/<pid>-<n>.lease`` naming its PID, locked with ``flock`` for as
long as it is held::

    process A ──take──▶ A.lease (flock) ─┐
    process B ──take──▶ B.lease (flock) ─┼─▶ server runs while a lease is live
    (SIGKILLed C: lock dropped by kernel)┘   last one out (or the server's watchdog) stops it

A lease is *live* while its file is locked and the process it names is alive. The kernel drops
the lock when the process ends, however it ends (exit, exception, SIGKILL), so a dead process's
lease is ignored, and removed, without any cleanup on its part. (The PID check as well: a child
forked by the process, an extraction worker, inherits the locked file and may outlive it.)

The server stops when no live lease is left: the process that releases the last lease stops it
(:meth:`crawler.database.EmbeddedMongo.stop`); when the last holders died instead, the server's
own watchdog does (:mod:`crawler.dbserver`). Taking a lease and deciding to stop happen under one
lock, ``<data dir>/nx-27017.lock``, held by whoever stops the server until it is gone: a process
never joins a server that is stopping, and never starts a second one on the same files.
"""

from __future__ import annotations

import contextlib
import fcntl
import itertools
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO

logger = logging.getLogger(__name__)

_numbers = itertools.count(1)  # leases of this process (one per EmbeddedMongo that holds one)
SUFFIX = ".lease"


class Lease:
    """A held lease: its file, open and locked. :meth:`release` gives it up."""

    def __init__(self, path: Path, handle: IO[str]) -> None:
        self.path = path
        self.handle: IO[str] | None = handle

    def release(self) -> None:
        if self.handle is None:
            return
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        self.handle.close()  # drops the lock
        self.handle = None


class Leases:
    """The leases on the embedded server of the data directory ``home``."""

    def __init__(self, home: str | Path) -> None:
        self.home = Path(home)
        self.folder = self.home / "nx-27017.leases"
        self.lock_path = self.home / "nx-27017.lock"

    @contextlib.contextmanager
    def exclusive(self, wait: bool = True) -> Iterator[bool]:
        """The lock under which leases are taken and the server is stopped. Yields whether it
        is held (``wait=False``: False when another process holds it)."""
        self.home.mkdir(parents=True, exist_ok=True)
        with open(self.lock_path, "a") as handle:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
            except BlockingIOError:
                yield False
                return
            yield True  # the lock goes with the file's closing

    def take(self) -> Lease:
        """A new lease for this process. Made under a temporary name and renamed once locked,
        so that no other process ever sees it unlocked (and takes it for a dead one's)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        name = f"{os.getpid()}-{next(_numbers)}"
        temporary = self.folder / f"{name}.new"
        handle = open(temporary, "w")  # noqa: SIM115 - held with the lease
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            handle.write(str(os.getpid()))
            handle.flush()
            path = self.folder / f"{name}{SUFFIX}"
            os.replace(temporary, path)
        except BaseException:
            handle.close()
            with contextlib.suppress(FileNotFoundError):
                temporary.unlink()
            raise
        return Lease(path, handle)

    def holders(self) -> list[int]:
        """The PIDs of the live leases (one per lease: a process may hold several). Leases of
        dead processes are removed."""
        try:
            paths = sorted(self.folder.glob(f"*{SUFFIX}"))
        except OSError:
            return []
        pids = []
        for path in paths:
            pid = _live(path)
            if pid is None:
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
                logger.debug("Removed the lease %s of a process that is gone", path)
            else:
                pids.append(pid)
        return pids


def _live(path: Path) -> int | None:
    """The PID of a live lease, or None (its process is gone)."""
    try:
        handle = open(path)  # noqa: SIM115 - closed below
    except FileNotFoundError:
        return None
    with handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pass  # locked: held, unless only a child of a dead holder keeps the file open
        else:
            return None  # nobody holds it
        try:
            pid = int(handle.read().strip())
        except ValueError:
            return None
    return pid if alive(pid) else None


def alive(pid: int) -> bool:
    """Running, not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        try:
            os.kill(pid, 0)
        except OSError:
            return False
        return True
    return state not in ("Z", "X")
