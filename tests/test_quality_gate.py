"""CI gate: extraction quality on a deterministic subset of the public benchmarks must not
drop below the floors pinned in benchmarks/quality_floor.json.

The data lives next to the repository (``../shared/eval``, or ``NEWS_EVAL_DIR``); without
it the gate is skipped, loudly. The full run is ``.venv/bin/python benchmarks/quality.py``.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import quality  # noqa: E402

FLOOR: dict[str, Any] = json.loads((ROOT / "benchmarks" / "quality_floor.json").read_text())

# The subset of the benchmarks is extracted in worker processes: half a minute.
pytestmark = pytest.mark.slow

needs_data = pytest.mark.skipif(
    not quality.EVAL_DIR.is_dir(),
    reason=f"evaluation data not found at {quality.EVAL_DIR} (set NEWS_EVAL_DIR)",
)


@pytest.fixture(scope="module")
def report() -> quality.Report:
    workers = min(2, os.cpu_count() or 1)
    return quality.run(FLOOR["subset"], systems=("ours",), workers=workers)


@needs_data
def test_subset_is_deterministic_and_sized() -> None:
    first = quality.subset(quality.load_fundus(), FLOOR["subset"])
    again = quality.subset(list(reversed(quality.load_fundus())), FLOOR["subset"])
    assert [p.id for p in first] == [p.id for p in again]
    assert len(first) == FLOOR["subset"]


@needs_data
@pytest.mark.parametrize(
    ("corpus", "metric"),
    [(corpus, metric) for corpus, metrics in FLOOR["floors"].items() for metric in metrics],
)
def test_score_is_above_floor(report: quality.Report, corpus: str, metric: str) -> None:
    score = report.scores["ours"][corpus][metric]
    floor = FLOOR["floors"][corpus][metric]
    assert score >= floor, f"{corpus} {metric}: {score:.3f} fell below the floor {floor}"


def test_shingle_metric() -> None:
    text = "one two three four five six"
    assert quality.shingle_scores(text, text) == (1.0, 1.0)
    assert quality.shingle_scores("", text) == (None, 0.0)  # nothing predicted: recall only
    precision, recall = quality.shingle_scores("one two three four nine", text)
    assert (precision, recall) == (0.5, 1 / 3)
    scores = quality.body_scores([(text, text), ("", text)])
    assert scores["precision"] == 1.0 and scores["recall"] == 0.5
    assert abs(scores["f1"] - 2 / 3) < 1e-9


def test_metadata_metrics() -> None:
    from datetime import UTC, datetime, timedelta, timezone

    assert quality.title_ok("A  title\n", "A title")
    assert quality.authors_ok(["Jane Doe", "John Roe"], ["John Roe", "Jane  Doe"])
    assert not quality.authors_ok(["Jane Doe"], ["Jane Doe", "AFP"])
    gold = datetime(2024, 5, 3, 15, 47, tzinfo=UTC)
    cest = timezone(timedelta(hours=2))
    assert quality.date_day_ok(datetime(2024, 5, 3, 17, 47, tzinfo=cest), gold)
    assert quality.date_minute_ok(datetime(2024, 5, 3, 17, 47, 30, tzinfo=cest), gold)
    assert not quality.date_minute_ok(datetime(2024, 5, 3), gold)
    assert quality.date_day_ok(datetime(2024, 5, 3), datetime(2024, 5, 3))
