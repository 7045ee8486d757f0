"""Distributed crawling on Redis (docs/distributed.md): workers and a seeder as users run them
(``newscrawl worker``, ``newscrawl seed``), against the demo sites on loopback, a real
``redis-server`` started here on a free loopback port and the nx-27017 test server.

The tests that need Redis are skipped when the ``redis-server`` binary is missing
(``apt-get install redis-server``; .ci/run installs it).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pymongo
import pytest
import redis
from scrapy.settings import Settings

from crawler.demo.score import score
from crawler.demo.server import DemoServer, write_sources_file
from crawler.demo.truth import article_truth
from crawler.distributed.addon import DistributedAddon
from crawler.distributed.shared import SharedCrawl
from crawler.items import ArticleItem
from crawler.run import EXIT_LOCKED, EXIT_OK
from crawler.templates.local_store import TemplateStore
from crawler.templates.model import SiteTemplate, line_signature
from crawler.templates.shared_store import SharedTemplateStore
from tests.conftest import ROOT

REDIS_SERVER = shutil.which("redis-server")
FAST = ["AUTOTHROTTLE_ENABLED=False", "DOWNLOAD_DELAY=0", "NEWS_EXTRACT_WORKERS=1",
        "NEWS_MONGO_FLUSH_INTERVAL=0.5", "NEWS_MAX_AGE_DAYS=0", "LOG_LEVEL=INFO",
        "NEWS_ALLOWED_PRIVATE_NETWORKS=127.0.0.0/8", "NEWS_REDIS_IDLE_TIMEOUT=3",
        "NEWS_REDIS_HEARTBEAT_TTL=3", "NEWS_REDIS_RECORD_INTERVAL=1"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _start_redis(workdir: Path, port: int | None = None) -> tuple[subprocess.Popen[bytes], str]:
    """A real redis-server on loopback (a free port unless given), without persistence."""
    assert REDIS_SERVER is not None
    for _attempt in range(3):
        chosen = port or _free_port()
        process = subprocess.Popen(
            [REDIS_SERVER, "--port", str(chosen), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(workdir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=workdir)
        url = f"redis://127.0.0.1:{chosen}/0"
        client = redis.Redis.from_url(url)
        for _ in range(100):
            if process.poll() is not None:
                break
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        client.close()
        if process.poll() is None:
            return process, url
    raise RuntimeError("redis-server did not start")


def _need_redis() -> None:
    if REDIS_SERVER is None:
        pytest.skip("redis-server is not installed (Debian: apt-get install redis-server; "
                    ".ci/run installs it)")


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real redis-server on a free loopback port, without persistence, in a tmp dir."""
    _need_redis()
    process, url = _start_redis(tmp_path_factory.mktemp("redis"))
    yield url
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def rds(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


@pytest.fixture
def db(mongo_uri: str, request: pytest.FixtureRequest) -> Iterator[Any]:
    name = f"dist_{request.node.name[:40]}"
    client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(mongo_uri, tz_aware=True)
    client.drop_database(name)
    yield client[name]
    client.drop_database(name)
    client.close()


class Cli:
    """``newscrawl`` commands of one distributed crawl (same Redis, database and sources)."""

    def __init__(self, redis_url: str, mongo_uri: str, database: str, sources: Path,
                 workdir: Path, settings: list[str]) -> None:
        self.redis_url = redis_url
        self.env = dict(os.environ, MONGO_URI=mongo_uri, PYTHONPATH=str(ROOT))
        self.env.pop("REDIS_URL", None)
        self.workdir = workdir
        self.common = ["--sources", str(sources)]
        for item in [*FAST, f"MONGO_DATABASE={database}", f"NEWS_DATA_DIR={workdir}",
                     f"NEWS_REDIS_URL={redis_url}", *settings]:
            self.common += ["-s", item]
        self.logs: dict[int, Path] = {}

    def start(self, command: str, *args: str) -> subprocess.Popen[bytes]:
        log = self.workdir / f"{command}-{time.monotonic_ns()}.log"
        with open(log, "wb") as out:  # a file, not a pipe: a full pipe would block the crawl
            proc = subprocess.Popen([sys.executable, "-m", "crawler.cli", command, *args,
                                     *self.common], env=self.env, cwd=ROOT, stdout=out,
                                    stderr=subprocess.STDOUT)
        self.logs[proc.pid] = log
        return proc

    def run(self, command: str, *args: str) -> tuple[int, str]:
        proc = self.start(command, *args)
        code = proc.wait(timeout=120)
        return code, self.log(proc)

    def log(self, proc: subprocess.Popen[bytes]) -> str:
        return self.logs[proc.pid].read_text(encoding="utf-8", errors="replace")

    def finish(self, proc: subprocess.Popen[bytes], timeout: float = 180) -> tuple[int, str]:
        try:
            code = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise AssertionError(f"worker did not exit:\n{self.log(proc)[-3000:]}") from None
        return code, self.log(proc)


def _wait_for(condition: Callable[[], Any], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _workers(rds: redis.Redis) -> set[str]:
    return {member.decode() for member in rds.smembers("newscrawl:workers")}


def _article_fetches(demo: DemoServer) -> collections.Counter[str]:
    """How often each article URL was requested (GET), over every site."""
    urls = set(article_truth(demo.sites))
    counts: collections.Counter[str] = collections.Counter()
    for site in demo.sites:
        for record in demo.requests(site.name):
            url = site.base_url + record.path.split("?", 1)[0]
            if record.method == "GET" and url in urls:
                counts[url] += 1
    return counts


def _assert_clean_and_complete(db: Any, demo: DemoServer) -> None:
    urls = [doc["url"] for doc in db.articles.find()]
    assert len(urls) == len(set(urls)) == 21
    assert set(urls) == set(article_truth(demo.sites))
    result = score(db.articles.find({}, {"_id": 0}), demo.sites)
    assert result.template_lines_leaked == []  # the templated trailer lines, on every site
    assert result.text_exact == result.articles_expected == 21
    removed = {(d["source"], d["template_lines_removed"]) for d in db.articles.find()}
    assert removed == {("rundschau", 1), ("harbour", 2), ("courrier", 2)}


@pytest.fixture
def cli_for(redis_url: str, mongo_uri: str, db: Any, demo: DemoServer,
            tmp_path: Path) -> Callable[..., Cli]:
    sources = tmp_path / "sources.yaml"
    write_sources_file(demo.sites, sources)

    def make(*settings: str) -> Cli:
        return Cli(redis_url, mongo_uri, db.name, sources, tmp_path, list(settings))

    return make


# -- end to end --------------------------------------------------------------------------------

def test_two_workers_and_a_seeder_share_one_crawl(
        cli_for: Callable[..., Cli], rds: redis.Redis, db: Any, demo: DemoServer,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    # A slow publisher (0.2 s an answer, 2 requests at a time per worker): one worker alone
    # needs seconds for the 21 articles, so the other, polling every 0.25 s, takes its share.
    demo.response_delay = 0.2
    cli = cli_for("CONCURRENT_REQUESTS=2")
    workers = [cli.start("worker", "--slot", "1"), cli.start("worker", "--slot", "2")]
    try:
        _wait_for(lambda: len(_workers(rds)) == 2, "both workers to join")
        code, seed_log = cli.run("seed")
        assert code == EXIT_OK, seed_log[-2000:]
        assert "Began run" in seed_log
        results = [cli.finish(worker) for worker in workers]
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
    for code, log in results:
        assert code == EXIT_OK, log[-3000:]

    # Every article stored exactly once, clean, and fetched once in total.
    _assert_clean_and_complete(db, demo)
    fetches = _article_fetches(demo)
    assert set(fetches) == set(article_truth(demo.sites))
    assert set(fetches.values()) == {1}, fetches
    # Both workers stored articles; one crawl_runs record sums them.
    parts = list(db.crawl_run_parts.find())
    assert len(parts) == 2
    stored = [sum(c["stored_new"] for c in part["counts"].values()) for part in parts]
    assert all(n > 0 for n in stored) and sum(stored) == 21, stored
    (run,) = db.crawl_runs.find()
    assert (run["status"], run["outcome"], run["mode"]) == ("finished", "ok", "distributed")
    assert {name: c["stored_new"] for name, c in run["counts"].items()} == {
        "rundschau": 7, "harbour": 7, "courrier": 7}
    assert sorted(w["status"] for w in run["workers"]) == ["finished", "finished"]
    # The shared template state was saved for single-process runs too.
    assert db.site_templates.count_documents({}) == 3
    # Nothing left in Redis but the run and its fingerprints.
    assert rds.zcard("newscrawl:requests") == 0
    assert not rds.keys("newscrawl:inflight:*") and not _workers(rds)
    assert 0 < rds.ttl("newscrawl:dupefilter") <= 86400
    # newscrawl runs shows the one record, as for a single-process run.
    monkeypatch.setenv("MONGO_URI", cli.env["MONGO_URI"])
    from crawler.cli import print_runs

    assert print_runs(5, [f"MONGO_DATABASE={db.name}"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert len([line for line in table if " ok " in line]) == 3  # one line per source


def test_a_killed_worker_loses_nothing(cli_for: Callable[..., Cli], rds: redis.Redis, db: Any,
                                       demo: DemoServer) -> None:
    cli = cli_for("CONCURRENT_REQUESTS=1", "DOWNLOAD_DELAY=0.3", "NEWS_MONGO_BATCH_SIZE=1")
    victim = cli.start("worker", "--slot", "1")
    _wait_for(lambda: len(_workers(rds)) == 1, "the first worker to join")
    (victim_id,) = _workers(rds)
    survivor = cli.start("worker", "--slot", "2")
    try:
        _wait_for(lambda: len(_workers(rds)) == 2, "the second worker to join")
        code, seed_log = cli.run("seed")
        assert code == EXIT_OK, seed_log[-2000:]
        # Mid-crawl: some articles fetched (held for their site's template, or being
        # stored), some not yet, and requests in flight on the first worker.
        _wait_for(lambda: 5 <= sum(_article_fetches(demo).values()) < 18
                  and rds.hlen(f"newscrawl:inflight:{victim_id}") > 0,
                  "the crawl to be under way with requests in flight on the first worker")
        in_flight = rds.hlen(f"newscrawl:inflight:{victim_id}")
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=10)
        assert db.articles.count_documents({}) < 21
        code, log = cli.finish(survivor)
    finally:
        for proc in (victim, survivor):
            if proc.poll() is None:
                proc.kill()
    assert code == EXIT_OK, log[-3000:]
    assert in_flight > 0
    assert "of 1 dead worker(s)" in log  # the survivor took the dead worker's requests back
    _assert_clean_and_complete(db, demo)
    assert set(_article_fetches(demo)) == set(article_truth(demo.sites))
    (run,) = db.crawl_runs.find()
    assert run["outcome"] == "ok"
    assert sorted(w["status"] for w in run["workers"]) == ["finished", "killed"]
    assert rds.zcard("newscrawl:requests") == 0 and not rds.keys("newscrawl:inflight:*")


def test_crawl_processes_seed_once_and_share_the_work(cli_for: Callable[..., Cli],
                                                     rds: redis.Redis, db: Any,
                                                     demo: DemoServer) -> None:
    """``scrapy crawl news`` with NEWS_REDIS_URL: each process seeds (the first begins the run,
    the others join it and their seeds are duplicates), then works until the crawl is idle."""
    cli = cli_for("CONCURRENT_REQUESTS=2")
    sources = cli.common[cli.common.index("--sources") + 1]
    settings = [arg for arg in cli.common[2:] if arg != "-s"]
    command = [sys.executable, "-m", "scrapy", "crawl", "news", "-s", f"NEWS_SOURCES={sources}"]
    for item in settings:
        command += ["-s", item]
    env = dict(cli.env, SCRAPY_SETTINGS_MODULE="crawler.settings")
    logs = [cli.workdir / f"crawl-{i}.log" for i in range(2)]
    procs = []
    for log in logs:
        with open(log, "wb") as out:
            procs.append(subprocess.Popen(command, env=env, cwd=ROOT, stdout=out,
                                          stderr=subprocess.STDOUT))
    try:
        codes = [proc.wait(timeout=180) for proc in procs]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
    texts = [log.read_text(encoding="utf-8", errors="replace") for log in logs]
    assert codes == [0, 0], texts[0][-3000:] + texts[1][-3000:]
    assert sorted(("Began run" in t, "Joined run" in t) for t in texts) == [
        (False, True), (True, False)]
    _assert_clean_and_complete(db, demo)
    assert set(_article_fetches(demo).values()) == {1}
    assert db.crawl_runs.count_documents({}) == 1


def test_seeding_a_run_that_is_still_going_queues_nothing_twice(
        cli_for: Callable[..., Cli], rds: redis.Redis) -> None:
    cli = cli_for()
    code, log = cli.run("seed")
    assert code == EXIT_OK and "Began run" in log, log[-2000:]
    assert rds.zcard("newscrawl:requests") == 3  # feed, sitemap index, home page
    code, log = cli.run("seed")  # no worker took anything: the run is still going
    assert code == EXIT_LOCKED, log[-2000:]
    assert "is still going" in log
    assert rds.zcard("newscrawl:requests") == 3


def test_worker_and_seed_need_a_redis_url(tmp_path: Path) -> None:
    sources = tmp_path / "sources.yaml"
    sources.write_text("sources:\n  - name: a\n    feeds: [http://127.0.0.1:9/rss.xml]\n",
                       encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("REDIS_URL", None)
    for command in ("worker", "seed"):
        proc = subprocess.run([sys.executable, "-m", "crawler.cli", command, "--sources",
                               str(sources), "-s", f"NEWS_DATA_DIR={tmp_path}"], env=env,
                              cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
        assert proc.returncode == 2, proc.stderr[-2000:]
        assert "needs NEWS_REDIS_URL" in proc.stderr


# -- the reliable queue and the runs, on Redis directly ----------------------------------------

def _shared(rds: redis.Redis, worker: str, ttl: float = 30.0) -> SharedCrawl:
    return SharedCrawl(rds, worker=worker, heartbeat_ttl=ttl)


def test_a_dead_workers_requests_go_back_to_the_queue(rds: redis.Redis) -> None:
    a, b = _shared(rds, "a", ttl=0.3), _shared(rds, "b")
    a.heartbeat()
    b.heartbeat()
    rds.zadd("newscrawl:requests", {b"first": -10, b"second": 0, b"third": 0})
    assert rds.zcard("newscrawl:requests") == 3
    first, second = a.pop(), a.pop()
    assert first is not None and second is not None
    assert first[1] == b"first"  # highest priority first
    a.ack([first[0]])
    assert a.status().inflight == 1 and a.status().pending == 1
    assert b.requeue_dead() == (0, 0)  # a is alive
    time.sleep(0.4)  # a's heartbeat expires: a died with "second" in flight
    assert b.requeue_dead() == (1, 1)
    assert sorted(rds.zrange("newscrawl:requests", 0, -1)) == [b"second", b"third"]
    assert a.status().inflight == 0 and _workers(rds) == {"b"}
    third = b.pop()
    assert third is not None
    assert b.requeue_own() == 1  # a worker that closes gives its unfinished requests back
    assert rds.zcard("newscrawl:requests") == 2


def test_a_request_is_acknowledged_once_it_left_the_engine_and_its_article_is_stored(
        rds: redis.Redis) -> None:
    from scrapy import Request
    from scrapy.http import HtmlResponse

    from crawler.distributed import QUEUE_ID
    from crawler.distributed.tracker import AckTracker

    shared = _shared(rds, "a")
    shared.heartbeat()
    rds.zadd("newscrawl:requests", {b"page": 0, b"article": 0})
    page, article = shared.pop(), shared.pop()
    assert page is not None and article is not None
    tracker = AckTracker(shared)
    requests = {qid: Request(f"http://example.com/{qid}", meta={QUEUE_ID: qid})
                for qid in (page[0], article[0])}
    for qid, request in requests.items():
        tracker.handed_out(qid, request)
    tracker.poll()  # both still in the engine
    assert shared.status().inflight == 2 and shared.status().unsettled == 2
    response = HtmlResponse(requests[article[0]].url, request=requests[article[0]], body=b"")
    tracker.item_scraped({"url": response.url}, response)  # buffered for the database
    for request in requests.values():  # both left the engine (told by the fetch tracker)
        tracker.finished(request.meta)
    tracker.poll()
    status = shared.status()
    assert (status.inflight, status.unsettled) == (1, 0)  # the page is done; the article waits
    tracker.articles_stored([{"url": response.url, "_fetch": {"queue_id": article[0]}}])
    assert shared.status().idle and tracker.acked == 2


def test_quiet_counts_only_requests_that_may_still_produce_pages(rds: redis.Redis) -> None:
    a = _shared(rds, "a")
    a.heartbeat()
    rds.zadd("newscrawl:requests", {b"x": 0, b"y": 0})
    x, y = a.pop(), a.pop()
    assert x is not None and y is not None
    status = a.status()
    assert (status.pending, status.inflight, status.unsettled) == (0, 2, 2)
    assert not status.quiet and not status.idle
    a.settle([x[0], y[0]])  # e.g. their articles are held for the site's template
    assert a.status().quiet and not a.status().idle
    a.ack([x[0], y[0]])
    assert a.status().idle


def test_runs_scope_the_dupefilter(rds: redis.Redis) -> None:
    seeder, worker = _shared(rds, "seeder"), _shared(rds, "w")
    worker.heartbeat()
    began, first = seeder.begin_or_join(["s"])
    assert began
    rds.sadd("newscrawl:dupefilter", b"fingerprint")
    rds.zadd("newscrawl:requests", {b"seed": 0})
    seeder.end_seeding()
    assert 0 < rds.ttl("newscrawl:dupefilter") <= 86400
    # While the run has work, a second seeder joins it and the fingerprints stay.
    began, joined = _shared(rds, "other").begin_or_join(["s"])
    assert not began and joined["id"] == first["id"]
    assert rds.sismember("newscrawl:dupefilter", b"fingerprint")
    # In flight counts as work too.
    entry = worker.pop()
    assert entry is not None
    assert not _shared(rds, "third").begin_or_join(["s"])[0]
    worker.ack([entry[0]])
    # Once nothing is pending, in flight or being seeded, the next seeding begins a new run.
    for name in ("seeder", "other", "third"):
        _shared(rds, name).end_seeding()
    began, second = _shared(rds, "next").begin_or_join(["s"])
    assert began and second["id"] != first["id"]
    assert not rds.exists("newscrawl:dupefilter")


# -- the switch ---------------------------------------------------------------------------------

def _addon_settings(**values: Any) -> Settings:
    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    for name, value in values.items():
        settings.set(name, value, priority="cmdline")
    DistributedAddon().update_settings(settings)
    return settings


def test_without_redis_url_nothing_changes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)
    settings = _addon_settings()
    assert settings.get("SCHEDULER") == "scrapy.core.scheduler.Scheduler"
    assert "pipelines.template_strip.TemplateStripPipeline" in settings.getdict("ITEM_PIPELINES")
    assert "crawler.extensions.run_record.RunRecorder" in settings.getdict("EXTENSIONS")


@pytest.mark.parametrize("how", ["setting", "environment"])
def test_redis_url_switches_to_the_shared_queue(how: str,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)
    if how == "environment":
        monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")
        settings = _addon_settings()
    else:
        settings = _addon_settings(NEWS_REDIS_URL="redis://127.0.0.1:1/0")
    assert settings.get("SCHEDULER") == "crawler.distributed.scheduler.RedisScheduler"
    # One template pipeline: its from_crawler picks the shared count store.
    pipelines = settings.getdict("ITEM_PIPELINES")
    assert pipelines["pipelines.template_strip.TemplateStripPipeline"] == 100
    extensions = {getattr(k, "__name__", k) for k in settings.getdict("EXTENSIONS")}
    assert {"DistributedRunRecorder", "IdleExit"} <= extensions
    assert "crawler.extensions.run_record.RunRecorder" not in extensions


# -- shared site templates, on MongoDB -----------------------------------------------------------

def _paragraph(n: int) -> str:
    """A paragraph of a story of its own, about as long as real ones (longer than the
    template lines: a page is told from another by its text)."""
    name = f"{chr(65 + n % 26)}{chr(65 + n // 26)}"
    return (f"Unique paragraph {name} about topic {n}: the council of district {name} met on "
            f"Tuesday and said what residents of {name} can expect in the coming months.")


def _page(n: int) -> list[str]:
    return [f"Story ID {4000 + n * 7}", _paragraph(n), "Follow us on Mastodon for live updates."]


def test_workers_count_one_sites_pages_together(mongo_db: Any) -> None:
    stored = TemplateStore(mongo_db.site_templates)
    one, two = SharedTemplateStore(mongo_db, stored), SharedTemplateStore(mongo_db, stored)
    one.ensure_indexes()
    assert one.ensure_imported("example.com") and not two.ensure_imported("example.com")
    assert one.observe("example.com", _page(0)) == 1
    assert two.observe("example.com", _page(1)) == 2
    assert two.observe("example.com", _page(0)) == 2  # the same content, counted once
    template = one.template("example.com", _page(9))
    assert template.pages == 2 and not template.is_template("Follow us on Mastodon for live "
                                                            "updates.")
    assert one.observe("example.com", _page(2)) == 3
    kept, removed = two.template("example.com", _page(9)).strip(_page(9))
    assert kept == [_page(9)[1]] and len(removed) == 2
    # Warmed-up sites: pages counted in batches (a page counted before is skipped), articles
    # stripped with the lines that can be templates.
    assert two.observe_many("example.com", [_page(3), _page(1), _page(4), _page(4)]) == 5
    candidates = one.candidates("example.com")
    assert candidates.pages == 5 and len(candidates.counts) == 2
    assert candidates.strip(_page(9)) == (kept, removed)
    assert one.template("example.com", _page(3)).counts[
        line_signature(_page(3)[1])] == 1
    # Saved for single-process runs, and imported by the next distributed crawl of a new store.
    one.export("example.com")
    saved = stored.load(SiteTemplate("example.com"))
    assert saved.pages == 5 and saved.is_template("Story ID 1")
    for name in ("template_sites", "template_lines", "template_pages"):
        mongo_db[name].drop()
    assert SharedTemplateStore(mongo_db, stored).ensure_imported("example.com")
    again = one.template("example.com", _page(9))
    assert again.pages == 5 and again.is_template("Story ID 5")
    assert one.observe("example.com", _page(1)) == 5  # its pages were imported too


def test_the_shared_pipeline_strips_every_article_of_a_site(mongo_db: Any) -> None:
    """The first articles wait for the shared count to reach the warm-up, later ones
    are counted in batches and stripped with the cached template lines; all are clean."""
    from scrapy import Spider
    from scrapy.utils.test import get_crawler

    from crawler.templates.shared_counts import SharedCounts
    from pipelines.template_strip import TemplateStripPipeline

    counts = SharedCounts(SharedTemplateStore(mongo_db, TemplateStore(mongo_db.site_templates)))
    # No fetch tracker: pages of the site may always come (the pipeline waits
    # for the warm-up).
    pipeline = TemplateStripPipeline(get_crawler(Spider), counts, tick=0.02)

    def item(n: int) -> ArticleItem:
        text = "\n\n".join([*_page(n)[:1], f"Body of story {n}, {'x' * n}. {_paragraph(n)}",
                            *_page(n)[2:]])
        return ArticleItem(url=f"http://example.com/story-{n}", text=text)

    async def crawl() -> list[ArticleItem]:
        await pipeline.open_spider()
        # The first pages arrive together and wait for the warm-up (10 pages) ...
        out = list(await asyncio.gather(*(pipeline.process_item(item(n)) for n in range(10))))
        for n in range(10, 45):  # ... later ones go through at once
            out.append(await pipeline.process_item(item(n)))
        await pipeline.close_spider()
        return out

    stored = asyncio.run(crawl())
    assert all(item.template_lines_removed == 2 for item in stored), [
        (item.url, item.text) for item in stored if item.template_lines_removed != 2]
    assert all(item.text.startswith("Body of story") for item in stored)
    assert counts.store.pages_of(["example.com"]) == {"example.com": 45}
    assert stored[-1] is not None and counts.steady == 30
    assert TemplateStore(mongo_db.site_templates).load(SiteTemplate("example.com")).pages == 45


def test_requests_wait_in_the_worker_while_redis_is_away(tmp_path: Path) -> None:
    """Redis goes away while a worker discovers links: the requests wait in the worker and
    are queued (once, through the dupefilter) when Redis is back; none is lost."""
    from scrapy import Request, Spider
    from scrapy.utils.test import get_crawler

    from crawler.distributed.scheduler import RedisScheduler

    _need_redis()
    process, url = _start_redis(tmp_path)
    port = int(url.rsplit(":", 1)[1].split("/")[0])
    client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=1)
    crawler = get_crawler(Spider)
    scheduler = RedisScheduler(SharedCrawl(client, worker="w"), crawler.stats, tick=0.05)
    spider = Spider("news")

    def queued() -> set[str]:
        return {scheduler.queue.serializer.loads(raw)["url"]
                for raw in client.zrange("newscrawl:requests", 0, -1)}

    async def run() -> None:
        nonlocal process
        scheduler.open(spider)
        assert scheduler.enqueue_request(Request("http://127.0.0.1/before"))
        process.kill()
        process.wait(timeout=10)
        # Redis away: accepted, kept in the worker, the worker does not look idle.
        for name in ("a", "b", "a"):
            assert scheduler.enqueue_request(Request(f"http://127.0.0.1/{name}"))
        assert scheduler.has_pending_requests()
        assert scheduler.next_request() is None
        await asyncio.sleep(0.3)  # ticks fail quietly
        process, _ = _start_redis(tmp_path, port)  # back, empty (no persistence)
        for _ in range(100):
            await asyncio.sleep(0.05)
            if not scheduler._outbox:
                break
        scheduler.close("finished")

    try:
        asyncio.run(run())
        assert queued() == {"http://127.0.0.1/a", "http://127.0.0.1/b"}
        assert client.zcard("newscrawl:requests") == 2  # "a" once: the dupefilter saw it
        stats = crawler.stats.get_stats()
        assert stats["news/distributed/deferred"] == 3
        assert stats["news/distributed/duplicates"] == 1
        assert "news/distributed/unqueued" not in stats
    finally:
        client.close()
        process.terminate()
        process.wait(timeout=10)


def test_requests_redis_never_took_are_logged_and_counted_at_close(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    from scrapy import Request, Spider
    from scrapy.utils.test import get_crawler

    from crawler.distributed.scheduler import RedisScheduler

    _need_redis()
    process, url = _start_redis(tmp_path)
    client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=1)
    crawler = get_crawler(Spider)
    scheduler = RedisScheduler(SharedCrawl(client, worker="w"), crawler.stats, tick=60)

    async def run() -> None:
        scheduler.open(Spider("news"))
        process.kill()
        process.wait(timeout=10)
        assert scheduler.enqueue_request(Request("http://127.0.0.1/lost-for-this-run"))
        with contextlib.suppress(redis.RedisError):
            scheduler.close("shutdown")

    try:
        asyncio.run(run())
    finally:
        client.close()
    assert crawler.stats.get_value("news/distributed/unqueued") == 1
    assert "could not be queued" in caplog.text
    assert "http://127.0.0.1/lost-for-this-run" in caplog.text
