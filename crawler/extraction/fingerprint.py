"""Near-duplicate fingerprints of article text (wire copies, syndicated stories).

A 64-bit SimHash (Charikar) from trafilatura's own implementation, which hashes tokens with
BLAKE2b: the same text gives the same fingerprint in every process and on every run (Python's
``hash()`` is never involved). Texts that share most of their words are a few bits apart;
unrelated texts differ in about half of the 64 bits.
"""

from __future__ import annotations

import logging
import unicodedata

from trafilatura.deduplication import Simhash

logger = logging.getLogger(__name__)

BITS = 64
# Two fingerprints this close (or closer) are very likely copies of one story.
NEAR_DUPLICATE_DISTANCE = 8


def _normalise(text: str) -> str:
    """Case, compatibility forms and typographic variants do not make a different story."""
    return unicodedata.normalize("NFKC", text).casefold()


def fingerprint(text: str) -> str:
    """The 64-bit SimHash of ``text`` as 16 lower-case hex digits."""
    value = Simhash(_normalise(text or ""), length=BITS).hash
    return f"{value:0{BITS // 4}x}"


def distance(a: str, b: str) -> int:
    """Hamming distance between two fingerprints (0 = same bag of words, 64 = opposite)."""
    return (int(a, 16) ^ int(b, 16)).bit_count()


def near_duplicates(a: str, b: str, max_distance: int = NEAR_DUPLICATE_DISTANCE) -> bool:
    return distance(a, b) <= max_distance
