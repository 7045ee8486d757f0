"""Crawl throughput against the physical limit (extraction on every core), and memory.

    .venv/bin/python benchmarks/throughput.py                  # N=1810, 3 interleaved rounds
    .venv/bin/python benchmarks/throughput.py --memory         # + project crawls at 5k and 20k
    .venv/bin/python benchmarks/throughput.py --memory-only    # the memory run alone
    .venv/bin/python benchmarks/throughput.py --n 400 --only project,noarchive --section archive
                                                  # the WARC archive's cost: on and off
    .venv/bin/python benchmarks/throughput.py --mode web     # 181 sites, N/181 articles each

``--mode copies`` (the default) serves the 181 real pages of ../shared/eval/scrapinghub-aeb/html/
(full size), repeated at distinct URLs up to N, with a sitemap and an RSS feed, from a separate
process on 127.0.0.1 (benchmarks/_serve.py): a layout learned from a copy fits its copies
perfectly. ``--mode web`` makes each of the 181 pages a site of its own on a loopback address
(127.0.0.2 onwards, one process, one port: benchmarks/_web.py) with N/181 articles that share
the page's layout but not its text (the long texts replaced by other pages' ground-truth
paragraphs in the same script; 10 distinct articles a site, repeated at distinct URLs past
that); the project crawls them from a sources file with one source (sitemap) per site, the
naive spider from the same 181 sitemaps, the limit extracts the same N pages (fetched from
the server before its clock starts).

Then, over interleaved rounds (the order rotates each round), runs and measures:

1. limit: ``trafilatura.extract`` over the same HTML in a pool of ``os.cpu_count()`` processes;
2. naive: a plain Scrapy spider calling ``trafilatura.extract`` in its callback;
3. project: ``scrapy crawl news -a url=<sitemap>`` (web mode: ``-s NEWS_SOURCES=<file>``) with its
   real pipelines into a fresh embedded database (nx-27017), politeness relaxed for loopback by
   settings;
5. fullway (only when asked for): the project crawl with ``NEWS_LAYOUTS=False``: every page
   extracted the full way, as before learned site layouts (docs/layouts.md);
6. baseline (with ``--baseline DIR``): the project crawl with another checkout's code (DIR, on
   this checkout's virtualenv), to set a change against its parent in one run;
7. warm (web mode, only when asked for): the project crawl of a second run. A first crawl of the
   N articles (not measured) leaves its database behind (the sites' layouts, templates and URL
   state, as a cron run does); the measured crawl then takes the sites' next N articles
   (``/sitemap-<N>-<2N>.xml``: new URLs, whose texts repeat the first run's variants, as past
   10 articles a site always). This is what a scheduled crawl of known sites costs.
4. noarchive (only when asked for): the project crawl with ``NEWS_ARCHIVE=False``, to weigh the
   WARC archive (its bytes a page, its writer thread's CPU, the CPU a page with and without).

Rates are pages / (last page done - first request) with wall clock times: the first request the
page server saw, the last result (limit), the last callback (naive) or the last item stored
(project: the latest ``updated_at`` in the database). Peak RSS is the sum of the processes' own
peaks (VmHWM) over the tree: the pool and its workers; the spider; the crawl, its extraction
workers and the database server. CPU is user + system seconds of the same trees.
Prints medians and writes them to docs/performance.md (between marker comments: sections
``throughput`` and ``memory``, in web mode ``throughput-web`` and ``memory-web``).
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
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pymongo

# benchmarks/ holds other scripts too (one may be named like an installed package): look
# there last, after the installed packages.
sys.path.append(str(Path(__file__).resolve().parent))
sys.path.sort(key=lambda p: Path(p or ".").resolve() == Path(__file__).resolve().parent)

from _measure import MB, TreeMonitor, TreeUsage
from _runners import RELAXED
from _serve import DEFAULT_PAGES

from crawler.database import EmbeddedMongo

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "performance.md"
PY = sys.executable
VARIANTS = ("limit", "naive", "project", "noarchive", "fullway", "baseline", "warm")
MODES = ("copies", "web")
SERVERS = {"copies": "_serve.py", "web": "_web.py"}
WEB_VARIANTS = 10  # distinct articles a site in web mode (benchmarks/_web.py --variants)


@dataclass
class Run:
    variant: str
    n: int
    pages: int = 0  # pages fetched (or extracted, for the limit)
    items: int = 0  # items produced (naive: pages with text; project: documents stored)
    first: float = 0.0
    last: float = 0.0
    wall: float = 0.0  # whole process, start to exit
    usage: TreeUsage = field(default_factory=TreeUsage)
    server_cpu: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        span = self.last - self.first
        return self.pages / span if span > 0 else 0.0

    @property
    def cpu_ms_per_page(self) -> float:
        return 1000 * self.usage.cpu / self.pages if self.pages else 0.0

    @property
    def cores(self) -> float:
        return self.usage.cpu / self.wall if self.wall else 0.0


# -- the page server ----------------------------------------------------------------------------

class Server:
    """The page server process (benchmarks/_serve.py, in web mode benchmarks/_web.py),
    restarted when it has died."""

    def __init__(self, max_n: int, pages: Path, mode: str = "copies") -> None:
        self.max_n = max_n
        self.pages = pages
        self.mode = mode
        self.restarts = 0
        self._start()

    def _start(self) -> None:
        self.process = subprocess.Popen(
            [PY, str(ROOT / "benchmarks" / SERVERS[self.mode]), "--max-n", str(self.max_n),
             "--pages", str(self.pages),
             *(["--variants", str(WEB_VARIANTS)] if self.mode == "web" else [])],
            stdout=subprocess.PIPE, text=True, cwd=ROOT)
        assert self.process.stdout is not None
        line = self.process.stdout.readline().strip()
        if not line.startswith("READY "):
            self.process.kill()
            raise SystemExit(f"page server did not start: {line!r}")
        self.base = line.split(" ", 1)[1]

    def ensure_running(self) -> None:
        code = self.process.poll()
        if code is not None:
            print(f"  (page server exited with {code}: restarted)", flush=True)
            self.restarts += 1
            self._start()

    def get(self, path: str) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.get_text(path))
        return data

    def get_text(self, path: str) -> str:
        with urllib.request.urlopen(self.base + path, timeout=10) as reply:
            return str(reply.read().decode())

    def sitemaps(self, n: int) -> list[str]:
        """The sitemap(s) listing the first n articles: one, or in web mode one a site."""
        if self.mode == "copies":
            return [f"{self.base}/sitemap-{n}.xml"]
        return re.findall(r"sitemaps: \[(\S+)\]", self.get_text(f"/__sources-{n}.yaml"))

    def cpu(self) -> float:
        import psutil

        times = psutil.Process(self.process.pid).cpu_times()
        return float(times.user + times.system)

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


# -- the three workloads ------------------------------------------------------------------------

def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run_measured(cmd: list[str], roots: dict[str, int], log: Path,
                  env: dict[str, str] | None = None,
                  cwd: Path = ROOT) -> tuple[float, TreeUsage]:
    """Run cmd to completion with its tree (and ``roots``) sampled; returns wall and usage.
    The command's own CPU comes from rusage (exact, includes its reaped workers)."""
    cpu_before = _children_cpu()
    started = time.monotonic()
    with log.open("wb") as out:
        process = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
        monitor = TreeMonitor({"main": process.pid, **roots})
        code = process.wait()
    wall = time.monotonic() - started
    usage = monitor.stop()
    usage.cpu_by_role["main"] = _children_cpu() - cpu_before
    usage.cpu = sum(usage.cpu_by_role.values())
    if code != 0:
        tail = log.read_text(errors="replace")[-3000:]
        raise SystemExit(f"{' '.join(cmd[:4])} ... exited {code}:\n{tail}")
    return wall, usage


def run_limit(server: Server, n: int, tmp: Path, pages: Path) -> Run:
    out = tmp / "limit.json"
    cmd = [PY, str(ROOT / "benchmarks" / "_runners.py"), "limit", str(n), str(out),
           "--pages", str(pages)]
    if server.mode == "web":  # the web mode's pages, fetched from its server
        server.ensure_running()
        urls = tmp / "limit-urls.txt"
        urls.write_text(server.get_text(f"/__urls-{n}.txt"))
        cmd[-2:] = ["--urls", str(urls)]
    wall, usage = _run_measured(cmd, {}, tmp / "limit.log")
    data = json.loads(out.read_text())
    return Run("limit", n, pages=data["pages"], items=data["pages"], first=data["first"],
               last=data["last"], wall=wall, usage=usage)


def run_naive(server: Server, n: int, tmp: Path) -> Run:
    out = tmp / "naive.json"
    server.ensure_running()
    server.get("/__reset")
    server_cpu = server.cpu()
    cmd = [PY, str(ROOT / "benchmarks" / "_runners.py"), "naive",
           ",".join(server.sitemaps(n)), str(out)]
    wall, usage = _run_measured(cmd, {}, tmp / "naive.log")
    data = json.loads(out.read_text())
    stats = server.get("/__stats")
    return Run("naive", n, pages=data["pages"], items=data["extracted"], first=stats["first"],
               last=data["last"], wall=wall, usage=usage, server_cpu=server.cpu() - server_cpu)


_STAT = re.compile(r"'([\w/.-]+)': (\d+)[,}]")


def crawl_stats(log: str) -> dict[str, int]:
    """The integer stats of the last 'Dumping Scrapy stats' block of a crawl log."""
    block = log.rsplit("Dumping Scrapy stats:", 1)[-1]
    return {key: int(value) for key, value in _STAT.findall(block)}


def run_project(server: Server, n: int, tmp: Path, extra_settings: list[str],
                project: Path = ROOT, warm: bool = False) -> Run:
    """The project crawl (``project``: the checkout whose code crawls; ``warm``: the second
    run, see the module doc); run again (once) when the page server died during it."""
    try:
        return _run_project(server, n, tmp, extra_settings, project, warm)
    except OSError:
        if server.process.poll() is None:
            raise
        print("  (page server died during the crawl: run repeated)", flush=True)
        return _run_project(server, n, tmp, extra_settings, project, warm)


def _run_project(server: Server, n: int, tmp: Path, extra_settings: list[str],
                 project: Path = ROOT, warm: bool = False) -> Run:
    data_dir = Path(tempfile.mkdtemp(prefix=f"project-{n}-", dir=tmp))  # fresh state each run
    with EmbeddedMongo(data_dir / "db") as mongo:
        assert mongo.uri is not None and mongo.process is not None
        server.ensure_running()
        settings = {**RELAXED, "NEWS_DATA_DIR": str(data_dir),
                    "NEWS_ALLOWED_PRIVATE_NETWORKS": "127.0.0.0/8"}
        env = dict(os.environ, MONGO_URI=mongo.uri, SCRAPY_SETTINGS_MODULE="crawler.settings")
        if project != ROOT:
            env["PYTHONPATH"] = str(project)
        before = 0
        if warm:  # the first run, not measured: it leaves its database behind
            first = _project_command(server, n, data_dir, settings, extra_settings)
            subprocess.run(first, env=env, cwd=project, check=True, capture_output=True)
            before = _stored(mongo.uri)[0]
        server.get("/__reset")
        server_cpu = server.cpu()
        cmd = _project_command(server, 2 * n if warm else n, data_dir, settings, extra_settings,
                               start=n if warm else 0)
        log = data_dir / "crawl.log"
        wall, usage = _run_measured(cmd, {"db": mongo.process.pid}, log, env=env, cwd=project)
        stats = server.get("/__stats")
        server_cpu = server.cpu() - server_cpu
        stored, newest = _stored(mongo.uri)
        stored -= before
    crawl = crawl_stats(log.read_text(errors="replace"))
    last = newest["updated_at"] if newest else None
    return Run("project", n, pages=crawl.get("news/page/extracted", 0), items=stored,
               first=stats["first"] or 0.0,
               last=last.timestamp() if isinstance(last, datetime) else 0.0,
               wall=wall, usage=usage, server_cpu=server_cpu,
               extra={"stats": crawl, "log": str(log)})


def _project_command(server: Server, n: int, data_dir: Path, settings: dict[str, Any],
                     extra_settings: list[str], start: int = 0) -> list[str]:
    """``scrapy crawl news`` over articles ``start`` to ``n - 1`` (from ``start``: web mode)."""
    if server.mode == "web":  # one source a site
        name = f"{start}-{n}" if start else f"{n}"
        sources = data_dir / f"sources-{name}.yaml"
        sources.write_text(server.get_text(f"/__sources-{name}.yaml"))
        cmd = [PY, "-m", "scrapy", "crawl", "news"]
        settings = {**settings, "NEWS_SOURCES": str(sources)}
    else:
        cmd = [PY, "-m", "scrapy", "crawl", "news", "-a",
               f"url={server.base}/sitemap-{n}.xml"]
    for key, value in settings.items():
        cmd += ["-s", f"{key}={value}"]
    for setting in extra_settings:
        cmd += ["-s", setting]
    return cmd


def _stored(uri: str) -> tuple[int, Any]:
    """The articles stored, and the newest one's ``updated_at`` document."""
    client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(uri, tz_aware=True)
    try:
        articles = client.news.articles
        return (articles.count_documents({}),
                articles.find_one({}, {"updated_at": 1}, sort=[("updated_at", -1)]))
    finally:
        client.close()


# -- report -------------------------------------------------------------------------------------

def _median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


def summary_table(runs: list[Run], n: int, rounds: int, mode: str = "copies",
                  sites: int = 181) -> str:
    by: dict[str, list[Run]] = {v: [r for r in runs if r.variant == v] for v in VARIANTS}
    rate = {v: _median([r.rate for r in rs]) for v, rs in by.items()}
    where = (f"{min(n, sites)} sites of about {n / sites:.0f} articles each" if mode == "web"
             else f"{sites} pages repeated on one site")
    lines = [
        f"N = {n} pages ({mode} mode: {where}), {rounds} interleaved rounds, {os.cpu_count()} "
        "cores; medians (per-round values in brackets).",
        "",
        "| | pages/s | wall s | pages | items | CPU s | CPU ms/page | cores used | peak RSS MB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for variant, rs in by.items():
        if not rs:
            continue
        per_round = ", ".join(f"{r.rate:.1f}" for r in rs)
        lines.append(
            f"| {variant} | {rate[variant]:.1f} [{per_round}] "
            f"| {_median([r.wall for r in rs]):.1f} "
            f"| {_median([r.pages for r in rs]):.0f} | {_median([r.items for r in rs]):.0f} "
            f"| {_median([r.usage.cpu for r in rs]):.1f} "
            f"| {_median([r.cpu_ms_per_page for r in rs]):.1f} "
            f"| {_median([r.cores for r in rs]):.2f} "
            f"| {_median([r.usage.peak_rss / MB for r in rs]):.0f} |")
    lines.append("")
    for a, b in (("project", "limit"), ("project", "naive"), ("naive", "limit"),
                 ("project", "noarchive"), ("fullway", "limit"), ("project", "fullway"),
                 ("baseline", "limit"), ("project", "baseline"), ("warm", "limit"),
                 ("warm", "project")):
        if by[a] and by[b]:
            ratios = [x.rate / y.rate for x, y in zip(by[a], by[b], strict=True) if y.rate]
            lines.append(f"- {a}/{b}: **{_median(ratios):.2f}** (per round: "
                         f"{', '.join(f'{x:.2f}' for x in ratios)})")
    project = by["project"]
    if project:
        roles = sorted({k for r in project for k in r.usage.cpu_by_role})
        cpu = ", ".join(f"{k} {_median([r.usage.cpu_by_role.get(k, 0.0) for r in project]):.1f}"
                        for k in roles)
        rss = ", ".join(
            f"{k} {_median([r.usage.peak_rss_by_role.get(k, 0) / MB for r in project]):.0f}"
            for k in roles)
        lines.append(f"- project CPU s by tree: {cpu} (main = crawl process and its extraction "
                     f"workers, db = nx-27017); page server "
                     f"{_median([r.server_cpu for r in project]):.1f}")
        lines.append(f"- project peak RSS MB by tree: {rss}")
        stats = project[-1].extra["stats"]
        keys = ("news/page/extracted", "news/page/article", "news/page/not_article",
                "news/mongo/stored_new", "news/templates/held", "news/templates/released/timeout",
                "downloader/response_count")
        keys += tuple(sorted(k for k in stats if k.startswith("news/templates/released/")))
        keys += tuple(sorted(k for k in stats if k.startswith("news/layout/")))
        lines.append("- project crawl stats (last round): "
                     + ", ".join(f"{k} {stats[k]}" for k in keys if k in stats))
        lines.append(f"- project first request to last item stored: "
                     f"{_median([r.last - r.first for r in project]):.1f} s; "
                     f"process wall {_median([r.wall for r in project]):.1f} s")
    if by["warm"]:
        stats = by["warm"][-1].extra["stats"]
        lines.append("- warm crawl stats (last round, the measured second run): "
                     + ", ".join(f"{k} {v}" for k, v in sorted(stats.items())
                                 if k.startswith(("news/layout/", "news/templates/held",
                                                  "news/mongo/stored"))))
    archived = [r for r in project if r.extra["stats"].get("news/archive/records")]
    if archived:
        def per_page(r: Run, key: str) -> float:
            return r.extra["stats"].get(key, 0) / max(r.extra["stats"]["news/archive/records"], 1)

        writer = [r.extra["stats"].get("news/archive/cpu_ms", 0)
                  / (1000 * (r.usage.cpu_by_role.get("main", r.usage.cpu) or 1))
                  for r in archived]
        size = _median([per_page(r, "news/archive/bytes") for r in archived]) / 1024
        cpu_ms = _median([per_page(r, "news/archive/cpu_ms") for r in archived])
        reactor_ms = _median([per_page(r, "news/archive/reactor_cpu_ms") for r in archived])
        lines.append(f"- WARC archive: {size:.1f} kB a page (gzip per record, request record "
                     f"and warcinfo included); its writer thread took "
                     f"**{100 * _median(writer):.1f} %** of the crawl process tree's CPU "
                     f"({cpu_ms:.2f} ms a page); the reactor thread {reactor_ms:.3f} ms a page "
                     f"(handing the page to the writer)")
    if project and by["noarchive"]:
        shares = [(a.cpu_ms_per_page - b.cpu_ms_per_page) / a.cpu_ms_per_page
                  for a, b in zip(project, by["noarchive"], strict=False) if a.cpu_ms_per_page]
        lines.append(f"- CPU ms a page, archive on / off: "
                     f"{_median([r.cpu_ms_per_page for r in project]):.1f} / "
                     f"{_median([r.cpu_ms_per_page for r in by['noarchive']]):.1f}; "
                     f"difference {100 * _median(shares):.1f} % of the crawl's CPU a page "
                     f"(per round: {', '.join(f'{100 * x:.1f} %' for x in shares)}; "
                     f"noise included)")
    naive = by["naive"]
    if naive:
        lines.append(f"- naive page server CPU s: {_median([r.server_cpu for r in naive]):.1f}")
    return "\n".join(lines)


def memory_table(runs: list[Run], mode: str = "copies", sites: int = 181) -> str:
    lines = [f"Web mode: {sites} sites; past {WEB_VARIANTS} articles a site, its {WEB_VARIANTS} "
             "distinct ones repeat at distinct URLs.", ""] if mode == "web" else []
    lines += ["| N | pages | stored | pages/s | wall s | peak RSS MB (all) | crawl + workers "
             "| database | CPU s |", "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in runs:
        lines.append(
            f"| {r.n} | {r.pages} | {r.items} | {r.rate:.1f} | {r.wall:.0f} "
            f"| {r.usage.peak_rss / MB:.0f} | {r.usage.peak_rss_by_role.get('main', 0) / MB:.0f} "
            f"| {r.usage.peak_rss_by_role.get('db', 0) / MB:.0f} | {r.usage.cpu:.0f} |")
    if len(runs) >= 2 and runs[0].usage.peak_rss:
        lines.append("")
        lines.append(f"- RSS at {runs[-1].n} / RSS at {runs[0].n}: "
                     f"**{runs[-1].usage.peak_rss / runs[0].usage.peak_rss:.2f}**")
    return "\n".join(lines)


def write_section(name: str, body: str, path: Path = DOC) -> None:
    """Replace the text between ``<!-- BEGIN name -->`` and ``<!-- END name -->``."""
    begin, end = f"<!-- BEGIN {name} -->", f"<!-- END {name} -->"
    text = path.read_text() if path.exists() else "# Performance\n"
    block = f"{begin}\n{body}\n{end}"
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        text = head + block + rest.split(end, 1)[1]
    else:
        text = text.rstrip("\n") + f"\n\n{block}\n"
    path.write_text(text)


def _by_process(run: Run) -> str:
    return "    by process (VmHWM MB, CPU s): " + ", ".join(
        f"{role}:{pid} {hwm / MB:.0f} MB {run.usage.cpu_by_pid.get(pid, 0.0):.1f} s"
        for pid, (role, hwm) in run.usage.hwm_by_pid.items())


def main() -> int:
    parser = argparse.ArgumentParser(description="crawl throughput vs the extraction limit")
    parser.add_argument("--mode", choices=MODES, default="copies",
                        help="copies: 181 pages repeated on one site; web: 181 sites, each "
                             "with N/181 articles of its own layout")
    parser.add_argument("--n", type=int, default=1810)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pages", type=Path, default=DEFAULT_PAGES)
    parser.add_argument("--only", default="limit,naive,project",
                        help="comma-separated subset of "
                             "limit,naive,project,noarchive,fullway,baseline,warm")
    parser.add_argument("--section", default=None,
                        help="the section of docs/performance.md to write (default: throughput, "
                             "in web mode throughput-web)")
    parser.add_argument("--memory", action="store_true", help="also the memory run")
    parser.add_argument("--memory-only", action="store_true")
    parser.add_argument("--memory-sizes", default="5000,20000")
    parser.add_argument("-s", dest="settings", action="append", default=[],
                        help="extra NAME=VALUE setting for the project crawl")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="print each process's peak RSS")
    parser.add_argument("--no-write", action="store_true", help="do not touch the docs")
    parser.add_argument("--baseline", type=Path,
                        help="another checkout (e.g. a git worktree of the parent commit): "
                             "the baseline variant crawls with its code")
    args = parser.parse_args()
    variants = [v for v in args.only.split(",") if v in VARIANTS]
    sizes = [int(s) for s in args.memory_sizes.split(",") if s]
    with_memory = args.memory or args.memory_only
    suffix = "-web" if args.mode == "web" else ""
    section = args.section or f"throughput{suffix}"
    sites = len(list(args.pages.glob("*.html.gz")))
    if "warm" in variants and args.mode != "web":
        raise SystemExit("warm: a second run of known sites, --mode web only")
    most = 2 * args.n if "warm" in variants else args.n
    server = Server(max([most, *sizes]) if with_memory else most, args.pages, args.mode)
    try:
        with tempfile.TemporaryDirectory(prefix="bench-") as tmp_name:
            tmp = Path(tmp_name)
            if not args.memory_only:
                runs: list[Run] = []
                for round_no in range(args.rounds):
                    order = variants[round_no % len(variants):] + variants[
                        :round_no % len(variants)]
                    for variant in order:
                        if variant == "limit":
                            run = run_limit(server, args.n, tmp, args.pages)
                        elif variant == "naive":
                            run = run_naive(server, args.n, tmp)
                        elif variant == "noarchive":
                            run = run_project(server, args.n, tmp,
                                              [*args.settings, "NEWS_ARCHIVE=False"])
                            run.variant = "noarchive"
                        elif variant == "baseline":
                            if args.baseline is None:
                                raise SystemExit("baseline: give --baseline DIR")
                            run = run_project(server, args.n, tmp, args.settings,
                                              args.baseline.resolve())
                            run.variant = "baseline"
                        elif variant == "warm":
                            run = run_project(server, args.n, tmp, args.settings, warm=True)
                            run.variant = "warm"
                        elif variant == "fullway":
                            run = run_project(server, args.n, tmp,
                                              [*args.settings, "NEWS_LAYOUTS=False"])
                            run.variant = "fullway"
                        else:
                            run = run_project(server, args.n, tmp, args.settings)
                        runs.append(run)
                        print(f"round {round_no + 1} {variant:8} {run.rate:6.1f} pages/s  "
                              f"pages {run.pages}  items {run.items}  wall {run.wall:5.1f} s  "
                              f"CPU {run.usage.cpu:5.1f} s  peak RSS "
                              f"{run.usage.peak_rss / MB:5.0f} MB", flush=True)
                        if args.verbose:
                            print(_by_process(run), flush=True)
                table = summary_table(runs, args.n, args.rounds, args.mode, sites)
                print("\n" + table)
                if not args.no_write:
                    write_section(section, table)
            if with_memory:
                mem_runs = []
                for size in sizes:
                    run = run_project(server, size, tmp, args.settings)
                    mem_runs.append(run)
                    print(f"memory N={size}: peak RSS {run.usage.peak_rss / MB:.0f} MB "
                          f"({run.pages} pages, {run.items} stored, {run.rate:.1f} pages/s)",
                          flush=True)
                    if args.verbose:
                        print(_by_process(run), flush=True)
                table = memory_table(mem_runs, args.mode, sites)
                print("\n" + table)
                if not args.no_write:
                    write_section(f"memory{suffix}", table)
    finally:
        server.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
