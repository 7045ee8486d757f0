"""The ``newscrawl`` command: run (for cron), seed and worker (distributed), runs, report,
export, reextract, demo and db."""

from __future__ import annotations

import argparse
import logging
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bson import json_util

from crawler.config import EXIT_CONFIG, ConfigError, check_settings, operator_error
from crawler.database import (
    Database,
    DatabaseUnavailable,
    EmbeddedMongo,
    mask_uri,
)
from crawler.sources import SourcesError

logger = logging.getLogger(__name__)

DEMO_PORT = 8601
DEMO_DATA_DIR = "data/demo"  # not NEWS_DATA_DIR's default "data": the demo never mixes in
_LOG_FORMAT = "%(asctime)s %(levelname)s %(message)s"


def _settings_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-s", "--set", dest="settings", action="append", default=[],
                        metavar="NAME=VALUE", help="a Scrapy setting, as scrapy crawl -s")


def _reader_arguments(parser: argparse.ArgumentParser) -> None:
    """``-s``, and ``--data-dir``: the commands that read what crawls stored (runs, report,
    export, reextract) read the embedded database (``MONGO_URI`` unset) and the archive of
    this folder; ``newscrawl demo`` prints them with its own."""
    _settings_argument(parser)
    parser.add_argument("--data-dir", help="the crawls' data folder: embedded database, WARC "
                                           "archive (default: setting NEWS_DATA_DIR, data)")


def _overrides(args: argparse.Namespace) -> list[str]:
    """``-s`` settings, then those the command's own options stand for (these win)."""
    overrides = list(args.settings)
    if getattr(args, "sources", None):
        overrides.append(f"NEWS_SOURCES={args.sources}")
    if getattr(args, "data_dir", None):
        overrides.append(f"NEWS_DATA_DIR={args.data_dir}")
    return overrides


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="newscrawl", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo", help="serve the bundled demo sites on loopback, crawl them, print a summary")
    demo.add_argument("--port", type=int, default=DEMO_PORT,
                      help=f"port of the demo sites on 127.0.0.2-4 (default {DEMO_PORT})")
    demo.add_argument("--data-dir", default=DEMO_DATA_DIR,
                      help=f"the demo's own embedded database and files (default "
                           f"{DEMO_DATA_DIR}; never the crawls' data directory)")
    demo.add_argument("--mongo-uri", help="write the demo articles into this MongoDB instead of "
                                          "the demo's own database (MONGO_URI is ignored)")
    db = commands.add_parser("db", help="run the embedded database in the foreground")
    db.add_argument("--data-dir", default="data", help="embedded database directory")
    db.add_argument("--port", type=int, default=None,
                    help="port on 127.0.0.1 (default: a free one); a stable address for readers")
    run_cmd = commands.add_parser(
        "run", help="crawl every configured source (or one) once; what a crontab calls")
    run_cmd.add_argument("--source", help="crawl only this source")
    run_cmd.add_argument("--sources", help="the sources file (default: setting NEWS_SOURCES)")
    _settings_argument(run_cmd)
    run_cmd.add_argument("--log-json", action="store_true", help="log JSON lines")
    seed = commands.add_parser(
        "seed", help="distributed crawl: push the sources' start URLs into the shared queue")
    seed.add_argument("--source", help="seed only this source")
    seed.add_argument("--sources", help="the sources file (default: setting NEWS_SOURCES)")
    _settings_argument(seed)
    seed.add_argument("--log-json", action="store_true", help="log JSON lines")
    worker = commands.add_parser(
        "worker", help="distributed crawl: work from the shared queue until it is idle")
    worker.add_argument("--sources", help="the sources file (default: setting NEWS_SOURCES)")
    worker.add_argument("--slot", type=int, default=1,
                        help="worker slot on this machine (one process per slot; default 1)")
    _settings_argument(worker)
    worker.add_argument("--log-json", action="store_true", help="log JSON lines")
    runs = commands.add_parser("runs", help="print the recent crawl runs")
    runs.add_argument("--limit", type=int, default=10)
    _reader_arguments(runs)
    report = commands.add_parser(
        "report", help="one self-contained HTML page: articles, delays and health per source")
    report.add_argument("--since", default="30d", help="ISO 8601 date or date-time (UTC if "
                        "no zone), or an age: 24h, 7d, 2w (default 30d)")
    report.add_argument("--out", default="report.html", help="output file (default report.html)")
    _reader_arguments(report)
    export = commands.add_parser("export", help="JSON Lines of the articles updated since then")
    export.add_argument("--since", required=True,
                        help="ISO 8601 date-time (UTC if no zone), or an age: 30m, 24h, 7d, 2w")
    export.add_argument("--source")
    export.add_argument("--language")
    export.add_argument("--out", help="output file (default: standard output)")
    _reader_arguments(export)
    reextract = commands.add_parser(
        "reextract", help="extract the archived pages again (no network); see docs/cron.md")
    reextract.add_argument("--source", help="only the pages of this source")
    reextract.add_argument("--since", help="only pages fetched since then (ISO 8601; UTC if no "
                                           "zone)")
    reextract.add_argument("--dry-run", action="store_true",
                           help="write nothing; report what would change")
    reextract.add_argument("--render", action="store_true",
                           help="render the pages that need a browser again (fetches them); "
                                "without it the archived rendered page is extracted")
    reextract.add_argument("--sources", help="the sources file (default: setting NEWS_SOURCES)")
    _reader_arguments(reextract)
    reextract.add_argument("--log-json", action="store_true", help="log JSON lines")
    args = parser.parse_args(argv)
    try:
        return _command(args)
    except (ConfigError, SourcesError, DatabaseUnavailable) as exc:
        if not logging.getLogger().handlers:
            if getattr(args, "log_json", False):  # JSON even before the settings are read
                from crawler.logjson import install

                install(logging.INFO)
            else:
                logging.basicConfig(level=logging.INFO, format=_LOG_FORMAT)
        logger.error("%s", operator_error(exc))
        return EXIT_CONFIG


def _command(args: argparse.Namespace) -> int:
    if args.command == "run":
        from crawler.run import run

        return run(args.source, args.sources, args.settings, json_lines=args.log_json)
    if args.command == "reextract":
        from crawler.reextract import run_reextract

        return run_reextract(args.source, args.since, args.dry_run, _overrides(args),
                             json_lines=args.log_json, render=args.render)
    if args.command == "seed":
        from crawler.distributed.seed import seed as seed_queue

        return seed_queue(args.source, args.sources, args.settings, json_lines=args.log_json)
    if args.command == "worker":
        from crawler.distributed.worker import worker as run_worker

        return run_worker(args.sources, args.settings, json_lines=args.log_json, slot=args.slot)
    logging.basicConfig(level=logging.INFO, format=_LOG_FORMAT)
    if args.command == "runs":
        return print_runs(args.limit, _overrides(args))
    if args.command == "export":
        return run_export(args)
    if args.command == "report":
        return run_report(args)
    if args.command == "demo":
        return run_demo(args.port, Path(args.data_dir), args.mongo_uri)
    return run_db(Path(args.data_dir), args.port)


def _database(overrides: list[str], purpose: str) -> Database:
    """The configured database, checked: DatabaseUnavailable names it when it does not
    answer."""
    from crawler.run import build_settings

    settings = build_settings(overrides, None)
    for warning in check_settings(settings):
        logger.warning("%s", warning)
    database = Database.from_settings(settings)
    try:
        database.check(consequence=purpose)
    except DatabaseUnavailable:
        database.close()
        raise
    return database


def print_runs(limit: int, overrides: list[str]) -> int:
    """The recent runs, a line per source: found (listed), fetched, 304, new, updated, same,
    rejected (not articles), fetch errors, old (listed entries skipped as older than
    NEWS_MAX_AGE_DAYS)."""
    database = _database(overrides, "no runs to show")
    try:
        runs = list(database.db["crawl_runs"].find().sort("started_at", -1).limit(limit))
    finally:
        database.close()
    from crawler.report.runs import runs_lines

    print("\n".join(runs_lines(runs)))
    return 0


def run_export(args: argparse.Namespace) -> int:
    from crawler.export import parse_since, updated_since, write_jsonl

    since = parse_since(args.since)
    database = _database(_overrides(args), "nothing was exported")
    try:
        if args.source and database.db["articles"].find_one({"source": args.source},
                                                            {"_id": 1}) is None:
            raise ConfigError(_no_stored_source(args.source, database, _overrides(args)))
        records = updated_since(database.db, since, args.source, args.language)
        if args.out:
            with open(args.out, "w", encoding="utf-8") as out:
                count = write_jsonl(records, out)
        else:
            count = write_jsonl(records, sys.stdout)
    finally:
        database.close()
    logger.info("Exported %d article(s) updated since %s", count, since.isoformat())
    return 0


def _no_stored_source(source: str, database: Database, overrides: list[str]) -> str:
    """Why ``export --source NAME`` has nothing to export: no such source in the sources
    file, or none of its articles stored; with the names that have some."""
    from crawler.run import build_settings
    from crawler.sources import load_sources

    stored = sorted(str(name) for name in database.db["articles"].distinct("source") if name)
    have = f"stored articles have: {', '.join(stored)}" if stored else "no article is stored"
    path = build_settings(overrides, None).get("NEWS_SOURCES")
    try:
        names = [s.name for s in load_sources(path)]
    except SourcesError:
        names = []
    if source in names:
        return (f"--source {source!r}: no stored article has this source yet ({have}); "
                f"nothing was exported")
    return (f"--source {source!r}: no source named {source!r} in {path} (have: "
            f"{', '.join(names) or 'none'}), and no stored article has that source ({have}); "
            f"nothing was exported")


def run_report(args: argparse.Namespace) -> int:
    from crawler.export import parse_since
    from crawler.report.html import write_report

    since = parse_since(args.since)
    database = _database(_overrides(args), "no report was written")
    try:
        data = write_report(database.db, since, args.out)
    finally:
        database.close()
    failing = [name for name, state in data.sources.items() if state.failing]
    logger.info("Report written to %s: %d sources (%d failing), %d runs since %s", args.out,
                len(data.sources), len(failing), len(data.runs), since.isoformat())
    return 0


def run_db(data_dir: Path, port: int | None = None) -> int:
    """Start the embedded database and keep it running until interrupted."""
    if port is not None and not 0 < port < 65536:
        raise ConfigError(f"--port {port}: not a TCP port (1-65535)")
    server = EmbeddedMongo(data_dir, port=port)
    uri = server.start()
    if server.process is None:  # another process serves this directory already
        if port is not None and not uri.endswith(f":{port}"):
            raise ConfigError(f"--data-dir {server.data_dir}: already served at {uri} by "
                              f"another process; stop it to serve it on port {port}")
        print(f"The embedded database in {server.data_dir} is already served at {uri} by "
              f"another process", flush=True)
        server.stop()  # our lease: the server goes on while its other users need it
        return 0
    print(f"Embedded MongoDB (nx-27017) listening at {uri}", flush=True)
    print(f"Data in {server.data_dir}. Read articles with: "
          f"python -c \"import pymongo; print(pymongo.MongoClient('{uri}').news.articles"
          f".count_documents({{}}))\"", flush=True)
    print("Stop with Ctrl-C.", flush=True)
    stop = False

    def _stop(*_: Any) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    try:
        while not stop and (server.process is None or server.process.poll() is None):
            time.sleep(0.5)
    finally:
        server.stop()
    return 0


def run_demo(port: int, data_dir: Path, mongo_uri: str | None = None) -> int:
    """Serve the demo sites, crawl them with ``scrapy crawl news`` and summarise the result.
    The demo uses its own embedded database in ``data_dir`` (``MONGO_URI`` is ignored: the
    demo never writes into a production database) unless ``mongo_uri`` is given."""
    from crawler.demo.server import DemoServer, write_sources_file

    if os.environ.get("MONGO_URI") and not mongo_uri:
        print(f"MONGO_URI is set; the demo ignores it and uses its own embedded database in "
              f"{data_dir} (newscrawl demo --mongo-uri URI writes into a MongoDB of your "
              f"choice)", flush=True)
    embedded = None if mongo_uri else EmbeddedMongo(data_dir)
    uri = embedded.start() if embedded is not None else mongo_uri
    assert uri is not None
    try:
        try:
            server = DemoServer(port=port).start()
        except OSError as exc:
            raise ConfigError(f"--port {port}: cannot serve the demo sites on 127.0.0.2-4 "
                              f"({exc.strerror or exc})") from None
        try:
            sources = data_dir / "demo-sources.yaml"
            sources.parent.mkdir(parents=True, exist_ok=True)
            write_sources_file(server.sites, sources)
            for site in server.sites:
                print(f"Serving demo site {site.name:<10} at {site.base_url}/", flush=True)
            env = dict(os.environ, MONGO_URI=uri, SCRAPY_SETTINGS_MODULE="crawler.settings")
            command = [sys.executable, "-m", "scrapy", "crawl", "news",
                       "-s", f"NEWS_SOURCES={sources}", "-s", f"NEWS_DATA_DIR={data_dir}",
                       "-s", "LOG_LEVEL=INFO",
                       "-s", "NEWS_MAX_AGE_DAYS=0",  # the demo articles are years old
                       "-s", "NEWS_ALLOWED_PRIVATE_NETWORKS=127.0.0.0/8"]  # on loopback
            print(f"Running: MONGO_URI={shlex.quote(mask_uri(uri))} "
                  f"SCRAPY_SETTINGS_MODULE=crawler.settings {shlex.join(command)}", flush=True)
            crawl = subprocess.run(command, env=env, check=False)
            summarize(uri, [site.name for site in server.sites],
                      None if mongo_uri else data_dir)
            print_follow_ups(data_dir, sources, mongo_uri)
            return crawl.returncode
        finally:
            server.stop()
    finally:
        if embedded is not None:
            embedded.stop()


def follow_ups(data_dir: Path, sources: Path, mongo_uri: str | None = None) -> list[str]:
    """The commands that read what the demo stored: its database and archive in ``data_dir``
    (``--data-dir``; with ``MONGO_URI`` set, emptied for them: the demo did not use it), or
    the MongoDB it was given (``mongo_uri``, its password masked)."""
    program = Path(sys.executable).parent / "newscrawl"  # .venv/bin/newscrawl, as installed
    name = os.path.relpath(program) if program.exists() else "newscrawl"
    env = (f"MONGO_URI={shlex.quote(mask_uri(mongo_uri))} " if mongo_uri
           else "MONGO_URI= " if os.environ.get("MONGO_URI") else "")
    where = ["--data-dir", str(data_dir)]
    return [f"{env}{shlex.join([name, *args])}" for args in (
        ["runs", *where],
        ["report", *where, "--out", str(data_dir / "report.html")],
        ["export", *where, "--since", "24h", "--out", str(data_dir / "articles.jsonl")],
        ["reextract", *where, "--sources", str(sources), "--dry-run"],
    )]


def print_follow_ups(data_dir: Path, sources: Path, mongo_uri: str | None = None) -> None:
    stored = f"in {mask_uri(mongo_uri)}, its archive in {data_dir}" if mongo_uri \
        else f"in {data_dir}, not in the crawls' ./data"
    print(f"\nThe demo's runs and articles are {stored}. Read them with --data-dir "
          f"{shlex.quote(str(data_dir))}:")
    for command in follow_ups(data_dir, sources, mongo_uri):
        print(f"  {command}")


def summarize(uri: str, sources: list[str], data_dir: Path | None = None) -> None:
    database = Database(uri)
    try:
        articles = database.db["articles"]
        print("\nArticles stored per source:")
        for name in sources:
            print(f"  {name:<12} {articles.count_documents({'source': name})}")
        print(f"  {'total':<12} {articles.count_documents({})}")
        hidden = {"_id": 0, "fingerprint_bands": 0, "fingerprint_head": 0}  # internal keys
        sample = articles.find_one({"language": "de"}, hidden) or articles.find_one({}, hidden)
        if sample:
            sample["text"] = sample["text"][:300] + ("…" if len(sample["text"]) > 300 else "")
            print("\nOne stored document (text shortened):")
            print(json_util.dumps(sample, indent=2, ensure_ascii=False,
                                  json_options=json_util.RELAXED_JSON_OPTIONS))
        serve = (f"`newscrawl db --data-dir {shlex.quote(str(data_dir))} --port 27018` serves "
                 f"the demo's database at mongodb://127.0.0.1:27018" if data_dir is not None
                 else f"the demo wrote into {mask_uri(uri)}")
        print(f"\nRead them: {serve}; then "
              f"pymongo.MongoClient(URI).{database.name}.articles.find(). "
              f"The fields are documented in docs/schema.md. (This run used {mask_uri(uri)}.)")
    finally:
        database.client.close()


if __name__ == "__main__":
    sys.exit(main())
