"""The ``newscrawl`` command: ``newscrawl demo`` and ``newscrawl db``."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bson import json_util

from crawler.database import Database, EmbeddedMongo, configured_uri, mask_uri

logger = logging.getLogger(__name__)

DEMO_PORT = 8601


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="newscrawl", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo", help="serve the bundled demo sites on loopback, crawl them, print a summary")
    demo.add_argument("--port", type=int, default=DEMO_PORT,
                      help=f"port of the demo sites on 127.0.0.2-4 (default {DEMO_PORT})")
    demo.add_argument("--data-dir", default="data", help="embedded database directory")
    db = commands.add_parser("db", help="run the embedded database in the foreground")
    db.add_argument("--data-dir", default="data", help="embedded database directory")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    if args.command == "demo":
        return run_demo(args.port, Path(args.data_dir))
    return run_db(Path(args.data_dir))


def run_db(data_dir: Path) -> int:
    """Start the embedded database and keep it running until interrupted."""
    server = EmbeddedMongo(data_dir)
    uri = server.start()
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


def run_demo(port: int, data_dir: Path) -> int:
    """Serve the demo sites, crawl them with ``scrapy crawl news`` and summarise the result."""
    from crawler.demo.server import DemoServer, write_sources_file

    uri = configured_uri(None)
    embedded = None if uri else EmbeddedMongo(data_dir)
    if embedded is not None:
        uri = embedded.start()
    assert uri is not None
    try:
        with DemoServer(port=port) as server:
            sources = data_dir / "demo-sources.yaml"
            sources.parent.mkdir(parents=True, exist_ok=True)
            write_sources_file(server.sites, sources)
            for site in server.sites:
                print(f"Serving demo site {site.name:<10} at {site.base_url}/", flush=True)
            env = dict(os.environ, MONGO_URI=uri, SCRAPY_SETTINGS_MODULE="crawler.settings")
            command = [sys.executable, "-m", "scrapy", "crawl", "news",
                       "-s", f"NEWS_SOURCES={sources}", "-s", f"NEWS_DATA_DIR={data_dir}",
                       "-s", "LOG_LEVEL=INFO",
                       "-s", "NEWS_MAX_AGE_DAYS=0"]  # the demo articles are years old
            print("Running: scrapy crawl news -s NEWS_SOURCES=" + str(sources), flush=True)
            crawl = subprocess.run(command, env=env, check=False)
            summarize(uri, [site.name for site in server.sites])
            return crawl.returncode
    finally:
        if embedded is not None:
            embedded.stop()


def summarize(uri: str, sources: list[str]) -> None:
    database = Database(uri)
    try:
        articles = database.db["articles"]
        print("\nArticles stored per source:")
        for name in sources:
            print(f"  {name:<12} {articles.count_documents({'source': name})}")
        print(f"  {'total':<12} {articles.count_documents({})}")
        sample = articles.find_one({"language": "de"}, {"_id": 0}) or articles.find_one(
            {}, {"_id": 0})
        if sample:
            sample["text"] = sample["text"][:300] + ("…" if len(sample["text"]) > 300 else "")
            print("\nOne stored document (text shortened):")
            print(json_util.dumps(sample, indent=2, ensure_ascii=False,
                                  json_options=json_util.RELAXED_JSON_OPTIONS))
        print(f"\nRead them: `newscrawl db` serves the stored data at a mongodb:// URI; then "
              f"pymongo.MongoClient(URI).{database.name}.articles.find(). "
              f"The fields are documented in docs/schema.md. (This run used {mask_uri(uri)}.)")
    finally:
        database.client.close()


if __name__ == "__main__":
    sys.exit(main())
