"""Site template lines, learned from a site's own pages.

trafilatura works page by page, so it keeps lines that a site repeats inside every article
(source tags, "follow us" prompts, article numbers). A crawler sees many pages of one site:
a line that recurs on many distinct pages of a site is part of its template, and so is a line
that recurs once its digits are ignored. This module counts, per site, on how many distinct
pages each line occurs, and strips the lines that pass the thresholds. It holds no pattern for
any particular string.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

_DIGITS = re.compile(r"\d+")
_SPACE = re.compile(r"\s+")


def line_signature(line: str) -> str:
    """A short key for a line that ignores case, spacing and the value of any number."""
    key = unicodedata.normalize("NFKC", line).casefold()
    key = _SPACE.sub(" ", _DIGITS.sub("0", key)).strip()
    return hashlib.blake2b(key.encode("utf-8"), digest_size=8).hexdigest()


def page_signature(lines: Iterable[str]) -> str:
    """Identity of a page's content, so that one article seen at two URLs counts once."""
    digest = hashlib.blake2b(digest_size=12)
    for line in lines:
        digest.update(line.encode("utf-8"))
        digest.update(b"\n")
    return digest.hexdigest()


@dataclass
class SiteTemplate:
    """What one site's pages have shown so far: pages seen and, per line signature, on how
    many of them it occurred.

    A line is a template when it occurred on at least ``min_pages`` distinct pages and on at
    least ``min_share`` of the pages seen. ``max_lines`` bounds the memory: past it, the
    signatures seen least often are forgotten (a real template recurs, so it survives).
    """

    site: str
    min_pages: int = 3
    min_share: float = 0.1
    max_lines: int = 20_000
    max_seen: int = 20_000
    pages: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    seen: dict[str, None] = field(default_factory=dict)  # ordered set of page signatures

    def observe(self, lines: list[str]) -> bool:
        """Count a page's lines. Returns False when this page content was counted before."""
        page = page_signature(lines)
        if page in self.seen:
            return False
        self.seen[page] = None
        if len(self.seen) > self.max_seen:
            del self.seen[next(iter(self.seen))]
        self.pages += 1
        for signature in {line_signature(line) for line in lines}:
            self.counts[signature] = self.counts.get(signature, 0) + 1
        if len(self.counts) > self.max_lines:
            self._forget()
        return True

    def is_template(self, line: str) -> bool:
        count = self.counts.get(line_signature(line), 0)
        return count >= self.min_pages and count >= self.min_share * self.pages

    def strip(self, lines: list[str]) -> tuple[list[str], list[str]]:
        """Split lines into (kept, removed template lines), keeping order."""
        kept: list[str] = []
        removed: list[str] = []
        for line in lines:
            (removed if self.is_template(line) else kept).append(line)
        return kept, removed

    def _forget(self) -> None:
        keep = sorted(self.counts.items(), key=lambda kv: kv[1], reverse=True)
        self.counts = dict(keep[: self.max_lines * 3 // 4])

    def to_document(self) -> dict[str, Any]:
        """The state as a MongoDB document (keys are hex strings, safe as field names)."""
        return {
            "_id": self.site,
            "site": self.site,
            "pages": self.pages,
            "counts": [[k, v] for k, v in self.counts.items()],
            "seen": list(self.seen),
        }

    def merge_document(self, doc: dict[str, Any]) -> None:
        """Load a stored state (from :meth:`to_document`) into this one."""
        self.pages = max(self.pages, int(doc.get("pages", 0)))
        for key, value in doc.get("counts", []):
            self.counts[str(key)] = max(self.counts.get(str(key), 0), int(value))
        for page in doc.get("seen", []):
            self.seen[str(page)] = None
