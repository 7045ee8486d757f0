"""The bundled demo news sites: served over real HTTP on loopback, checked against their truth."""

from __future__ import annotations

import gzip
import html
import json
import re
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import datetime
from email.message import Message
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

import pytest
import yaml
from lxml import etree
from lxml import html as lxml_html

from crawler.demo.server import DemoServer, DemoSite, write_sources_file
from crawler.demo.truth import ArticleTruth, article_truth, boilerplate_lines, non_article_urls

SEED = Path("/work/shared/seeds/000_bb8d09bb30d614ff.txt")
REPO = Path(__file__).resolve().parents[1]
SITEMAP_NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
NEWS_NS = "{http://www.google.com/schemas/sitemap-news/0.9}"
ATOM_NS = "{http://www.w3.org/2005/Atom}"
NS = {"a": "http://www.w3.org/2005/Atom"}
TITLE_SUFFIX = {
    "rundschau": " | Rheinische Rundschau",
    "harbour": " – The Harbour Daily",
    "courrier": " - Le Courrier du Lac",
}
HARBOUR_FOLLOW = "Follow The Harbour Daily on Mastodon and Bluesky for live updates."
COURRIER_SOCIAL = (
    "Suivez-nous sur Facebook et Instagram pour ne rien manquer de l'actualité du lac."
)


@pytest.fixture(scope="module")
def server() -> Iterator[DemoServer]:
    with DemoServer() as demo:
        yield demo


@pytest.fixture(scope="module")
def truth(server: DemoServer) -> dict[str, ArticleTruth]:
    return article_truth(server.sites)


def fetch(url: str, headers: dict[str, str] | None = None) -> tuple[int, Message, bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.headers, error.read()


def fetch_text(url: str) -> str:
    status, _, body = fetch(url)
    assert status == 200, url
    return body.decode("utf-8")


def site_truth(truth: dict[str, ArticleTruth], site: DemoSite) -> dict[str, ArticleTruth]:
    return {url: t for url, t in truth.items() if t.source == site.name}


def paragraph_texts(page: str, container: str = "//article") -> list[str]:
    tree = lxml_html.fromstring(page)
    return [p.text_content() for p in tree.xpath(f"{container}//p")]


def canonical(href: str, base: str) -> str:
    parts = urlsplit(href)
    return base + parts.path


# -- the truth itself ------------------------------------------------------------------------


def test_truth_has_three_sites_of_realistic_articles(
    server: DemoServer, truth: dict[str, ArticleTruth]
) -> None:
    assert [s.name for s in server.sites] == ["rundschau", "harbour", "courrier"]
    languages = {s.name: s.language for s in server.sites}
    assert languages == {"rundschau": "de", "harbour": "en", "courrier": "fr"}
    for site in server.sites:
        articles = site_truth(truth, site)
        assert len(articles) >= 7
        for url, article in articles.items():
            assert url.startswith(site.base_url + "/")
            assert article.url == url
            assert article.language == site.language
            assert article.site_name == site.title
            assert len(article.paragraphs) >= 4
            assert sum(len(p.split()) for p in article.paragraphs) >= 150
            assert article.authors and article.tags and article.section
            assert article.published.utcoffset() is not None
            assert article.modified is None or article.modified.utcoffset() is not None
            assert article.modified is None or article.modified > article.published
    assert not set(truth) & set(non_article_urls(server.sites))


def test_seed_article_truth_matches_seed_file(
    server: DemoServer, truth: dict[str, ArticleTruth]
) -> None:
    if not SEED.exists():
        pytest.skip(f"seed file {SEED} not present")
    lines = SEED.read_text(encoding="utf-8").split("\n")
    matches = [t for t in truth.values() if t.title == lines[0]]
    assert len(matches) == 1
    seed = matches[0]
    assert seed.title.endswith(" | Joe Biden")
    assert seed.source == "rundschau"
    assert seed.language == "de"
    assert seed.paragraphs == [line for line in lines[1:-1] if line.strip()]
    assert lines[-1] == "source site-32"
    page = fetch_text(seed.url)
    texts = paragraph_texts(page)
    assert texts[-1] == "source site-32"
    assert texts[-1 - len(seed.paragraphs) : -1] == seed.paragraphs


def test_one_sentence_is_shared_by_exactly_two_articles(truth: dict[str, ArticleTruth]) -> None:
    counts: dict[tuple[str, str], int] = {}
    for article in truth.values():
        for paragraph in set(article.paragraphs):
            key = (article.source, paragraph)
            counts[key] = counts.get(key, 0) + 1
    shared = [key for key, count in counts.items() if count > 1]
    assert len(shared) >= 1
    assert all(counts[key] == 2 for key in shared)


def test_boilerplate_lines_are_never_article_text(
    server: DemoServer, truth: dict[str, ArticleTruth]
) -> None:
    lines = boilerplate_lines(server.sites)
    assert lines["rundschau"][0] == "source site-32"
    assert all(re.fullmatch(r"source site-\d+", line) for line in lines["rundschau"])
    assert len(set(lines["rundschau"])) == 7
    assert HARBOUR_FOLLOW in lines["harbour"]
    assert sum(line.startswith("Story ID ") for line in lines["harbour"]) == 7
    assert COURRIER_SOCIAL in lines["courrier"]
    assert sum(line.startswith("Réf. CDL-2024-") for line in lines["courrier"]) == 7
    for article in truth.values():
        assert not set(article.paragraphs) & set(lines[article.source])


# -- pages -----------------------------------------------------------------------------------


def test_home_pages_list_every_article_some_with_tracking(
    server: DemoServer, truth: dict[str, ArticleTruth]
) -> None:
    for site in server.sites:
        status, headers, body = fetch(site.home_url)
        assert status == 200
        assert headers["Content-Type"] == "text/html; charset=utf-8"
        page = body.decode("utf-8")
        assert f'<html lang="{site.language}">' in page
        tree = lxml_html.fromstring(page)
        hrefs = [str(h) for h in tree.xpath("//a/@href")]
        expected = set(site_truth(truth, site))
        linked = {canonical(h, site.base_url) for h in hrefs}
        assert expected <= linked
        tracked = [h for h in hrefs if "utm_source=home" in h]
        assert tracked and all("utm_medium=teaser" in h for h in tracked)
        assert {canonical(h, site.base_url) for h in tracked} <= expected
        assert any(h.startswith("/private/") for h in hrefs)


def test_robots_txt_disallows_private(server: DemoServer) -> None:
    for site in server.sites:
        status, headers, body = fetch(site.robots_url)
        assert status == 200
        assert headers["Content-Type"].startswith("text/plain")
        text = body.decode("utf-8")
        assert "Disallow: /private/" in text
        assert f"Sitemap: {site.sitemap_url}" in text
        robots = RobotFileParser(site.robots_url)
        robots.parse(text.splitlines())
        assert not robots.can_fetch("newscrawl", site.url("/private/anything.html"))
        assert robots.can_fetch("newscrawl", site.home_url)
    private = [u for u in non_article_urls(server.sites) if "/private/" in u]
    assert len(private) == 3


def test_every_article_page_holds_its_truth_and_boilerplate(
    server: DemoServer, truth: dict[str, ArticleTruth]
) -> None:
    for url, article in truth.items():
        status, headers, body = fetch(url)
        assert status == 200, url
        assert headers["Content-Type"] == "text/html; charset=utf-8"
        assert headers["Last-Modified"] and headers["ETag"]
        page = body.decode("utf-8")
        tree = lxml_html.fromstring(page)
        assert tree.get("lang") == article.language
        assert tree.findtext(".//title") == article.title + TITLE_SUFFIX[article.source]
        assert tree.xpath("//link[@rel='canonical']/@href") == [url]
        assert tree.xpath("//h1")[0].text_content() == article.title
        assert tree.xpath("//aside"), "related articles box"
        texts = paragraph_texts(page)
        for paragraph in article.paragraphs:
            assert paragraph in texts, (url, paragraph[:40])
        unescaped = html.unescape(page)
        linked = len([p for p in article.paragraphs if p not in unescaped])
        assert linked <= 1  # at most one paragraph carries an inline link
        if article.source == "rundschau":
            assert re.fullmatch(r"source site-\d+", texts[-1])
            assert texts[-1 - len(article.paragraphs) : -1] == article.paragraphs
            assert tree.xpath("//article//h1")
        elif article.source == "harbour":
            assert re.fullmatch(r"Story ID \d{5}", texts[0])
            middle = texts.index(HARBOUR_FOLLOW)
            assert 2 <= middle <= len(texts) - 2
            assert [t for t in texts[1:] if t != HARBOUR_FOLLOW] == article.paragraphs
            assert "By " + " and ".join(article.authors) in tree.text_content()
        else:
            assert texts[-2] == COURRIER_SOCIAL
            assert re.fullmatch(r"Réf\. CDL-2024-\d{4}", texts[-1])
            assert texts[-2 - len(article.paragraphs) : -2] == article.paragraphs


def test_structured_metadata_per_site(truth: dict[str, ArticleTruth]) -> None:
    for url, article in truth.items():
        tree = lxml_html.fromstring(fetch_text(url))
        ld = [json.loads(s) for s in tree.xpath("//script[@type='application/ld+json']/text()")]
        meta = {
            str(m.get("property") or m.get("name")): str(m.get("content"))
            for m in tree.xpath("//meta[@content]")
        }
        if article.source == "rundschau":
            news = next(item for item in ld if item["@type"] == "NewsArticle")
            assert news["headline"] == article.title
            assert news["inLanguage"] == "de"
            assert datetime.fromisoformat(news["datePublished"]) == article.published
            assert news["datePublished"][-6:] in ("+01:00", "+02:00")
            assert [a["name"] for a in news["author"]] == article.authors
            assert all(a["@type"] == "Person" for a in news["author"])
            assert news["publisher"]["name"] == "Rheinische Rundschau"
            if article.modified is not None:
                assert datetime.fromisoformat(news["dateModified"]) == article.modified
            assert meta["og:title"] == article.title
        elif article.source == "harbour":
            assert not ld
            assert meta["og:type"] == "article"
            assert meta["og:site_name"] == "The Harbour Daily"
            published = datetime.fromisoformat(meta["article:published_time"])
            assert published == article.published
            authors = tree.xpath("//meta[@property='article:author']/@content")
            assert authors == article.authors
            tags = tree.xpath("//meta[@property='article:tag']/@content")
            assert tags == article.tags
        else:
            assert not ld
            assert "og:title" not in meta
            assert meta["og:type"] == "article"
            assert meta["author"] == ", ".join(article.authors)
            times = tree.xpath("//time/@datetime")
            assert [datetime.fromisoformat(t) for t in times] == [article.published]
            assert times[0].endswith("+02:00")


def test_tracking_parameters_serve_the_same_page(
    server: DemoServer, truth: dict[str, ArticleTruth]
) -> None:
    url = next(iter(truth))
    status, _, body = fetch(url + "?utm_source=home&utm_medium=teaser")
    assert status == 200
    assert fetch(url)[2] == body


def test_non_article_pages_are_served(server: DemoServer) -> None:
    for url in non_article_urls(server.sites):
        status, headers, body = fetch(url)
        assert status == 200, url
        assert headers["Content-Type"] == "text/html; charset=utf-8"
        assert b'property="og:type" content="article"' not in body
    about_pages = ("/impressum.html", "/about/", "/a-propos.html")
    about = [u for u in non_article_urls(server.sites) if u.endswith(about_pages)]
    assert len(about) == 3
    for url in about:
        page = fetch_text(url)
        assert "<time" not in page
        assert "<article" not in page


# -- feeds and sitemaps ------------------------------------------------------------------------


def xml_of(url: str, content_type: str) -> etree._Element:
    status, headers, body = fetch(url)
    assert status == 200, url
    assert headers["Content-Type"] == content_type, url
    return etree.fromstring(body)


def test_rss_feeds_list_exactly_the_articles(
    server: DemoServer, truth: dict[str, ArticleTruth]
) -> None:
    for site in server.sites:
        root = xml_of(site.feed_url, "application/rss+xml; charset=utf-8")
        assert root.tag == "rss" and root.get("version") == "2.0"
        items = root.findall("./channel/item")
        links = [item.findtext("link") for item in items]
        expected = site_truth(truth, site)
        assert sorted(links) == sorted(expected)
        for item in items:
            article = expected[item.findtext("link") or ""]
            assert item.findtext("title") == article.title
            assert item.findtext("guid") == article.url
            assert item.findtext("description")
            assert parsedate_to_datetime(item.findtext("pubDate") or "") == article.published


def test_atom_feed_of_harbour(server: DemoServer, truth: dict[str, ArticleTruth]) -> None:
    harbour = server.site("harbour")
    assert harbour.atom_url == harbour.url("/atom.xml")
    assert all(s.atom_url is None for s in server.sites if s.name != "harbour")
    root = xml_of(harbour.atom_url, "application/atom+xml; charset=utf-8")
    entries = root.findall(f"{ATOM_NS}entry")
    expected = site_truth(truth, harbour)
    links = [str(e.xpath("a:link[@rel='alternate']/@href", namespaces=NS)[0]) for e in entries]
    assert sorted(links) == sorted(expected)
    for entry, link in zip(entries, links, strict=True):
        article = expected[str(link)]
        assert entry.findtext(f"{ATOM_NS}title") == article.title
        published = datetime.fromisoformat(entry.findtext(f"{ATOM_NS}published") or "")
        assert published == article.published
        assert entry.findtext(f"{ATOM_NS}updated")
    assert fetch(server.site("rundschau").url("/atom.xml"))[0] == 404


def test_sitemaps_list_articles_and_pages_separately(
    server: DemoServer, truth: dict[str, ArticleTruth]
) -> None:
    gzipped = []
    for site in server.sites:
        index = xml_of(site.sitemap_url, "application/xml; charset=utf-8")
        assert index.tag == f"{SITEMAP_NS}sitemapindex"
        children = [loc.text or "" for loc in index.iter(f"{SITEMAP_NS}loc")]
        assert len(children) == 2
        news_url = next(c for c in children if "sitemap-news" in c)
        pages_url = next(c for c in children if "sitemap-pages" in c)
        if news_url.endswith(".gz"):
            gzipped.append(site.name)

        news = xml_of(site.url("/sitemap-news.xml"), "application/xml; charset=utf-8")
        expected = site_truth(truth, site)
        urls = news.findall(f"{SITEMAP_NS}url")
        assert sorted(u.findtext(f"{SITEMAP_NS}loc") or "" for u in urls) == sorted(expected)
        for url in urls:
            article = expected[url.findtext(f"{SITEMAP_NS}loc") or ""]
            assert url.findtext(f"{SITEMAP_NS}lastmod")
            block = url.find(f"{NEWS_NS}news")
            assert block is not None
            assert block.findtext(f"{NEWS_NS}title") == article.title
            assert block.find(f"{NEWS_NS}publication") is not None
            date = block.findtext(f"{NEWS_NS}publication_date") or ""
            assert datetime.fromisoformat(date) == article.published

        status, headers, body = fetch(site.url("/sitemap-news.xml.gz"))
        assert status == 200
        assert headers["Content-Type"] == "application/gzip"
        plain = fetch(site.url("/sitemap-news.xml"))[2]
        assert gzip.decompress(body) == plain

        pages = xml_of(pages_url, "application/xml; charset=utf-8")
        listed = {loc.text for loc in pages.iter(f"{SITEMAP_NS}loc")}
        assert not listed & set(expected)
        assert site.home_url in listed
        assert not any("/private/" in str(u) for u in listed)
        non_articles = set(non_article_urls([site]))
        assert listed == {u for u in non_articles if "/private/" not in u}
    assert gzipped == ["harbour"]


# -- server behaviour --------------------------------------------------------------------------


def test_unknown_paths_are_404(server: DemoServer) -> None:
    for site in server.sites:
        status, headers, body = fetch(site.url("/does/not/exist.html"))
        assert status == 404
        assert headers["Content-Type"] == "text/html; charset=utf-8"
        assert b"<html" in body


def test_conditional_requests(server: DemoServer, truth: dict[str, ArticleTruth]) -> None:
    url = next(iter(truth))
    status, headers, _ = fetch(url)
    assert status == 200
    status, _, body = fetch(url, {"If-None-Match": headers["ETag"]})
    assert (status, body) == (304, b"")
    status, _, _ = fetch(url, {"If-Modified-Since": headers["Last-Modified"]})
    assert status == 304
    status, _, _ = fetch(url, {"If-None-Match": '"stale"'})
    assert status == 200


def test_request_log_records_requests(server: DemoServer) -> None:
    server.clear_request_log()
    site = server.site("courrier")
    fetch(site.url("/?utm_source=test"), {"User-Agent": "demo-test/1.0"})
    fetch(site.url("/nope"))
    log = server.requests("courrier")
    assert [(r.method, r.path, r.status) for r in log] == [
        ("GET", "/?utm_source=test", 200),
        ("GET", "/nope", 404),
    ]
    assert log[0].headers["User-Agent"] == "demo-test/1.0"
    assert log[0].site == "courrier"
    assert server.request_log == log
    server.clear_request_log()
    assert server.request_log == []


def test_sources_file(server: DemoServer, tmp_path: Path) -> None:
    path = tmp_path / "sources.yaml"
    write_sources_file(server.sites, path)
    rundschau, harbour, courrier = server.sites
    assert path.read_text(encoding="utf-8") == (
        "sources:\n"
        "  - name: rundschau\n"
        f"    feeds: [{rundschau.feed_url}]\n"
        "    language: de\n"
        "  - name: harbour\n"
        f"    sitemaps: [{harbour.sitemap_url}]\n"
        "    language: en\n"
        "  - name: courrier\n"
        f"    start_urls: [{courrier.home_url}]\n"
    )
    loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert loaded["sources"][0] == {
        "name": "rundschau",
        "feeds": [rundschau.feed_url],
        "language": "de",
    }
    assert loaded["sources"][2] == {"name": "courrier", "start_urls": [courrier.home_url]}


def test_server_stops_cleanly_and_frees_its_ports() -> None:
    demo = DemoServer(hosts={"harbour": "127.0.0.3"})
    with demo:
        (site,) = demo.sites
        assert fetch(site.home_url)[0] == 200
    assert demo.sites == []
    with pytest.raises(urllib.error.URLError):
        fetch(site.home_url)
    with pytest.raises(ValueError):
        DemoServer(hosts={"nonexistent": "127.0.0.9"})


def test_command_line_prints_sites_and_stops_on_sigterm() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "crawler.demo.server"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        info = json.loads(line)
        names = [s["name"] for s in info["sites"]]
        assert names == ["rundschau", "harbour", "courrier"]
        for site in info["sites"]:
            assert set(site) >= {"name", "base_url", "feed_url", "sitemap_url", "home_url"}
        assert fetch(info["sites"][0]["home_url"])[0] == 200
        process.terminate()
        _, stderr = process.communicate(timeout=10)
        assert process.returncode == 0, stderr
        assert stderr == ""
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
