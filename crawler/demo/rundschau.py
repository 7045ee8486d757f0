"""Templates of "Rheinische Rundschau": German, JSON-LD + OpenGraph, a trailer line per article."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, ClassVar

from crawler.demo.content import Article, Section
from crawler.demo.layout import SiteLayout, attr, esc, join_names, json_ld, slugify

logger = logging.getLogger(__name__)


def german_datetime(value: datetime) -> str:
    return f"{value:%d.%m.%Y, %H:%M} Uhr"


class RundschauLayout(SiteLayout):
    """Article URLs: ``/<section>/<yyyy>/<mm>/<slug>.html``; headline and body in ``<article>``."""

    name: ClassVar[str] = "rundschau"
    about_path: ClassVar[str] = "/impressum.html"
    private_path: ClassVar[str] = "/private/redaktionsplan.html"
    css_path: ClassVar[str] = "/static/rundschau.css"
    stylesheet: ClassVar[str] = (
        "body { font-family: 'Source Serif Pro', Georgia, serif; margin: 0; color: #1a1a1a; }\n"
        ".site-header { border-bottom: 3px solid #8b0000; }\n"
        ".article-body p { line-height: 1.6; }\n"
    )

    def article_path(self, article: Article) -> str:
        published = article.published
        return f"/{article.section}/{published:%Y}/{published:%m}/{article.slug}.html"

    def section_path(self, slug: str) -> str:
        return f"/{slug}/"

    def tag_path(self, tag: str) -> str:
        return f"/thema/{slugify(tag)}/"

    def trailer(self, article: Article) -> str:
        return f"source site-{article.ref}"

    def boilerplate(self, article: Article) -> list[str]:
        return [self.trailer(article)]

    # -- chrome -----------------------------------------------------------------------------

    def _document(self, title: str, head: str, body_class: str, main: str) -> str:
        content = self.content
        nav = "".join(
            f'<li><a href="{self.section_path(s.slug)}">{esc(s.name)}</a></li>'
            for s in content.sections
        )
        tag = content.featured_tag
        return f"""<!DOCTYPE html>
<html lang="de">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(title)}</title>
{head}
<link rel="stylesheet" href="{self.css_path}">
<link rel="alternate" type="application/rss+xml" title="Rheinische Rundschau – Nachrichten" \
href="{self.url("/rss.xml")}">
<link rel="icon" href="{self.logo_path}">
</head>
<body class="{body_class}">
<a class="skip-link" href="#inhalt">Zum Inhalt springen</a>
<header class="site-header">
  <div class="brand">
    <a class="logo" href="/"><img src="{self.logo_path}" alt="" width="120" height="40">\
Rheinische Rundschau</a>
    <p class="claim">{esc(content.tagline)}</p>
  </div>
  <nav class="main-nav" aria-label="Hauptnavigation">
    <ul><li><a href="/">Startseite</a></li>{nav}\
<li><a href="{self.tag_path(tag)}">Thema: {esc(tag)}</a></li></ul>
  </nav>
</header>
<main id="inhalt" class="layout">
{main}
</main>
<footer class="site-footer">
  <nav aria-label="Service">
    <ul>
      <li><a href="{self.about_path}">Impressum</a></li>
      <li><a href="{self.about_path}#datenschutz">Datenschutz</a></li>
      <li><a href="{self.about_path}#kontakt">Kontakt</a></li>
      <li><a href="/rss.xml">RSS-Feed</a></li>
    </ul>
  </nav>
  <p class="copyright">© 2024 {esc(content.publisher)}, Köln. Alle Rechte vorbehalten.</p>
</footer>
</body>
</html>
"""

    def _teaser(self, article: Article, href: str, level: str = "h2") -> str:
        section = self.content.section(article.section)
        return f"""<article class="teaser">
  <p class="kicker">{esc(section.name)}</p>
  <{level} class="teaser-title"><a href="{attr(href)}">{esc(article.headline)}</a></{level}>
  <p class="teaser-text">{esc(article.description)}</p>
  <time datetime="{article.published.isoformat()}">{german_datetime(article.published)}</time>
</article>"""

    def _listing(self, title: str, heading: str, path: str, articles: list[Article]) -> str:
        teasers = "\n".join(self._teaser(a, self.article_path(a)) for a in articles)
        head = (
            f'<meta name="description" content="{attr(heading)} – aktuelle Nachrichten der '
            f'Rheinischen Rundschau">\n'
            f'<link rel="canonical" href="{self.url(path)}">\n'
            '<meta property="og:type" content="website">\n'
            f'<meta property="og:title" content="{attr(title)}">'
        )
        main = f"""<nav class="breadcrumb" aria-label="Brotkrumen"><ol>\
<li><a href="/">Startseite</a></li><li aria-current="page">{esc(heading)}</li></ol></nav>
<h1 class="page-title">{esc(heading)}</h1>
<section class="teaser-list">
{teasers}
</section>"""
        return self._document(title, head, "listing", main)

    # -- pages ------------------------------------------------------------------------------

    def render_home(self) -> str:
        content = self.content
        teasers = "\n".join(
            self._teaser(a, self.teaser_href(a, i)) for i, a in enumerate(content.newest_first())
        )
        head = "\n".join(
            [
                '<meta name="description" content="Nachrichten aus Köln, Bonn, Leverkusen und '
                'dem Rheinland: Politik, Wirtschaft, Sport und Kultur.">',
                f'<link rel="canonical" href="{self.url("/")}">',
                '<meta property="og:type" content="website">',
                '<meta property="og:site_name" content="Rheinische Rundschau">',
                json_ld(
                    {
                        "@context": "https://schema.org",
                        "@type": "WebSite",
                        "name": content.title,
                        "url": self.url("/"),
                        "inLanguage": "de",
                    }
                ),
            ]
        )
        main = f"""<h1 class="visually-hidden">Nachrichten aus dem Rheinland</h1>
<section class="teaser-list" aria-label="Aktuelle Artikel">
{teasers}
</section>
<p class="intern"><a href="{self.private_path}">Redaktionsplan (intern)</a></p>"""
        return self._document(
            "Rheinische Rundschau – Nachrichten aus Köln, Bonn und dem Rheinland",
            head,
            "home",
            main,
        )

    def render_section(self, section: Section) -> str:
        return self._listing(
            f"{section.name} | Rheinische Rundschau",
            section.name,
            self.section_path(section.slug),
            self.content.in_section(section.slug),
        )

    def render_tag(self, tag: str) -> str:
        return self._listing(
            f"Thema: {tag} | Rheinische Rundschau",
            f"Thema: {tag}",
            self.tag_path(tag),
            self.content.tagged(tag),
        )

    def _static(self, title: str, path: str, paragraphs: tuple[str, ...], robots: str) -> str:
        body = "\n".join(f"<p>{esc(p)}</p>" for p in paragraphs)
        head = (
            f'<meta name="robots" content="{robots}">\n'
            f'<link rel="canonical" href="{self.url(path)}">'
        )
        main = f"""<div class="static-page">
<h1 class="page-title">{esc(title)}</h1>
{body}
</div>"""
        return self._document(f"{title} | Rheinische Rundschau", head, "static", main)

    def render_about(self) -> str:
        page = self.content.about
        return self._static(page.title, self.about_path, page.paragraphs, "index, follow")

    def render_private(self) -> str:
        page = self.content.private
        return self._static(page.title, self.private_path, page.paragraphs, "noindex, nofollow")

    def render_not_found(self) -> str:
        main = """<div class="error-page">
<h1 class="page-title">Seite nicht gefunden</h1>
<p>Die angeforderte Seite existiert nicht oder wurde verschoben.</p>
<p><a href="/">Zur Startseite</a></p>
</div>"""
        return self._document(
            "Seite nicht gefunden | Rheinische Rundschau",
            '<meta name="robots" content="noindex">',
            "error",
            main,
        )

    def _json_ld(self, article: Article) -> str:
        url = self.article_url(article)
        section = self.content.section(article.section)
        data: dict[str, Any] = {
            "@context": "https://schema.org",
            "@type": "NewsArticle",
            "mainEntityOfPage": {"@type": "WebPage", "@id": url},
            "url": url,
            "headline": article.headline,
            "description": article.description,
            "image": {
                "@type": "ImageObject",
                "url": self.url(article.image),
                "width": 1200,
                "height": 675,
            },
            "datePublished": article.published.isoformat(),
        }
        if article.modified is not None:
            data["dateModified"] = article.modified.isoformat()
        data.update(
            {
                "author": [
                    {"@type": "Person", "name": name, "url": self.url(self.about_path)}
                    for name in article.authors
                ],
                "publisher": {
                    "@type": "NewsMediaOrganization",
                    "name": self.content.title,
                    "logo": {"@type": "ImageObject", "url": self.url(self.logo_path)},
                },
                "articleSection": section.name,
                "keywords": list(article.tags),
                "inLanguage": "de",
                "isAccessibleForFree": True,
            }
        )
        breadcrumbs = {
            "@context": "https://schema.org",
            "@type": "BreadcrumbList",
            "itemListElement": [
                {"@type": "ListItem", "position": 1, "name": "Startseite", "item": self.url("/")},
                {
                    "@type": "ListItem",
                    "position": 2,
                    "name": section.name,
                    "item": self.url(self.section_path(section.slug)),
                },
                {"@type": "ListItem", "position": 3, "name": article.headline, "item": url},
            ],
        }
        return json_ld(data) + "\n" + json_ld(breadcrumbs)

    def render_article(self, article: Article) -> str:
        content = self.content
        url = self.article_url(article)
        section = content.section(article.section)
        meta = [
            f'<meta name="description" content="{attr(article.description)}">',
            f'<meta name="author" content="{attr(", ".join(article.authors))}">',
            '<meta name="robots" content="index, follow, max-image-preview:large">',
            f'<link rel="canonical" href="{url}">',
            '<meta property="og:locale" content="de_DE">',
            '<meta property="og:type" content="article">',
            '<meta property="og:site_name" content="Rheinische Rundschau">',
            f'<meta property="og:title" content="{attr(article.headline)}">',
            f'<meta property="og:description" content="{attr(article.description)}">',
            f'<meta property="og:url" content="{url}">',
            f'<meta property="og:image" content="{self.url(article.image)}">',
            f'<meta property="article:published_time" content="{article.published.isoformat()}">',
        ]
        if article.modified is not None:
            meta.append(
                f'<meta property="article:modified_time" content="{article.modified.isoformat()}">'
            )
        meta.append(f'<meta property="article:section" content="{attr(section.name)}">')
        meta.extend(f'<meta property="article:tag" content="{attr(t)}">' for t in article.tags)
        meta.append('<meta name="twitter:card" content="summary_large_image">')
        meta.append(self._json_ld(article))

        authors = join_names(
            [
                f'<a class="author" rel="author" href="{self.about_path}#redaktion">{esc(n)}</a>'
                for n in article.authors
            ],
            "und",
        )
        updated = ""
        if article.modified is not None:
            updated = (
                f' <span class="updated">Aktualisiert: <time datetime="'
                f'{article.modified.isoformat()}">{german_datetime(article.modified)}</time></span>'
            )
        body = "\n".join(
            f"<p>{self.paragraph_html(article, i)}</p>" for i in range(len(article.paragraphs))
        )
        featured = content.featured_tag
        tags = "".join(
            f'<li><a href="{self.tag_path(t)}">{esc(t)}</a></li>'
            if t == featured
            else f"<li>{esc(t)}</li>"
            for t in article.tags
        )
        related = "\n".join(
            f"""<li>
  <a href="{self.article_path(r)}"><h3>{esc(r.headline)}</h3></a>
  <p>{esc(r.description)}</p>
</li>"""
            for r in content.related(article)
        )
        comments = "\n".join(
            f"""<li class="comment">
  <p class="comment-meta"><strong>{esc(c.author)}</strong> schrieb:</p>
  <p class="comment-text">{esc(c.text)}</p>
</li>"""
            for c in content.comments_for(article)
        )
        main = f"""<nav class="breadcrumb" aria-label="Brotkrumen"><ol>\
<li><a href="/">Startseite</a></li>\
<li><a href="{self.section_path(section.slug)}">{esc(section.name)}</a></li>\
<li aria-current="page">{esc(article.headline)}</li></ol></nav>
<article class="article">
  <header class="article-header">
    <p class="kicker"><a href="{self.section_path(section.slug)}">{esc(section.name)}</a></p>
    <h1 class="article-title">{esc(article.headline)}</h1>
    <div class="byline">Von {authors} <span class="sep">·</span> <time datetime="\
{article.published.isoformat()}">{german_datetime(article.published)}</time>{updated}</div>
  </header>
  <figure class="lead-image">
    <img src="{article.image}" alt="{attr(article.image_caption)}" width="1200" height="675">
    <figcaption>{esc(article.image_caption)} <span class="credit">{esc(article.image_credit)}\
</span></figcaption>
  </figure>
  <div class="article-body">
{body}
<p>{esc(self.trailer(article))}</p>
  </div>
  <footer class="article-footer">
    <ul class="tags" aria-label="Schlagworte">{tags}</ul>
    <div class="share" aria-label="Artikel teilen">
      <button type="button" data-share="facebook">Teilen</button>
      <button type="button" data-share="x">Posten</button>
      <button type="button" data-share="whatsapp">WhatsApp</button>
      <button type="button" data-share="mail">E-Mail</button>
    </div>
  </footer>
</article>
<section class="newsletter-box">
  <h2>Der Rundschau-Newsletter</h2>
  <p>Jeden Morgen um 6 Uhr die wichtigsten Nachrichten aus dem Rheinland in Ihrem Postfach.</p>
  <form action="/newsletter" method="post">
    <input type="email" name="email" placeholder="Ihre E-Mail-Adresse" required>
    <button type="submit">Kostenlos anmelden</button>
  </form>
</section>
<aside class="related" aria-label="Mehr zum Thema">
  <h2>Mehr zum Thema</h2>
  <ul>
{related}
  </ul>
</aside>
<section class="comments" id="kommentare">
  <h2>Leserkommentare (2)</h2>
  <ol>
{comments}
  </ol>
  <p class="comment-note">Kommentare werden vor der Veröffentlichung von der Redaktion geprüft.</p>
</section>"""
        return self._document(
            f"{article.headline} | Rheinische Rundschau", "\n".join(meta), "article-page", main
        )
