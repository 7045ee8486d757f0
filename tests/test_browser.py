"""Pages that need a browser (crawler/browser.py), in real crawls: a loopback site whose article
text is written by a script, rendered by Debian's chromium; the browser's own requests behind
the URL guard; chromium missing; and ``newscrawl reextract`` over the rendered DOM archived."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pymongo
import pytest

from crawler.browser import DEFAULT_EXECUTABLE
from tests.conftest import ROOT, log_of, run_crawl, stored_articles
from tests.loopback import NOT_FOUND, LoopbackServer, Reply

CHROMIUM = shutil.which("chromium") or DEFAULT_EXECUTABLE
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                reason=f"no chromium at {CHROMIUM}: apt-get install chromium "
                                       f"(.ci/run does)")

SENTENCE = ("The harbour council agreed on Tuesday to rebuild the northern breakwater before "
            "the winter storms, after engineers found cracks along its whole length. ")
WORDS = len(SENTENCE.split())
SCRIPT_TEXT = [f"Paragraph {n}. " + SENTENCE * 3 for n in range(1, 9)]  # 8 x 3 x 24 > 300 words


def script_page(title: str, secret_url: str | None = None) -> bytes:
    """A declared NewsArticle whose HTML holds no text: a script writes its paragraphs (and
    with ``secret_url`` tries to fetch that URL first)."""
    jsonld = {"@context": "https://schema.org", "@type": "NewsArticle", "headline": title,
              "datePublished": "2024-05-02T09:30:00+00:00",
              "author": {"@type": "Person", "name": "Mia Jensen"}}
    leak = (f"fetch({json.dumps(secret_url)}).catch(function () {{}});\n"
            f"var i = new Image(); i.src = {json.dumps(secret_url + '.png')};\n"
            if secret_url else "")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<script type="application/ld+json">{json.dumps(jsonld)}</script>
</head><body>
<img src="/photo.jpg" alt="">
<article><h1>{title}</h1><div id="story"></div></article>
<script>
{leak}var paragraphs = {json.dumps(SCRIPT_TEXT)};
setTimeout(function () {{
  var story = document.getElementById("story");
  paragraphs.forEach(function (text) {{
    var p = document.createElement("p"); p.textContent = text; story.appendChild(p);
  }});
}}, 50);
</script>
</body></html>""".encode()


class ScriptSite:
    """The site (127.0.0.1) and a second server (127.0.0.2) its scripts must not reach."""

    def __init__(self) -> None:
        self.secret = LoopbackServer(lambda path: Reply(body=b"secret"), "127.0.0.2")
        self.site = LoopbackServer(self.reply, "127.0.0.1")

    def reply(self, path: str) -> Reply:
        if path == "/robots.txt":
            return Reply(content_type="text/plain", body=b"User-agent: *\nAllow: /\n")
        if path == "/":
            links = "".join(f'<p><a href="/news/2024/05/{slug}">{slug}</a></p>'
                            for slug in ("breakwater-rebuilt", "ferry-timetable-changes"))
            return Reply(body=f"<html><body><h1>Harbour Times</h1>{links}</body></html>"
                         .encode())
        if path == "/news/2024/05/breakwater-rebuilt":
            return Reply(body=script_page("Breakwater to be rebuilt",
                                          f"{self.secret.base}/secret"))
        if path == "/news/2024/05/ferry-timetable-changes":
            return Reply(body=script_page("Ferry timetable changes"))
        return NOT_FOUND

    def __enter__(self) -> ScriptSite:
        self.secret.__enter__()
        self.site.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.site.__exit__(None, None, None)
        self.secret.__exit__(None, None, None)


@pytest.fixture(scope="module")
def site() -> Iterator[ScriptSite]:
    with ScriptSite() as served:
        yield served


# Only the site's own address may be fetched: 127.0.0.2 is refused (the crawl's default in
# the tests, 127.0.0.0/8, would let it through).
ONLY_SITE = {"NEWS_ALLOWED_PRIVATE_NETWORKS": "127.0.0.1/32"}


def _fresh(uri: str, database: str) -> str:
    client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(uri)
    client.drop_database(database)
    client.close()
    return database



@pytest.fixture(scope="module")
def rendered_crawl(site: ScriptSite, mongo_uri: str,
                   tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    data_dir = tmp_path_factory.mktemp("browser")
    proc = run_crawl("-a", f"url={site.site.base}/news/2024/05/breakwater-rebuilt",
                     mongo_uri=mongo_uri, database=_fresh(mongo_uri, "browser_rendered"),
                     data_dir=data_dir,
                     settings=ONLY_SITE)
    assert proc.returncode == 0, log_of(proc)
    return {"proc": proc, "data_dir": data_dir, "database": "browser_rendered",
            "articles": stored_articles(mongo_uri, "browser_rendered", drop=False)}


def test_a_script_written_article_is_rendered_and_stored(rendered_crawl: dict[str, Any],
                                                         site: ScriptSite) -> None:
    proc, articles = rendered_crawl["proc"], rendered_crawl["articles"]
    url = f"{site.site.base}/news/2024/05/breakwater-rebuilt"
    assert list(articles) == [url], log_of(proc)
    doc = articles[url]
    assert doc["title"] == "Breakwater to be rebuilt"
    assert "rebuild the northern breakwater" in doc["text"]
    assert doc["word_count"] >= 300
    assert proc.stats["news/browser/rendered"] == 1
    assert proc.stats["news/source/adhoc/rendered"] == 1
    assert proc.stats["news/source/adhoc/fetched"] == 1  # the page, once: not again rendered
    assert "news/browser/failed" not in proc.stats
    # images are not loaded by the browser
    assert "/photo.jpg" not in site.site.paths
    assert proc.stats["news/browser/skipped"] >= 1


def test_the_browser_cannot_reach_an_address_the_crawler_may_not(
        rendered_crawl: dict[str, Any], site: ScriptSite) -> None:
    proc = rendered_crawl["proc"]
    assert site.secret.paths == [], "the page's script reached a refused address"
    assert proc.stats["news/browser/blocked"] >= 1, log_of(proc)
    assert "Browser request refused http://127.0.0.2" in proc.stderr


def test_without_chromium_one_warning_and_the_pages_need_a_browser(
        site: ScriptSite, mongo_uri: str, tmp_path: Path) -> None:
    proc = run_crawl("-a", f"url={site.site.base}/", mongo_uri=mongo_uri,
                     database=_fresh(mongo_uri, "browser_missing"), data_dir=tmp_path,
                     settings={**ONLY_SITE, "NEWS_BROWSER_EXECUTABLE": "/nonexistent"})
    assert proc.returncode == 0, log_of(proc)
    warnings = [line for line in proc.stderr.splitlines()
                if "WARNING" in line and "chromium" in line]
    assert len(warnings) == 1, log_of(proc)
    assert "NEWS_BROWSER_EXECUTABLE" in warnings[0]
    assert proc.stats["news/source/adhoc/refused_needs_browser"] == 2
    assert proc.stats["news/source/adhoc/refused_site_page_url"] == 1  # the home page, at /
    assert proc.stats["news/browser/unavailable"] == 1
    assert stored_articles(mongo_uri, "browser_missing", drop=False) == {}
    assert "needs a browser" in proc.stderr  # the run's table: 2 needs a browser


def test_browser_off_leaves_the_page_too_short(site: ScriptSite, mongo_uri: str,
                                               tmp_path: Path) -> None:
    proc = run_crawl("-a", f"url={site.site.base}/news/2024/05/ferry-timetable-changes",
                     mongo_uri=mongo_uri, database=_fresh(mongo_uri, "browser_off"),
                     data_dir=tmp_path,
                     settings={**ONLY_SITE, "NEWS_BROWSER": "False"})
    assert proc.returncode == 0, log_of(proc)
    assert proc.stats["news/source/adhoc/refused_too_short"] == 1
    assert "news/browser/rendered" not in proc.stats


def _reextract(*args: str, crawled: dict[str, Any], mongo_uri: str,
               settings: dict[str, str]) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "crawler.cli", "reextract", *args]
    for key, value in {"MONGO_DATABASE": crawled["database"],
                       "NEWS_DATA_DIR": str(crawled["data_dir"]), "NEWS_EXTRACT_WORKERS": "1",
                       "NEWS_ALLOWED_PRIVATE_NETWORKS": "127.0.0.1/32", **settings}.items():
        command += ["-s", f"{key}={value}"]
    env = {"MONGO_URI": mongo_uri, "PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    return subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True,
                          timeout=300, check=False)


def test_reextract_uses_the_archived_rendered_page(rendered_crawl: dict[str, Any],
                                                   mongo_uri: str) -> None:
    # No browser at all: the text can only come from the archived rendered DOM.
    proc = _reextract(crawled=rendered_crawl, mongo_uri=mongo_uri,
                      settings={"NEWS_BROWSER_EXECUTABLE": "/nonexistent"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "0 newly refused" in proc.stderr and "1 unchanged" in proc.stderr, \
        proc.stderr[-3000:]
    assert "No browser" not in proc.stderr


def test_reextract_with_render_renders_again(rendered_crawl: dict[str, Any], mongo_uri: str,
                                             site: ScriptSite) -> None:
    before = len(site.site.paths)
    proc = _reextract("--render", crawled=rendered_crawl, mongo_uri=mongo_uri, settings={})
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "1 unchanged" in proc.stderr, proc.stderr[-3000:]
    assert "/news/2024/05/breakwater-rebuilt" in site.site.paths[before:]
