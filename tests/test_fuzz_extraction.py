"""Fuzzing: random and mutated HTML never breaks extraction nor the stored document.

A short, derandomized budget (profile ``fuzz-ci``, a few seconds); ``benchmarks/fuzz.py``
runs the same properties with many random examples.
"""

from __future__ import annotations

from hypothesis import given, settings

from tests.fuzz_html import PAGES, check_page, mutated_pages, random_pages

CI = settings.get_profile("fuzz-ci")


@CI
@given(mutated_pages())
def test_mutated_real_pages(html: str) -> None:
    check_page(html)


@settings(CI, max_examples=60)  # cheap: small pages
@given(random_pages)
def test_random_pages(html: str) -> None:
    check_page(html)


def test_the_real_pages_themselves() -> None:
    assert len(PAGES) >= 10
    for html in PAGES:
        check_page(html)
