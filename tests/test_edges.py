"""Furniture lines at the edges of the extracted text (crawler.extraction.edges)."""

from __future__ import annotations

import pytest

from crawler.extraction.edges import drop_edge_furniture, is_timestamp

BODY = ["The council approved the budget on Tuesday after a long debate.",
        "The vote was 31 to 12; the opposition had asked for more time."]


@pytest.mark.parametrize("line", [
    "2025年1月14日 01時28分 (1月14日 01時40分更新)",
    "Updated: 14.01.2025, 09:12 Uhr",
    "Stand: 24.04.2024 15:10 Uhr",
    "17:41 JST, October 13, 2024",
    "- Veröffentlicht am 13. Mai 2026 um 15:44",
    "10.11.2025 17:59",
])
def test_publication_timestamps_are_timestamps(line: str) -> None:
    assert is_timestamp(line)


@pytest.mark.parametrize("line", [
    "29 November 2018 | 20 January 2019",  # an exhibition's dates: text
    "02-751-1500",  # a phone number
    "14.01.2025",
    "At 09:12 on Tuesday the council met again to vote.",
    "In 2024 sales rose 12% to 4.5 billion euros.",
])
def test_text_with_dates_or_numbers_is_not_a_timestamp(line: str) -> None:
    assert not is_timestamp(line)


def test_furniture_is_dropped_from_both_edges_and_ad_labels_anywhere() -> None:
    page = ["Lesedauer: 4 Minuten", "Updated: 14.01.2025, 09:12 Uhr", BODY[0], "Advertisement",
            "- Advertisement - Story continues below", BODY[1], "Photo: AFP", "Quelle: ntv.de",
            "© dpa-infocom, dpa:240516-99-53606/3 (dpa)"]
    assert drop_edge_furniture(page) == BODY


def test_the_same_lines_inside_the_text_and_long_notices_stay() -> None:
    notice = ("© 2019 Associated Press. All Rights Reserved. This material may not be "
              "published, broadcast, rewritten or redistributed.")
    inside = [BODY[0], "Updated: 14.01.2025, 09:12 Uhr", BODY[1], notice]
    assert drop_edge_furniture(inside) == inside
    assert drop_edge_furniture(["Updated: 14.01.2025, 09:12 Uhr"]) == [
        "Updated: 14.01.2025, 09:12 Uhr"]  # never empties the text
    assert drop_edge_furniture(["Photo: AFP"]) == ["Photo: AFP"]


def test_credit_lines_go_anywhere_sentences_about_sources_stay() -> None:
    page = [BODY[0], "Image: eThekwini Municipality / Facebook", "Foto [M]: Shutterstock",
            BODY[1], "Source: the ministry. It said the figures were provisional."]
    assert drop_edge_furniture(page) == [*BODY, page[-1]]
