"""The storage logic against the real nx-27017 server: idempotent, keeps first_seen,
moves updated_at only when content changes, and the spool keeps what could not be written."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from crawler.storage.article_store import ArticleStore
from crawler.storage.spool import Spool

T0 = datetime(2024, 3, 1, 8, 0, tzinfo=UTC)


def _doc(url: str, text: str = "Body.", **extra: Any) -> dict[str, Any]:
    return {"url": url, "title": "T", "text": text, "content_hash": f"h:{text}",
            "published": T0, "fetched_at": T0, **extra}


def test_insert_then_rerun_changes_nothing(mongo_db: Any) -> None:
    store = ArticleStore(mongo_db.articles)
    store.ensure_indexes()
    first = store.write([_doc("a"), _doc("b"), _doc("a")], now=T0)
    assert (first.new, first.updated, first.unchanged) == (2, 0, 0)
    before = list(mongo_db.articles.find({}, {"_id": 0}).sort("url"))
    again = store.write([_doc("a"), _doc("b")], now=T0 + timedelta(hours=1))
    assert (again.new, again.updated, again.unchanged) == (0, 0, 2)
    assert list(mongo_db.articles.find({}, {"_id": 0}).sort("url")) == before
    assert before[0]["first_seen"] == T0 and before[0]["updated_at"] == T0


def test_changed_content_updates_and_keeps_first_seen(mongo_db: Any) -> None:
    store = ArticleStore(mongo_db.articles)
    store.ensure_indexes()
    store.write([_doc("a")], now=T0)
    later = T0 + timedelta(days=1)
    result = store.write([_doc("a", text="Corrected body.", fetched_at=later)], now=later)
    assert result.updated == 1
    stored = mongo_db.articles.find_one({"url": "a"})
    assert stored["text"] == "Corrected body."
    assert stored["first_seen"] == T0
    assert stored["updated_at"] == later
    assert isinstance(stored["published"], datetime)
    assert mongo_db.articles.count_documents({}) == 1


def test_spool_round_trip_keeps_dates(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool.jsonl")
    spool.append([_doc("a"), _doc("b")])
    spool.append([_doc("c")])
    with open(spool.path, "a", encoding="utf-8") as handle:
        handle.write('{"url": "torn')  # a crash mid-append
    docs = spool.read()
    assert [d["url"] for d in docs] == ["a", "b", "c"]
    assert docs[0]["published"] == T0
    spool.clear()
    assert spool.read() == []


def test_a_changed_article_keeps_its_previous_version(mongo_db: Any) -> None:
    store = ArticleStore(mongo_db.articles, mongo_db.article_revisions)
    store.ensure_indexes()
    store.write([_doc("a", text="Version one.")], now=T0)
    store.write([_doc("a", text="Version one.")], now=T0 + timedelta(hours=1))  # unchanged
    t2 = T0 + timedelta(hours=6)
    store.write([_doc("a", text="Version two.", fetched_at=t2)], now=t2)
    t3 = T0 + timedelta(hours=24)
    store.write([_doc("a", text="Version three.", fetched_at=t3)], now=t3)
    article = mongo_db.articles.find_one({"url": "a"})
    assert (article["text"], article["revision"], article["updated_at"]) == \
        ("Version three.", 3, t3)
    revisions = list(mongo_db.article_revisions.find({"url": "a"}, {"_id": 0}).sort("revision"))
    assert [(r["revision"], r["text"], r["fetched_at"]) for r in revisions] == [
        (1, "Version one.", T0), (2, "Version two.", t2)]


def test_wire_copies_share_a_story(mongo_db: Any) -> None:
    from crawler.demo.content import load_site
    from crawler.document import article_document
    from crawler.items import ArticleItem

    paragraphs = list(load_site("harbour").articles[0].paragraphs)
    agency = "\n\n".join(paragraphs)
    edited = "\n\n".join(["HARBOUR CITY (Wire) —", *paragraphs[:-1],
                          paragraphs[-1].replace("said", "told reporters")])
    other = "\n\n".join(load_site("harbour").articles[4].paragraphs)

    def doc(url: str, text: str, hours: int) -> dict[str, Any]:
        return article_document(ArticleItem(url=url, title="T", text=text,
                                            fetched_at=T0 + timedelta(hours=hours)))

    store = ArticleStore(mongo_db.articles)
    store.ensure_indexes()
    store.write([doc("https://wire.example/a", agency, 0)], now=T0)
    store.write([doc("https://paper.example/b", edited, 1),
                 doc("https://other.example/c", other, 1)], now=T0 + timedelta(hours=1))
    stored = {d["url"]: d for d in mongo_db.articles.find()}
    first, copy, unrelated = (stored["https://wire.example/a"], stored["https://paper.example/b"],
                              stored["https://other.example/c"])
    assert copy["story_id"] == first["story_id"]
    assert copy["duplicate_of"] == "https://wire.example/a"
    assert first["duplicate_of"] is None and unrelated["duplicate_of"] is None
    assert unrelated["story_id"] not in (first["story_id"],)
    # A re-run changes nothing; the story ids are a function of the data, not of the process.
    before = {u: (d["story_id"], d["duplicate_of"]) for u, d in stored.items()}
    store.write([doc("https://paper.example/b", edited, 2)], now=T0 + timedelta(hours=2))
    after = {d["url"]: (d["story_id"], d["duplicate_of"]) for d in mongo_db.articles.find()}
    assert after == before


class _EveryCandidate(ArticleStore):
    """The reference: wire-copy lookups read every article sharing a band (before
    ``fingerprint_head`` existed)."""

    def _story_candidates(self, docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        from crawler.stories import bands

        keys = sorted({k for d in docs if d.get("fingerprint") for k in bands(d["fingerprint"])})
        return list(self.collection.find(
            {"fingerprint_bands": {"$in": keys}},
            {"url": 1, "fingerprint": 1, "story_id": 1, "duplicate_of": 1, "first_seen": 1,
             "_id": 0})) if keys else []


def _story_history(seed: int) -> list[list[dict[str, Any]]]:
    """Batches of articles: a few stories, many exact and near copies, chains (near a copy
    but not its first), articles held back (fetched before ones stored earlier), and
    corrections that move an article to another fingerprint."""
    import random

    rng = random.Random(seed)
    bases = [rng.getrandbits(64) for _ in range(4)]
    masks = [0, 0, 0, 0b1111, 0b1111 << 20, (0b1111 << 20) | 0b1111 << 40, 0xFF << 8]
    stored: list[str] = []
    batches = []
    for batch_number in range(25):
        batch = []
        for _ in range(rng.randint(1, 8)):
            if stored and rng.random() < 0.15:
                url = rng.choice(stored)  # a correction: new text, new fingerprint
            else:
                url = f"https://site{rng.randint(1, 5)}.example/{len(stored)}-{batch_number}"
                stored.append(url)
            fingerprint = rng.choice(bases) ^ rng.choice(masks)
            fetched = T0 + timedelta(minutes=rng.randint(-60, 60 * 24))
            batch.append({**_doc(url, text=f"text {fingerprint:016x}", fetched_at=fetched),
                          "fingerprint": f"{fingerprint:016x}", "word_count": 300})
        batches.append(batch)
    return batches


def test_wire_copy_lookups_read_only_fingerprint_heads_and_link_the_same(
        mongo_db: Any) -> None:
    """Reading only the earliest article of each exact fingerprint links every article to
    the same story as reading every article sharing a band, over corrections, held-back
    articles and chains; the heads are far fewer than the articles."""
    from crawler.stories import first_key

    for seed in (1, 2, 3):
        heads = ArticleStore(mongo_db[f"heads_{seed}"])
        every = _EveryCandidate(mongo_db[f"every_{seed}"])
        heads.ensure_indexes()
        every.ensure_indexes()
        for number, batch in enumerate(_story_history(seed)):
            now = T0 + timedelta(hours=number)
            heads.write([dict(d) for d in batch], now=now)
            every.write([dict(d) for d in batch], now=now)
            links = {d["url"]: (d["story_id"], d["duplicate_of"])
                     for d in heads.collection.find()}
            assert links == {d["url"]: (d["story_id"], d["duplicate_of"])
                             for d in every.collection.find()}, (seed, number)
        docs = list(heads.collection.find())
        groups: dict[str, list[dict[str, Any]]] = {}
        for doc in docs:
            groups.setdefault(doc["fingerprint"], []).append(doc)
        for group in groups.values():  # the earliest of each fingerprint is a head
            assert min(group, key=first_key)["fingerprint_head"] is True
        linked = sum(1 for d in docs if d["duplicate_of"] is not None)
        assert linked > len(docs) / 2  # the history does exercise the linking
        assert sum(1 for d in docs if d["fingerprint_head"]) < len(docs) / 2


def test_articles_stored_before_fingerprint_head_get_it_once(mongo_db: Any) -> None:
    old = [{**_doc(f"https://a.example/{i}", fetched_at=T0 + timedelta(minutes=10 - i)),
            "first_seen": T0 + timedelta(minutes=10 - i), "fingerprint": "00000000000000ff",
            "fingerprint_bands": ["0:ff"], "story_id": "s", "duplicate_of": None}
           for i in range(3)]
    mongo_db.articles.insert_many(old)  # as an earlier version stored them: no field
    store = ArticleStore(mongo_db.articles)
    store.ensure_indexes()
    marks = {d["url"]: d.get("fingerprint_head") for d in mongo_db.articles.find()}
    assert marks == {"https://a.example/0": None, "https://a.example/1": None,
                     "https://a.example/2": True}  # the earliest (first_seen T0+8min)
    stored = mongo_db.articles.find_one({"url": "https://a.example/2"})
    assert isinstance(stored["first_seen"], datetime)  # replaced whole, types kept
    assert mongo_db.migrations.find_one({"_id": "fingerprint_head"}) is not None
    assert store.mark_unmarked_heads() == 0  # done once, then one lookup by _id
    # A new copy links to the earliest of the old articles.
    store.write([{**_doc("https://b.example/new", fetched_at=T0 + timedelta(hours=1)),
                  "fingerprint": "00000000000000ff", "word_count": 300}],
                now=T0 + timedelta(hours=1))
    new = mongo_db.articles.find_one({"url": "https://b.example/new"})
    assert (new["story_id"], new["duplicate_of"]) == ("s", "https://a.example/2")


def test_candidates_sharing_a_band_include_every_near_copy() -> None:
    """The band lookup a batch links its articles with finds every article within the
    near-duplicate distance (pigeonhole over the bands), as comparing with all would."""
    import random

    from crawler.extraction.fingerprint import NEAR_DUPLICATE_DISTANCE, distance
    from crawler.stories import Candidates

    rng = random.Random(7)
    stored = []
    for i in range(400):
        value = rng.getrandbits(64)
        stored.append({"url": f"https://a.example/{i}", "fingerprint": f"{value:016x}"})
        for flips in (NEAR_DUPLICATE_DISTANCE, NEAR_DUPLICATE_DISTANCE + 1):  # a copy, a near miss
            near = value
            for bit in rng.sample(range(64), flips):
                near ^= 1 << bit
            stored.append({"url": f"https://b.example/{i}-{flips}", "fingerprint": f"{near:016x}"})
    stored.append({"url": "https://c.example/none", "fingerprint": None})
    candidates = Candidates(stored)
    for doc in stored[::7]:
        fingerprint = doc["fingerprint"]
        if not fingerprint:
            assert candidates.near(fingerprint) == []
            continue
        expected = {c["url"] for c in stored if c["fingerprint"]
                    and distance(c["fingerprint"], fingerprint) <= NEAR_DUPLICATE_DISTANCE}
        found = candidates.near(fingerprint)
        assert expected <= {c["url"] for c in found}
        assert len(found) == len({c["url"] for c in found})  # each once
        assert len(found) < len(stored) / 10  # a lookup, not everything
