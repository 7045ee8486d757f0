"""A hostile news site on loopback: broken, lying, huge and malicious responses, plus two good
articles among them (real pages of tests/fixtures/pages with their URLs rewritten).

    with HostileSite() as site:
        site.index_url   # a sitemap index: every case is reachable from it

A ``ThreadingHTTPServer`` on ``127.0.0.9``, port 0. Every response is built at start except
the streamed ones. tests/test_hostile_pages.py crawls it; docs/reliability.md lists the cases.
"""

from __future__ import annotations

import gzip
import random
import re
import socketserver
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

PAGES = Path(__file__).resolve().parent / "fixtures" / "pages"
HOST = "127.0.0.9"
HARBOUR_BASE = "http://127.0.0.3:8601"
HARBOUR_PATH = "/2024/01/18/waterfront-businesses-storm-cleanup/"
RUNDSCHAU_BASE = "http://127.0.0.2:8601"
RUNDSCHAU_PATH = "/wirtschaft/2022/09/energiepreise-zulieferer-chemiepark-kurzarbeit.html"
COURRIER_BASE = "http://127.0.0.4:8601"
HUGE_BYTES = 10 * 1024 * 1024  # streamed; the test crawls with DOWNLOAD_MAXSIZE=4_000_000
BOMB_BYTES = 50 * 1024 * 1024  # what the gzip bombs inflate to (about 50 kB on the wire)
LISTED_TIMES, GONE_PAGES = 200, 250  # the big sitemap: 250 pages x 200 spellings = 50,000 URLs
PASSWD_MARKER = "root:x:0:0"


@dataclass
class Reply:
    status: int = 200
    content_type: str | None = "text/html; charset=utf-8"
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    stream: Callable[[], Iterator[bytes]] | None = None  # no Content-Length: until closed
    length: int | None = None  # a Content-Length to declare (default: the body's)


def _fixture(name: str) -> str:
    return (PAGES / name).read_text(encoding="utf-8")


def _japanese_article() -> str:
    paragraph = ("東京都内の商店街では、夏祭りの準備が進められている。地元の住民や商店主らが"
                 "協力し、提灯や屋台の設営に取り組んでいる。主催者によると、今年は例年より"
                 "多くの来場者が見込まれるという。")
    body = "".join(f"<p>{paragraph}（{i}）</p>\n" for i in range(12))
    return ("<html><head><title>夏祭りの準備進む　商店街に活気</title></head><body><article>"
            f"<h1>夏祭りの準備進む　商店街に活気</h1>{body}</article></body></html>")


def _slow_page() -> bytes:
    """About 3.4 MB of small blocks: trafilatura needs several seconds for it, far more than
    the test's NEWS_EXTRACT_TIMEOUT."""
    return ("<html><body>" + "".join(
        f"<div class='c{i % 50}'><span>text {i} more words</span></div>" for i in range(60_000))
        + "</body></html>").encode()


def _nested() -> bytes:
    return (b"<html><body>" + b"<div>" * 100_000 + b"deep text " * 100 + b"</div>" * 100_000
            + b"</body></html>")


def _story_in_second_document(html: str) -> str:
    story = re.search(r"<article.*?</article>", html, re.S)
    assert story is not None
    return html.replace(story.group(0), "").replace("</html>", (
        '</html>\n<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01 Transitional//EN">\n<html>\n'
        '<head>\n<style type="text/css">\n.story { font-family: Arial; }\n</style>\n</head>\n'
        '<body>\n<table width="60%"><tr><td class="story">' + story.group(0)
        + "</td></tr></table>\n</body>\n</html>\n"))


def _malformed() -> bytes:
    return ('<html><head><title>Broken <b>page</title><meta charset="utf-8" <meta name=x '
            'content="unclosed></head><body><div><p>Text <a href="/x>link</p></div></div></div>'
            '<table><tr><td>cell<td>cell</table></tr><<<>>>&&&;&#0;&#xD800;&#99999999;<!-- '
            'unclosed comment <script>var a = "</script><p>after</p>' + "<p>" * 5000
            + "</html></body>").encode()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    site: HostileSite

    def server_bind(self) -> None:  # no getfqdn() DNS lookup of the address
        socketserver.TCPServer.server_bind(self)

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # clients hang up on the huge responses by design


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        site = self.server.site
        site.record(self.path)
        reply = site.reply(self.path)
        self.send_response(reply.status)
        if reply.content_type:
            self.send_header("Content-Type", reply.content_type)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        if reply.stream is None:
            length = reply.length if reply.length is not None else len(reply.body)
            self.send_header("Content-Length", str(length))
        self.end_headers()
        try:
            if reply.stream is not None:
                for chunk in reply.stream():
                    self.wfile.write(chunk)
            elif reply.length is not None and reply.length > len(reply.body):
                for _ in range(reply.length // 65536 + 1):
                    self.wfile.write(b"x" * 65536)
            else:
                self.wfile.write(reply.body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, format: str, *args: Any) -> None:
        pass


class HostileSite:
    def __init__(self, host: str = HOST) -> None:
        self._server = _Server((host, 0), _Handler)
        self._server.site = self
        address, port = self._server.server_address[:2]
        self.base = f"http://{address!s}:{port}"
        self.index_url = f"{self.base}/sitemap-index.xml"
        self.requests: list[str] = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self.routes: dict[str, Reply] = {}
        self.good: dict[str, str] = {}  # URL -> title of the two good articles
        self._build()

    # -- lifecycle ---------------------------------------------------------------------------

    def __enter__(self) -> HostileSite:
        self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._server.shutdown()
        self._server.server_close()

    def record(self, path: str) -> None:
        with self._lock:
            self.requests.append(path)

    def reply(self, raw_path: str) -> Reply:
        split = urlsplit(raw_path)
        path = split.path
        if path.startswith("/bad/loop/"):  # an endless chain of redirects
            step = int(path.rsplit("/", 1)[-1] or 0)
            return Reply(302, None, headers={"Location": f"/bad/loop/{step + 1}"})
        if path.startswith("/g/"):  # the big sitemap's pages: gone
            return Reply(404, "text/plain", b"gone")
        return self.routes.get(path, Reply(404, "text/plain", b"not found"))

    # -- the site ----------------------------------------------------------------------------

    def _page(self, path: str, html: str, *, charset: str = "utf-8", **kwargs: Any) -> None:
        self.routes[path] = Reply(body=html.encode(charset), **kwargs)

    def _variant(self, path: str, edit: Callable[[str], str] = lambda h: h) -> str:
        """The harbour article at another path (canonical and og:url follow), edited."""
        html = _fixture("harbour-article.html").replace(HARBOUR_BASE + HARBOUR_PATH,
                                                        self.base + path)
        return edit(html.replace(HARBOUR_BASE, self.base))

    def _build(self) -> None:
        base = self.base
        # Two good articles, as their sites serve them, on this host.
        harbour = _fixture("harbour-article.html").replace(HARBOUR_BASE, base)
        rundschau = _fixture("rundschau-article.html").replace(RUNDSCHAU_BASE, base)
        self._page(HARBOUR_PATH, harbour)
        self._page(RUNDSCHAU_PATH, rundschau)
        self.good = {
            base + HARBOUR_PATH: "Waterfront businesses count the cost as storm cleanup "
                                 "enters second week",
            base + RUNDSCHAU_PATH: "Energiepreise: Zulieferer im Chemiepark Leverkusen melden "
                                   "Kurzarbeit an",
        }
        pages: list[str] = [HARBOUR_PATH, RUNDSCHAU_PATH]

        def add(path: str, reply: Reply) -> None:
            self.routes[path] = reply
            pages.append(path)

        rng = random.Random(20240501)
        headline = "Waterfront businesses count the cost as storm cleanup enters second week"
        long_title = ("Sturm " * 20_000)[:100_000]

        def dates(year: str) -> Callable[[str], str]:
            return lambda h: (h.replace("2024-01-18T16:20:00", f"{year}-01-01T00:00:00")
                              .replace("January 18, 2024", f"January 1, {year}")
                              .replace("/2024/01/", f"/{year}/01/"))

        variants: dict[str, Callable[[str], str]] = {
            "/bad/long-title.html": lambda h: h.replace(headline, long_title),
            "/bad/year-9999.html": dates("9999"),
            "/bad/year-1900.html": dates("1900"),
            "/bad/language.html": lambda h: h.replace(
                '<html lang="en">', '<html lang="xx-GARBAGE!!" xml:lang="&#0;">').replace(
                "<head>", '<head><meta http-equiv="content-language" content="klingon, ??">'
                          '<meta property="og:locale" content="zz_ZZ">'),
            "/bad/control-chars.html": lambda h: h.replace(
                headline, "Water\x00front\x1b[31m busi\x7fnesses\x85 \u200bcount").replace(
                "<p>", "<p>\x01\x02\x0b\x0c\x1f\u2028\ufeff", 5).replace(
                "Priya Raman", "Priya\x00 Raman\x9b"),
            # JSON-LD nested past Python's recursion limit: the page's metadata is lost
            # (news/extract/metadata_errors), its text is not
            "/bad/deep-jsonld.html": lambda h: h.replace(
                "</head>", '<script type="application/ld+json">' + "[" * 5000 + "]" * 5000
                + "</script></head>", 1),
            # An old CMS pastes the story as a whole second document after </html>: libxml2
            # drops it, the HTML5 parser reads it (news/extract/html_repaired)
            "/bad/two-documents.html": _story_in_second_document,
        }
        for path, edit in variants.items():
            add(path, Reply(body=self._variant(path, edit).encode("utf-8")))
        # Encodings.
        add("/bad/cp1252-as-utf8.html", Reply(body=rundschau.replace(
            base + RUNDSCHAU_PATH, base + "/bad/cp1252-as-utf8.html").encode("cp1252")))
        japanese = _japanese_article()
        add("/bad/shift-jis.html", Reply(content_type="text/html; charset=shift_jis",
                                         body=japanese.encode("shift_jis")))
        add("/bad/shift-jis-undeclared.html", Reply(content_type="text/html",
                                                    body=japanese.encode("shift_jis")))
        courrier = _fixture("courrier-article.html").replace(COURRIER_BASE, base).replace(
            "charset=utf-8", "charset=utf-16")
        add("/bad/utf-16.html", Reply(content_type="text/html",
                                      body=courrier.encode("utf-16")))  # with a BOM
        # Broken markup.
        add("/bad/truncated.html", Reply(body=self._variant("/bad/truncated.html").encode()[
            :4500]))
        add("/bad/malformed.html", Reply(body=_malformed()))
        add("/bad/nested.html", Reply(body=_nested()))
        add("/bad/slow.html", Reply(body=_slow_page()))
        # Not HTML, whatever the header says.
        png = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(rng.randrange(256)
                                                         for _ in range(3000)))
        add("/bad/png-as-html.html", Reply(body=png))
        add("/bad/random-bytes.html", Reply(body=bytes(rng.randrange(256) for _ in range(20000))))
        add("/bad/empty.html", Reply(body=b""))
        add("/bad/document.pdf", Reply(content_type="application/pdf",
                                       body=b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n" + png))
        add("/bad/photo.jpg", Reply(content_type="image/jpeg", body=b"\xff\xd8\xff\xe0" + png))
        # Too big.
        add("/bad/huge-streamed.html", Reply(stream=lambda: (
            b"<html><body>" if i == 0 else b"<p>" + b"x" * 65530 + b"</p>"
            for i in range(HUGE_BYTES // 65536 + 1))))
        add("/bad/huge-declared.html", Reply(body=b"<html>", length=HUGE_BYTES))
        bomb = gzip.compress(b"\0" * BOMB_BYTES, compresslevel=9)
        add("/bad/gzip-bomb.html", Reply(body=bomb, headers={"Content-Encoding": "gzip"}))
        # Redirects.
        add("/bad/loop/0", Reply())  # served by reply(): /bad/loop/N -> /bad/loop/N+1
        add("/bad/cycle-a.html", Reply(302, None, headers={"Location": "/bad/cycle-b.html"}))
        self.routes["/bad/cycle-b.html"] = Reply(302, None,
                                                 headers={"Location": "/bad/cycle-a.html"})
        add("/bad/redirect-to-file.html", Reply(302, None,
                                                headers={"Location": "file:///etc/passwd"}))
        port = base.rsplit(":", 1)[1]
        add("/bad/redirect-to-unspecified.html", Reply(302, None, headers={
            "Location": f"http://0.0.0.0:{port}{HARBOUR_PATH}"}))
        add("/bad/refresh-to-ipv6-loopback.html", Reply(body=(
            f'<html><head><meta http-equiv="refresh" content="0;url=http://[::1]:{port}/refreshed">'
            "</head><body>moved</body></html>").encode()))
        # robots.txt that is garbage.
        self.routes["/robots.txt"] = Reply(content_type="text/plain",
                                           body=bytes(rng.randrange(256) for _ in range(5000)))

        # -- discovery ----------------------------------------------------------------------
        listed = [f"{base}{p}" for p in pages] + [
            "file:///etc/passwd", "javascript:alert(document.cookie)",
            "data:text/html,<script>alert(1)</script>", f"ftp://{HOST}:{port}/pub/x",
            f"http://[::1]:{port}/", "http://[bad-ipv6/", f"{base}/bad/%zz%00\x00",
        ]
        self.routes["/sitemaps/pages.xml"] = Reply(content_type="application/xml", body=(
            '<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/'
            'schemas/sitemap/0.9">\n' + "".join(
                f"<url><loc>{_xml_escape(u)}</loc></url>\n" for u in listed)
            + "</urlset>\n").encode())
        self.routes["/sitemaps/big.xml"] = Reply(content_type="application/xml", body=(
            '<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/'
            'schemas/sitemap/0.9">\n' + "".join(
                f"<url><loc>{base}/g/{i % GONE_PAGES}?fbclid={i}</loc></url>\n"
                for i in range(GONE_PAGES * LISTED_TIMES)) + "</urlset>\n").encode())
        self.routes["/sitemaps/malformed.xml"] = Reply(content_type="application/xml", body=(
            f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            f"<url><loc>{base}/bad/never</loc><url><loc></urlset").encode())
        self.routes["/sitemaps/billion-laughs.xml"] = Reply(
            content_type="application/xml",
            body=(PAGES.parent / "discovery" / "billion-laughs.xml").read_bytes())
        self.routes["/sitemaps/bomb.xml.gz"] = Reply(content_type="application/x-gzip",
                                                     body=bomb)
        self.routes["/feeds/malformed.xml"] = Reply(content_type="application/rss+xml", body=(
            b'<?xml version="1.0"?><rss version="2.0"><channel><title>x</ti\x00tle><item><</'))
        self.routes["/feeds/xxe.xml"] = Reply(content_type="application/rss+xml", body=(
            '<?xml version="1.0"?>\n<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">'
            '<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>\n'
            '<rss version="2.0"><channel><title>&xxe;</title><link>/</link>'
            f"<item><title>&xxe;&lol2;</title><link>{base}/bad/xxe-entry.html</link>"
            "<description>&xxe;</description></item></channel></rss>").encode())
        undated = self._variant("/bad/xxe-entry.html", _undated)
        self.routes["/bad/xxe-entry.html"] = Reply(body=undated.encode())
        self.routes["/feeds/dates.xml"] = Reply(content_type="application/rss+xml", body=(
            '<?xml version="1.0"?><rss version="2.0"><channel><title>Dates</title>'
            f"<item><title>In 9999</title><link>{base}/bad/undated-9999.html</link>"
            "<pubDate>Fri, 31 Dec 9999 23:59:59 GMT</pubDate></item>"
            f"<item><title>In 1900</title><link>{base}/bad/undated-1900.html</link>"
            "<pubDate>Mon, 01 Jan 1900 00:00:00 GMT</pubDate></item>"
            "</channel></rss>").encode())
        for year in ("9999", "1900"):
            path = f"/bad/undated-{year}.html"
            self.routes[path] = Reply(body=self._variant(path, _undated).encode())
        self.sitemaps = ["/sitemaps/pages.xml", "/sitemaps/big.xml", "/sitemaps/malformed.xml",
                         "/sitemaps/billion-laughs.xml", "/sitemaps/bomb.xml.gz",
                         "/feeds/malformed.xml", "/feeds/xxe.xml", "/feeds/dates.xml"]
        self.routes["/sitemap-index.xml"] = Reply(content_type="application/xml", body=(
            '<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex xmlns="http://www.sitemaps'
            '.org/schemas/sitemap/0.9">\n' + "".join(
                f"<sitemap><loc>{base}{p}</loc></sitemap>\n" for p in self.sitemaps)
            + "</sitemapindex>\n").encode())
        self.pages = pages


def _undated(html: str) -> str:
    """No date anywhere a date extractor looks: meta, <time>, text, image path."""
    return (html.replace('<meta property="article:published_time" '
                         'content="2024-01-18T16:20:00-04:00">', "")
            .replace('<time datetime="2024-01-18T16:20:00-04:00">January 18, 2024 at 4:20 '
                     'p.m.</time>', "")
            .replace("/uploads/2024/01/", "/uploads/"))


def _xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace(
        "\x00", "")
