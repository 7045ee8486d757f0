"""Templates of "The Harbour Daily": English, meta tags only, story id and social line in body."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import ClassVar

from crawler.demo.content import Article, Section
from crawler.demo.layout import SiteLayout, attr, esc, join_names, slugify

logger = logging.getLogger(__name__)

MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip

FOLLOW_LINE = "Follow The Harbour Daily on Mastodon and Bluesky for live updates."


def english_date(value: datetime) -> str:
    return f"{MONTHS[value.month - 1]} {value.day}, {value.year}"


def english_datetime(value: datetime) -> str:
    hour = value.hour % 12 or 12
    suffix = "a.m." if value.hour < 12 else "p.m."
    return f"{english_date(value)} at {hour}:{value.minute:02d} {suffix}"


class HarbourLayout(SiteLayout):
    """Article URLs: ``/<yyyy>/<mm>/<dd>/<slug>/``; headline outside ``<article>``."""

    name: ClassVar[str] = "harbour"
    about_path: ClassVar[str] = "/about/"
    private_path: ClassVar[str] = "/private/newsroom-notes/"
    css_path: ClassVar[str] = "/assets/harbour.css"
    has_atom: ClassVar[bool] = True
    sitemap_gzip: ClassVar[bool] = True
    stylesheet: ClassVar[str] = (
        "body { font-family: 'Helvetica Neue', Arial, sans-serif; margin: 0; }\n"
        ".masthead { background: #0b3d5c; color: #fff; }\n"
        ".story-body p { font-size: 1.1rem; }\n"
    )

    def article_path(self, article: Article) -> str:
        return f"/{article.published:%Y/%m/%d}/{article.slug}/"

    def section_path(self, slug: str) -> str:
        return f"/section/{slug}/"

    def tag_path(self, tag: str) -> str:
        return f"/tag/{slugify(tag)}/"

    def story_id(self, article: Article) -> str:
        return f"Story ID {article.ref}"

    def boilerplate(self, article: Article) -> list[str]:
        return [self.story_id(article), FOLLOW_LINE]

    # -- chrome -----------------------------------------------------------------------------

    def _document(self, title: str, head: str, main: str) -> str:
        content = self.content
        nav = "\n".join(
            f'    <a href="{self.section_path(s.slug)}">{esc(s.name)}</a>' for s in content.sections
        )
        return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(title)}</title>
{head}
<link rel="alternate" type="application/rss+xml" title="The Harbour Daily" \
href="{self.url("/rss.xml")}">
<link rel="alternate" type="application/atom+xml" title="The Harbour Daily (Atom)" \
href="{self.url("/atom.xml")}">
<link rel="stylesheet" href="{self.css_path}">
</head>
<body>
<div id="page">
<header class="masthead" role="banner">
  <div class="masthead__brand">
    <a class="masthead__logo" href="/">The Harbour Daily</a>
    <span class="masthead__tagline">{esc(content.tagline)}</span>
  </div>
  <nav class="masthead__nav" aria-label="Sections">
    <a href="/">Home</a>
{nav}
    <a href="{self.tag_path(content.featured_tag)}">{esc(content.featured_tag)}</a>
  </nav>
</header>
<div class="container">
{main}
</div>
<footer class="site-footer">
  <div class="site-footer__links">
    <a href="{self.about_path}">About us</a> |
    <a href="{self.about_path}#contact">Contact</a> |
    <a href="{self.about_path}#corrections">Corrections policy</a> |
    <a href="/rss.xml">RSS</a> | <a href="/atom.xml">Atom</a>
  </div>
  <small>Copyright © 2024 {esc(content.publisher)} All rights reserved.</small>
</footer>
</div>
</body>
</html>
"""

    def _card(self, article: Article, href: str) -> str:
        return f"""<div class="card">
  <h3 class="card__title"><a href="{attr(href)}">{esc(article.headline)}</a></h3>
  <p class="card__dek">{esc(article.description)}</p>
  <span class="card__date">{english_date(article.published)}</span>
</div>"""

    def _listing(self, title: str, heading: str, path: str, articles: list[Article]) -> str:
        cards = "\n".join(self._card(a, self.article_path(a)) for a in articles)
        head = (
            f'<meta name="description" content="{attr(heading)} from The Harbour Daily.">\n'
            f'<link rel="canonical" href="{self.url(path)}">\n'
            '<meta property="og:type" content="website">\n'
            '<meta property="og:site_name" content="The Harbour Daily">'
        )
        main = f"""<ol class="crumbs"><li><a href="/">Home</a></li><li>{esc(heading)}</li></ol>
<h1 class="section-title">{esc(heading)}</h1>
<div class="card-grid">
{cards}
</div>"""
        return self._document(title, head, main)

    # -- pages ------------------------------------------------------------------------------

    def render_home(self) -> str:
        articles = self.content.newest_first()
        lead, rest = articles[0], articles[1:]
        cards = "\n".join(self._card(a, self.teaser_href(a, i + 1)) for i, a in enumerate(rest))
        head = (
            '<meta name="description" content="News from Port Ellery and the south shore.">\n'
            f'<link rel="canonical" href="{self.url("/")}">\n'
            '<meta property="og:type" content="website">\n'
            '<meta property="og:site_name" content="The Harbour Daily">\n'
            '<meta property="og:title" content="The Harbour Daily">'
        )
        main = f"""<section class="lead-story">
  <h2 class="lead-story__title"><a href="{self.teaser_href(lead, 0)}">\
{esc(lead.headline)}</a></h2>
  <img src="{lead.image}" alt="{attr(lead.image_caption)}" width="640" height="360">
  <p class="lead-story__dek">{esc(lead.description)}</p>
  <span class="card__date">{english_date(lead.published)}</span>
</section>
<section class="latest">
<h2>Latest news</h2>
<div class="card-grid">
{cards}
</div>
</section>
<aside class="home-rail">
  <h2>Inside the newsroom</h2>
  <ul>
    <li><a href="{self.about_path}">About The Harbour Daily</a></li>
    <li><a href="{self.private_path}">Newsroom notes (staff only)</a></li>
  </ul>
</aside>"""
        return self._document("The Harbour Daily – Port Ellery news", head, main)

    def render_section(self, section: Section) -> str:
        return self._listing(
            f"{section.name} – The Harbour Daily",
            section.name,
            self.section_path(section.slug),
            self.content.in_section(section.slug),
        )

    def render_tag(self, tag: str) -> str:
        return self._listing(
            f"Stories tagged “{tag}” – The Harbour Daily",
            f"Stories tagged “{tag}”",
            self.tag_path(tag),
            self.content.tagged(tag),
        )

    def _static(self, title: str, path: str, paragraphs: tuple[str, ...], robots: str) -> str:
        body = "\n".join(f"  <p>{esc(p)}</p>" for p in paragraphs)
        head = (
            f'<meta name="robots" content="{robots}">\n'
            f'<link rel="canonical" href="{self.url(path)}">'
        )
        main = f"""<div class="page-content">
  <h1>{esc(title)}</h1>
{body}
</div>"""
        return self._document(f"{title} – The Harbour Daily", head, main)

    def render_about(self) -> str:
        page = self.content.about
        return self._static(page.title, self.about_path, page.paragraphs, "index,follow")

    def render_private(self) -> str:
        page = self.content.private
        return self._static(page.title, self.private_path, page.paragraphs, "noindex,nofollow")

    def render_not_found(self) -> str:
        main = """<div class="page-content">
  <h1>We couldn't find that page</h1>
  <p>The story may have been moved or removed. Try the <a href="/">front page</a>.</p>
</div>"""
        return self._document(
            "Page not found – The Harbour Daily", '<meta name="robots" content="noindex">', main
        )

    def render_article(self, article: Article) -> str:
        content = self.content
        url = self.article_url(article)
        section = content.section(article.section)
        meta = [
            f'<meta name="description" content="{attr(article.description)}">',
            f'<link rel="canonical" href="{url}">',
            f'<meta property="og:title" content="{attr(article.headline)}">',
            '<meta property="og:type" content="article">',
            '<meta property="og:site_name" content="The Harbour Daily">',
            f'<meta property="og:url" content="{url}">',
            f'<meta property="og:image" content="{self.url(article.image)}">',
            f'<meta property="og:description" content="{attr(article.description)}">',
            f'<meta property="article:published_time" content="{article.published.isoformat()}">',
        ]
        if article.modified is not None:
            meta.append(
                f'<meta property="article:modified_time" content="{article.modified.isoformat()}">'
            )
        meta.extend(
            f'<meta property="article:author" content="{attr(name)}">' for name in article.authors
        )
        meta.append(f'<meta property="article:section" content="{attr(section.name)}">')
        meta.extend(f'<meta property="article:tag" content="{attr(t)}">' for t in article.tags)

        byline = join_names(
            [
                f'<a class="author" href="{self.about_path}#staff">{esc(n)}</a>'
                for n in article.authors
            ],
            "and",
        )
        dateline = (
            f'Published <time datetime="{article.published.isoformat()}">'
            f"{english_datetime(article.published)}</time>"
        )
        if article.modified is not None:
            dateline += (
                f' · Updated <time datetime="{article.modified.isoformat()}">'
                f"{english_datetime(article.modified)}</time>"
            )
        paragraphs = [
            f"    <p>{self.paragraph_html(article, i)}</p>" for i in range(len(article.paragraphs))
        ]
        paragraphs.insert(len(paragraphs) // 2, f"    <p><strong>{esc(FOLLOW_LINE)}</strong></p>")
        paragraphs.insert(0, f"    <p>{esc(self.story_id(article))}</p>")
        body = "\n".join(paragraphs)
        featured = content.featured_tag
        tags = " ".join(
            f'<a class="tag" href="{self.tag_path(t)}">{esc(t)}</a>'
            if t == featured
            else f'<span class="tag">{esc(t)}</span>'
            for t in article.tags
        )
        related = "\n".join(self._card(r, self.article_path(r)) for r in content.related(article))
        comments = "\n".join(
            f"""  <div class="comment">
    <div class="comment__author">{esc(c.author)}</div>
    <div class="comment__body">{esc(c.text)}</div>
  </div>"""
            for c in content.comments_for(article)
        )
        main = f"""<ol class="crumbs"><li><a href="/">Home</a></li>\
<li><a href="{self.section_path(section.slug)}">{esc(section.name)}</a></li></ol>
<div class="story-header">
  <h1 class="headline">{esc(article.headline)}</h1>
  <p class="byline">By {byline}</p>
  <p class="dateline">{dateline}</p>
  <div class="share-bar">
    <button type="button" class="share share--facebook">Share</button>
    <button type="button" class="share share--bluesky">Post</button>
    <button type="button" class="share share--email">Email</button>
    <button type="button" class="share share--copy">Copy link</button>
  </div>
</div>
<figure class="hero">
  <img src="{article.image}" alt="{attr(article.image_caption)}" width="1280" height="720">
  <figcaption>{esc(article.image_caption)} <small>{esc(article.image_credit)}</small></figcaption>
</figure>
<div class="columns">
  <article class="story-body" id="story">
{body}
  </article>
  <aside class="rail">
    <section class="related">
      <h2>Related stories</h2>
{related}
    </section>
    <section class="signup">
      <h2>The Morning Tide</h2>
      <p>Get the day's top local stories in your inbox every weekday at 6 a.m.</p>
      <form action="/newsletter/subscribe" method="post">
        <input type="email" name="email" placeholder="you@example.com">
        <button type="submit">Sign up</button>
      </form>
    </section>
  </aside>
</div>
<div class="story-tags">Tags: {tags}</div>
<section class="comments" id="comments">
  <h2>2 comments</h2>
{comments}
  <p class="comments__policy">Comments are moderated. Please keep it civil.</p>
</section>"""
        return self._document(f"{article.headline} – The Harbour Daily", "\n".join(meta), main)
