from __future__ import annotations

from pathlib import Path

import pytest

from crawler.sources import SourcesError, load_sources, select_sources

ROOT = Path(__file__).resolve().parent.parent


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sources.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_sources_file_is_valid() -> None:
    sources = load_sources(ROOT / "sources.yaml")
    assert len(sources) >= 3
    assert all(s.urls for s in sources)


def test_full_entry(tmp_path: Path) -> None:
    path = _write(tmp_path, """
sources:
  - name: example-news
    feeds: [https://example.com/rss.xml]
    sitemaps: [https://example.com/sitemap.xml]
    start_urls: [https://example.com/]
    language: EN
    boilerplate: ['^Read more:']
""")
    (source,) = load_sources(path)
    assert source.name == "example-news"
    assert source.urls == ("https://example.com/rss.xml", "https://example.com/sitemap.xml",
                           "https://example.com/")
    assert source.language == "en"
    assert source.boilerplate[0].search("Read more: the rest")


@pytest.mark.parametrize(("text", "message"), [
    ("sources: {}", "a list under 'sources'"),
    ("sources:\n  - feeds: [https://x.org/rss]", "sources[0]: 'name' is required"),
    ("sources:\n  - name: a\n    feeds: [ftp://x.org/rss]", "source 'a': 'feeds': 'ftp://x.org/rss'"),
    ("sources:\n  - name: a", "source 'a': needs at least one of"),
    ("sources:\n  - name: a\n    feeds: [https://x.org/]\n  - name: a\n    feeds: [https://y.org/]",
     "source 'a': duplicate name"),
    ("sources:\n  - name: a\n    feed: [https://x.org/]", "unknown key(s) ['feed']"),
    ("sources:\n  - name: a\n    feeds: [https://x.org/]\n    boilerplate: ['(']",
     "bad boilerplate pattern"),
    ("sources:\n  - name: a\n    feeds: [https://x.org/]\n    language: german",
     "'language' must be"),
    ("sources: [", "not valid YAML"),
])
def test_malformed_file_names_file_entry_and_problem(tmp_path: Path, text: str,
                                                     message: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(SourcesError) as caught:
        load_sources(path)
    assert str(path) in str(caught.value)
    assert message in str(caught.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SourcesError, match="file not found"):
        load_sources(tmp_path / "nope.yaml")


def test_select_sources_one_of_the_file_or_an_adhoc_url(tmp_path: Path) -> None:
    path = _write(tmp_path, "sources:\n"
                  "  - name: alpha\n    feeds: [https://alpha.example/rss.xml]\n"
                  "  - name: beta\n    feeds: [https://beta.example/rss.xml]\n")
    assert [s.name for s in select_sources(path)] == ["alpha", "beta"]
    assert [s.name for s in select_sources(path, name="beta")] == ["beta"]
    with pytest.raises(SourcesError, match=r"no source named 'gamma' \(have: alpha, beta\)"):
        select_sources(path, name="gamma")
    # -a url: the file is not read at all
    adhoc = select_sources(tmp_path / "missing.yaml", url="https://news.example/feed")
    assert [(s.name, s.start_urls) for s in adhoc] == [("adhoc", ("https://news.example/feed",))]
    assert select_sources(path, name="mine", url="https://news.example/")[0].name == "mine"
    with pytest.raises(SourcesError, match="-a url"):
        select_sources(path, url="")
