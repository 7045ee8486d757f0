"""The first crawl of many new sites: template warm-up on against off, side by side.

    .venv/bin/python benchmarks/first_crawl.py          # 50 sites x 5 pages, on vs off, 5 rounds
    .venv/bin/python benchmarks/first_crawl.py --rounds 1 --only on,off,on-5mb,main \
        --section first-crawl-variants

Serves ``--sites`` new sites on distinct loopback hosts from one process (benchmarks/_sites.py:
robots.txt, a plain sitemap, ``--pages-per-site`` real pages of 150 kB and more, each carrying
its site's template line in the article body). Then, over interleaved rounds (the order rotates
each round), runs ``scrapy crawl news`` over all the sites (a sources file, one source per site)
into a fresh embedded database, politeness relaxed for loopback (``RELAXED``), as:

- ``on``: the defaults (new sites' first articles held for the template warm-up);
- ``off``: ``NEWS_TEMPLATE_WARMUP=0`` (nothing held, nothing learned before storing);
- ``on-5mb``: Scrapy's scraper budget (``SCRAPER_SLOT_MAX_ACTIVE_SIZE`` 5 MB) instead of ours
  (held responses then stay under 3.3 MB, two thirds of it);
- ``main``: the crawler of the main checkout (``../main``, its own .venv), for reference.

Reports per variant the median wall time of the crawl process (and its CPU time, less
sensitive to a busy machine), the ratio on/off per round,
articles stored, hold timeouts (``news/templates/released/timeout``), why held articles were
released, the distribution of "learned from N pages" at release, and whether every site's first
stored article (and every article) is free of its site's template line. Writes the table to
docs/performance.md (between marker comments).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pymongo

sys.path.append(str(Path(__file__).resolve().parent))
sys.path.sort(key=lambda p: Path(p or ".").resolve() == Path(__file__).resolve().parent)

from _runners import RELAXED
from throughput import crawl_stats, write_section

from crawler.database import EmbeddedMongo

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
VARIANTS: dict[str, dict[str, str]] = {
    "on": {},
    "off": {"NEWS_TEMPLATE_WARMUP": "0"},
    "on-5mb": {"SCRAPER_SLOT_MAX_ACTIVE_SIZE": "5000000"},
    "main": {},
}
MAIN = ROOT.parent / "main"  # the main checkout: the crawler before this change
_RELEASE = re.compile(r"Site (\S+): releasing (\d+) article\(s\) \(([^;]+); learned from (\d+) "
                      r"pages\)")


@dataclass
class Run:
    variant: str
    wall: float = 0.0
    cpu: float = 0.0  # user + system of the crawl and its reaped children (extraction workers)
    stored: int = 0
    stats: dict[str, int] = field(default_factory=dict)
    reasons: Counter[str] = field(default_factory=Counter)
    learned: Counter[int] = field(default_factory=Counter)  # pages learned from, per release
    first_clean: int = 0  # sites whose first stored article lacks the template line
    sites_stored: int = 0
    leaked: int = 0  # articles that still carry their site's template line

    @property
    def timeouts(self) -> int:
        return self.stats.get("news/templates/released/timeout", 0)


def start_server(sites: int, per_site: int, min_bytes: int) -> tuple[subprocess.Popen[str],
                                                                     dict[str, Any]]:
    process = subprocess.Popen(
        [PY, str(ROOT / "benchmarks" / "_sites.py"), "--sites", str(sites), "--pages-per-site",
         str(per_site), "--min-bytes", str(min_bytes)], stdout=subprocess.PIPE, text=True,
        cwd=ROOT)
    assert process.stdout is not None
    line = process.stdout.readline().strip()
    if not line.startswith("READY "):
        process.kill()
        raise SystemExit(f"site server did not start: {line!r}")
    return process, json.loads(line.split(" ", 1)[1])


def write_sources(info: dict[str, Any], path: Path) -> None:
    rows = ["sources:"]
    for i, site in enumerate(info["sites"]):
        rows += [f"  - name: site-{i}", f"    sitemaps: [{site['base']}/sitemap.xml]"]
    path.write_text("\n".join(rows) + "\n")


def run_crawl(variant: str, sources: Path, info: dict[str, Any], tmp: Path,
              extra: list[str]) -> Run:
    data_dir = Path(tempfile.mkdtemp(prefix=f"{variant}-", dir=tmp))
    run = Run(variant)
    with EmbeddedMongo(data_dir / "db") as mongo:
        assert mongo.uri is not None
        settings = {**RELAXED, "NEWS_DATA_DIR": str(data_dir), "NEWS_SOURCES": str(sources),
                    "NEWS_ALLOWED_PRIVATE_NETWORKS": "127.0.0.0/8", "NEWS_MAX_AGE_DAYS": "0",
                    **VARIANTS[variant]}
        cmd = [PY, "-m", "scrapy", "crawl", "news"]
        for key, value in settings.items():
            cmd += ["-s", f"{key}={value}"]
        for setting in extra:
            cmd += ["-s", setting]
        env = dict(os.environ, MONGO_URI=mongo.uri, SCRAPY_SETTINGS_MODULE="crawler.settings")
        cwd = ROOT
        if variant == "main":
            cmd[0], cwd = str(MAIN / ".venv" / "bin" / "python"), MAIN
        log_path = data_dir / "crawl.log"
        cpu_before = _children_cpu()
        started = time.monotonic()
        with log_path.open("wb") as out:
            code = subprocess.run(cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT,
                                  check=False).returncode
        run.wall = time.monotonic() - started
        run.cpu = _children_cpu() - cpu_before
        log = log_path.read_text(errors="replace")
        if code != 0:
            raise SystemExit(f"crawl {variant} exited {code}:\n{log[-3000:]}")
        run.stats = crawl_stats(log)
        if variant == "main":  # main counts hold timeouts in its log only
            run.stats["news/templates/released/timeout"] = len(re.findall(r"\(hold timeout;",
                                                                          log))
        for match in _RELEASE.finditer(log):
            run.reasons[match.group(3)] += 1
            run.learned[int(match.group(4))] += 1
        client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(mongo.uri,
                                                                          tz_aware=True)
        try:
            docs = list(client.news.articles.find({}, {"url": 1, "text": 1, "first_seen": 1}))
        finally:
            client.close()
    run.stored = len(docs)
    for site in info["sites"]:
        mine = sorted((d for d in docs if d["url"].startswith(site["base"] + "/")),
                      key=lambda d: (d["first_seen"], d["url"]))
        run.leaked += sum(site["trailer"] in (d.get("text") or "") for d in mine)
        if mine:
            run.sites_stored += 1
            run.first_clean += site["trailer"] not in (mine[0].get("text") or "")
    return run


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


def report(runs: list[Run], info: dict[str, Any], rounds: int, variants: list[str]) -> str:
    sites = len(info["sites"])
    pages = sum(len(s["pages"]) for s in info["sites"])
    sizes = sorted(b for s in info["sites"] for b in s["bytes"])
    lines = [
        f"{sites} new sites x {pages // sites} real pages (page size median "
        f"{sizes[len(sizes) // 2] / 1000:.0f} kB, {sizes[0] / 1000:.0f}-{sizes[-1] / 1000:.0f} "
        f"kB), {rounds} interleaved rounds, {os.cpu_count()} cores; medians (per round in "
        "brackets).",
        "",
        "| variant | wall s | CPU s | stored | hold timeouts | released because | learned from N "
        "pages (releases) | first article clean | articles with the template line |",
        "|---|---:|---:|---:|---:|---|---|---:|---:|",
    ]
    by = {v: [r for r in runs if r.variant == v] for v in variants}
    for variant, rs in by.items():
        if not rs:
            continue
        last = rs[-1]
        reasons = ", ".join(f"{k} {v}" for k, v in last.reasons.most_common()) or "-"
        learned = ", ".join(f"{k}: {v}" for k, v in sorted(last.learned.items())) or "-"
        lines.append(
            f"| {variant} | {_median([r.wall for r in rs]):.1f} "
            f"[{', '.join(f'{r.wall:.1f}' for r in rs)}] "
            f"| {_median([r.cpu for r in rs]):.1f} "
            f"| {_median([r.stored for r in rs]):.0f} | {sum(r.timeouts for r in rs)} "
            f"| {reasons} | {learned} "
            f"| {last.first_clean} of {last.sites_stored} | {sum(r.leaked for r in rs)} |")
    lines.append("")
    for variant in variants:
        if variant == "off" or not by.get(variant) or not by.get("off"):
            continue
        ratios = [a.wall / b.wall for a, b in zip(by[variant], by["off"], strict=True)]
        cpu = [a.cpu / b.cpu for a, b in zip(by[variant], by["off"], strict=True) if b.cpu]
        lines.append(f"- wall {variant} / off: **{_median(ratios):.2f}** (per round: "
                     f"{', '.join(f'{x:.2f}' for x in ratios)}); CPU {variant} / off: "
                     f"{_median(cpu):.2f}")
    lines.append("- released because, learned from: the last round's crawl log; hold "
                 "timeouts and template lines: all rounds")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description="first crawl of many new sites")
    parser.add_argument("--sites", type=int, default=50)
    parser.add_argument("--pages-per-site", type=int, default=5)
    parser.add_argument("--min-bytes", type=int, default=150_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--only", default="on,off",
                        help=f"comma-separated subset of {','.join(VARIANTS)}")
    parser.add_argument("-s", dest="settings", action="append", default=[],
                        help="extra NAME=VALUE setting for every crawl")
    parser.add_argument("--section", default="first-crawl",
                        help="the marked section of docs/performance.md to write")
    parser.add_argument("--no-write", action="store_true", help="do not touch the docs")
    args = parser.parse_args()
    variants = [v for v in args.only.split(",") if v in VARIANTS]
    if "main" in variants and not (MAIN / ".venv" / "bin" / "python").exists():
        raise SystemExit(f"variant main: no {MAIN}/.venv")
    server, info = start_server(args.sites, args.pages_per_site, args.min_bytes)
    runs: list[Run] = []
    try:
        with tempfile.TemporaryDirectory(prefix="first-crawl-") as tmp_name:
            tmp = Path(tmp_name)
            sources = tmp / "sources.yaml"
            write_sources(info, sources)
            for round_no in range(args.rounds):
                k = round_no % len(variants)
                for variant in variants[k:] + variants[:k]:
                    run = run_crawl(variant, sources, info, tmp, args.settings)
                    runs.append(run)
                    print(f"round {round_no + 1} {variant:14} wall {run.wall:6.1f} s  CPU "
                          f"{run.cpu:6.1f} s  stored "
                          f"{run.stored}  timeouts {run.timeouts}  first clean "
                          f"{run.first_clean}/{run.sites_stored}  leaked {run.leaked}  "
                          f"released {dict(run.reasons)}  learned {dict(run.learned)}",
                          flush=True)
    finally:
        server.terminate()
        server.wait(timeout=10)
    table = report(runs, info, args.rounds, variants)
    print("\n" + table)
    if not args.no_write:
        write_section(args.section, table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
