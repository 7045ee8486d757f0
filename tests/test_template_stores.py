"""Template state in MongoDB (real nx-27017): the single-process store (``site_templates``) and
the store the workers of a distributed crawl share, with developing stories counted once."""

from __future__ import annotations

from typing import Any

from crawler.templates.local_store import TemplateStore
from crawler.templates.model import SiteTemplate, line_signature, page_signature
from crawler.templates.shared_store import SharedTemplateStore
from tests.test_templates import _body, _page, _story

SITE = "example.com"


def _stores(mongo_db: Any, **kwargs: Any) -> tuple[TemplateStore, SharedTemplateStore,
                                                    SharedTemplateStore]:
    stored = TemplateStore(mongo_db.site_templates)
    one = SharedTemplateStore(mongo_db, stored, **kwargs)
    two = SharedTemplateStore(mongo_db, stored, **kwargs)
    one.ensure_indexes()
    assert one.ensure_imported(SITE) and not two.ensure_imported(SITE)
    return stored, one, two


def _clean(template: SiteTemplate, page: list[str]) -> bool:
    """The page's text kept whole, its three template lines removed."""
    kept, removed = template.strip(page)
    return kept == page[1:-2] and len(removed) == 3


def test_workers_count_the_versions_of_a_story_once(mongo_db: Any) -> None:
    _stored, one, two = _stores(mongo_db)
    stories = [_story(n) for n in range(4)]
    workers = [one, two]
    for version in range(3):  # version 1 of every story, then version 2, ...
        for n, story in enumerate(stories):
            counted = workers[(n + version) % 2].observe(SITE, story[version])
    assert counted == 4
    assert one.observe(SITE, stories[0][0]) == 4  # the same content, counted once
    pages = [page for story in stories for page in story]
    assert all(_clean(two.template(SITE, page), page) for page in pages)
    assert all(_clean(one.candidates(SITE), page) for page in pages)
    paragraph = mongo_db.template_lines.find_one({"_id": f"{SITE}|{line_signature(pages[0][1])}"})
    assert (paragraph["pages"], paragraph["page_hits"]) == (1, 3)
    assert mongo_db.template_sites.find_one({"_id": SITE}) == {
        "_id": SITE, "pages": 4, "page_total": 12}


def test_a_batch_holding_several_versions_of_a_story(mongo_db: Any) -> None:
    _stored, one, two = _stores(mongo_db)
    assert one.observe_many(SITE, [_page(n, _body(n)) for n in range(5)]) == 5
    story = _story(20)
    assert two.observe_many(SITE, [story[0], _page(30, _body(30)), story[2], story[1]]) == 7
    assert all(_clean(one.template(SITE, page), page) for page in story)


def test_the_shared_state_is_saved_and_continued(mongo_db: Any) -> None:
    stored, one, _two = _stores(mongo_db)
    for n in range(4):
        one.observe(SITE, _page(n, _body(n)))
    story = _story(10)
    one.observe(SITE, story[0])
    one.export(SITE)
    saved = stored.load(SiteTemplate(SITE))
    assert (saved.pages, saved.page_total, len(saved.stories)) == (5, 5, 5)
    # A single-process run continues it: the next version joins its story.
    assert saved.observe(story[1]) and saved.pages == 5
    # So does the next distributed crawl, from site_templates alone.
    for name in ("template_sites", "template_lines", "template_pages", "template_line_stories"):
        mongo_db[name].drop()
    fresh = SharedTemplateStore(mongo_db, stored)
    assert fresh.ensure_imported(SITE)
    assert fresh.observe(SITE, story[2]) == 5
    assert all(_clean(fresh.template(SITE, page), page) for page in story)
    assert fresh.observe(SITE, story[0]) == 5  # its pages were imported too


def test_a_state_stored_before_stories_were_counted_is_imported(mongo_db: Any) -> None:
    """Each page of an old state counts as a story of its own."""
    mongo_db.site_templates.insert_one({
        "_id": SITE, "site": SITE, "pages": 4, "seen": [],
        "counts": [[line_signature("source site-1"), 4], [line_signature("Story ID 1"), 4],
                   [line_signature("Follow us on Mastodon for live updates."), 4]]})
    _stored, one, _two = _stores(mongo_db)
    assert one.observe(SITE, _page(5, _body(5))) == 5
    assert _clean(one.template(SITE, _page(6, _body(6))), _page(6, _body(6)))
    assert mongo_db.template_sites.find_one({"_id": SITE})["page_total"] == 5


def test_a_site_of_short_articles_learns_its_template(mongo_db: Any) -> None:
    _stored, one, two = _stores(mongo_db)
    for n in range(6):
        (one, two)[n % 2].observe(SITE, _page(n, [f"Brief {chr(65 + n)}."]))
    assert _clean(one.candidates(SITE), _page(9, ["Brief Z."]))


def test_the_stories_kept_are_bounded(mongo_db: Any) -> None:
    stored, one, _two = _stores(mongo_db, max_stories=3)
    for n in range(6):
        one.observe(SITE, _page(n, _body(n)))
    one.export(SITE)
    assert len({d["story"] for d in mongo_db.template_line_stories.find()}) == 3
    saved = stored.load(SiteTemplate(SITE))
    assert (saved.pages, len(saved.stories)) == (6, 3)
    # the most recent ones, oldest first (a story is named by its first page's content)
    assert list(saved.stories) == [page_signature(_page(n, _body(n))) for n in range(3, 6)]
