from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import lxml.html
import pytest

from crawler.extraction.metadata import (
    PageMetadata,
    clean_authors,
    clean_title,
    normalize_language,
    page_metadata,
    parse_datetime,
)

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "metadata"
CET = timezone(timedelta(hours=1))
EDT = timezone(timedelta(hours=-4))
BIDEN = (
    "Biden und Putin führen ein 50-minütiges Telefonat inmitten zunehmender Spannungen"
    " in der Ukraine | Joe Biden"
)


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


# --------------------------------------------------------------------------- fixture pages


def test_jsonld_graph_page() -> None:
    url = "https://www.rheinische-rundschau.example/politik/biden-putin-telefonat-ukraine-12345/"
    meta = page_metadata(fixture("jsonld_graph.html"), url)
    # The JSON-LD headline keeps its " | Joe Biden" part; only the site name is ever removed.
    assert meta.headline == BIDEN
    assert meta.site_name == "Rheinische Rundschau"
    assert meta.description is not None and meta.description.endswith('"offenen Worten".')
    # Relative og:image resolved against the page URL.
    assert meta.image == (
        "https://www.rheinische-rundschau.example/wp-content/uploads/2024/01/biden-putin-1200x675.jpg"
    )
    # Authors referenced by @id are resolved through the @graph.
    assert meta.authors == ["Anna Becker", "Tobias Klein"]
    assert meta.published == datetime(2024, 1, 15, 10, 30, tzinfo=CET)
    assert meta.published.utcoffset() == timedelta(hours=1)  # the zone is kept as declared
    assert meta.published_source == "jsonld:datePublished"
    assert meta.modified == datetime(2024, 1, 15, 12, 2, 11, tzinfo=UTC)
    assert meta.modified_source == "jsonld:dateModified"
    assert meta.language == "de"
    assert meta.tags == ["Joe Biden", "Wladimir Putin", "Ukraine"]
    assert meta.section == "Politik"
    assert {"NewsArticle", "WebPage", "WebSite", "Person", "article"} <= meta.types
    assert meta.accessible_for_free is True


def test_opengraph_only_page() -> None:
    url = "https://www.harborledger.example/news/local/city-council-flood-barrier"
    meta = page_metadata(fixture("opengraph_only.html"), url)
    assert meta.headline == "City council approves $40 million flood barrier plan"
    assert meta.site_name == "The Harbor Ledger"
    assert meta.image == "https://cdn.harborledger.example/images/2024/03/seawall.jpg?w=1200"
    # "By ... and ..., Staff Writers" -> two names; the article:author profile URL is ignored.
    assert meta.authors == ["Jane Doe", "John Smith"]
    assert meta.published == datetime(2024, 3, 12, 18, 45, tzinfo=EDT)
    assert meta.published_source == "meta:article:published_time"
    assert meta.modified == datetime(2024, 3, 13, 7, 10, tzinfo=EDT)
    assert meta.modified_source == "meta:article:modified_time"
    assert meta.language == "en"
    # article:tag wins over the generic site-wide meta keywords.
    assert meta.tags == ["City Council", "Climate", "Infrastructure"]
    assert meta.section == "Local"
    assert meta.types == {"article"}
    assert meta.accessible_for_free is None


def test_microdata_page() -> None:
    url = "https://www.courrier-du-rhone.example/transports/greve-sncf-jeudi"
    meta = page_metadata(fixture("microdata.html"), url)
    assert meta.headline == "Grève à la SNCF : trafic très perturbé ce jeudi"
    assert meta.site_name == "Le Courrier du Rhône"
    # The byline's authors, not those of the "à lire aussi" teasers further down.
    assert meta.authors == ["Marie Dupont", "Luc Martin"]
    assert meta.published == datetime(2024, 2, 8, 6, 12, tzinfo=CET)
    assert meta.published_source == "itemprop:datePublished"
    assert meta.modified == datetime(2024, 2, 8, 9, 40, tzinfo=CET)
    assert meta.language == "fr"
    assert meta.tags == ["SNCF", "grève", "transports"]
    assert meta.section == "Transports"
    assert {"NewsArticle", "Person", "Organization", "article"} <= meta.types
    assert meta.accessible_for_free is False


def test_time_and_byline_only_page() -> None:
    url = "https://www.mainzeitung.example/region/hochwasser-pegel-main"
    meta = page_metadata(fixture("time_byline.html"), url)
    assert meta.headline == "Hochwasser: Pegel am Main steigt weiter"
    assert meta.authors == ["Max Mustermann"]  # "Von ... (dpa)" cleaned, teaser byline ignored
    # The <time> in the article, not the "today" date in the page header.
    assert meta.published == datetime(2024, 3, 5, 8, 15, tzinfo=CET)
    assert meta.published_source == "time[datetime]"
    assert meta.modified is None
    assert meta.language == "de"
    assert meta.types == set()


def test_malformed_jsonld_page() -> None:
    url = "https://www.diariodelpuerto.example/economia/alquiler-precios"
    meta = page_metadata(fixture("malformed_jsonld.html"), url)
    assert meta.headline == "Los precios del alquiler suben un 9% en un año"
    assert meta.site_name == "Diario del Puerto"
    # A Person author wins over an Organization author.
    assert meta.authors == ["Lucía Fernández Ruiz"]
    # RFC 822 datePublished, found in a mainEntity nested in a WebPage.
    assert meta.published == datetime(2024, 2, 10, 14, 5, tzinfo=CET)
    assert meta.published_source == "jsonld:datePublished"
    assert meta.modified == datetime(2024, 2, 10, 15, 20, tzinfo=UTC)
    assert meta.language == "es"  # from og:locale es_ES, no <html lang>
    assert meta.tags == ["vivienda", "alquiler", "precios"]
    assert meta.section == "Economía"
    assert meta.types == {"WebPage", "NewsArticle", "AnalysisNewsArticle"}
    assert meta.accessible_for_free is False  # the string "false"
    assert meta.image == "https://img.diariodelpuerto.example/2024/02/alquiler.jpg"


def test_page_without_metadata() -> None:
    url = "http://www.musterstadt-nachrichten.example/2023/11/02/radweg.html"
    meta = page_metadata(fixture("no_metadata.html"), url)
    # Only <title> and an <h1> that is a prefix of it: the h1 is the headline.
    assert meta.headline == "Stadtrat beschließt neuen Radweg an der Bahnhofstraße"
    assert meta.published == datetime(2023, 11, 2)
    assert meta.published.tzinfo is None
    assert meta.published_source == "url"
    assert meta.authors == []
    assert meta.site_name is None
    assert meta.language is None
    assert meta.tags == []
    assert meta.types == set()
    assert meta.accessible_for_free is None


def test_jsonld_list_with_organization_author_only() -> None:
    url = "https://www.northernwire.example/news/storm-henk-live"
    meta = page_metadata(fixture("jsonld_list_org_author.html"), url)
    # The LiveBlogPosting for this URL, not the teaser NewsArticle in the same list.
    assert meta.headline == "Live: Storm Henk latest as rail services cancelled"
    assert meta.site_name == "Northern Wire"
    assert meta.authors == ["Northern Wire Newsroom"]  # no Person: the Organization is used
    assert meta.published == datetime(2024, 1, 2, 7, 5)  # naive: the source has no zone
    assert meta.published_source == "jsonld:datePublished"
    assert meta.modified == datetime(2024, 1, 2, 16, 40)
    assert meta.language == "en"
    assert meta.tags == ["Storm Henk", "Weather", "Rail"]
    assert "LiveBlogPosting" in meta.types


def test_accepts_lxml_trees_and_bytes() -> None:
    url = "https://www.rheinische-rundschau.example/politik/biden-putin-telefonat-ukraine-12345/"
    html = fixture("jsonld_graph.html")
    from_text = page_metadata(html, url)
    assert page_metadata(lxml.html.fromstring(html), url) == from_text
    assert page_metadata(lxml.html.fromstring(html).getroottree(), url) == from_text
    assert page_metadata(html.encode("utf-8"), url) == from_text


def test_title_site_suffix_removed_but_other_parts_kept() -> None:
    html = (
        "<html><head><title>Neue Brücke eröffnet | Joe Biden | Rheinische Rundschau</title>"
        '<meta property="og:site_name" content="Rheinische Rundschau"></head>'
        "<body><p>Text</p></body></html>"
    )
    meta = page_metadata(html, "https://www.rundschau.example/a")
    assert meta.headline == "Neue Brücke eröffnet | Joe Biden"


def test_h1_is_never_cut() -> None:
    html = f"<html><head><title>Rundschau</title></head><body><h1>{BIDEN}</h1></body></html>"
    meta = page_metadata(html, "https://www.rheinische-rundschau.example/a")
    assert meta.headline == BIDEN


def test_truncated_jsonld_headline_replaced_by_full_one() -> None:
    full = "A very long headline about the budget talks that goes on and on and finally ends"
    html = (
        '<html><head><script type="application/ld+json">'
        '{"@type": "NewsArticle", "headline": "A very long headline about the budget talks…"}'
        f'</script><meta property="og:title" content="{full}"></head></html>'
    )
    assert page_metadata(html, "https://example.org/a").headline == full


def test_future_and_ancient_dates_are_rejected() -> None:
    html = (
        '<html><head><meta property="article:published_time" content="2999-01-01T00:00:00Z">'
        '<meta name="date" content="1990-05-05"></head><body>'
        '<article><time datetime="2024-05-06T07:08:00Z">6 May</time></article></body></html>'
    )
    meta = page_metadata(html, "https://example.org/news/a")
    assert meta.published == datetime(2024, 5, 6, 7, 8, tzinfo=UTC)
    assert meta.published_source == "time[datetime]"


def test_day_only_date_upgraded_by_same_day_time() -> None:
    html = (
        '<html><head><script type="application/ld+json">'
        '{"@type": "Article", "headline": "H", "datePublished": "2024-04-02"}</script>'
        '<meta property="article:published_time" content="2024-04-02T16:20:00+02:00">'
        "</head></html>"
    )
    meta = page_metadata(html, "https://example.org/a")
    assert meta.published == datetime(2024, 4, 2, 16, 20, tzinfo=timezone(timedelta(hours=2)))
    assert meta.published_source == "meta:article:published_time"


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        "   ",
        "<<<>>>",
        "\x00\x01\x02",
        b"\xff\xfe\x00garbage",
        '<script type="application/ld+json">{"@type": [1, null], "author": {"name": 5}}</script>',
        '<script type="application/ld+json">[1, "x", null, {"@graph": 7}]</script>',
        "<?xml version='1.0' encoding='utf-8'?><html><body><h1>Only a heading</h1></body></html>",
    ],
)
def test_garbage_never_raises(garbage: str | bytes) -> None:
    meta = page_metadata(garbage, "https://example.org/x")
    assert isinstance(meta, PageMetadata)
    assert meta.published is None
    assert not meta.failed  # unusable, not a failure


def test_a_failure_is_swallowed_and_flagged() -> None:
    """JSON-LD nested past the recursion limit: an empty result, flagged to be counted."""
    html = ('<html><head><script type="application/ld+json">' + "[" * 5000 + "]" * 5000
            + "</script><title>A title</title></head><body><p>Text</p></body></html>")
    meta = page_metadata(html, "https://example.org/2024/05/01/a")
    assert meta == PageMetadata(failed=True)


# --------------------------------------------------------------------------- clean_title


@pytest.mark.parametrize(
    ("title", "site", "expected"),
    [
        ("Storm closes schools | The Harbor Ledger", "The Harbor Ledger", "Storm closes schools"),
        ("Storm closes schools - the harbor  ledger", "The Harbor Ledger", "Storm closes schools"),
        ("The Harbor Ledger – Storm closes schools", "The Harbor Ledger", "Storm closes schools"),
        (
            "Storm closes schools :: Harbor Ledger",
            "The Harbor Ledger Online",
            "Storm closes schools",
        ),
        ("Storm closes schools · HARBOR LEDGER", "Harbor Ledger", "Storm closes schools"),
        ("Storm closes schools — Harbor Ledger", "Harbor Ledger", "Storm closes schools"),
        (
            "X | Joe Biden | Rheinische Rundschau",
            "Rheinische Rundschau",
            "X | Joe Biden",
        ),
        (BIDEN, "Rheinische Rundschau", BIDEN),
        ("Pegel steigt | DW | 28.04.2023", "DW", "Pegel steigt"),
        ("Steigende Zinsen | Börsen-Zeitung", "boersen-zeitung.de", "Steigende Zinsen"),
        ("Rundschau", "Rundschau", "Rundschau"),  # never returns an empty title
        ("Politics - Left and right", None, "Politics - Left and right"),
    ],
)
def test_clean_title(title: str, site: str | None, expected: str) -> None:
    assert clean_title(title, site) == expected


def test_clean_title_uses_host_name() -> None:
    title = "Kühltürme gesprengt - Stuttgarter Zeitung"
    assert clean_title(title, url="https://www.stuttgarter-zeitung.example/x") == (
        "Kühltürme gesprengt"
    )
    assert clean_title("Kühltürme gesprengt - Bilder", url="https://www.example.org/x") == (
        "Kühltürme gesprengt - Bilder"
    )


def test_clean_title_drops_section_after_site_name() -> None:
    title = "Thioune fordert Geduld | Sport | Bild.de"
    assert clean_title(title, "Bild.de", section="Sport") == "Thioune fordert Geduld"
    assert clean_title(title, "Bild.de") == "Thioune fordert Geduld | Sport"


# --------------------------------------------------------------------------- clean_authors


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (["By Jane Doe"], ["Jane Doe"]),
        (["Von Max Mustermann (dpa)"], ["Max Mustermann"]),
        (["Par Marie Dupont et Luc Martin"], ["Marie Dupont", "Luc Martin"]),
        (["Por Lucía Fernández y Pablo Gil"], ["Lucía Fernández", "Pablo Gil"]),
        (["di Mario Rossi"], ["Mario Rossi"]),
        (["Luigi Di Maio"], ["Luigi Di Maio"]),
        (["Jane Doe, Reporter"], ["Jane Doe"]),
        (["Jane Doe | Correspondent"], ["Jane Doe"]),
        (["John Smith, Staff Writer"], ["John Smith"]),
        (["Anna Becker und Tobias Klein"], ["Anna Becker", "Tobias Klein"]),
        (["Anna Becker & Tobias Klein; Eva Roth"], ["Anna Becker", "Tobias Klein", "Eva Roth"]),
        (["Jane Doe jane.doe@example.com"], ["Jane Doe"]),
        (["https://www.facebook.com/janedoe", "Jane Doe"], ["Jane Doe"]),
        (["  Jane \n  Doe  "], ["Jane Doe"]),
        (["Jane Doe", "JANE DOE", "jane-doe", "John Smith"], ["Jane Doe", "John Smith"]),
        (["Redaktion 24/7 Nachrichtendienst"], []),
        (["This is clearly a whole sentence and not a name"], []),
        (["", "   ", "Staff Writer"], []),
        (["신현주 기자"], ["신현주"]),
    ],
)
def test_clean_authors(raw: list[str], expected: list[str]) -> None:
    assert clean_authors(raw) == expected


# --------------------------------------------------------------------------- parse_datetime


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-01-15T10:30:00+01:00", datetime(2024, 1, 15, 10, 30, tzinfo=CET)),
        ("2024-01-15T09:30:00Z", datetime(2024, 1, 15, 9, 30, tzinfo=UTC)),
        ("2024-01-15T10:30:00.123+0100", datetime(2024, 1, 15, 10, 30, 0, 123000, tzinfo=CET)),
        ("2024-01-15 10:30", datetime(2024, 1, 15, 10, 30)),
        ("2024-01-15", datetime(2024, 1, 15)),
        ("Mon, 15 Jan 2024 10:30:00 +0100", datetime(2024, 1, 15, 10, 30, tzinfo=CET)),
        ("Mon, 15 Jan 2024 09:30:00 GMT", datetime(2024, 1, 15, 9, 30, tzinfo=UTC)),
        ("2024-01-15T10:30:00+01:00Z", datetime(2024, 1, 15, 10, 30, tzinfo=CET)),
        (
            "January 15, 2024 10:30 AM EST",
            datetime(2024, 1, 15, 10, 30, tzinfo=timezone(-timedelta(hours=5))),
        ),
        ("1705311000", datetime(2024, 1, 15, 9, 30, tzinfo=UTC)),
    ],
)
def test_parse_datetime(value: str, expected: datetime) -> None:
    result = parse_datetime(value)
    assert result == expected
    assert (result.tzinfo is None) == (expected.tzinfo is None)
    if expected.tzinfo is not None:
        assert result.utcoffset() == expected.utcoffset()


@pytest.mark.parametrize(
    "value",
    [
        "",
        "garbage",
        "yesterday",
        "May 2024",  # incomplete: no day
        "2024",
        "9999-12-31T23:59:59Z",
        "9999-01-01",
        "1994-12-31",
        "2024-13-45",
        "32/13/2024",
    ],
)
def test_parse_datetime_rejects(value: str) -> None:
    assert parse_datetime(value) is None


def test_parse_datetime_future_limit_is_one_day() -> None:
    now = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
    assert parse_datetime("2024-06-02T11:00:00Z", now=now) is not None
    assert parse_datetime("2024-06-03T12:00:00Z", now=now) is None
    assert parse_datetime("2024-06-03", now=now) is None


# --------------------------------------------------------------------------- language


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("de-DE", "de"),
        ("en_US", "en"),
        ("FR", "fr"),
        ("pt-BR, en", "pt"),
        ("zz-garbage", None),
        ("x-default", None),
        ("english", None),
        ("d3", None),
        ("", None),
        (None, None),
    ],
)
def test_normalize_language(value: str | None, expected: str | None) -> None:
    assert normalize_language(value) == expected


# --------------------------------------------------------------------------- paywall markers


def _paywall_page(head: str) -> str:
    return f"<html><head>{head}</head><body><article><p>Visible lead.</p></article></body></html>"


@pytest.mark.parametrize(
    ("head", "free", "source"),
    [
        ('<meta property="article:content_tier" content="locked">', False,
         "meta:article:content_tier"),
        ('<meta property="article:content_tier" content="metered">', False,
         "meta:article:content_tier"),
        ('<meta property="article:content_tier" content="free">', True,
         "meta:article:content_tier"),
        (
            '<script type="application/ld+json">{"@type": "NewsArticle", "headline": "H",'
            ' "isAccessibleForFree": true, "hasPart": {"@type": "WebPageElement",'
            ' "isAccessibleForFree": false, "cssSelector": ".paywall"}}</script>',
            False,
            "jsonld:hasPart",
        ),
        (
            '<script type="application/ld+json">{"@type": "NewsArticle", "headline": "H",'
            ' "isAccessibleForFree": "False"}</script>',
            False,
            "jsonld:isAccessibleForFree",
        ),
        ('<meta property="og:title" content="H">', None, None),
    ],
)
def test_paywall_markers(head: str, free: bool | None, source: str | None) -> None:
    meta = page_metadata(_paywall_page(head), "https://example.org/a")
    assert meta.accessible_for_free is free
    assert meta.paywall_source == source


def test_paywalled_teaser_is_still_an_article() -> None:
    from crawler.extraction import extract_article

    lead = " ".join(["Der Stadtrat hat am Dienstag über den neuen Haushalt beraten."] * 4)
    html = (
        '<html><head><script type="application/ld+json">{"@type": "NewsArticle",'
        ' "headline": "Haushalt beraten", "datePublished": "2024-03-01T10:00:00+01:00",'
        ' "isAccessibleForFree": false}</script></head><body><article><h1>Haushalt beraten</h1>'
        f"<p>{lead}</p></article></body></html>"
    )
    result = extract_article(html, "https://zeitung.example/haushalt")
    assert result.item.paywalled is True
    assert result.item.paywall_source == "jsonld:isAccessibleForFree"
    assert result.is_article, result.page_kind
    assert result.item.text


# --------------------------------------------------------------------------- visible dates


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("28.04.2023", "2023-04-28T00:00:00"),
        ("28.04.2023, 06:00 Uhr", "2023-04-28T06:00:00"),
        ("5. März 2024 um 10:15", "2024-03-05T10:15:00"),
        ("March 5, 2024 10:15 pm", "2024-03-05T22:15:00"),
        ("13/03/2024 à 10h15", "2024-03-13T10:15:00"),
        ("12 janvier 2024", "2024-01-12T00:00:00"),
        ("05/03/2024", None),  # day-first or month-first: cannot tell
        ("Mai 2024", None),
    ],
)
def test_parse_visible_date(text: str, expected: str | None) -> None:
    from crawler.extraction.visible_dates import parse_visible_date

    assert parse_visible_date(text) == expected


def test_labelled_visible_date_when_nothing_is_declared() -> None:
    html = (
        "<html><head><title>T</title></head><body>"
        "<aside><ul><li><strong>Datum</strong> 24.04.2023</li></ul></aside>"
        "<article><h1>T</h1><p>Text.</p><ul class='meta'><li><strong>Datum</strong> 28.04.2023"
        "</li><li><strong>Autorin/Autor</strong> Roman Goncharenko</li></ul></article>"
        "</body></html>"
    )
    meta = page_metadata(html, "https://www.dw.example/de/a-123")
    assert meta.published == datetime(2023, 4, 28)
    assert meta.published_source == "text:label"
    assert meta.authors == ["Roman Goncharenko"]
    assert meta.authors_source == "text:label"


def test_dates_before_the_sites_first_article_are_rejected() -> None:
    html = (
        '<html><head><meta property="article:published_time" content="2001-01-01T00:00:00Z">'
        '</head><body><article><time datetime="2024-05-06T07:08:00Z">6 May</time></article>'
        "</body></html>"
    )
    url = "https://example.org/news/a"
    assert page_metadata(html, url).published == datetime(2001, 1, 1, tzinfo=UTC)
    meta = page_metadata(html, url, not_before=datetime(2010, 1, 1))
    assert meta.published == datetime(2024, 5, 6, 7, 8, tzinfo=UTC)
    assert meta.published_source == "time[datetime]"
    assert parse_datetime("2009-12-01", not_before=datetime(2010, 1, 1, tzinfo=UTC)) is None


# --------------------------------------------------------------------------- bylines in the text


def test_clean_authors_slash_and_credentials() -> None:
    assert clean_authors(["Mathatisi Sebusi/Mohalenyane Phakela"]) == [
        "Mathatisi Sebusi", "Mohalenyane Phakela"]
    assert clean_authors(["srf/hosb"]) == ["srf/hosb"]
    assert clean_authors(["Rachael Link, MS, RD"]) == ["Rachael Link"]


def _article_page(head: str, paragraphs: list[str]) -> str:
    body = "".join(paragraphs)
    return (f"<html><head>{head}</head><body><article><h1>Minenstreit</h1>{body}</article>"
            "</body></html>")


LONG = ("Residents of the village say the blasting at the quarry has cracked the walls of their"
        " houses and driven away the cattle they depend on, and that nobody has listened.")


def test_bold_byline_paragraph_gives_the_authors() -> None:
    from crawler.extraction import extract_article

    head = ('<script type="application/ld+json">{"@type": "NewsArticle", "headline":'
            ' "Minenstreit", "author": {"@type": "Organization", "name": "Valley Times"}}</script>'
            '<meta property="og:site_name" content="Valley Times">')
    html = _article_page(head, ["<p><strong>Jane Doe/John Smith</strong></p>",
                                *[f"<p>{LONG} ({i})</p>" for i in range(4)]])
    result = extract_article(html, "https://valleytimes.example/news/quarry")
    assert result.item.authors == ["Jane Doe", "John Smith"]
    assert result.item.authors_source == "text:bold"
    assert "Jane Doe" not in result.item.text


def test_bold_subheading_is_not_a_byline() -> None:
    from crawler.extraction import extract_article

    html = _article_page("", [f"<p>{LONG} What happens next is unclear.</p>",
                              "<p><strong>What Happens Next</strong></p>",
                              *[f"<p>{LONG} ({i})</p>" for i in range(3)]])
    result = extract_article(html, "https://valleytimes.example/news/quarry")
    assert result.item.authors_source != "text:bold"


# --------------------------------------------------------------------------- page furniture


def test_prune_page_removes_boxes_but_not_prose() -> None:
    from crawler.extraction.boilerplate import prune_page

    prose = "".join(f"<p>{LONG}</p>" for _ in range(3))
    tree = lxml.html.fromstring(
        "<html><body><div class='entry-content entry-content-read-more'>"
        f"{prose}<figure><img src='x.jpg'><figcaption>Photo: Agency</figcaption></figure>"
        "<div class='related-posts'><a href='/a'>Other story</a></div></div>"
        "<div id='newsletter-signup'>Sign up for our newsletter</div></body></html>"
    )
    assert prune_page(tree) == 3
    text = tree.text_content()
    assert "Residents of the village" in text
    assert "Other story" not in text and "Sign up" not in text and "Photo:" not in text


def test_comments_teasers_and_newsletter_boxes_are_not_text() -> None:
    from crawler.extraction import extract_article

    paragraphs = "".join(f"<p>{LONG} Paragraph {i}.</p>" for i in range(6))
    html = (
        "<html><head><title>Quarry</title></head><body><article><h1>Quarry</h1>"
        f"{paragraphs}"
        "<p>Read more: <a href='/other'>Council approves new quarry rules</a></p>"
        "<div class='newsletter-box'><p>Get the day's top stories in your inbox every morning,"
        " free.</p><button>Subscribe</button></div>"
        "<ul><li><a href='/a'>Storm closes schools across the valley</a></li>"
        "<li><a href='/b'>Mayor resigns after a budget row over the bridge</a></li></ul>"
        "</article><section id='comments' class='comments'><h3>Comments</h3>"
        "<div class='comment'><p>This is outrageous, the council should act now!</p></div>"
        "</section></body></html>"
    )
    result = extract_article(html, "https://valleytimes.example/news/quarry")
    assert result.item.paragraphs[0].startswith("Residents of the village")
    assert len(result.item.paragraphs) == 6
    for leftover in ("Read more", "inbox", "Storm closes", "Mayor resigns", "outrageous"):
        assert leftover not in result.item.text
