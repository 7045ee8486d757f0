"""Real publishers' pages, crawled as the web serves them: every article is stored.

The pages of both public corpora (181 of scrapinghub-aeb, 257 of fundus-testdata) are served
at their published paths on 32 loopback hosts (tests/eval_sites.py), reached (a) through plain
sitemaps (no ``news:`` fields, no dates: nothing tells the crawler they are articles) and (b)
by following the links of each host's front page. Every one must be stored; the front pages
must not.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml

from tests.conftest import log_of, run_crawl, stored_articles
from tests.eval_sites import AEB, FUNDUS, EvalPage, EvalSites, aeb_pages, fundus_pages

pytestmark = pytest.mark.skipif(not (AEB.is_dir() and FUNDUS.is_dir()),
                                reason="../shared/eval not found")

HOSTS = 32
# Pages whose HTML holds no article text at all (rendered by script in a browser): nothing to
# store. HankookIlbo's HTML has the headline in <title> and an empty article container.
NO_TEXT = {"kr/HankookIlbo_2026_01_29.html.gz"}
CORPORA: dict[str, Callable[[], list[EvalPage]]] = {"aeb": aeb_pages, "fundus": fundus_pages}


@pytest.fixture(scope="module", params=sorted(CORPORA))
def sites(request: pytest.FixtureRequest) -> Iterator[EvalSites]:
    with EvalSites(CORPORA[request.param](), hosts=HOSTS) as served:
        yield served


def _sources(sites: EvalSites, path: Path, key: str) -> Path:
    entry = {"sitemaps": "/sitemap.xml", "start_urls": "/"}[key]
    sources = [{"name": f"host-{i}", key: [base + entry]} for i, base in enumerate(sites.base_urls)]
    path.write_text(yaml.safe_dump({"sources": sources}), encoding="utf-8")
    return path



@pytest.mark.parametrize("key", ["sitemaps", "start_urls"])
def test_every_real_article_is_stored(sites: EvalSites, mongo_uri: str, tmp_path: Path,
                                      key: str) -> None:
    sources = _sources(sites, tmp_path / "sources.yaml", key)
    database = f"real_pages_{len(sites.pages)}_{key}"
    proc = run_crawl(mongo_uri=mongo_uri, database=database, data_dir=tmp_path,
                     settings={"NEWS_SOURCES": str(sources)}, timeout=900)
    assert proc.returncode == 0, log_of(proc)
    stored = stored_articles(mongo_uri, database)
    expected = {url: page_id for page_id, url in sites.url_of.items() if page_id not in NO_TEXT}
    missing = sorted(expected[url] for url in set(expected) - set(stored))
    assert not missing, f"{len(missing)} of {len(expected)} articles not stored: {missing}\n" \
        + log_of(proc, 40)
    no_text = {sites.url_of[p] for p in NO_TEXT if p in sites.url_of}
    assert set(stored) - set(expected) <= no_text, "pages stored that are not articles"
    assert all(doc["text"] for doc in stored.values())
    stats = proc.stats
    if key == "start_urls":
        # the front pages were fetched and refused, each with a line saying why
        refused = [line for line in proc.stderr.splitlines() if "Not an article (" in line]
        assert all(" INFO: " in line for line in refused)
        fronts = {base + "/" for base in sites.base_urls}
        assert {line.rsplit(" ", 1)[-1] for line in refused} >= fronts
        no_text = sum(page.id in NO_TEXT for page in sites.pages)
        assert stats.get("news/page/not_article") == HOSTS + no_text
