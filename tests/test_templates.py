from __future__ import annotations

from crawler.templates.model import SiteTemplate, line_signature

TOPICS = ("the harbour", "the budget", "the election", "the storm", "the museum", "the league",
          "the railway", "the hospital", "the bridge", "the festival", "the court", "the port")


def _body(n: int, count: int = 2) -> list[str]:
    """Paragraphs of a story of its own (about as long as real ones)."""
    topic = TOPICS[n % len(TOPICS)]
    return [f"Paragraph {chr(65 + k)} of story {chr(65 + n % 26)}{chr(65 + n // 26)}: "
            f"officials spoke about {topic} on {('Monday', 'Tuesday', 'Friday')[k % 3]}, "
            f"and residents of the {('north', 'south', 'east', 'west')[k % 4]} side said "
            f"what they expect of {topic} in the coming {('weeks', 'months')[k % 2]}."
            for k in range(count)]


def _page(n: int, body: list[str]) -> list[str]:
    return [f"Story ID {4000 + n * 7}", *body, "Follow us on Mastodon for live updates.",
            f"source site-{n}"]


def _story(n: int) -> list[list[str]]:
    """Three versions of one developing story: each repeats most of the one before."""
    text = _body(n, 9)
    return [_page(n, text[:4]), _page(n + 100, [*text[:2], *text[3:6]]),
            _page(n + 200, [*text[:2], *text[3:6], *text[6:9]])]


def test_signature_ignores_digits_case_and_spacing() -> None:
    assert line_signature("source site-32") == line_signature("Source  site-7")
    assert line_signature("source site-32") != line_signature("source page-32")


def test_lines_on_many_pages_are_templates_wherever_they_stand() -> None:
    template = SiteTemplate("example.com")
    for n in range(5):
        template.observe(_page(n, _body(n)))
    kept, removed = template.strip(_page(9, ["A paragraph never seen before."]))
    assert kept == ["A paragraph never seen before."]
    assert removed == ["Story ID 4063", "Follow us on Mastodon for live updates.", "source site-9"]


def test_a_sentence_on_two_pages_stays() -> None:
    template = SiteTemplate("example.com")
    shared = "The minister said the plan was 'a question of fairness'."
    template.observe([*_body(0), shared])
    template.observe([*_body(1), shared])
    for n in range(2, 8):
        template.observe(_body(n))
    assert not template.is_template(shared)


def test_the_same_page_counted_once() -> None:
    template = SiteTemplate("example.com")
    page = ["Headline paragraph.", "Body paragraph."]
    for _ in range(5):
        template.observe(page)
    assert template.pages == 1 and template.page_total == 1
    assert not template.is_template("Body paragraph.")


def test_share_threshold_on_a_big_site() -> None:
    template = SiteTemplate("example.com", min_pages=3, min_share=0.1)
    for n in range(100):
        body = _body(n)
        if n < 4:
            body.append("A quote repeated on four pages.")
        template.observe(body)
    assert template.pages == 100
    assert not template.is_template("A quote repeated on four pages.")


def test_the_versions_of_a_developing_story_count_as_one_story() -> None:
    """Versions at new URLs repeat most paragraphs of the one before: those paragraphs occur on
    three pages, but in one story, so they stay, while the site's template lines go."""
    pages = [page for n in range(4) for page in _story(n)]
    for order in (pages, pages[::-1], pages[1::2] + pages[::2]):
        template = SiteTemplate("example.com")
        for page in order:
            template.observe(page)
        assert (template.pages, template.page_total) == (4, 12)
        for page in pages:
            kept, removed = template.strip(page)
            assert kept == page[1:-2] and len(removed) == 3


def test_a_flash_then_the_full_story_is_one_story() -> None:
    """A one-paragraph flash, then three paragraphs, then the full story: each version is
    mostly new text, but holds all of the one before."""
    template = SiteTemplate("example.com")
    text = _body(0, 8)
    for n, body in enumerate((text[:1], text[:3], text)):
        template.observe(_page(n, body))
    for n in range(1, 5):
        template.observe(_page(10 + n, _body(n)))
    assert template.pages == 5
    assert template.strip(_page(20, text))[0] == text


def test_a_site_of_short_articles_learns_its_template() -> None:
    """Articles shorter than the site's template lines: the first pages look like one story
    (they share most of their text), but once a line is on most of the site's pages it is no
    sign of one story, and the template is learned a few pages later."""
    template = SiteTemplate("example.com")
    for n in range(6):
        template.observe(_page(n, [f"Brief {chr(65 + n)}."]))
    assert template.pages >= 3
    assert template.strip(_page(9, ["Brief Z."])) == (
        ["Brief Z."], ["Story ID 4063", "Follow us on Mastodon for live updates.", "source site-9"])


def test_state_round_trip() -> None:
    template = SiteTemplate("example.com")
    for n in range(4):
        template.observe(_page(n, _body(n)))
    story = _story(10)
    template.observe(story[0])
    restored = SiteTemplate("example.com")
    restored.merge_document(template.to_document())
    assert (restored.pages, restored.page_total) == (5, 5)
    assert restored.is_template("source site-99")
    assert not restored.observe(_page(0, _body(0)))  # seen before: not counted again
    # A later run: the next versions of a story of the earlier run join it.
    restored.observe(story[1])
    restored.observe(story[2])
    assert (restored.pages, restored.page_total) == (5, 7)
    assert restored.strip(story[0])[0] == story[0][1:-2]


def test_a_state_stored_before_stories_were_counted_loads() -> None:
    """Stored by an earlier version: each of its pages counts as a story of its own."""
    old = {"_id": "example.com", "site": "example.com", "pages": 4,
           "counts": [[line_signature("source site-1"), 4], [line_signature("Body."), 1]],
           "seen": ["abc"]}
    template = SiteTemplate("example.com")
    template.merge_document(old)
    assert (template.pages, template.page_total) == (4, 4)
    assert template.is_template("source site-5") and not template.is_template("Body.")
    assert template.observe(_page(7, _body(7)))
    assert (template.pages, template.page_total) == (5, 5)


def test_a_template_made_with_its_stories_can_be_joined() -> None:
    story = _story(3)
    first = SiteTemplate("example.com")
    first.observe(story[0])
    again = SiteTemplate("example.com", pages=first.pages, counts=dict(first.counts),
                         page_total=first.page_total, page_counts=dict(first.page_counts),
                         stories={k: dict(v) for k, v in first.stories.items()})
    again.observe(story[1])
    assert (again.pages, again.page_total) == (1, 2)
