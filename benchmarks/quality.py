"""Extraction quality on two public corpora: this project against plain trafilatura.

    .venv/bin/python benchmarks/quality.py [--subset N] [--write-docs] [--dump FILE]

Data: ``../shared/eval`` next to the repository (or ``NEWS_EVAL_DIR``), see its README.

- scrapinghub-aeb: body shingle precision, recall and F1 (the benchmark authors' metric).
- fundus-testdata: body F1; exact title (whitespace normalised); exact author set (pages
  whose gold names authors); publication date to the day, and to the minute where the gold
  has a time (compared in the gold's zone).

Both systems run in the same command on the same pages. ``--subset N`` takes a deterministic
sample of N pages per corpus (the CI gate in tests/test_quality_gate.py uses it);
``--write-docs`` rewrites docs/quality.md with the table.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import logging
import os
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: make the project importable
    sys.path.insert(0, str(ROOT))

logger = logging.getLogger(__name__)

EVAL_DIR = Path(os.environ.get("NEWS_EVAL_DIR", ROOT.parent / "shared" / "eval"))
DOCS = ROOT / "docs" / "quality.md"
SYSTEMS = ("trafilatura", "ours")
_TOKEN_RE = re.compile(r"\w+")
_SHINGLE = 4


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class Page:
    corpus: str
    id: str
    path: Path
    url: str
    gold: dict[str, Any]

    def html(self) -> str:
        with gzip.open(self.path, "rt", encoding="utf-8", errors="replace") as handle:
            return handle.read()


def load_aeb(root: Path = EVAL_DIR) -> list[Page]:
    base = root / "scrapinghub-aeb"
    truth: dict[str, dict[str, Any]] = json.loads((base / "ground-truth.json").read_text("utf-8"))
    return [Page("aeb", key, base / "html" / f"{key}.html.gz", item["url"], item)
            for key, item in sorted(truth.items())]


def load_fundus(root: Path = EVAL_DIR) -> list[Page]:
    base = root / "fundus-testdata"
    records: list[dict[str, Any]] = json.loads((base / "gold_index.json").read_text("utf-8"))
    return [Page("fundus", r["file"], base / r["file"], r["url"], r)
            for r in sorted(records, key=lambda r: str(r["file"]))]


def subset(pages: Sequence[Page], n: int | None) -> list[Page]:
    """A deterministic sample: the n pages with the smallest SHA-1 of their id."""
    if n is None or n >= len(pages):
        return list(pages)
    return sorted(pages, key=lambda p: hashlib.sha1(p.id.encode()).hexdigest())[:n]


# --------------------------------------------------------------------------- systems


@dataclass
class Prediction:
    text: str = ""
    title: str | None = None
    authors: list[str] = field(default_factory=list)
    published: datetime | None = None
    seconds: float = 0.0
    # Whether the page was recognised as an article (stored by a crawl); trafilatura alone
    # has no such decision: any text it extracts counts.
    is_article: bool | None = None

    @property
    def recognised(self) -> bool:
        return bool(self.text) if self.is_article is None else self.is_article


def _plain_trafilatura(html: str, url: str) -> Prediction:
    """``trafilatura.extract`` with its defaults for the text (comments included, as its
    plain-text output has them), and trafilatura's own metadata."""
    import trafilatura

    text = trafilatura.extract(html, url=url) or ""
    doc: Any = trafilatura.bare_extraction(html, url=url, with_metadata=True)
    if doc is None:
        return Prediction(text)
    published = None
    if getattr(doc, "date", None):
        try:
            published = datetime.fromisoformat(str(doc.date))
        except ValueError:
            published = None
    authors = [a.strip() for a in str(doc.author or "").split(";") if a.strip()]
    return Prediction(text, doc.title, authors, published)


def _ours(html: str, url: str) -> Prediction:
    from crawler.extraction import extract_article

    result = extract_article(html, url)
    item = result.item
    return Prediction(item.text, item.title, item.authors, item.published,
                      is_article=result.is_article)


_RUNNERS: dict[str, Callable[[str, str], Prediction]] = {
    "trafilatura": _plain_trafilatura,
    "ours": _ours,
}


def _predict(task: tuple[str, Page]) -> Prediction:
    system, page = task
    html = page.html()
    started = time.perf_counter()
    try:
        prediction = _RUNNERS[system](html, page.url)
    except Exception:  # a crash scores as an empty prediction, like an empty extraction
        logger.exception("%s failed on %s", system, page.id)
        prediction = Prediction()
    prediction.seconds = time.perf_counter() - started
    return prediction


def predict(pages: Sequence[Page], system: str, workers: int | None = None) -> list[Prediction]:
    tasks = [(system, page) for page in pages]
    workers = workers or os.cpu_count() or 1
    if workers == 1:
        return [_predict(task) for task in tasks]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(_predict, tasks, chunksize=4))


# --------------------------------------------------------------------------- metrics


def _shingles(text: str) -> Counter[str]:
    tokens = _TOKEN_RE.findall(text or "")
    return Counter(" ".join(tokens[i:i + _SHINGLE])
                   for i in range(max(1, len(tokens) - _SHINGLE + 1)))


def shingle_scores(predicted: str, truth: str) -> tuple[float | None, float]:
    """(precision, recall) of one page; precision is None when nothing was predicted."""
    pred = _shingles(predicted) if _TOKEN_RE.search(predicted or "") else Counter()
    gold = _shingles(truth)
    common = sum((pred & gold).values())
    precision = common / sum(pred.values()) if pred else None
    recall = common / sum(gold.values()) if gold else 0.0
    return precision, recall


def body_scores(pairs: Iterable[tuple[str, str]]) -> dict[str, float]:
    precisions: list[float] = []
    recalls: list[float] = []
    for predicted, truth in pairs:
        precision, recall = shingle_scores(predicted, truth)
        if precision is not None:
            precisions.append(precision)
        recalls.append(recall)
    p = sum(precisions) / len(precisions) if precisions else 0.0
    r = sum(recalls) / len(recalls) if recalls else 0.0
    return {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0}


def _ws(value: str | None) -> str:
    return " ".join((value or "").split())


def title_ok(predicted: str | None, gold: str | None) -> bool:
    return _ws(predicted) == _ws(gold)


def authors_ok(predicted: Sequence[str], gold: Sequence[str] | None) -> bool:
    return {_ws(a) for a in predicted if _ws(a)} == {_ws(a) for a in gold or [] if _ws(a)}


def gold_date(record: dict[str, Any]) -> datetime | None:
    raw = record.get("publishing_date")
    return datetime.fromisoformat(raw) if raw else None


def gold_has_time(gold: datetime) -> bool:
    return gold.tzinfo is not None or (gold.hour, gold.minute, gold.second) != (0, 0, 0)


def _in_gold_zone(predicted: datetime, gold: datetime) -> datetime:
    """The predicted instant as wall-clock time in the gold's zone (naive stays as declared)."""
    if predicted.tzinfo is not None and gold.tzinfo is not None:
        return predicted.astimezone(gold.tzinfo).replace(tzinfo=None)
    return predicted.replace(tzinfo=None)


def date_day_ok(predicted: datetime | None, gold: datetime | None) -> bool:
    if gold is None:
        return predicted is None
    return predicted is not None and _in_gold_zone(predicted, gold).date() == gold.replace(
        tzinfo=None).date()


def date_minute_ok(predicted: datetime | None, gold: datetime) -> bool:
    if predicted is None:
        return False
    wall = _in_gold_zone(predicted, gold)
    return wall.replace(second=0, microsecond=0) == gold.replace(
        tzinfo=None, second=0, microsecond=0)


def score_aeb(pages: Sequence[Page], predictions: Sequence[Prediction]) -> dict[str, float]:
    scores = body_scores((pred.text, page.gold["articleBody"])
                         for page, pred in zip(pages, predictions, strict=True))
    scores["articles"] = sum(p.recognised for p in predictions) / (len(predictions) or 1)
    return scores


def score_fundus(pages: Sequence[Page], predictions: Sequence[Prediction]) -> dict[str, float]:
    pairs = list(zip(pages, predictions, strict=True))
    body = body_scores((pred.text, "\n\n".join(page.gold["body_paragraphs"] or []))
                       for page, pred in pairs)
    n = len(pairs) or 1
    # Authors are scored on pages whose gold names some (as the data's README does).
    credited = [(page, pred) for page, pred in pairs if page.gold["authors"]]
    timed = [(page, pred) for page, pred in pairs
             if (g := gold_date(page.gold)) is not None and gold_has_time(g)]
    return {
        "body_f1": body["f1"],
        "body_precision": body["precision"],
        "body_recall": body["recall"],
        "articles": sum(p.recognised for _, p in pairs) / n,
        "title": sum(title_ok(p.title, pg.gold["title"]) for pg, p in pairs) / n,
        "authors": sum(authors_ok(p.authors, pg.gold["authors"]) for pg, p in credited)
        / (len(credited) or 1),
        "date_day": sum(date_day_ok(p.published, gold_date(pg.gold)) for pg, p in pairs) / n,
        "date_minute": sum(date_minute_ok(p.published, gold_date(pg.gold))  # type: ignore[arg-type]
                           for pg, p in timed) / (len(timed) or 1),
    }


# --------------------------------------------------------------------------- run and report


@dataclass
class Report:
    sizes: dict[str, int]
    timed_pages: int
    scores: dict[str, dict[str, dict[str, float]]]  # system -> corpus -> metric -> value
    seconds: dict[str, float]  # system -> extraction seconds per page
    predictions: dict[str, dict[str, list[Prediction]]] = field(default_factory=dict)


def run(n: int | None = None, systems: Sequence[str] = SYSTEMS,
        workers: int | None = None, root: Path = EVAL_DIR) -> Report:
    aeb = subset(load_aeb(root), n)
    fundus = subset(load_fundus(root), n)
    timed = sum(1 for p in fundus if (g := gold_date(p.gold)) is not None and gold_has_time(g))
    report = Report({"aeb": len(aeb), "fundus": len(fundus)}, timed, {}, {})
    for system in systems:
        aeb_pred = predict(aeb, system, workers)
        fundus_pred = predict(fundus, system, workers)
        report.predictions[system] = {"aeb": aeb_pred, "fundus": fundus_pred}
        report.scores[system] = {"aeb": score_aeb(aeb, aeb_pred),
                                 "fundus": score_fundus(fundus, fundus_pred)}
        spent = [p.seconds for p in (*aeb_pred, *fundus_pred)]
        report.seconds[system] = sum(spent) / (len(spent) or 1)
    return report


_ROWS: tuple[tuple[str, str, str, bool], ...] = (
    # (corpus, metric, label, percent)
    ("aeb", "f1", "scrapinghub-aeb body F1", False),
    ("aeb", "precision", "scrapinghub-aeb body precision", False),
    ("aeb", "recall", "scrapinghub-aeb body recall", False),
    ("aeb", "articles", "scrapinghub-aeb pages recognised as articles", True),
    ("fundus", "body_f1", "fundus body F1", False),
    ("fundus", "body_precision", "fundus body precision", False),
    ("fundus", "body_recall", "fundus body recall", False),
    ("fundus", "articles", "fundus pages recognised as articles", True),
    ("fundus", "title", "fundus title exact", True),
    ("fundus", "authors", "fundus author set exact", True),
    ("fundus", "date_day", "fundus date, day", True),
    ("fundus", "date_minute", "fundus date, minute (gold with a time)", True),
)
GOALS = {("aeb", "f1"): "≥ 0.965", ("fundus", "body_f1"): "≥ 0.960",
         ("fundus", "title"): "≥ 95 %", ("fundus", "authors"): "≥ 90 %",
         ("fundus", "date_day"): "≥ 99 %"}


def _fmt(value: float, percent: bool) -> str:
    return f"{100 * value:.1f} %" if percent else f"{value:.3f}"


def table(report: Report) -> list[str]:
    systems = [s for s in SYSTEMS if s in report.scores]
    names = {"trafilatura": "trafilatura 2.3.1 alone", "ours": "this project"}
    lines = ["| metric | " + " | ".join(names[s] for s in systems) + " | goal |",
             "|---|" + "---:|" * len(systems) + "---|"]
    for corpus, metric, label, percent in _ROWS:
        cells = [_fmt(report.scores[s][corpus][metric], percent) for s in systems]
        goal = GOALS.get((corpus, metric), "")
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {goal} |")
    speed = [f"{1000 * report.seconds[s]:.0f} ms" for s in systems]
    lines.append("| extraction time per page (one core) | " + " | ".join(speed) + " | |")
    return lines


def write_docs(report: Report, path: Path = DOCS) -> None:
    """Replace the generated table in docs/quality.md (between the two markers)."""
    start, end = "<!-- quality-table:start -->", "<!-- quality-table:end -->"
    body = "\n".join([
        start,
        f"Pages: scrapinghub-aeb {report.sizes['aeb']}, fundus-testdata {report.sizes['fundus']}"
        f" ({report.timed_pages} with a gold time). Generated by"
        " `.venv/bin/python benchmarks/quality.py --write-docs`.",
        "",
        *table(report),
        end,
    ])
    text = path.read_text("utf-8") if path.exists() else f"# Extraction quality\n\n{start}\n{end}\n"
    before, _, rest = text.partition(start)
    _, _, after = rest.partition(end)
    path.write_text(before + body + after, "utf-8")


def dump(report: Report, pages: dict[str, list[Page]], path: Path) -> None:
    """Per-page predictions next to the gold, for looking at failures."""
    out = []
    for corpus, items in pages.items():
        for i, page in enumerate(items):
            row: dict[str, Any] = {"corpus": corpus, "id": page.id, "url": page.url}
            for system, per_corpus in report.predictions.items():
                pred = per_corpus[corpus][i]
                truth = (page.gold["articleBody"] if corpus == "aeb"
                         else "\n\n".join(page.gold["body_paragraphs"] or []))
                precision, recall = shingle_scores(pred.text, truth)
                row[system] = {"precision": precision, "recall": recall, "title": pred.title,
                               "authors": pred.authors,
                               "published": pred.published.isoformat() if pred.published else None}
            if corpus == "fundus":
                row["gold"] = {k: page.gold[k] for k in ("title", "authors", "publishing_date")}
            out.append(row)
    path.write_text(json.dumps(out, ensure_ascii=False, indent=1), "utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subset", type=int, default=None,
                        help="score a deterministic sample of N pages per corpus")
    parser.add_argument("--write-docs", action="store_true", help="update docs/quality.md")
    parser.add_argument("--workers", type=int, default=None, help="processes (default: cores)")
    parser.add_argument("--system", choices=SYSTEMS, action="append",
                        help="only this system (repeatable; default: both)")
    parser.add_argument("--dump", type=Path, help="write per-page predictions to this JSON file")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    if not EVAL_DIR.is_dir():
        print(f"evaluation data not found at {EVAL_DIR} (set NEWS_EVAL_DIR)", file=sys.stderr)
        return 2
    started = time.monotonic()
    report = run(args.subset, args.system or SYSTEMS, args.workers)
    print(f"pages: aeb {report.sizes['aeb']}, fundus {report.sizes['fundus']}"
          f" ({report.timed_pages} with a time); {time.monotonic() - started:.1f} s")
    print("\n".join(table(report)))
    if args.dump:
        pages = {"aeb": subset(load_aeb(), args.subset),
                 "fundus": subset(load_fundus(), args.subset)}
        dump(report, pages, args.dump)
    if args.write_docs:
        if set(report.scores) != set(SYSTEMS):
            print("--write-docs needs both systems", file=sys.stderr)
            return 2
        write_docs(report)
        print(f"wrote {DOCS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
