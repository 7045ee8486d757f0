"""Is this page an article? Recall and precision of the crawler's page classifier on real pages
of older and plainer sites (tests/plain_corpus, see its README).

    .venv/bin/python benchmarks/plain_articles.py [--json FILE] [--baseline DIR] [--jobs N]

Every page of the corpus goes through ``crawler.extraction.article.extract_article(html, url)``
with ``hinted=False``: such pages are found through plain sitemaps, no feed vouches for them.
The bytes are decoded as the crawler decodes a response (Scrapy's ``HtmlResponse.text``: a BOM,
else the ``<meta>`` charset, else detection; then :func:`crawler.encoding.mislabeled_utf8`); the
pages carry no HTTP headers. A page is served at its original URL (``url`` in labels.json), or,
when its source gives none, at ``http://<source>.example/<name>.html``.

Prints recall (articles recognised / articles), precision (recognised pages that are articles /
recognised pages), both for old and modern pages too, the missed articles counted by refusal
reason (the first words of ``page_kind``), then each missed article and each wrongly accepted
non-article with its ``page_kind`` and word count. ``--json FILE`` writes the per-page results.
``--baseline DIR`` runs the same measurement with another checkout's code (this script as a
subprocess with ``PYTHONPATH=DIR`` in ``DIR``) and prints both side by side, with the pages whose
decision differs.
"""

from __future__ import annotations

import argparse
import gzip
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
import warnings
from collections import Counter
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "plain_corpus"

ARTICLE = "article"
NOT_ARTICLE = "not_article"


# --------------------------------------------------------------------------- corpus


@dataclass(frozen=True)
class Page:
    file: str
    label: str
    url: str  # the URL the page is extracted at (original, or a neutral one)
    era: str
    repo: str
    set: str = "design"  # "design": rules were written looking at it; "heldout": they were not

    @property
    def is_article(self) -> bool:
        return self.label == ARTICLE


def neutral_url(file: str) -> str:
    """``http://<source>.example/<name>.html`` for ``<source>--<name>.html.gz``."""
    source, _, name = file.removesuffix(".html.gz").partition("--")
    return f"http://{source}.example/{name}.html"


def load_pages(corpus: Path = CORPUS, which: str = "all") -> list[Page]:
    """The corpus's pages; ``which``: ``"design"``, ``"heldout"`` or ``"all"``."""
    records: list[dict[str, Any]] = json.loads((corpus / "labels.json").read_text("utf-8"))
    pages = [Page(file=str(r["file"]), label=str(r["label"]),
                  url=str(r["url"]) if r.get("url") else neutral_url(str(r["file"])),
                  era=str(r["era"]), repo=str(r["repo"]), set=str(r.get("set", "design")))
             for r in records]
    return [p for p in pages if which in ("all", p.set)]


# --------------------------------------------------------------------------- measurement


@dataclass
class Result:
    file: str
    label: str
    url: str
    era: str
    repo: str
    recognised: bool
    page_kind: str
    words: int
    title: str | None
    seconds: float

    @property
    def is_article(self) -> bool:
        return self.label == ARTICLE


def use_code(code: Path) -> None:
    """Import ``crawler`` from ``code`` (this checkout, or a baseline's)."""
    if str(code) not in sys.path:
        sys.path.insert(0, str(code))
    import crawler

    where = Path(crawler.__file__).resolve().parent.parent
    if where != code.resolve():
        raise SystemExit(f"crawler imported from {where}, not from {code}")
    logging.disable(logging.WARNING)  # trafilatura and htmldate complain about odd pages
    warnings.filterwarnings("ignore", module="dateutil")  # "tzname EST identified but not ..."


def decode(body: bytes, url: str) -> str:
    """The page as text, decoded as the crawler decodes a response (crawler/spiders/news.py)."""
    from scrapy.http import HtmlResponse

    response = HtmlResponse(url=url, body=body)
    html = response.text
    try:
        from crawler.encoding import mislabeled_utf8
    except ImportError:  # a baseline older than the repair
        return html
    repaired = mislabeled_utf8(response.body, response.encoding, html)
    return html if repaired is None else repaired


def _word_count(text: str) -> int:
    try:
        from crawler.extraction.text import word_count
    except ImportError:
        return len(text.split())
    return word_count(text)


def measure_page(page: Page, corpus: Path) -> Result:
    from crawler.extraction.article import extract_article

    body = gzip.decompress((corpus / "pages" / page.file).read_bytes())
    html = decode(body, page.url)
    start = time.perf_counter()
    extraction = extract_article(html, page.url, hinted=False)
    seconds = time.perf_counter() - start
    item = extraction.item
    return Result(file=page.file, label=page.label, url=page.url, era=page.era, repo=page.repo,
                  recognised=bool(extraction.is_article), page_kind=str(extraction.page_kind),
                  words=_word_count(item.text or ""), title=item.title, seconds=round(seconds, 3))


def _measure_star(args: tuple[Page, Path]) -> Result:
    return measure_page(*args)


def measure(pages: Sequence[Page], corpus: Path, code: Path, jobs: int) -> list[Result]:
    use_code(code)
    if jobs <= 1:
        return [measure_page(page, corpus) for page in pages]
    with ProcessPoolExecutor(jobs, initializer=use_code, initargs=(code,)) as pool:
        return list(pool.map(_measure_star, [(page, corpus) for page in pages], chunksize=4))


def measure_baseline(baseline: Path, corpus: Path, jobs: int,
                     which: str = "all") -> list[Result]:
    """The measurement with ``baseline``'s code: this script in a subprocess."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "baseline.json"
        env = dict(os.environ, PYTHONPATH=str(baseline))
        subprocess.run([sys.executable, str(Path(__file__).resolve()), "--corpus", str(corpus),
                        "--set", which,
                        "--jobs", str(jobs), "--code", str(baseline), "--worker-out", str(out)],
                       cwd=baseline, env=env, check=True)
        records: list[dict[str, Any]] = json.loads(out.read_text("utf-8"))["pages"]
    return [Result(**r) for r in records]


# --------------------------------------------------------------------------- report


@dataclass
class Scores:
    articles: int
    recognised: int
    hits: int

    @property
    def recall(self) -> float:
        return self.hits / self.articles if self.articles else 0.0

    @property
    def precision(self) -> float:
        return self.hits / self.recognised if self.recognised else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def scores(results: Iterable[Result]) -> Scores:
    results = list(results)
    return Scores(articles=sum(r.is_article for r in results),
                  recognised=sum(r.recognised for r in results),
                  hits=sum(r.is_article and r.recognised for r in results))


def reason(page_kind: str) -> str:
    """The refusal reason without its numbers: ``"not prose (12 words ...)"`` -> ``"not prose"``."""
    return page_kind.split(" (", 1)[0].strip()


def _score_lines(results: list[Result]) -> list[str]:
    lines = []
    for name, subset in (("all", results), ("old", [r for r in results if r.era == "old"]),
                         ("modern", [r for r in results if r.era == "modern"])):
        s = scores(subset)
        lines.append(f"  {name:7} recall {s.recall:6.1%} ({s.hits}/{s.articles})   "
                     f"precision {s.precision:6.1%} ({s.hits}/{s.recognised})   F1 {s.f1:.3f}")
    return lines


def report(results: list[Result], code: Path) -> str:
    articles = [r for r in results if r.is_article]
    others = [r for r in results if not r.is_article]
    missed = sorted((r for r in articles if not r.recognised),
                    key=lambda r: (reason(r.page_kind), r.words, r.file))
    accepted = sorted((r for r in others if r.recognised), key=lambda r: (r.page_kind, r.file))
    lines = [f"plain corpus: {len(results)} pages ({len(articles)} articles, {len(others)} "
             f"non-articles), code {code}, {sum(r.seconds for r in results):.1f} s extracting",
             *_score_lines(results), "",
             f"missed articles by refusal reason ({len(missed)}):"]
    lines += [f"  {n:4}  {kind}" for kind, n in
              Counter(reason(r.page_kind) for r in missed).most_common()]
    lines += ["", "missed articles:"]
    lines += [f"  {r.page_kind:45} {r.words:6} words  {r.era:6} {r.file}  {r.url}" for r in missed]
    lines += ["", f"wrongly accepted non-articles ({len(accepted)}):"]
    lines += [f"  {r.page_kind:45} {r.words:6} words  {r.era:6} {r.file}  {r.url}"
              for r in accepted]
    return "\n".join(lines)


def side_by_side(project: list[Result], baseline: list[Result], code: Path,
                 baseline_code: Path) -> str:
    lines = [f"side by side: project ({code}) | baseline ({baseline_code})"]
    for name, keep in (("all", lambda r: True), ("old", lambda r: r.era == "old"),
                       ("modern", lambda r: r.era == "modern")):
        a = scores(r for r in project if keep(r))
        b = scores(r for r in baseline if keep(r))
        lines.append(f"  {name:7} recall {a.recall:6.1%} | {b.recall:6.1%}   "
                     f"precision {a.precision:6.1%} | {b.precision:6.1%}   "
                     f"F1 {a.f1:.3f} | {b.f1:.3f}")
    by_file = {r.file: r for r in baseline}
    changed = [(r, by_file[r.file]) for r in project
               if r.file in by_file and r.recognised != by_file[r.file].recognised]
    lines += ["", f"pages whose decision differs ({len(changed)}):"]
    for mine, theirs in sorted(changed, key=lambda pair: (pair[0].label, pair[0].file)):
        verdict = "better" if mine.recognised == mine.is_article else "worse"
        lines.append(f"  {verdict:6} {mine.label:11} {mine.file}: project "
                     f"{'accepts' if mine.recognised else 'refuses'} ({mine.page_kind}, "
                     f"{mine.words} words) | baseline {theirs.page_kind} ({theirs.words} words)")
    return "\n".join(lines)


# --------------------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", type=Path, metavar="FILE", help="write per-page results")
    parser.add_argument("--baseline", type=Path, metavar="DIR",
                        help="also measure another checkout's code and print both")
    parser.add_argument("--jobs", type=int, default=min(8, os.cpu_count() or 1),
                        help="worker processes (default: up to 8)")
    parser.add_argument("--set", dest="which", choices=("all", "design", "heldout"),
                        default="all", help="the pages the rules were written on (design), "
                        "those they were not (heldout), or all (default)")
    parser.add_argument("--corpus", type=Path, default=CORPUS, help=argparse.SUPPRESS)
    parser.add_argument("--code", type=Path, default=ROOT, help=argparse.SUPPRESS)
    parser.add_argument("--worker-out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    corpus: Path = args.corpus.resolve()
    code: Path = args.code.resolve()
    pages = load_pages(corpus, args.which)
    results = measure(pages, corpus, code, args.jobs)
    if args.worker_out:  # the baseline's run, inside measure_baseline
        args.worker_out.write_text(json.dumps(
            {"code": str(code), "pages": [asdict(r) for r in results]}), "utf-8")
        return 0
    print(report(results, code))
    baseline: list[Result] | None = None
    if args.baseline:
        baseline_code = args.baseline.resolve()
        baseline = measure_baseline(baseline_code, corpus, args.jobs, args.which)
        print()
        print(report(baseline, baseline_code))
        print()
        print(side_by_side(results, baseline, code, baseline_code))
    if args.json:
        data: dict[str, Any] = {"code": str(code), "pages": [asdict(r) for r in results]}
        if baseline is not None:
            data["baseline"] = {"code": str(args.baseline.resolve()),
                                "pages": [asdict(r) for r in baseline]}
        args.json.write_text(json.dumps(data, indent=1, ensure_ascii=False), "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
