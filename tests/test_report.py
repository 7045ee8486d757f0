"""``newscrawl report``: after real runs of the demo sites (and a source that fails) into a test
database, the page is written, self-contained, and in a real browser (Debian's chromium driven
by Playwright) it loads with no console error and no request leaving the file, and every chart
is drawn with its data marks; failing sources come first."""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pymongo
import pytest

from crawler.demo.server import DemoServer, write_sources_file
from crawler.report.table import judged
from crawler.run import EXIT_FAILED
from tests.test_cron import newscrawl

# Debian's chromium; NEWSCRAWL_CHROMIUM names another binary
CHROMIUM = os.environ.get("NEWSCRAWL_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
HEALTH = ("empty_text", "rejected", "no_date", "no_author")  # the four charts of health
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


@pytest.fixture
def db(mongo_uri: str, request: pytest.FixtureRequest) -> Iterator[Any]:
    name = f"page_{request.node.name[:40]}"
    client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(mongo_uri, tz_aware=True)
    client.drop_database(name)
    yield client[name]
    client.drop_database(name)
    client.close()


@pytest.fixture
def playwright() -> Any:
    """Playwright, to drive Debian's chromium; the test is skipped (before its crawl) without
    it."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no chromium at {CHROMIUM}: apt-get install chromium (.ci/run does)")
    sync_api = pytest.importorskip("playwright.sync_api")
    return sync_api.sync_playwright


def _open(playwright: Any, page_file: Path) -> tuple[Any, Any, list[str], list[str]]:
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    errors: list[str] = []
    outside: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type in ("error", "warning")
            else None)
    page.on("pageerror", lambda e: errors.append(str(e)))

    def route(route: Any) -> None:
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", route)
    page.goto(page_file.as_uri(), wait_until="load")
    return browser, page, errors, outside


def test_report_page_draws_every_chart_in_a_real_browser(
        demo: DemoServer, db: Any, mongo_uri: str, tmp_path: Path, playwright: Any) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead = sock.getsockname()[1]
    sources = tmp_path / "sources.yaml"
    write_sources_file(demo.sites, sources)
    with sources.open("a", encoding="utf-8") as out:  # a source that fails entirely
        out.write(f"  - name: gone\n    feeds: [http://127.0.0.1:{dead}/rss.xml]\n")
    for _ in range(2):  # two runs: health over runs has lines
        run = newscrawl("run", "--sources", str(sources), mongo_uri=mongo_uri,
                        database=db.name, data_dir=tmp_path, settings=["RETRY_TIMES=0"])
        assert run.returncode == EXIT_FAILED, run.stderr[-3000:]
    assert db.articles.count_documents({}) == 21

    # newscrawl runs: the failing source's problem under its run, no health share to show
    table = newscrawl("runs", mongo_uri=mongo_uri, database=db.name, data_dir=tmp_path)
    assert table.returncode == 0, table.stderr[-2000:]
    lines = table.stdout.splitlines()
    titles = next(line.split() for line in lines if " source " in f" {line} ")
    gone = [dict(zip(titles[-7:], line.split()[-7:], strict=True))
            for line in lines if " gone " in line]
    assert len(gone) == 2
    assert all(row["err"] == "1" for row in gone), gone
    assert all({row[t] for t in ("empty", "nodate", "noauth", "paywl", "fast")} == {"-"}
               for row in gone), gone
    assert table.stdout.count("! source gone: failed entirely") == 2

    out = tmp_path / "report.html"
    since = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    made = newscrawl("report", "--since", since, "--out", str(out),
                     "-s", f"MONGO_DATABASE={db.name}", mongo_uri=mongo_uri, database=db.name,
                     data_dir=tmp_path)
    assert made.returncode == 0, made.stderr[-3000:]
    assert "4 sources (1 failing), 2 runs" in made.stderr
    text = out.read_text(encoding="utf-8")
    assert "<script src" not in text and "<link" not in text  # nothing to load from elsewhere

    with playwright() as driver:
        browser, page, errors, outside = _open(driver, out)
        try:
            for chart in ("chart-articles", "chart-delay", "chart-health"):
                page.wait_for_selector(f"#{chart} .main-svg", state="attached")
                box = page.locator(f"#{chart} .main-svg").first.bounding_box()
                assert box and box["width"] > 300 and box["height"] > 200, (chart, box)
            # data marks: a bar per source with articles (all in one hour), a box per source
            # with dated articles, a line per source and health metric with a marker per run
            bars = page.locator("#chart-articles .barlayer .trace .point path")
            assert bars.count() == 3
            assert all(bars.nth(i).bounding_box()["height"] > 0 for i in range(3))
            assert page.locator("#chart-delay .boxlayer .trace path.box").count() == 3
            lines = page.locator("#chart-health .scatterlayer .trace")
            assert lines.count() == 4 * 4
            # a marker per run, source and metric with something to judge (a share of pages
            # needs pages fetched; a share of articles needs articles), a gap elsewhere
            judgeable = sum(judged(counts, metric) for run in db.crawl_runs.find()
                            for counts in run["counts"].values() for metric in HEALTH)
            assert 12 <= judgeable < 4 * 4 * 2
            points = page.locator("#chart-health .scatterlayer .trace .point")
            assert points.count() == judgeable
            legend = page.locator("#chart-articles .legend text.legendtext").all_text_contents()
            assert sorted(legend) == ["courrier", "harbour", "rundschau"]
            # failing sources first, with their problem
            first = page.locator("#sources tr").nth(1)
            assert first.get_attribute("class") == "failing"
            assert first.locator("td").first.inner_text() == "gone"
            assert "failed entirely" in first.inner_text()
            assert "failed runs" in page.locator("#sources tr").first.inner_text()
            assert page.locator("#sources tr").count() == 1 + 4
        finally:
            browser.close()
    assert errors == []
    assert outside == []


def test_report_of_an_empty_period_says_so(db: Any, mongo_uri: str, tmp_path: Path,
                                           playwright: Any) -> None:
    out = tmp_path / "empty.html"
    made = newscrawl("report", "--out", str(out), "-s", f"MONGO_DATABASE={db.name}",
                     mongo_uri=mongo_uri, database=db.name, data_dir=tmp_path)
    assert made.returncode == 0, made.stderr[-3000:]
    with playwright() as driver:
        browser, page, errors, outside = _open(driver, out)
        try:
            assert page.locator(".js-plotly-plot").count() == 0
            for note in ("chart-articles-empty", "chart-delay-empty", "chart-health-empty"):
                assert page.locator(f"#{note}").is_visible()
            assert "0 runs and 0 articles" in page.locator("body").inner_text()
        finally:
            browser.close()
    assert errors == [] and outside == []


def test_report_since_that_is_no_date_is_one_line_and_exit_2(db: Any, mongo_uri: str,
                                                             tmp_path: Path) -> None:
    out = tmp_path / "never.html"
    made = newscrawl("report", "--since", "yesterday", "--out", str(out),
                     "-s", f"MONGO_DATABASE={db.name}", mongo_uri=mongo_uri, database=db.name,
                     data_dir=tmp_path)
    assert made.returncode == 2
    assert "--since 'yesterday': not an ISO 8601 date-time" in made.stderr
    assert len(made.stderr.strip().splitlines()) == 1 and not out.exists()
