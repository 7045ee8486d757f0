from __future__ import annotations

from crawler.templates import SiteTemplate, line_signature


def _page(n: int, body: list[str]) -> list[str]:
    return [f"Story ID {4000 + n * 7}", *body, "Follow us on Mastodon for live updates.",
            f"source site-{n}"]


def test_signature_ignores_digits_case_and_spacing() -> None:
    assert line_signature("source site-32") == line_signature("Source  site-7")
    assert line_signature("source site-32") != line_signature("source page-32")


def test_lines_on_many_pages_are_templates_wherever_they_stand() -> None:
    template = SiteTemplate("example.com")
    for n in range(5):
        template.observe(_page(n, [f"Unique paragraph {chr(65 + n)} about topic {n}."]))
    kept, removed = template.strip(_page(9, ["A paragraph never seen before."]))
    assert kept == ["A paragraph never seen before."]
    assert removed == ["Story ID 4063", "Follow us on Mastodon for live updates.", "source site-9"]


def test_a_sentence_on_two_pages_stays() -> None:
    template = SiteTemplate("example.com")
    shared = "The minister said the plan was 'a question of fairness'."
    template.observe(["First story.", shared])
    template.observe(["Second story.", shared])
    for n in range(6):
        template.observe([f"Other story {chr(65 + n)}."])
    assert not template.is_template(shared)


def test_the_same_page_counted_once() -> None:
    template = SiteTemplate("example.com")
    page = ["Headline paragraph.", "Body paragraph."]
    for _ in range(5):
        template.observe(page)
    assert template.pages == 1
    assert not template.is_template("Body paragraph.")


def test_share_threshold_on_a_big_site() -> None:
    template = SiteTemplate("example.com", min_pages=3, min_share=0.1)
    for n in range(100):
        body = [f"Paragraph {chr(65 + n % 26)}{chr(65 + n // 26)}."]
        if n < 4:
            body.append("A quote repeated on four pages.")
        template.observe(body)
    assert not template.is_template("A quote repeated on four pages.")


def test_state_round_trip() -> None:
    template = SiteTemplate("example.com")
    for n in range(4):
        template.observe(_page(n, [f"Body {chr(65 + n)}."]))
    restored = SiteTemplate("example.com")
    restored.merge_document(template.to_document())
    assert restored.pages == 4
    assert restored.is_template("source site-99")
    assert not restored.observe(_page(0, ["Body A."]))  # seen before: not counted again
