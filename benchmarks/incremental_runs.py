"""First run against a no-change run of ``newscrawl run`` on the demo sites, side by side.

    .venv/bin/python benchmarks/incremental_runs.py [--rounds 3]

Reports requests made and wall time per run (medians over rounds; each round starts from an
empty database), on loopback with the embedded database.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from crawler.database import EmbeddedMongo
from crawler.demo.server import DemoServer, write_sources_file

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = ["NEWS_ALLOWED_PRIVATE_NETWORKS=127.0.0.0/8", "NEWS_MAX_AGE_DAYS=0",
            "LOG_LEVEL=WARNING"]


def run_once(uri: str, sources: Path, data: Path, database: str) -> float:
    command = [sys.executable, "-m", "crawler.cli", "run", "--sources", str(sources)]
    for item in [*SETTINGS, f"MONGO_DATABASE={database}", f"NEWS_DATA_DIR={data}"]:
        command += ["-s", item]
    started = time.monotonic()
    subprocess.run(command, env=dict(os.environ, MONGO_URI=uri), cwd=ROOT, check=True,
                   capture_output=True)
    return time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    first_t, second_t, first_n, second_n = [], [], [], []
    with tempfile.TemporaryDirectory() as tmp, EmbeddedMongo(Path(tmp) / "db") as mongo, \
            DemoServer() as server:
        assert mongo.uri is not None
        sources = Path(tmp) / "sources.yaml"
        write_sources_file(server.sites, sources)
        for round_ in range(args.rounds):
            database = f"bench_incremental_{round_}"
            server.clear_request_log()
            first_t.append(run_once(mongo.uri, sources, Path(tmp), database))
            first_n.append(len(server.requests()))
            server.clear_request_log()
            second_t.append(run_once(mongo.uri, sources, Path(tmp), database))
            second_n.append(len(server.requests()))
    med = statistics.median
    print(f"{'run':<18} {'requests':>9} {'wall s':>8}")
    print(f"{'first (empty db)':<18} {med(first_n):>9.0f} {med(first_t):>8.2f}")
    print(f"{'no-change':<18} {med(second_n):>9.0f} {med(second_t):>8.2f}")
    print(f"no-change / first: requests {med(second_n) / med(first_n):.2f}, "
          f"time {med(second_t) / med(first_t):.2f} (default politeness, {args.rounds} rounds)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
