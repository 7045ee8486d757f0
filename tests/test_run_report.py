"""What a run tells a person: the per-source summary table at the end of every crawl, the
progress lines while crawling, ``newscrawl runs``, and ``--log-json`` with every line JSON."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pymongo
import pytest

from crawler.demo.server import DemoServer, write_sources_file
from crawler.extraction.classify import REFUSAL_KINDS, PageKind, refusal_kind
from crawler.report.table import refusals
from crawler.run import EXIT_OK
from tests.conftest import ROOT, log_of, run_crawl
from tests.test_cron import newscrawl

ROW = re.compile(r"^(\S+)\s+" + r"\s+".join([r"(\d+)"] * 10)
                 + r"(?:(?:\s+(?:\d+%|-)){5})?\s*$")
COLUMNS = ("discovered", "fetched", "stored_new", "updated", "unchanged", "not_modified",
           "rejected", "skipped_too_old", "errors", "rendered")


@pytest.fixture
def db(mongo_uri: str, request: pytest.FixtureRequest) -> Iterator[Any]:
    name = f"report_{request.node.name[:40]}"
    client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(mongo_uri, tz_aware=True)
    client.drop_database(name)
    yield client[name]
    client.drop_database(name)
    client.close()


def test_refusal_reasons_fall_into_a_small_fixed_set_of_kinds() -> None:
    reasons = {"too short (12 words)": "too_short", "mostly links (72%)": "mostly_links",
               "declared listing": "declared_listing",
               "no article type and no date": "no_type_no_date",
               "not prose (40 words of prose)": "not_prose",
               "URL of a front, about or listing page (about page)": "site_page_url",
               "several dated entries (12 days)": "dated_entries",
               "found date not shown": "date_not_shown",
               "unparseable HTML": "other", "extraction timeout": "other"}
    for reason, kind in reasons.items():
        assert refusal_kind(PageKind(False, reason).reason) == kind
    # needs_browser is no reason of the classifier: a page the browser could not render
    # (crawler/spiders/news.py, on_error)
    assert set(reasons.values()) | {"needs_browser"} == set(REFUSAL_KINDS)


def _summary(log: str) -> tuple[dict[str, dict[str, int]], dict[str, str]]:
    """The rows and the refusal lines of the last summary table in a text log."""
    lines = log.splitlines()
    start = max(i for i, line in enumerate(lines) if "Run summary (" in line)
    assert lines[start + 1].split()[:11] == ["source", "found", "fetched", "new", "upd", "same",
                                             "304", "refused", "old", "err", "browser"]
    rows: dict[str, dict[str, int]] = {}
    refused: dict[str, str] = {}
    for line in lines[start + 2:]:
        if match := ROW.match(line):
            rows[match[1]] = {key: int(match[i + 2]) for i, key in enumerate(COLUMNS)}
        elif " refused: " in line and line.startswith("  "):
            name, _, reasons = line.strip().partition(" refused: ")
            refused[name] = reasons
        else:
            break
    return rows, refused


def test_scrapy_crawl_ends_with_the_summary_table_and_logs_progress(
        demo: DemoServer, db: Any, mongo_uri: str, tmp_path: Path) -> None:
    sources = tmp_path / "sources.yaml"
    write_sources_file(demo.sites, sources)
    proc = run_crawl(mongo_uri=mongo_uri, database=db.name, data_dir=tmp_path,
                     settings={"NEWS_SOURCES": str(sources), "NEWS_PROGRESS_INTERVAL": "0.2"})
    assert proc.returncode == 0, log_of(proc)
    (run,) = db.crawl_runs.find()
    rows, refused = _summary(proc.stderr)
    assert set(rows) == {"rundschau", "harbour", "courrier", "total"}
    for name in ("rundschau", "harbour", "courrier"):
        assert rows[name] == {key: run["counts"][name][key] for key in COLUMNS}, name
    assert rows["total"]["stored_new"] == db.articles.count_documents({}) == 21
    # The refusals: counted per source by kind, and the kinds named in the table.
    refused_kinds = {name: refusals(c) for name, c in run["counts"].items() if refusals(c)}
    for name, kinds in refused_kinds.items():
        assert set(kinds) <= set(REFUSAL_KINDS)
        assert sum(kinds.values()) == run["counts"][name]["rejected"] > 0
        for kind, count in kinds.items():
            assert f"{count} {REFUSAL_KINDS[kind]}" in refused[name]
    assert set(refused) == set(refused_kinds) == {"harbour", "courrier"}
    assert "outcome ok" in proc.stderr

    progress = [line for line in proc.stderr.splitlines() if "] INFO: Progress" in line]
    final = progress[-1]
    assert "Progress (final)" in final and len(progress) >= 2, progress
    done, known = map(int, re.search(r"(\d+) of (\d+) known pages done", final).groups())
    assert done == known >= sum(rows["total"][k] for k in ("fetched", "not_modified"))
    assert "(0 in flight, 0 queued)" in final and "stragglers: none" in final
    assert "21 articles found, 21 stored (21 new, 0 updated)" in final
    assert re.search(r"\d+ pages/min now, \d+ pages/min overall", final)
    assert "Crawled " not in proc.stderr  # Scrapy's LogStats line is replaced


def test_run_log_json_every_line_and_runs_table(demo: DemoServer, db: Any, mongo_uri: str,
                                                 tmp_path: Path) -> None:
    sources = tmp_path / "sources.yaml"
    write_sources_file(demo.sites, sources)
    proc = newscrawl("run", "--sources", str(sources), "--log-json", mongo_uri=mongo_uri,
                     database=db.name, data_dir=tmp_path)
    assert proc.returncode == EXIT_OK, proc.stderr[-3000:]
    lines = proc.stderr.splitlines()
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    assert len(records) > 20
    for record in records:
        assert {"time", "level", "logger", "message"} <= set(record), record
        assert datetime.fromisoformat(record["time"]).utcoffset() is not None, record["time"]
    assert any(r["logger"].startswith("scrapy.") for r in records)
    (summary,) = [r for r in records if "summary" in r]
    assert summary["level"] == "INFO" and summary["message"].startswith("Run summary")
    by_source = {row["source"]: row for row in summary["summary"]}
    (run,) = db.crawl_runs.find()
    assert set(by_source) == set(run["counts"])
    for name, row in by_source.items():
        assert {key: row[key] for key in COLUMNS} == {k: run["counts"][name][k] for k in COLUMNS}
        assert row["health"] == run["health"][name]
        assert row["refused_reasons"] == refusals(run["counts"][name])
    final = [r["progress"] for r in records if r.get("progress", {}).get("final")]
    assert final and final[0]["done"] == final[0]["known"] and final[0]["stored"] == 21

    table = newscrawl("runs", mongo_uri=mongo_uri, database=db.name, data_dir=tmp_path)
    assert table.returncode == 0, table.stderr[-2000:]
    out = table.stdout.splitlines()
    assert out[0].split() == ["started", "(UTC)", "secs", "outcome", "source", "found", "fetched",
                              "new",
                              "upd", "same", "304", "refused", "old", "err", "browser", "empty",
                              "nodate",
                              "noauth", "paywl", "fast"]
    started = run["started_at"].strftime("%Y-%m-%d %H:%M:%S")
    for name, c in run["counts"].items():
        (line,) = [line for line in out if line.startswith(started) and f" {name} " in line]
        cells = line.split()
        assert cells[3] == "ok" and cells[4] == name
        assert [int(v) for v in cells[5:15]] == [c[k] for k in COLUMNS]
        assert cells[15:] == [f"{run['health'][name][k] * 100:.0f}%"
                              for k in ("empty_text", "no_date", "no_author", "paywalled",
                                        "fast")]
    assert any(line.strip().startswith("harbour refused: ") for line in out)


_JSON_SCRIPT = """
import asyncio, sys, warnings
from crawler.logjson import install
from crawler.extraction_pool import ExtractionPool
from tests.log_tasks import noisy

install("INFO")
pool = ExtractionPool(workers=1, task=noisy)
result = asyncio.run(pool.extract("<html><body><p>Hello</p></body></html>", "http://a.test/x"))
pool.close()
warnings.warn("parent warns", UserWarning)
raise RuntimeError("uncaught at the top")
"""


def test_json_lines_cover_warnings_worker_processes_and_uncaught_errors(tmp_path: Path) -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("NEWSCRAWL_LOG_JSON", None)
    proc = subprocess.run([sys.executable, "-c", _JSON_SCRIPT], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 1
    records = [json.loads(line) for line in proc.stderr.splitlines()]  # every line JSON
    assert all(datetime.fromisoformat(r["time"]).utcoffset() is not None for r in records)
    by_message = {r["message"].split(":")[0]: r for r in records}
    assert by_message["worker says"]["logger"] == "some.library"  # from the spawned worker
    warned = " ".join(r["message"] for r in records if r["logger"] == "py.warnings")
    assert "worker warns" in warned and "parent warns" in warned
    (crash,) = [r for r in records if r["level"] == "CRITICAL"]
    assert "uncaught at the top" in crash["message"]
    assert "RuntimeError" in crash["exc_info"]


def test_summary_counts_entries_skipped_as_old(demo: DemoServer, db: Any, mongo_uri: str,
                                               tmp_path: Path) -> None:
    sources = tmp_path / "sources.yaml"
    write_sources_file(demo.sites[:1], sources)  # the feed site: its entries are years old
    proc = run_crawl(mongo_uri=mongo_uri, database=db.name, data_dir=tmp_path,
                     settings={"NEWS_SOURCES": str(sources), "NEWS_MAX_AGE_DAYS": "7"})
    (run,) = db.crawl_runs.find()
    rows, _ = _summary(proc.stderr)
    (name,) = run["counts"]
    assert rows[name]["skipped_too_old"] == run["counts"][name]["skipped_too_old"] == 7
    assert rows[name]["fetched"] == 0 and "total" not in rows
    assert re.search(rf"^{name}\s+7\s+0 .*\s+7\s+0\s+0\s+-\s+-\s+-\s+-\s+-\s*$", proc.stderr,
                     re.MULTILINE)


def test_log_json_operator_error_is_json_too(db: Any, mongo_uri: str, tmp_path: Path) -> None:
    proc = newscrawl("run", "--log-json", "-s", "NO_EQUALS_SIGN", mongo_uri=mongo_uri,
                     database=db.name, data_dir=tmp_path)
    assert proc.returncode == 2
    (record,) = [json.loads(line) for line in proc.stderr.splitlines()]
    assert record["level"] == "ERROR" and "NAME=VALUE" in record["message"]
    assert datetime.fromisoformat(record["time"]).utcoffset() is not None


def test_refusals_are_counts_so_distributed_parts_sum_them() -> None:
    from crawler.distributed.run_parts import add
    from crawler.report.runs import runs_lines

    total: dict[str, dict[str, int]] = {}
    add(total, {"s": {"fetched": 4, "rejected": 1, "refused_too_short": 1}})  # worker 1
    add(total, {"s": {"fetched": 5, "rejected": 3, "refused_too_short": 2,
                      "refused_not_prose": 1}})  # worker 2
    assert refusals(total["s"]) == {"too_short": 3, "not_prose": 1}
    started = datetime.fromisoformat("2026-06-01T10:00:00+00:00")
    lines = runs_lines([{"started_at": started, "ended_at": started, "outcome": "ok",
                         "mode": "distributed", "counts": total}])
    assert lines[2].strip() == "s refused: 3 too short, 1 not prose"
    assert lines[1].split()[4:7] == ["s", "0", "9"]  # source, found, fetched
