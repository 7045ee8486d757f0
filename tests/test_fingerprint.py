"""Near-duplicate fingerprints: deterministic, close for wire copies, far for other stories."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from crawler.extraction import extract_article
from crawler.extraction.fingerprint import (
    NEAR_DUPLICATE_DISTANCE,
    distance,
    fingerprint,
    near_duplicates,
)

WIRE = """\
BERLIN (AP) — German authorities on Tuesday closed a major motorway bridge near Dortmund
after inspectors found deep cracks in two of its concrete supports, forcing tens of thousands
of commuters and freight trucks onto already crowded detour routes.

The transport ministry said the bridge, built in 1968, would remain closed at least until the
end of the month while engineers decide whether it can be repaired or must be demolished.
Regional officials warned that the closure could last far longer.

"Safety comes first, even when the consequences for traffic are severe," the state transport
minister told reporters at the site. He said the cracks had been discovered during a routine
inspection on Monday evening and that the decision to close the bridge was taken overnight.

Business groups said the closure would cost local companies millions of euros a week. The
chamber of commerce called on the federal government to speed up the replacement of hundreds
of ageing bridges across the country, many of which were built during the same decade.

Germany has struggled for years with crumbling infrastructure. A study published last year
found that more than four thousand motorway bridges needed urgent renovation, and that the
budget set aside for the work covered less than half of the estimated costs.
"""

# The same agency story as a member paper printed it: new dateline style, a trimmed quote,
# one changed sentence, an added credit line.
COPY = """\
BERLIN — German authorities on Tuesday closed a major motorway bridge near Dortmund after
inspectors found deep cracks in two of its concrete supports, forcing tens of thousands of
commuters and freight trucks onto already crowded detour routes.

The transport ministry said the bridge, built in 1968, would stay closed at least until the
end of the month while engineers decide whether it can be repaired or must be demolished.
Regional officials warned that the closure could last far longer.

"Safety comes first," the state transport minister told reporters at the site. He said the
cracks had been discovered during a routine inspection on Monday evening and that the
decision to close the bridge was taken overnight.

Business groups said the closure would cost local companies millions of euros every week.
The chamber of commerce called on the federal government to speed up the replacement of
hundreds of ageing bridges across the country, many of which were built during the same decade.

Germany has struggled for years with crumbling infrastructure. A study published last year
found that more than four thousand motorway bridges needed urgent renovation, and that the
budget set aside for the work covered less than half of the estimated costs.

Reporting by The Associated Press.
"""

OTHER = """\
The city council voted on Thursday to extend the opening hours of all public libraries to ten
in the evening on weekdays, a change that librarians and student groups had demanded for
more than three years.

The extended hours will start in September and will be paid for by a small increase in the
culture budget, the council said. Six additional staff members will be hired for the evening
shifts, and the reading rooms will get new lighting and more power sockets for laptops.

Students welcomed the decision. "During the exam period there is simply no quiet place to
study in the evening," said the head of the university's student union. Parents' associations
said the libraries' children's sections should also stay open later on Fridays.

The opposition criticised the plan as too expensive and argued that digital services should
come first. The library director replied that visitor numbers had grown every year since the
renovation of the central library and that the evening hours had been the most frequent
request in the annual survey of readers.
"""


def test_format_is_sixteen_hex_digits() -> None:
    value = fingerprint(WIRE)
    assert len(value) == 16
    assert int(value, 16) >= 0
    assert value == value.lower()
    assert len(fingerprint("")) == 16  # degenerate input still gives a well-formed value


def test_deterministic_and_pinned() -> None:
    assert fingerprint(WIRE) == fingerprint(WIRE)
    # Pinned: stored fingerprints must stay comparable across releases.
    assert fingerprint("The quick brown foxes jumped over the lazy sleeping dogs") == (
        fingerprint("the quick brown foxes jumped over the lazy sleeping dogs")
    )
    assert fingerprint(WIRE) == "f7ec86371ca4d7e4"


@pytest.mark.parametrize("seed", ["0", "1", "12345"])
def test_same_value_in_other_processes(seed: str) -> None:
    code = ("import sys; from crawler.extraction.fingerprint import fingerprint; "
            "print(fingerprint(sys.stdin.read()))")
    env = dict(os.environ, PYTHONHASHSEED=seed)
    out = subprocess.run([sys.executable, "-c", code], input=WIRE, capture_output=True,
                         text=True, env=env, check=True).stdout.strip()
    assert out == fingerprint(WIRE)


def test_wire_copy_is_close_and_other_story_is_far() -> None:
    wire, copy, other = fingerprint(WIRE), fingerprint(COPY), fingerprint(OTHER)
    assert distance(wire, wire) == 0
    assert distance(wire, copy) <= NEAR_DUPLICATE_DISTANCE
    assert near_duplicates(wire, copy)
    assert distance(wire, other) >= 20
    assert not near_duplicates(wire, other)
    assert distance(copy, other) >= 20


def test_distance_is_hamming() -> None:
    assert distance("0000000000000000", "0000000000000000") == 0
    assert distance("0000000000000000", "ffffffffffffffff") == 64
    assert distance("00000000000000f0", "000000000000000f") == 8


def test_the_stored_document_carries_the_fingerprint_of_its_text() -> None:
    from crawler.document import article_document

    paragraphs = "".join(f"<p>{p}</p>" for p in WIRE.split("\n\n"))
    html = (f"<html><head><title>Bridge closed</title></head><body><article><h1>Bridge closed"
            f"</h1>{paragraphs}</article></body></html>")
    item = extract_article(html, "https://news.example/bridge").item
    document = article_document(item)
    assert document["fingerprint"] == fingerprint(document["text"])
    assert near_duplicates(document["fingerprint"], fingerprint(WIRE))
    # The text the document stores, template lines stripped: its own fingerprint.
    item.text = "\n\n".join(item.text.split("\n\n")[:-2])
    item.template_lines_removed = 2
    shorter = article_document(item)
    assert shorter["fingerprint"] == fingerprint(shorter["text"]) != document["fingerprint"]
    empty = extract_article("", "https://news.example/x").item
    assert article_document(empty)["fingerprint"] is None


def _fixture_texts() -> list[str]:
    from pathlib import Path

    pages = sorted((Path(__file__).parent / "fixtures" / "pages").glob("*.html"))
    texts = [extract_article(p.read_text("utf-8"), f"https://news.example/{p.stem}").item.text
             or "" for p in pages]
    assert len([t for t in texts if t]) >= 5
    return texts


def test_the_fingerprint_is_trafilaturas_simhash() -> None:
    """The vectorised sum gives trafilatura's ``Simhash`` of the same normalised text, on real
    pages' texts, on their starts (another token sample) and on degenerate texts."""
    from trafilatura.deduplication import Simhash

    from crawler.extraction.fingerprint import _normalise

    texts = [WIRE, COPY, OTHER, *_fixture_texts()]
    texts += [t[: len(t) // 5] for t in texts]
    texts += ["", "。。", "a b c", "短い日本語の文章です。", "word " * 40, "¡Sí! ¿No?"]
    for text in texts:
        expected = Simhash(_normalise(text), length=64).hash
        assert fingerprint(text) == f"{expected:016x}", text[:60]
