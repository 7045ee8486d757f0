"""``newscrawl report``: one self-contained HTML page on the crawl since a moment, for an
editor or an operator (docs/cron.md, "What a run says").

From ``crawl_runs`` and ``articles``: the sources, failing first; articles stored per source
over time; the delay from publication to storage per source; extraction health per source
over the recent runs. Charts are drawn by plotly, whose JavaScript is inlined in the page, so
it opens from a file with no network.
"""

from __future__ import annotations

import html
import re
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import plotly.graph_objects as go
from plotly.colors import qualitative
from plotly.offline import get_plotlyjs
from plotly.subplots import make_subplots

from crawler.report.source_counts import EVENTS, health
from crawler.report.table import judged

HEALTH_METRICS = (("empty_text", "empty text (of pages)"), ("rejected", "refused (of pages)"),
                  ("no_date", "no date (of articles)"), ("no_author", "no author (of articles)"))
# Delays only of articles whose publication time has a known zone (docs/dates.md).
ZONED = ("stated", "source", "day")
_PROBLEM = re.compile(r"^source (\S+): ")


@dataclass
class SourceState:
    """What the report knows of one source."""

    name: str
    runs: int = 0
    failed_runs: int = 0
    latest_outcome: str = "-"  # "failed" or "ok" in its latest run that named it
    latest_started: datetime | None = None
    problems: list[str] = field(default_factory=list)
    articles: int = 0
    health: dict[str, float] = field(default_factory=dict)

    @property
    def failing(self) -> bool:
        return self.latest_outcome == "failed"


@dataclass
class ReportData:
    since: datetime
    until: datetime
    runs: list[dict[str, Any]]
    sources: dict[str, SourceState]
    per_bucket: dict[str, Counter[datetime]]  # articles stored per source and time bucket
    bucket: timedelta
    delays: dict[str, list[float]]  # hours from publication to storage, per source

    def order(self) -> list[str]:
        """Failing sources first, then by failed runs, worst health, name."""
        def key(name: str) -> tuple[int, int, float, str]:
            state = self.sources[name]
            worst = max(state.health.values(), default=0.0)
            return (not state.failing, -state.failed_runs, -worst, name)
        return sorted(self.sources, key=key)


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def collect(db: Any, since: datetime, until: datetime | None = None) -> ReportData:
    """Read what the page shows: the runs started since ``since`` and the articles first
    stored since then (streamed, only the fields needed)."""
    until = until or datetime.now(UTC)
    since = _aware(since)
    runs = list(db["crawl_runs"].find({"started_at": {"$gte": since}},
                                      {"counts": 1, "health": 1, "problems": 1,
                                       "outcome": 1, "status": 1, "started_at": 1,
                                       "ended_at": 1, "sources": 1}).sort("started_at", 1))
    sources: dict[str, SourceState] = {}
    for run in runs:
        run["started_at"] = _aware(run["started_at"])
        run["counts"] = {name: {**dict.fromkeys(EVENTS, 0), **c}
                         for name, c in (run.get("counts") or {}).items()}
        run["health"] = run.get("health") or health(run["counts"])
        troubled: dict[str, list[str]] = defaultdict(list)
        for problem in run.get("problems") or []:
            if match := _PROBLEM.match(str(problem)):
                troubled[match[1]].append(str(problem))
        failed = run.get("outcome") == "failed"
        for name in dict.fromkeys([*(run.get("sources") or []), *run["counts"]]):
            state = sources.setdefault(name, SourceState(name))
            state.runs += 1
            # A run that failed as a whole (killed, ended early) fails each of its sources.
            source_failed = bool(troubled.get(name)) or (failed and not troubled)
            state.failed_runs += source_failed
            state.latest_outcome = "failed" if source_failed else "ok"
            state.latest_started = run["started_at"]
            state.problems = troubled.get(name) or ([str(p) for p in run.get("problems") or []]
                                                     if source_failed else [])
            shares = run["health"].get(name) or {}
            state.health = {metric: share for metric, share in shares.items()
                            if judged(run["counts"].get(name, {}), metric)}
    bucket = timedelta(hours=1) if until - since <= timedelta(days=3) else timedelta(days=1)
    per_bucket: dict[str, Counter[datetime]] = defaultdict(Counter)
    delays: dict[str, list[float]] = defaultdict(list)
    cursor = db["articles"].find({"first_seen": {"$gte": since}},
                                 {"_id": 0, "source": 1, "first_seen": 1, "published": 1,
                                  "published_zone": 1})
    for article in cursor:
        name = str(article.get("source") or "adhoc")
        stored = _aware(article["first_seen"])
        sources.setdefault(name, SourceState(name)).articles += 1
        per_bucket[name][_floor(stored, bucket)] += 1
        published = article.get("published")
        if isinstance(published, datetime) and article.get("published_zone") in ZONED:
            delays[name].append(max((stored - _aware(published)).total_seconds(), 0) / 3600)
    return ReportData(since, until, runs, sources, per_bucket, bucket, delays)


def _floor(moment: datetime, bucket: timedelta) -> datetime:
    if bucket == timedelta(days=1):
        return moment.replace(hour=0, minute=0, second=0, microsecond=0)
    return moment.replace(minute=0, second=0, microsecond=0)


def _colors(names: Iterable[str]) -> dict[str, str]:
    palette = qualitative.Plotly + qualitative.D3
    return {name: palette[i % len(palette)] for i, name in enumerate(names)}


def articles_figure(data: ReportData, order: list[str], colors: dict[str, str]) -> go.Figure:
    figure = go.Figure()
    for name in order:
        counts = data.per_bucket.get(name)
        if not counts:
            continue
        times = sorted(counts)
        figure.add_bar(x=times, y=[counts[t] for t in times], name=name,
                       marker_color=colors[name])
    unit = "hour" if data.bucket == timedelta(hours=1) else "day"
    figure.update_layout(barmode="stack", xaxis_title=f"first stored (UTC, per {unit})",
                         yaxis_title="articles", legend_title="source")
    return figure


def delay_figure(data: ReportData, order: list[str], colors: dict[str, str]) -> go.Figure:
    """One box per source, its statistics computed here (a box of a million articles costs
    five numbers in the page). In hours, or in days when the longest delay is over 3 days."""
    longest = max((max(hours) for hours in data.delays.values() if hours), default=0.0)
    unit, divisor = ("days", 24.0) if longest > 72 else ("hours", 1.0)
    figure = go.Figure()
    smallest, largest = float("inf"), 0.0
    for name in order:
        values = sorted(h / divisor for h in data.delays.get(name) or [])
        if not values:
            continue
        q1, median, q3 = (statistics.quantiles(values, n=4, method="inclusive")
                          if len(values) > 1 else (values[0],) * 3)
        figure.add_box(x=[name], q1=[q1], median=[median], q3=[q3], lowerfence=[values[0]],
                       upperfence=[values[-1]], mean=[statistics.fmean(values)], name=name,
                       marker_color=colors[name], boxmean=True)
        smallest, largest = min(smallest, max(values[0], 0.01)), max(largest, values[-1])
    log = largest / smallest > 100 if largest else False
    figure.update_layout(yaxis_title=f"{unit} from publication to storage", showlegend=False,
                         yaxis_type="log" if log else "linear")
    return figure


def health_figure(data: ReportData, order: list[str], colors: dict[str, str]) -> go.Figure:
    figure = make_subplots(rows=2, cols=2, shared_xaxes=True,
                           subplot_titles=[title for _, title in HEALTH_METRICS])
    for name in order:
        runs = [r for r in data.runs if name in r["health"]]
        if not runs:
            continue
        times = [r["started_at"] for r in runs]
        for index, (metric, _) in enumerate(HEALTH_METRICS):
            # a run with nothing to judge (no page, no article) leaves a gap
            figure.add_scatter(
                x=times, y=[r["health"][name].get(metric, 0.0)
                            if judged(r["counts"].get(name, {}), metric) else None
                            for r in runs],
                mode="lines+markers", name=name, legendgroup=name, showlegend=index == 0,
                line_color=colors[name], row=index // 2 + 1, col=index % 2 + 1)
    figure.update_yaxes(range=[-0.05, 1.05], tickformat=".0%")
    figure.update_layout(legend_title="source", height=560, hovermode="x unified")
    return figure


_STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 1100px;
       padding: 0 1em; color: #222; }
h1 { margin-bottom: 0.2em; } h2 { margin-top: 2em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; width: 100%; font-size: 14px; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #eee;
         vertical-align: top; }
td.when { white-space: nowrap; } td.n { text-align: right; font-variant-numeric: tabular-nums; }
tr.failing td { background: #fdecea; } .bad { color: #b3261e; font-weight: 600; }
.ok { color: #1b6e20; } .note { color: #666; } .chart { min-height: 420px; }
"""


def _sources_table(data: ReportData, order: list[str]) -> str:
    head = ("<tr><th>source</th><th>latest run</th><th>problems</th><th>failed runs</th>"
            "<th>articles stored</th>"
            + "".join(f"<th>{html.escape(title)}</th>" for _, title in HEALTH_METRICS)
            + "</tr>")
    rows = []
    for name in order:
        state = data.sources[name]
        outcome = state.latest_outcome
        css = "bad" if outcome == "failed" else "ok" if outcome == "ok" else "note"
        when = (f" <span class='note'>{state.latest_started:%Y-%m-%d %H:%M}</span>"
                if state.latest_started else "")
        shares = "".join(
            f"<td class='n'>{state.health[m] * 100:.0f}%</td>" if m in state.health
            else "<td class='n note'>-</td>" for m, _ in HEALTH_METRICS)
        rows.append(
            f"<tr class='{'failing' if state.failing else ''}'>"
            f"<td>{html.escape(name)}</td>"
            f"<td class='when'><span class='{css}'>{outcome}</span>{when}</td>"
            f"<td>{'<br>'.join(html.escape(p) for p in state.problems) or '-'}</td>"
            f"<td class='n'>{state.failed_runs} of {state.runs}</td>"
            f"<td class='n'>{state.articles}</td>{shares}</tr>")
    return f"<table id='sources'>{head}{''.join(rows)}</table>"


def _chart(figure: go.Figure, chart_id: str, empty: bool, note: str) -> str:
    if empty:
        return f"<p class='note' id='{chart_id}-empty'>{html.escape(note)}</p>"
    figure.update_layout(margin={"t": 40, "r": 20, "b": 50, "l": 60}, template="plotly_white")
    return str(figure.to_html(full_html=False, include_plotlyjs=False, div_id=chart_id,
                              config={"displaylogo": False, "responsive": True}))


def render(data: ReportData) -> str:
    """The page, as one string of HTML with everything inlined."""
    order = data.order()
    colors = _colors(sorted(data.sources))
    failing = [n for n in order if data.sources[n].failing]
    articles = sum(s.articles for s in data.sources.values())
    summary = (f"{len(data.runs)} runs and {articles} articles stored from "
               f"{data.since:%Y-%m-%d %H:%M} to {data.until:%Y-%m-%d %H:%M} UTC; "
               + (f"<span class='bad'>failing: {html.escape(', '.join(failing))}</span>"
                  if failing else "<span class='ok'>no source failing</span>"))
    since = f"{data.since:%Y-%m-%d %H:%M}"
    sections = [
        ("Sources, failing first", _sources_table(data, order)),
        ("Articles stored per source over time",
         _chart(articles_figure(data, order, colors), "chart-articles",
                not data.per_bucket, f"No article stored since {since}.")),
        ("Delay from publication to storage",
         _chart(delay_figure(data, order, colors), "chart-delay", not data.delays,
                f"No article with a zoned publication time stored since {since}.")),
        ("Extraction health per source over the recent runs",
         _chart(health_figure(data, order, colors), "chart-health", not data.runs,
                f"No run since {since}.")),
    ]
    body = "\n".join(f"<section><h2>{html.escape(title)}</h2>\n{content}\n</section>"
                     for title, content in sections)
    return (
        "<!DOCTYPE html>\n<html lang='en'>\n<head>\n<meta charset='utf-8'>\n"
        f"<title>newscrawl report since {since}</title>\n<style>{_STYLE}</style>\n"
        f"<script>{get_plotlyjs()}</script>\n</head>\n<body>\n"
        f"<h1>newscrawl report</h1>\n<p>{summary}</p>\n{body}\n</body>\n</html>\n")


def write_report(db: Any, since: datetime, out: str) -> ReportData:
    data = collect(db, since)
    with open(out, "w", encoding="utf-8") as handle:
        handle.write(render(data))
    return data
