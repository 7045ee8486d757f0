"""robots.txt, RSS 2.0, Atom and sitemaps (index, Google News, plain pages) of a demo site."""

from __future__ import annotations

import gzip
import logging
from datetime import datetime
from email.utils import format_datetime
from urllib.parse import urlsplit

from crawler.demo.layout import ATOM, GZIP, RSS, TEXT, XML, Page, SiteLayout, attr, esc

logger = logging.getLogger(__name__)

XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'


def robots_txt(layout: SiteLayout) -> str:
    return (
        f"# robots.txt for {layout.content.title}\n"
        "User-agent: *\n"
        "Disallow: /private/\n"
        "\n"
        f"Sitemap: {layout.url('/sitemap.xml')}\n"
    )


def rss(layout: SiteLayout) -> str:
    content = layout.content
    articles = content.newest_first()
    items = []
    for article in articles:
        url = layout.article_url(article)
        section = content.section(article.section)
        items.append(
            f"""  <item>
    <title>{esc(article.headline)}</title>
    <link>{esc(url)}</link>
    <description>{esc(article.description)}</description>
    <pubDate>{format_datetime(article.published)}</pubDate>
    <guid isPermaLink="true">{esc(url)}</guid>
    <category>{esc(section.name)}</category>
    <dc:creator>{esc(", ".join(article.authors))}</dc:creator>
  </item>"""
        )
    latest = max(a.updated for a in articles)
    body = "\n".join(items)
    return f"""{XML_DECLARATION}<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom" \
xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel>
  <title>{esc(content.title)}</title>
  <link>{esc(layout.url("/"))}</link>
  <description>{esc(content.tagline)}</description>
  <language>{content.language}</language>
  <lastBuildDate>{format_datetime(latest)}</lastBuildDate>
  <atom:link href="{attr(layout.url("/rss.xml"))}" rel="self" type="application/rss+xml"/>
{body}
</channel>
</rss>
"""


def atom(layout: SiteLayout) -> str:
    content = layout.content
    articles = content.newest_first()
    host = urlsplit(layout.base_url).hostname
    entries = []
    for article in articles:
        url = layout.article_url(article)
        section = content.section(article.section)
        authors = "".join(f"<author><name>{esc(n)}</name></author>" for n in article.authors)
        entries.append(
            f"""  <entry>
    <title>{esc(article.headline)}</title>
    <link rel="alternate" type="text/html" href="{attr(url)}"/>
    <id>tag:{host},{article.published:%Y-%m-%d}:story-{article.ref}</id>
    <published>{article.published.isoformat()}</published>
    <updated>{article.updated.isoformat()}</updated>
    {authors}
    <category term="{attr(section.name)}"/>
    <summary>{esc(article.description)}</summary>
  </entry>"""
        )
    latest = max(a.updated for a in articles)
    body = "\n".join(entries)
    return f"""{XML_DECLARATION}<feed xmlns="http://www.w3.org/2005/Atom" \
xml:lang="{content.language}">
  <title>{esc(content.title)}</title>
  <subtitle>{esc(content.tagline)}</subtitle>
  <link rel="alternate" type="text/html" href="{attr(layout.url("/"))}"/>
  <link rel="self" type="application/atom+xml" href="{attr(layout.url("/atom.xml"))}"/>
  <id>{esc(layout.url("/"))}</id>
  <updated>{latest.isoformat()}</updated>
{body}
</feed>
"""


def news_sitemap(layout: SiteLayout) -> str:
    content = layout.content
    urls = []
    for article in content.newest_first():
        urls.append(
            f"""  <url>
    <loc>{esc(layout.article_url(article))}</loc>
    <lastmod>{article.updated.isoformat()}</lastmod>
    <news:news>
      <news:publication>
        <news:name>{esc(content.title)}</news:name>
        <news:language>{content.language}</news:language>
      </news:publication>
      <news:publication_date>{article.published.isoformat()}</news:publication_date>
      <news:title>{esc(article.headline)}</news:title>
    </news:news>
    <image:image><image:loc>{esc(layout.url(article.image))}</image:loc></image:image>
  </url>"""
        )
    body = "\n".join(urls)
    return f"""{XML_DECLARATION}<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" \
xmlns:news="http://www.google.com/schemas/sitemap-news/0.9" \
xmlns:image="http://www.google.com/schemas/sitemap-image/1.1">
{body}
</urlset>
"""


def pages_sitemap(layout: SiteLayout) -> str:
    entries = [(path, "hourly" if path == "/" else "daily") for path in layout.listing_paths()]
    entries.append((layout.about_path, "yearly"))
    body = "\n".join(
        f"""  <url>
    <loc>{esc(layout.url(path))}</loc>
    <changefreq>{freq}</changefreq>
  </url>"""
        for path, freq in entries
    )
    return f"""{XML_DECLARATION}<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
{body}
</urlset>
"""


def news_sitemap_path(layout: SiteLayout) -> str:
    """What the sitemap index references: the gzipped or the plain news sitemap."""
    return "/sitemap-news.xml.gz" if layout.sitemap_gzip else "/sitemap-news.xml"


def sitemap_index(layout: SiteLayout) -> str:
    latest: datetime = max(a.updated for a in layout.content.articles)
    body = "\n".join(
        f"""  <sitemap>
    <loc>{esc(layout.url(path))}</loc>
    <lastmod>{latest.isoformat()}</lastmod>
  </sitemap>"""
        for path in (news_sitemap_path(layout), "/sitemap-pages.xml")
    )
    return f"""{XML_DECLARATION}<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
{body}
</sitemapindex>
"""


def feed_pages(layout: SiteLayout) -> dict[str, Page]:
    """robots.txt, feeds and sitemaps of the site, keyed by path."""
    latest = max(a.updated for a in layout.content.articles)
    news = news_sitemap(layout).encode()
    pages = {
        "/robots.txt": Page(robots_txt(layout).encode(), TEXT),
        "/rss.xml": Page(rss(layout).encode(), RSS, latest),
        "/sitemap.xml": Page(sitemap_index(layout).encode(), XML, latest),
        "/sitemap-news.xml": Page(news, XML, latest),
        "/sitemap-news.xml.gz": Page(gzip.compress(news, mtime=0), GZIP, latest),
        "/sitemap-pages.xml": Page(pages_sitemap(layout).encode(), XML, latest),
    }
    if layout.has_atom:
        pages["/atom.xml"] = Page(atom(layout).encode(), ATOM, latest)
    return pages
