"""Eleven runs of the month site (tests/month_site.py: five and a half simulated days, one run
every 12 hours, a real crawl each): nothing late or lost, each edit one revision, a deleted
article marked gone and kept, a moved article one document, fetches close to the minimum,
``url_state`` no larger than the URLs seen. The month itself: benchmarks/month.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.month_site import available, simulate

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not available(), reason="needs ../shared/eval ground truth")]


def test_eleven_runs_of_an_evolving_site(mongo_uri: str, mongo_db: Any, tmp_path: Path) -> None:
    report = simulate(11, mongo_uri, mongo_db.name, tmp_path)
    assert not report.problems
    assert report.late == [] and report.lost == []
    last = report.rows[-1]
    assert last.stored_in_time == last.expected == 25  # 26 published, 1 deleted
    assert report.revisions and all(edits == stored for edits, stored
                                    in report.revisions.values())
    assert report.gone and all(report.gone.values())
    assert report.moved and all(documents == 1 for documents in report.moved.values())
    fetched = sum(row.fetches for row in report.rows[1:])
    minimum = sum(row.minimum for row in report.rows[1:])
    assert minimum <= fetched <= 1.3 * minimum, [(r.fetches, r.minimum) for r in report.rows]
    assert all(row.url_state <= row.urls_seen for row in report.rows)
