"""Every operator error ends in one line naming what is wrong and exit code 2, under
``newscrawl`` and ``scrapy crawl`` alike (docs/cron.md): real subprocesses, a database really
down (a closed port)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from crawler.config import EXIT_CONFIG, ConfigError
from crawler.demo.server import DemoServer, write_sources_file
from crawler.export import parse_since
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def demo() -> Iterator[DemoServer]:
    with DemoServer() as server:
        yield server


@pytest.fixture(scope="module")
def sources(demo: DemoServer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sources") / "sources.yaml"
    write_sources_file(demo.sites, path)
    return path


@pytest.fixture(scope="module")
def down() -> str:
    """A MongoDB URI nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"mongodb://127.0.0.1:{port}/news"


def _run(program: str, *args: str, data_dir: Path, mongo_uri: str | None = None,
         sources: Path | None = None) -> subprocess.CompletedProcess[str]:
    if program == "newscrawl":
        command = [sys.executable, "-m", "crawler.cli", args[0]]
        args = args[1:]
    else:
        command = [sys.executable, "-m", "scrapy", "crawl", "news"]
    if program == "scrapy" or command[-1] in ("run", "runs", "export"):
        # before the test's own arguments: a later -s wins
        command += ["-s", f"NEWS_DATA_DIR={data_dir}", "-s", "NEWS_MONGO_TIMEOUT=0.5",
                    "-s", "NEWS_ALLOWED_PRIVATE_NETWORKS=127.0.0.0/8"]
        if sources is not None:
            command += ["-s", f"NEWS_SOURCES={sources}"]
    command += list(args)
    env = dict(os.environ, PYTHONPATH=str(ROOT), SCRAPY_SETTINGS_MODULE="crawler.settings")
    env.pop("MONGO_URI", None)
    if mongo_uri is not None:
        env["MONGO_URI"] = mongo_uri
    return subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True,
                          timeout=300, check=False)


def _one_error_line(proc: subprocess.CompletedProcess[str], *expected: str) -> str:
    """The single ERROR line of a run that exited 2, containing every ``expected`` text."""
    output = proc.stderr + proc.stdout
    assert proc.returncode == EXIT_CONFIG, output[-3000:]
    assert "Traceback" not in output, output[-3000:]
    assert "Task exception" not in output and "CRITICAL" not in output, output[-3000:]
    errors = [line for line in proc.stderr.splitlines() if "ERROR" in line]
    assert len(errors) == 1, errors
    for text in expected:
        assert text in errors[0], errors[0]
    return errors[0]


@pytest.mark.parametrize("program", ["newscrawl", "scrapy"])
@pytest.mark.parametrize(("setting", "named"), [
    ("NEWS_MAX_AGE_DAYS=seven", "setting NEWS_MAX_AGE_DAYS: 'seven' is not a number"),
    ("NEWS_MIN_WORDS=many", "setting NEWS_MIN_WORDS: 'many' is not a whole number"),
    ("NEWS_MONGO_RETRIES=-1", "setting NEWS_MONGO_RETRIES: '-1' must be 0 or more"),
    ("NEWS_ALLOWED_PRIVATE_NETWORKS=127.0.0.0/33", "NEWS_ALLOWED_PRIVATE_NETWORKS: "
                                                   "'127.0.0.0/33' is not a network"),
    ("NEWS_RECRAWL_SCHEDULE=1h,soon", "NEWS_RECRAWL_SCHEDULE: bad duration 'soon'"),
    ("NEWS_REDIS_SEED=perhaps", "setting NEWS_REDIS_SEED: 'perhaps' is not a boolean"),
    ("DEPTH_LIMIT=two", "setting DEPTH_LIMIT: 'two' is not a whole number"),
    ("DEPTH_LIMIT=-1", "setting DEPTH_LIMIT: '-1' must be 0 or more"),
    # the setting of ours that Scrapy's DEPTH_LIMIT replaced is not silently ignored
    ("NEWS_MAX_DEPTH=3", "setting NEWS_MAX_DEPTH is gone: use Scrapy's DEPTH_LIMIT"),
])
def test_a_wrong_setting_is_named(program: str, setting: str, named: str, sources: Path,
                                  tmp_path: Path, mongo_uri: str) -> None:
    args = ("run", "-s", setting) if program == "newscrawl" else ("-s", setting)
    proc = _run(program, *args, data_dir=tmp_path, mongo_uri=mongo_uri, sources=sources)
    _one_error_line(proc, named)
    assert "Spider opened" not in proc.stderr


@pytest.mark.parametrize("program", ["newscrawl", "scrapy"])
def test_database_down_is_one_line(program: str, down: str, sources: Path,
                                   tmp_path: Path, demo: DemoServer) -> None:
    demo.clear_request_log()
    args = ("run",) if program == "newscrawl" else ()
    proc = _run(program, *args, data_dir=tmp_path, mongo_uri=down, sources=sources)
    _one_error_line(proc, f"MongoDB at {down} is not reachable", "nothing was crawled")
    assert demo.requests() == []


@pytest.mark.parametrize(("args", "what"), [
    (("runs",), "no runs to show"),
    (("export", "--since", "7d"), "nothing was exported"),
])
def test_reading_commands_with_the_database_down(args: tuple[str, ...], what: str, down: str,
                                                 tmp_path: Path) -> None:
    proc = _run("newscrawl", *args, data_dir=tmp_path, mongo_uri=down)
    _one_error_line(proc, f"MongoDB at {down} is not reachable", what,
                    "start it, or set MONGO_URI to a MongoDB that answers")


def test_reextract_with_the_database_down_is_one_line(down: str, tmp_path: Path) -> None:
    """Not two Twisted tracebacks and "nothing was crawled": what is wrong and what to do."""
    archive = tmp_path / "archive"
    archive.mkdir()
    (archive / "news-20240101000000-0.warc.gz").write_bytes(b"")  # an archive to reextract
    proc = _run("newscrawl", "reextract", "-s", f"NEWS_DATA_DIR={tmp_path}",
                "-s", "NEWS_MONGO_TIMEOUT=0.5", data_dir=tmp_path,
                mongo_uri=down.replace("127.0.0.1", "reader:s3cret@127.0.0.1"))
    line = _one_error_line(proc, f"MongoDB at {down.replace('127.0.0.1', 'reader:***@127.0.0.1')}"
                                 f" is not reachable", "nothing was reextracted: start it, or set "
                                                       "MONGO_URI to a MongoDB that answers")
    assert "s3cret" not in proc.stderr + proc.stdout, line
    assert "nothing was crawled" not in proc.stderr


@pytest.mark.parametrize("program", ["newscrawl", "scrapy"])
def test_a_malformed_mongo_uri_is_named(program: str, sources: Path, tmp_path: Path) -> None:
    args = ("run",) if program == "newscrawl" else ()
    proc = _run(program, *args, data_dir=tmp_path, mongo_uri="mongodb://crawler:s3cret@db:99999",
                sources=sources)
    line = _one_error_line(proc, "MONGO_URI mongodb://crawler:***@db:99999")
    assert "s3cret" not in proc.stderr + proc.stdout, line


@pytest.mark.parametrize("program", ["newscrawl", "scrapy"])
def test_an_unknown_source_lists_the_known_ones(program: str, sources: Path, tmp_path: Path,
                                               mongo_uri: str) -> None:
    args = ("run", "--source", "nope") if program == "newscrawl" else ("-a", "source=nope")
    proc = _run(program, *args, data_dir=tmp_path, mongo_uri=mongo_uri, sources=sources)
    _one_error_line(proc, f"{sources}: no source named 'nope' (have: rundschau, harbour, "
                          f"courrier)")


@pytest.mark.parametrize(("argument", "named"), [
    ("url=notaurl", "-a url: 'notaurl' is not an http(s) URL"),
    # empty: an error, not a crawl of every source
    ("url=", "-a url: empty URL given; give the http(s) URL of a feed, sitemap or page"),
])
def test_a_url_argument_that_is_no_url_is_named(argument: str, named: str, tmp_path: Path,
                                                mongo_uri: str, sources: Path,
                                                demo: DemoServer) -> None:
    demo.clear_request_log()
    proc = _run("scrapy", "-a", argument, data_dir=tmp_path, mongo_uri=mongo_uri,
                sources=sources)
    _one_error_line(proc, named)
    assert demo.requests() == []


@pytest.mark.parametrize("command", ["seed", "worker"])
def test_distributed_commands_name_a_wrong_setting(command: str, tmp_path: Path) -> None:
    proc = _run("newscrawl", command, "-s", "NEWS_REDIS_IDLE_TIMEOUT=soon", data_dir=tmp_path)
    _one_error_line(proc, "setting NEWS_REDIS_IDLE_TIMEOUT: 'soon' is not a number")


def test_a_missing_sources_file_is_named(tmp_path: Path, mongo_uri: str) -> None:
    missing = tmp_path / "nowhere.yaml"
    proc = _run("scrapy", data_dir=tmp_path, mongo_uri=mongo_uri, sources=missing)
    _one_error_line(proc, f"{missing}: file not found (setting NEWS_SOURCES)")


def test_export_since_accepts_iso_and_ages_and_names_the_rest(tmp_path: Path,
                                                              mongo_uri: str) -> None:
    bad = _run("newscrawl", "export", "--since", "yesterday", data_dir=tmp_path,
               mongo_uri=mongo_uri)
    _one_error_line(bad, "--since 'yesterday'", "24h, 7d")
    good = _run("newscrawl", "export", "--since", "24h", "-s", "MONGO_DATABASE=export_age",
                data_dir=tmp_path, mongo_uri=mongo_uri)
    assert good.returncode == 0, good.stderr[-2000:]
    assert "Exported 0 article(s) updated since" in good.stderr


def test_parse_since() -> None:
    now = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    assert parse_since("24h", now) == now - timedelta(hours=24)
    assert parse_since("7d", now) == now - timedelta(days=7)
    assert parse_since("30m", now) == now - timedelta(minutes=30)
    assert parse_since("2w", now) == now - timedelta(weeks=2)
    assert parse_since("2024-06-01T00:00:00Z") == datetime(2024, 6, 1, tzinfo=UTC)
    assert parse_since("2024-06-01") == datetime(2024, 6, 1, tzinfo=UTC)
    assert parse_since("2024-06-01T02:00:00+02:00") == datetime(2024, 6, 1, tzinfo=UTC)
    for bad in ("yesterday", "7 days", "-1d", ""):
        with pytest.raises(ConfigError, match="--since"):
            parse_since(bad)


def test_bad_setting_syntax_and_port(tmp_path: Path) -> None:
    _one_error_line(_run("newscrawl", "run", "-s", "DEPTH_LIMIT", data_dir=tmp_path),
                    "-s expects NAME=VALUE, got 'DEPTH_LIMIT'")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = _run("newscrawl", "db", "--port", str(port), "--data-dir", str(tmp_path / "db"),
                    data_dir=tmp_path)
    _one_error_line(proc, f"127.0.0.1:{port}: the port is in use")
