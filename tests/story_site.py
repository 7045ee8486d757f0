"""A news site on loopback that publishes developing stories: each story in 2 or 3 versions at
new URLs, every version repeating most paragraphs of the one before and adding new ones (as
agency copy, live stories and corrections do). The paragraphs are real article text, from the
scrapinghub article-extraction benchmark's ground truth (``../shared/eval/scrapinghub-aeb``);
every article also carries the site's template lines: a reference line at the top, a prompt
in the middle and a trailer at the end.

    with StorySite() as site:
        site.sitemap_url   # lists every article
        site.articles      # url -> StoryArticle (its paragraphs, as published)

A ``ThreadingHTTPServer`` on ``127.0.0.1``, port 0, every response built at start.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any

from tests.loopback import NOT_FOUND, LoopbackServer, Reply

GROUND_TRUTH = (Path(__file__).resolve().parents[2] / "shared" / "eval" / "scrapinghub-aeb"
                / "ground-truth.json")
# (key prefix in the ground truth, versions published): five unrelated stories.
STORIES = (("39d5c43beb60", 3), ("42aad16bde92", 3), ("7bb1ca903543", 2), ("a1fca19b884e", 3),
           ("ea25dd7edff4", 2))
PROMPT = "Follow Metro Wire on Mastodon for live updates and breaking news."
HOST = "127.0.0.1"


def reference_line(n: int) -> str:
    return f"Metro Wire reference MW-{40_000 + 17 * n}"


def trailer_line(n: int) -> str:
    return f"Filed by the Metro Wire desk at {n % 12 + 1}:{n % 60:02d} GMT, copy {n}"


def versions(paragraphs: list[str], count: int) -> list[list[str]]:
    """Version 1: six paragraphs. Version 2: five of them (one was dropped, a correction) and
    three new ones. Version 3: all of version 2 and three new ones."""
    one = paragraphs[:6]
    two = paragraphs[:3] + paragraphs[4:9]
    three = two + paragraphs[9:12]
    return [one, two, three][:count]


@dataclass(frozen=True)
class StoryArticle:
    story: int
    version: int
    headline: str
    paragraphs: list[str]
    template_lines: list[str]
    published: datetime


def available() -> bool:
    return GROUND_TRUTH.exists()


def build_articles() -> dict[str, StoryArticle]:
    """Article path -> article, in publication order."""
    truth: dict[str, Any] = json.loads(GROUND_TRUTH.read_text(encoding="utf-8"))
    start = datetime(2019, 11, 19, 6, 0, tzinfo=UTC)
    articles: dict[str, StoryArticle] = {}
    n = 0
    for story, (prefix, count) in enumerate(STORIES):
        (key,) = [k for k in truth if k.startswith(prefix)]
        # (soft hyphens are invisible formatting: the extraction drops them)
        paragraphs = [p.replace("\xad", "").strip()
                      for p in truth[key]["articleBody"].split("\n") if p.strip()]
        headline = paragraphs[0].split(".")[0][:90]
        for version, body in enumerate(versions(paragraphs, count), start=1):
            n += 1
            path = f"/news/{2019_000 + 31 * n}-story-{story}-v{version}.html"
            articles[path] = StoryArticle(
                story, version, headline if version == 1 else f"{headline} (update {version})",
                body, [reference_line(n), PROMPT, trailer_line(n)],
                start + timedelta(hours=story * 5 + version))
    return articles


def render(article: StoryArticle, url: str) -> str:
    ld = {"@context": "https://schema.org", "@type": "NewsArticle",
          "headline": article.headline, "datePublished": article.published.isoformat(),
          "author": {"@type": "Person", "name": "Metro Wire staff"}, "url": url}
    body = [f"<p>{html.escape(p)}</p>" for p in article.paragraphs]
    reference, prompt, trailer = article.template_lines
    body.insert(len(body) // 2, f"<p><strong>{html.escape(prompt)}</strong></p>")
    body.insert(0, f"<p>{html.escape(reference)}</p>")
    body.append(f"<p><em>{html.escape(trailer)}</em></p>")
    paragraphs = "\n".join(body)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>{html.escape(article.headline)} | Metro Wire</title>
<link rel="canonical" href="{url}">
<meta property="og:type" content="article">
<meta property="article:published_time" content="{article.published.isoformat()}">
<script type="application/ld+json">{json.dumps(ld)}</script></head>
<body><header><a href="/">Metro Wire</a> <a href="/world/">World</a>
<a href="/business/">Business</a></header>
<main><article>
<h1>{html.escape(article.headline)}</h1>
<p class="byline">By Metro Wire staff, {article.published:%d %B %Y %H:%M} GMT</p>
{paragraphs}
</article></main>
<footer><p>© 2019 Metro Wire. All rights reserved.</p></footer></body></html>"""


class StorySite:
    def __init__(self) -> None:
        self.routes: dict[str, Reply] = {}
        self.server = LoopbackServer(
            lambda path: self.routes.get(path.split("?", 1)[0], NOT_FOUND), HOST)
        self.base = self.server.base
        self.sitemap_url = f"{self.base}/sitemap.xml"
        self.articles = {f"{self.base}{path}": article
                         for path, article in build_articles().items()}
        routes = {url.removeprefix(self.base): Reply(body=render(article, url).encode())
                  for url, article in self.articles.items()}
        entries = "".join(f"<url><loc>{url}</loc><lastmod>{a.published.isoformat()}</lastmod>"
                          "</url>\n" for url, a in self.articles.items())
        routes["/sitemap.xml"] = Reply(200, "application/xml", (
            '<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/'
            f'schemas/sitemap/0.9">\n{entries}</urlset>\n').encode())
        routes["/robots.txt"] = Reply(200, "text/plain", f"User-agent: *\nAllow: /\nSitemap: "
                                                         f"{self.sitemap_url}\n".encode())
        self.routes.update(routes)

    def __enter__(self) -> StorySite:
        self.server.__enter__()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.server.__exit__(exc_type, exc, tb)
