"""Fixtures and helpers shared by the tests, and the ``slow`` marker.

``make check`` runs the tests not marked ``slow`` (``pytest -m "not slow"``), ``make test``
runs them all. A test is marked ``slow`` here, automatically, when it starts a process: when
it, a fixture it uses or a helper of the tests it calls (followed through functions, methods
and nested functions defined under tests/) names ``run_crawl`` or ``subprocess`` (crawls,
``newscrawl`` commands, redis-server, ...). Anything else that is slow is marked by hand with
``@pytest.mark.slow`` (or ``pytestmark`` for a whole module).
"""

from __future__ import annotations

import inspect
import itertools
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import CodeType
from typing import Any

import pymongo
import pytest

from crawler.database import EmbeddedMongo
from crawler.demo.server import DemoServer
from tests.stats_file import read_stats

ROOT = Path(__file__).resolve().parent.parent
_db_names = itertools.count()

# Names whose use makes a test slow: a crawl in a subprocess, or any other process started.
PROCESS_NAMES = frozenset({"run_crawl", "subprocess"})


def _ours(function: Any) -> bool:
    """A function defined under tests/ (test modules are imported under more than one name)."""
    return inspect.isfunction(function) and function.__code__.co_filename.startswith(
        str(ROOT / "tests"))


def _starts_processes(code: CodeType, namespace: dict[str, Any], seen: set[CodeType]) -> bool:
    """Does this code (or a function, method or nested function of the tests it names) name
    one of PROCESS_NAMES?"""
    if code in seen:
        return False
    seen.add(code)
    for name in code.co_names:
        if name in PROCESS_NAMES:
            return True
        value = namespace.get(name)
        functions = ([value] if inspect.isfunction(value) else
                     [f for f in vars(value).values() if inspect.isfunction(f)]
                     if inspect.isclass(value) else [])
        if any(_ours(f) and _starts_processes(f.__code__, f.__globals__, seen)
               for f in functions):
            return True
    return any(isinstance(const, CodeType) and _starts_processes(const, namespace, seen)
               for const in code.co_consts)


def _is_slow(item: pytest.Item) -> bool:
    functions = [getattr(item, "function", None)]
    info = getattr(item, "_fixtureinfo", None)  # the fixtures the test uses, transitively
    for definitions in (info.name2fixturedefs.values() if info is not None else ()):
        functions += [definition.func for definition in definitions]
    seen: set[CodeType] = set()
    return any(_ours(f) and _starts_processes(f.__code__, f.__globals__, seen) for f in functions)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if _is_slow(item):
            item.add_marker(pytest.mark.slow)


@pytest.fixture
def demo() -> Iterator[DemoServer]:
    """The three demo sites on their loopback addresses, fresh for each test (a module may
    override it with a module-scoped one)."""
    with DemoServer() as server:
        yield server


@pytest.fixture(scope="session")
def mongo_uri(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real nx-27017 wire-protocol server on loopback, shared by the session."""
    server = EmbeddedMongo(tmp_path_factory.mktemp("nx-27017"))
    uri = server.start()
    yield uri
    server.stop()


@pytest.fixture
def mongo_db(mongo_uri: str) -> Iterator[Any]:
    """A fresh database on the test server."""
    name = f"test_{os.getpid()}_{next(_db_names)}"
    client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(mongo_uri, tz_aware=True)
    yield client[name]
    client.drop_database(name)
    client.close()


class Crawl(subprocess.CompletedProcess[str]):
    """A finished ``scrapy crawl``: its exit code and log, and ``stats``, the crawler's stats
    when the spider closed (tests/stats_file.py; empty when it did not get to close)."""

    stats: dict[str, Any]


def run_crawl(*args: str, mongo_uri: str, database: str, data_dir: Path,
              settings: dict[str, str] | None = None,
              timeout: float = 300) -> Crawl:
    """``scrapy crawl news ARGS`` in a subprocess, as a user runs it, into ``database``."""
    number = next(_db_names)
    stats_file = data_dir / f"stats-{number}.json"
    fast = {
        "MONGO_DATABASE": database,
        "NEWS_DATA_DIR": str(data_dir),
        "AUTOTHROTTLE_ENABLED": "False",
        "DOWNLOAD_DELAY": "0",
        "NEWS_EXTRACT_WORKERS": "2",
        "NEWS_MONGO_FLUSH_INTERVAL": "0.5",
        "NEWS_MAX_AGE_DAYS": "0",  # the demo articles are years old
        "NEWS_ALLOWED_PRIVATE_NETWORKS": "127.0.0.0/8",  # test sites are on loopback
        "LOG_LEVEL": "INFO",
        "STATS_CLASS": "tests.stats_file.JsonStatsCollector",
        "STATS_FILE": str(stats_file),
    }
    fast.update(settings or {})
    command = [sys.executable, "-m", "scrapy", "crawl", "news", *args]
    for key, value in fast.items():
        command += ["-s", f"{key}={value}"]
    env = dict(os.environ, MONGO_URI=mongo_uri, SCRAPY_SETTINGS_MODULE="crawler.settings",
               PYTHONPATH=str(ROOT))
    proc = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout, check=False)
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / f"crawl-{number}.log").write_text(proc.stderr, encoding="utf-8")
    crawl = Crawl(proc.args, proc.returncode, proc.stdout, proc.stderr)
    crawl.stats = read_stats(stats_file)
    return crawl


def stored_articles(uri: str, database: str, *, key: str = "fetched_url",
                    drop: bool = True) -> dict[str, dict[str, Any]]:
    """The articles a crawl stored in ``database``, keyed by ``key`` (``fetched_url``: the URL
    fetched; ``url``, a page's identity, may be its rel=canonical); the database dropped after."""
    client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(uri, tz_aware=True)
    try:
        return {d[key]: d for d in client[database].articles.find({}, {"_id": 0})}
    finally:
        if drop:
            client.drop_database(database)
        client.close()


def log_of(proc: subprocess.CompletedProcess[str], lines: int = 80) -> str:
    """The crawl's log without Scrapy's start-up listings, for assertion messages."""
    kept = [line for line in proc.stderr.splitlines()
            if line[:1] not in (" ", "[", "'", "{", "}", "]") and not line.startswith("['")]
    return "\n".join(kept[-lines:])
