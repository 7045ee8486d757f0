"""No stray processes, no stray records: the embedded database runs while any process uses it
and ends with the last one, however that one ends (SIGKILL too); overlapping crawls share it;
only crawls are recorded as runs."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pymongo
import pytest

from crawler.database import EmbeddedMongo
from crawler.demo.server import DemoServer, write_sources_file
from crawler.demo.truth import article_truth
from crawler.leases import Leases
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def demo() -> Iterator[DemoServer]:
    with DemoServer() as server:
        yield server


def _servers(data_dir: Path) -> list[int]:
    """PIDs of live embedded database servers (not zombies) on ``data_dir``."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if "crawler.dbserver" in cmdline and str(data_dir) in cmdline and state not in "ZX":
            pids.append(int(entry.name))
    return pids


def _wait_gone(data_dir: Path, timeout: float = 60) -> list[int]:
    """The servers still running on ``data_dir`` once they are gone or ``timeout`` passed."""
    deadline = time.monotonic() + timeout
    while (left := _servers(data_dir)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT), SCRAPY_SETTINGS_MODULE="crawler.settings",
               **extra)
    env.pop("MONGO_URI", None)  # the embedded database
    return env


def _runs(data_dir: Path) -> list[dict[str, Any]]:
    with EmbeddedMongo(data_dir) as server:
        assert server.uri is not None
        client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(server.uri)
        try:
            return list(client.news.crawl_runs.find())
        finally:
            client.close()


_PARENT = """
import json, sys, time
from crawler.database import EmbeddedMongo
server = EmbeddedMongo(sys.argv[1])
server.start()
print(json.dumps({"server": server.process.pid}), flush=True)
time.sleep(600)
"""


def test_the_server_ends_when_its_parent_is_killed(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    parent = subprocess.Popen([sys.executable, "-c", _PARENT, str(data_dir)], env=_env(),
                              cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None
        server = json.loads(parent.stdout.readline())["server"]
        assert _servers(data_dir) == [server]
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=60)
        assert _wait_gone(data_dir) == []
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
        if parent.stdout is not None:
            parent.stdout.close()
    log = (data_dir / "nx-27017.log").read_text(encoding="utf-8")
    assert (f"the process that started it (pid {parent.pid}) is gone and no process uses it "
            f"any more; stopping") in log
    assert Leases(data_dir).holders() == []


def test_scrapy_shell_leaves_no_server_and_records_no_run(demo: DemoServer,
                                                          tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    proc = subprocess.run(
        [sys.executable, "-m", "scrapy", "shell", demo.site("courrier").home_url,
         "-c", "response.status", "-s", f"NEWS_DATA_DIR={data_dir}",
         "-s", "NEWS_ALLOWED_PRIVATE_NETWORKS=127.0.0.0/8"],
        env=_env(), cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip() == "200"
    assert "Started the embedded database" in proc.stderr
    assert _wait_gone(data_dir) == []
    assert _runs(data_dir) == []


def test_scrapy_parse_records_no_run_and_reports_no_source(demo: DemoServer,
                                                           tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    article = demo.site("rundschau").feed_url
    proc = subprocess.run(
        [sys.executable, "-m", "scrapy", "parse", "--spider", "news", "-c", "parse_start",
         article, "-s", f"NEWS_DATA_DIR={data_dir}", "-s", "NEWS_MAX_AGE_DAYS=0",
         "-s", "NEWS_ALLOWED_PRIVATE_NETWORKS=127.0.0.0/8"],
        env=_env(), cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Requests" in proc.stdout  # the feed's entries, as requests
    assert "nothing found to crawl" not in proc.stderr
    assert " ERROR" not in proc.stderr, proc.stderr[-3000:]
    assert _wait_gone(data_dir) == []
    assert _runs(data_dir) == []


def test_a_run_that_fails_at_start_leaves_no_server(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    for command in (["scrapy", "crawl", "news"], ["crawler.cli", "run"]):
        proc = subprocess.run(
            [sys.executable, "-m", *command, "-s", f"NEWS_DATA_DIR={data_dir}",
             "-s", "NEWS_ALLOWED_PRIVATE_NETWORKS=127.0.0.0/33"],
            env=_env(), cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
        assert proc.returncode == 2, proc.stderr[-3000:]
        assert _wait_gone(data_dir) == []


_ORPHAN = """
import subprocess, sys
server = subprocess.Popen(
    [sys.executable, "-c", "from nx_27017.nx_27017 import main; main()", "--data-dir",
     sys.argv[1] + "/db", "--host", "127.0.0.1", "--port", sys.argv[2],
     "--pid-file", sys.argv[1] + "/nx-27017.pid", "--log-file", sys.argv[1] + "/nx-27017.log"],
    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    start_new_session=True)
print(server.pid, flush=True)
"""


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in "ZX"


def _parent_of(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def test_an_orphan_left_by_an_earlier_version_is_stopped_not_reused(tmp_path: Path) -> None:
    """A server started the old way (no watchdog) whose parent ended is stopped by the next
    process on its data directory, which starts its own."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    starter = subprocess.run([sys.executable, "-c", _ORPHAN, str(data_dir), str(port)],
                             capture_output=True, text=True, timeout=60, check=True)
    orphan = int(starter.stdout)
    uri = f"mongodb://127.0.0.1:{port}"
    try:
        client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(
            uri, serverSelectionTimeoutMS=30000)
        try:
            client.admin.command("ping")
        finally:
            client.close()
        if _parent_of(orphan) != 1:
            pytest.skip("orphans are re-parented to a subreaper here, not to init")
        (data_dir / "nx-27017.json").write_text(json.dumps({"pid": orphan, "uri": uri}))
        with EmbeddedMongo(data_dir) as server:
            assert server.uri != uri and server.process is not None
            assert not _running(orphan)  # stopped before ours started
    finally:
        with contextlib.suppress(OSError):
            os.kill(orphan, signal.SIGKILL)


_FAST = ["AUTOTHROTTLE_ENABLED=False", "DOWNLOAD_DELAY=0", "NEWS_EXTRACT_WORKERS=1",
         "NEWS_MONGO_FLUSH_INTERVAL=0.5", "NEWS_MAX_AGE_DAYS=0", "LOG_LEVEL=INFO",
         "NEWS_ALLOWED_PRIVATE_NETWORKS=127.0.0.0/8", "NEWS_ARCHIVE=False"]


def _start(command: list[str], data_dir: Path, sources: Path, log: Path,
           ) -> subprocess.Popen[str]:
    """``newscrawl run`` or ``scrapy crawl news`` on the embedded database of ``data_dir``."""
    for item in [*_FAST, f"NEWS_DATA_DIR={data_dir}", f"NEWS_SOURCES={sources}"]:
        command = [*command, "-s", item]
    with open(log, "w") as out:  # the process writes to its own copy
        return subprocess.Popen([sys.executable, "-m", *command], env=_env(), cwd=ROOT,
                                stdout=out, stderr=out, text=True)


def _until(condition: Any, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_overlapping_runs_share_the_embedded_database_until_the_last_one_ends(
        demo: DemoServer, tmp_path: Path) -> None:
    """Two ``newscrawl run`` on different sources files and a ``scrapy crawl`` beside them, on
    one data directory: the first starts the server and ends first, the others go on with it;
    every run ends ok with its own counts, nothing is spooled, the last one stops the server."""
    data_dir = tmp_path / "data"
    demo.clear_request_log()  # the module's other tests asked the sites too
    files = {}
    for site in demo.sites:
        files[site.name] = tmp_path / f"{site.name}.yaml"
        write_sources_file([site], files[site.name])
        demo.hold(site.name)  # each crawl waits at its site's first request until released
    logs = {name: tmp_path / f"{name}.log" for name in files}
    procs: dict[str, subprocess.Popen[str]] = {}
    try:
        procs["rundschau"] = _start(["crawler.cli", "run"], data_dir, files["rundschau"],
                                    logs["rundschau"])
        _until(lambda: demo.requests("rundschau"), "the first run to crawl")
        assert "Started the embedded database" in logs["rundschau"].read_text()
        procs["harbour"] = _start(["crawler.cli", "run"], data_dir, files["harbour"],
                                  logs["harbour"])
        procs["courrier"] = _start(["scrapy", "crawl", "news"], data_dir, files["courrier"],
                                   logs["courrier"])
        _until(lambda: demo.requests("harbour") and demo.requests("courrier"),
               "the second run and the scrapy crawl to crawl")
        assert len(Leases(data_dir).holders()) == 3
        demo.release("rundschau")  # the run that started the server ends first
        assert procs["rundschau"].wait(timeout=120) == 0, logs["rundschau"].read_text()[-3000:]
        assert procs["harbour"].poll() is None and procs["courrier"].poll() is None
        assert len(Leases(data_dir).holders()) == 2
        demo.release("harbour")
        demo.release("courrier")
        for name in ("harbour", "courrier"):
            assert procs[name].wait(timeout=120) == 0, logs[name].read_text()[-3000:]
    finally:
        for name in list(files):
            demo.release(name)
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    text = {name: log.read_text(encoding="utf-8") for name, log in logs.items()}
    assert "Started the embedded database (nx-27017)" in text["rundschau"]
    assert "Left the embedded database at mongodb://127.0.0.1:" in text["rundschau"]
    assert "running: 2 other process(es) use it" in text["rundschau"]
    for name in ("harbour", "courrier"):
        assert "Using the embedded database already running" in text[name]
    assert sum("Stopped the embedded database" in log for log in text.values()) == 1
    assert _wait_gone(data_dir) == []
    assert not (data_dir / "spool.jsonl").exists()
    with EmbeddedMongo(data_dir) as server:
        assert server.uri is not None
        client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(server.uri)
        try:
            runs = list(client.news.crawl_runs.find())
            urls = [doc["url"] for doc in client.news.articles.find()]
        finally:
            client.close()
    assert sorted((r["sources"], r["status"], r["outcome"]) for r in runs) == [
        (["courrier"], "finished", "ok"), (["harbour"], "finished", "ok"),
        (["rundschau"], "finished", "ok")]
    for run in runs:
        (name,) = run["sources"]
        assert list(run["counts"]) == [name]
        assert run["counts"][name]["stored_new"] == 7, run
    assert sorted(urls) == sorted(set(urls)) == sorted(article_truth(demo.sites))
