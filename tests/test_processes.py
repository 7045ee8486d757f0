"""No stray processes, no stray records: the embedded database ends with the process that
started it, however that process ends (SIGKILL too), and only crawls are recorded as runs."""

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
from crawler.demo.server import DemoServer
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
    assert f"the process that started it (pid {parent.pid}) is gone; stopping" in log


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
