"""The web mode's page variants (benchmarks/_web.py): new text, the same markup and encoding."""

from __future__ import annotations

import re
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.append(str(BENCHMARKS))

import _web  # noqa: E402

LONG = "This sentence of the original article has well over twelve words in it, surely."
PAGE = f"""<!DOCTYPE html><html><head><title>{LONG}</title>
<script type="application/ld+json">{{"@type": "NewsArticle", "articleBody": "{LONG}"}}</script>
</head><body><header><p>{LONG}</p></header>
<article><h1>{LONG}</h1><p>{LONG[:40]} <a href="/x">a link</a> {LONG[40:]}</p>
<p>Short line.</p><p>Это русский текст статьи, в котором больше двенадцати слов, чтобы его
заменили другим текстом.</p></article><footer>{LONG}</footer></body></html>"""
POOL = {
    "LATIN": [(1, "Another page's paragraph with different words entirely, and a few more to "
                  "make it long enough for the run"), (0, "own paragraph must not be used"),
              (3, "Yet another paragraph, of a third page, long enough to fill the run on its "
                  "own with plenty of words to spare")],
    "CYRILLIC": [(2, "Совсем другой абзац другой статьи, написанный кириллицей, и он довольно "
                     "длинный для замены")],
}
_TAGS = re.compile(r"<[^>]+>")


def test_variant_replaces_long_body_text_only() -> None:
    layout = _web.cut(PAGE.encode("utf-8"))
    assert layout is not None
    new = _web.variant(layout, POOL, 0, 1).decode("utf-8")
    assert _TAGS.findall(new) == _TAGS.findall(PAGE)  # the markup, byte for byte
    assert "Another page's paragraph" in new or "Yet another paragraph" in new
    assert "Совсем другой абзац" in new
    assert "own paragraph" not in new
    assert "Short line." in new
    # kept: title, JSON-LD apart from articleBody, header, h1, footer
    assert new.count(LONG) == 4
    assert f'"articleBody": "{LONG}"' not in new
    assert 0.8 < len(new) / len(PAGE) < 1.2
    assert len({_web.variant(layout, POOL, 0, k) for k in range(1, 7)}) > 1
    assert _web.variant(layout, POOL, 0, 1) == new.encode("utf-8")  # deterministic


def test_variant_keeps_the_encoding() -> None:
    page = ('<html><head><meta charset="windows-1251"></head><body><p>Это русский текст '
            'статьи, в котором больше двенадцати слов, чтобы его заменили другим текстом.'
            '</p></body></html>').encode("cp1251")
    layout = _web.cut(page)
    assert layout is not None and layout.encoding == "cp1251"
    new = _web.variant(layout, POOL, 0, 1)
    assert "Совсем другой".encode("cp1251") in new


def test_hosts_are_distinct_loopback_addresses() -> None:
    hosts = [_web.host(p) for p in range(600)]
    assert len(set(hosts)) == 600
    assert hosts[0] == "127.0.0.2" and hosts[180] == "127.0.0.182"
    for address in hosts:
        a, b, _c, d = (int(part) for part in address.split("."))
        assert (a, b) == (127, 0) and 0 < d < 255 and address != "127.0.0.1"


def test_a_second_runs_sitemap_lists_each_sites_next_articles() -> None:
    built = _web.Built(pages=[[b"<html>a</html>", b"<html>b</html>"]] * 3, seconds=0.0,
                       unchanged=0, no_runs=0, replaced_share=0.0)
    server = _web.WebServer(built, max_n=12)
    server.port = 8000
    first = server.route("/sitemap-6.xml", _web.host(1)).decode()
    second = server.route("/sitemap-6-12.xml", _web.host(1)).decode()
    assert re.findall(r"/articles/(\d+)\.html", first) == ["0", "1"]
    assert re.findall(r"/articles/(\d+)\.html", second) == ["2", "3"]  # 7 and 10 of 12
    sources = server.route("/__sources-6-12.yaml").decode()
    assert sources.count("/sitemap-6-12.xml") == 3
