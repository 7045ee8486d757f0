"""Leases on the embedded database (crawler/leases.py): live while held by a live process."""

from __future__ import annotations

import os
from pathlib import Path

from crawler.leases import Leases


def test_a_held_lease_is_live_and_a_released_one_is_gone(tmp_path: Path) -> None:
    leases = Leases(tmp_path)
    first, second = leases.take(), leases.take()
    assert leases.holders() == [os.getpid(), os.getpid()]
    first.release()
    first.release()  # twice: nothing
    assert leases.holders() == [os.getpid()]
    second.release()
    assert leases.holders() == []
    assert list(leases.folder.iterdir()) == []


def test_a_lease_nobody_holds_is_ignored_and_removed(tmp_path: Path) -> None:
    leases = Leases(tmp_path)
    leases.folder.mkdir(parents=True)
    unlocked = leases.folder / f"{os.getpid()}-99.lease"  # its process ended: no lock on it
    unlocked.write_text(str(os.getpid()))
    held = leases.take()
    assert leases.holders() == [os.getpid()]
    assert not unlocked.exists()
    held.release()


def test_the_lock_is_not_taken_twice(tmp_path: Path) -> None:
    leases = Leases(tmp_path)
    with leases.exclusive() as first:
        assert first
        with leases.exclusive(wait=False) as second:
            assert not second
    with leases.exclusive(wait=False) as again:
        assert again
