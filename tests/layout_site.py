"""A news site on loopback whose article pages come in learned-layout shapes: a classic layout
("a"), its redesign ("b": another container, other classes, other furniture inside the
article) and a long-form layout ("long": the body split into chapter blocks). The text is real
article text from the scrapinghub article-extraction benchmark's ground truth
(``../shared/eval/scrapinghub-aeb``), a different article on every page; the furniture inside
the article (teasers, captions, related links) names other articles, so it differs from page
to page and only the extraction, never the template lines, can leave it out.

    with LayoutSite() as site:
        site.publish(45, "a")         # the first 45 articles, in layout a
        site.redesign("b"); site.publish(25)   # every page now in layout b, 25 more published
        site.sitemap_url, site.articles  # url -> LayoutArticle, site.furniture(url)

A ``ThreadingHTTPServer`` on ``127.0.0.1``, port 0.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any

from tests.loopback import NOT_FOUND, LoopbackServer, Reply

GROUND_TRUTH = (Path(__file__).resolve().parents[2] / "shared" / "eval" / "scrapinghub-aeb"
                / "ground-truth.json")
# A publisher's copyright line in the benchmark's text: furniture on a page of another site.
_COPYRIGHT = re.compile(r"rights reserved|^\s*(©|copyright\b)", re.I)
AUTHORS = ("Maria Okafor", "Jonas Lindqvist", "Priya Raman", "Tomás Ferreira", "Hannah Cole")


@dataclass(frozen=True)
class LayoutArticle:
    number: int
    headline: str
    paragraphs: list[str]
    author: str
    published: datetime


def available() -> bool:
    return GROUND_TRUTH.exists()


def _articles() -> list[LayoutArticle]:
    """Ground-truth articles of 4 to 30 paragraphs, each paragraph at least 8 words (65)."""
    truth: dict[str, Any] = json.loads(GROUND_TRUTH.read_text(encoding="utf-8"))
    start = datetime(2021, 3, 1, 7, 0, tzinfo=UTC)
    articles = []
    for key in sorted(truth):
        paragraphs = [" ".join(p.replace("\xad", "").split())
                      for p in truth[key]["articleBody"].split("\n")
                      if p.strip() and not _COPYRIGHT.search(p)]
        if not 4 <= len(paragraphs) <= 30 or min(len(p.split()) for p in paragraphs) < 8:
            continue
        n = len(articles)
        headline = " ".join(paragraphs[0].split()[:12]).rstrip(",.;:") + f" ({n})"
        articles.append(LayoutArticle(n, headline, paragraphs, AUTHORS[n % len(AUTHORS)],
                                      start + timedelta(hours=3 * n)))
    return articles


def _teasers(article: LayoutArticle, others: list[LayoutArticle]) -> list[LayoutArticle]:
    """Three other articles (never the article itself, in a site of long stories only)."""
    picked = []
    for k in (1, 2, 3):
        i = (article.number + k * 7) % len(others)
        if others[i].number == article.number:
            i = (i + 1) % len(others)
        picked.append(others[i])
    return picked


def _head(article: LayoutArticle, url: str) -> str:
    ld = {"@context": "https://schema.org", "@type": "NewsArticle",
          "headline": article.headline, "datePublished": article.published.isoformat(),
          "author": {"@type": "Person", "name": article.author}, "url": url}
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>{html.escape(article.headline)} | The Evening Ledger</title>
<link rel="canonical" href="{url}">
<meta property="og:type" content="article">
<script type="application/ld+json">{json.dumps(ld)}</script></head>"""


def _p(text: str) -> str:
    return f"<p>{html.escape(text)}</p>"


def render_a(article: LayoutArticle, url: str, teasers: list[LayoutArticle]) -> str:
    """The classic layout: ``div.story-body`` inside ``article.story``, an inline teaser, a
    photo with a caption, share tools and a newsletter box inside the body."""
    body = [_p(p) for p in article.paragraphs]
    one, two, three = teasers
    body.insert(2, f'<aside class="inline-teaser"><a href="/a/{one.number}.html">Read also: '
                   f'{html.escape(one.headline)}</a></aside>')
    body.insert(4, f'<figure class="photo"><img src="/img/{article.number}.jpg" alt="">'
                   f'<figcaption>{html.escape(two.headline)} (Photo: Ledger archive)'
                   '</figcaption></figure>')
    body.append('<div class="share-tools"><a href="#s1">Share on Facebook</a> '
                '<a href="#s2">Share on X</a> <a href="#s3">Email this story</a></div>')
    body.append('<div class="newsletter-box"><h4>The Ledger at six</h4><form action="/signup">'
                '<input type="email" name="email"><button>Subscribe</button></form></div>')
    most_read = "".join(f'<li><a href="/a/{t.number}.html">{html.escape(t.headline)}</a></li>'
                        for t in (three, one))
    return f"""{_head(article, url)}
<body><div id="page"><header class="site-header"><a href="/">The Evening Ledger</a>
<a href="/city/">City</a> <a href="/world/">World</a></header>
<div class="layout-main"><article class="story">
<h1 class="story-title">{html.escape(article.headline)}</h1>
<div class="byline">By {html.escape(article.author)}</div>
<div class="story-body">
{chr(10).join(body)}
</div></article>
<aside class="most-read"><h3>Most read</h3><ul>{most_read}</ul></aside></div>
<footer class="site-footer"><p>© 2021 The Evening Ledger</p></footer></div></body></html>"""


def render_b(article: LayoutArticle, url: str, teasers: list[LayoutArticle]) -> str:
    """The redesign: ``section.article-text`` inside ``main#content``, a related-links box
    and a picture with its caption inside the text; the old container's class now wraps the
    standfirst (so the old layout finds its container and must notice that it is wrong)."""
    body = [_p(p) for p in article.paragraphs]
    one, two, three = teasers
    related = "".join(f'<li><a href="/a/{t.number}.html">{html.escape(t.headline)}</a></li>'
                      for t in (one, three))
    dek = (f"What we know about {article.headline.lower()}, and what happens next, in brief "
           "from the Evening Ledger newsroom.")
    body.insert(2, f'<div class="c-related"><h3>More from the Ledger</h3><ul>{related}</ul>'
                   '</div>')
    body.insert(5, f'<figure class="c-media"><picture><img src="/img/{article.number}.jpg" '
                   f'alt=""></picture><figcaption class="c-caption">'
                   f'{html.escape(two.headline)} (Ledger photo desk)</figcaption></figure>')
    return f"""{_head(article, url)}
<body><div class="app-shell"><nav class="top-nav"><a href="/">Ledger</a>
<a href="/city/">City</a> <a href="/world/">World</a> <a href="/opinion/">Opinion</a></nav>
<main id="content"><div class="article-wrapper">
<header class="headline-block"><h1 class="c-headline">{html.escape(article.headline)}</h1>
<div class="story-body"><p class="dek">{html.escape(dek)}</p></div>
<p class="c-byline">{html.escape(article.author)}, {article.published:%B %d, %Y}</p></header>
<section class="article-text">
{chr(10).join(body)}
</section></div></main>
<footer class="c-footer"><p>The Evening Ledger, since 1921</p></footer></div></body></html>"""


def render_long(article: LayoutArticle, url: str, teasers: list[LayoutArticle]) -> str:
    """The long-form layout: the body in chapter blocks (sibling ``section.chapter``s), each
    with its heading, inside ``div.longform``; a pull quote box between chapters."""
    paragraphs = article.paragraphs
    half = len(paragraphs) // 2
    chapters = []
    for k, part in enumerate((paragraphs[:half], paragraphs[half:]), start=1):
        chapters.append(f'<section class="chapter"><h2>Part {k}</h2>'
                        + "".join(_p(p) for p in part) + "</section>")
    one = teasers[0]
    chapters.insert(1, f'<div class="lf-promo"><a href="/a/{one.number}.html">Also in the '
                       f'magazine: {html.escape(one.headline)}</a></div>')
    return f"""{_head(article, url)}
<body><div id="page"><header class="site-header"><a href="/">The Evening Ledger</a></header>
<div class="longform"><div class="lf-hero"><h1>{html.escape(article.headline)}</h1>
<p class="lf-credit">Words by {html.escape(article.author)}</p></div>
<div class="lf-body">{"".join(chapters)}</div></div>
<footer class="site-footer"><p>© 2021 The Evening Ledger</p></footer></div></body></html>"""


def standfirst(article: LayoutArticle) -> str:
    return (f"{article.headline}: the story so far, what it means for the city and what comes "
            f"next, told by {article.author}.")


def render_lead(article: LayoutArticle, url: str, teasers: list[LayoutArticle]) -> str:
    """The classic layout with a standfirst between the byline and the body, outside the
    body's container: the full way keeps it as the first paragraph."""
    return render_a(article, url, teasers).replace(
        '<div class="story-body">',
        f'<p class="standfirst">{html.escape(standfirst(article))}</p>\n'
        '<div class="story-body">', 1)


RENDER = {"a": render_a, "b": render_b, "long": render_long, "lead": render_lead}


class LayoutSite:
    def __init__(self, min_words: int = 0) -> None:
        """``min_words``: only the articles of at least that many words (long stories)."""
        self.all = [a for a in _articles()
                    if sum(len(p.split()) for p in a.paragraphs) >= min_words]
        self.server = LoopbackServer(self._reply)
        self.base = self.server.base
        self.sitemap_url = f"{self.base}/sitemap.xml"
        self.layout = "a"
        self.every: tuple[int, str] | None = None  # (n, layout): every n-th page in that one
        self.published = 0
        self.layout_of: dict[str, str] = {}  # url -> the layout it was published in

    def url(self, article: LayoutArticle) -> str:
        return f"{self.base}/a/{article.number}.html"

    @property
    def articles(self) -> dict[str, LayoutArticle]:
        return {self.url(a): a for a in self.all[:self.published]}

    def publish(self, count: int, layout: str | None = None) -> list[str]:
        """``count`` more articles, in ``layout`` (default: the site's current one)."""
        if layout:
            self.layout = layout
        new = self.all[self.published:self.published + count]
        assert len(new) == count, f"only {len(self.all)} articles"
        self.published += count
        for article in new:
            self.layout_of[self.url(article)] = self.layout_for(article)
        return [self.url(a) for a in new]

    def redesign(self, layout: str) -> None:
        """Every page, old and new, is served in ``layout`` from now on."""
        self.layout = layout
        for url in self.layout_of:
            self.layout_of[url] = layout

    def layout_for(self, article: LayoutArticle) -> str:
        if self.every is not None and article.number % self.every[0] == 0:
            return self.every[1]
        return self.layout

    def furniture(self, url: str) -> list[str]:
        """The lines inside the article that are not its text: none may be stored."""
        article = self.articles[url]
        teasers = _teasers(article, self.all)
        return [t.headline for t in teasers] + ["Share on Facebook", "The Ledger at six",
                                                "More from the Ledger"]

    def _reply(self, path: str) -> Reply:
        path = path.split("?", 1)[0]
        if path == "/robots.txt":
            return Reply(200, "text/plain",
                         f"User-agent: *\nAllow: /\nSitemap: {self.sitemap_url}\n".encode())
        if path == "/sitemap.xml":
            entries = "".join(
                f"<url><loc>{url}</loc><lastmod>{a.published.isoformat()}</lastmod></url>\n"
                for url, a in self.articles.items())
            return Reply(200, "application/xml", (
                '<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org'
                f'/schemas/sitemap/0.9">\n{entries}</urlset>\n').encode())
        url = f"{self.base}{path}"
        article = self.articles.get(url)
        if article is None:
            return NOT_FOUND
        render = RENDER[self.layout_of[url]]
        return Reply(body=render(article, url, _teasers(article, self.all)).encode())

    def __enter__(self) -> LayoutSite:
        self.server.__enter__()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.server.__exit__(exc_type, exc, tb)
