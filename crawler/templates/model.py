"""Site template lines, learned from a site's own pages.

trafilatura works page by page, so it keeps lines that a site repeats inside every article
(source tags, "follow us" prompts, article numbers). A crawler sees many pages of one site:
a line that recurs on many *unrelated* pages of a site is part of its template, and so is a
line that recurs once its digits are ignored. It holds no pattern for any particular string.

Pages are not all unrelated: a developing story is published again at new URLs (agency copy,
live stories, corrections), each version repeating most paragraphs of the one before. So the
pages of a site are grouped into stories (:func:`choose_story`) and a line is counted once per
story it occurs in, not once per page; a line found in enough distinct stories is a template.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

_DIGITS = re.compile(r"\d+")
_SPACE = re.compile(r"\s+")

# A page belongs to a story when at least this share of its text (in characters, template
# lines left out) is made of lines already seen in the story -- or, when the story is the
# shorter, this share of the story's text is on the page (a one-paragraph flash, then the full
# story).
JOIN_SHARE = 0.5
# While a site's stories are few, its template lines cannot be told by the stories yet: a line
# on at least min_pages pages and on at least this share of all the site's pages is not taken
# as a sign that two pages tell one story (else the first pages of a site whose articles are
# short would all join one "story" through their template lines, and stay there).
BOOTSTRAP_SHARE = 0.5


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


def line_weights(lines: Iterable[str]) -> dict[str, int]:
    """A page's line signatures and their lengths in characters (the longest spelling)."""
    weights: dict[str, int] = {}
    for line in lines:
        sig = line_signature(line)
        weights[sig] = max(weights.get(sig, 0), len(line))
    return weights


@dataclass(frozen=True)
class Evidence:
    """What a site's counts say, as :func:`choose_story` needs it.

    ``stories``: stories counted; ``story_counts``: per line signature, in how many stories
    it occurs; ``page_total`` and ``page_counts``: the same by pages.
    """

    min_pages: int
    min_share: float
    stories: int
    story_counts: Mapping[str, int]
    page_total: int
    page_counts: Mapping[str, int]

    def common(self, sig: str) -> bool:
        """On most of the site's pages (:data:`BOOTSTRAP_SHARE`): no sign of one story."""
        count = self.page_counts.get(sig, 0)
        return count >= self.min_pages and count >= BOOTSTRAP_SHARE * self.page_total

    def template_elsewhere(self, sig: str, in_story: bool) -> bool:
        """A template line by the evidence of the stories other than the one in question
        (``in_story``: whether the line is counted for that story)."""
        count = self.story_counts.get(sig, 0) - (1 if in_story else 0)
        stories = self.stories - 1
        return count >= self.min_pages and count >= self.min_share * stories


def choose_story(page: Mapping[str, int], candidates: Mapping[str, Mapping[str, int]],
                 evidence: Evidence) -> str | None:
    """The story (key of ``candidates``) a page belongs to, or None for a new story.

    ``page`` and each candidate story map line signatures to their lengths. Lines that are
    templates by the evidence of other stories, or on most of the site's pages, are left out
    on both sides; of what is left, the lines page and story share must make at least
    :data:`JOIN_SHARE` of the shorter of the two. The best scoring story wins (ties: the
    latest in ``candidates``' order).
    """
    best, best_score = None, 0.0
    for story, lines in candidates.items():
        def counted(sig: str, in_story: bool) -> bool:
            return not (evidence.common(sig) or evidence.template_elsewhere(sig, in_story))

        page_chars = sum(n for sig, n in page.items() if counted(sig, sig in lines))
        story_chars = sum(n for sig, n in lines.items() if counted(sig, True))
        shared = sum(n for sig, n in page.items() if sig in lines and counted(sig, True))
        smaller = min(page_chars, story_chars)
        if smaller <= 0 or not shared:
            continue
        score = shared / smaller
        if score >= JOIN_SHARE and score >= best_score:
            best, best_score = story, score
    return best


@dataclass
class SiteTemplate:
    """What one site's pages have shown so far: stories seen and, per line signature, in how
    many of them it occurred.

    ``pages`` is the number of distinct stories (the share denominator, and what a site's
    warm-up counts); ``counts`` the number of stories each line occurred in. A line is a
    template when it occurred in at least ``min_pages`` stories and in at least ``min_share``
    of the stories seen. ``page_total`` and ``page_counts`` count by pages (for
    :data:`BOOTSTRAP_SHARE`). ``stories`` holds the line signatures (and lengths) of the
    ``max_stories`` stories most recently seen: a new page can join one of those, and a
    (line, story) pair in it is not counted twice. ``max_lines`` bounds the memory: past it, the
    signatures seen least often are forgotten (a real template recurs, so it survives).
    """

    site: str
    min_pages: int = 3
    min_share: float = 0.1
    max_lines: int = 20_000
    max_seen: int = 20_000
    max_stories: int = 1_000
    pages: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    seen: dict[str, None] = field(default_factory=dict)  # ordered set of page signatures
    page_total: int = 0
    page_counts: dict[str, int] = field(default_factory=dict)
    stories: dict[str, dict[str, int]] = field(default_factory=dict)  # oldest first
    _where: dict[str, set[str]] = field(default_factory=dict, repr=False)  # sig -> stories

    def __post_init__(self) -> None:
        for story, lines in self.stories.items():
            for sig in lines:
                self._where.setdefault(sig, set()).add(story)

    def evidence(self) -> Evidence:
        return Evidence(self.min_pages, self.min_share, self.pages, self.counts,
                        self.page_total, self.page_counts)

    def observe(self, lines: list[str]) -> bool:
        """Count a page's lines. Returns False when this page content was counted before."""
        page = page_signature(lines)
        if page in self.seen:
            return False
        self.seen[page] = None
        if len(self.seen) > self.max_seen:
            del self.seen[next(iter(self.seen))]
        self.count_page(page, line_weights(lines))
        if len(self.counts) > self.max_lines:
            self._forget()
        return True

    def count_page(self, page: str, weights: Mapping[str, int]) -> tuple[str, list[str]]:
        """Count a page not counted before (its signature, its :func:`line_weights`) in the
        story it belongs to, or in a new story named ``page``. Returns the story and the lines
        that were new to it."""
        story = self.story_of(weights) or page
        self.page_total += 1
        for sig in weights:
            self.page_counts[sig] = self.page_counts.get(sig, 0) + 1
        return story, self.add_to_story(story, weights)

    def story_of(self, weights: Mapping[str, int]) -> str | None:
        """The known story a page (line signatures and lengths) belongs to, if any."""
        evidence = self.evidence()
        candidates: set[str] = set()
        for sig in weights:
            # A line left out for any story brings none: template lines are in them all.
            if not (evidence.common(sig) or evidence.template_elsewhere(sig, True)):
                candidates.update(self._where.get(sig, ()))
        if not candidates:
            return None
        ordered = {s: lines for s, lines in self.stories.items() if s in candidates}
        return choose_story(weights, ordered, evidence)

    def add_to_story(self, story: str, weights: Mapping[str, int]) -> list[str]:
        """Count the lines new to ``story`` (a new story counts as one more). Returns them."""
        lines = self.stories.pop(story, None)
        if lines is None:
            lines = {}
            self.pages += 1
        self.stories[story] = lines  # now the most recent
        new = [sig for sig in weights if sig not in lines]
        for sig in new:
            lines[sig] = weights[sig]
            self.counts[sig] = self.counts.get(sig, 0) + 1
            self._where.setdefault(sig, set()).add(story)
        while len(self.stories) > self.max_stories:
            oldest = next(iter(self.stories))
            for sig in self.stories.pop(oldest):
                where = self._where.get(sig)
                if where is not None:
                    where.discard(oldest)
                    if not where:
                        del self._where[sig]
        return new

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
        self.page_counts = {k: v for k, v in self.page_counts.items() if k in self.counts}

    def to_document(self) -> dict[str, Any]:
        """The state as a MongoDB document (keys are hex strings, safe as field names)."""
        return {
            "_id": self.site,
            "site": self.site,
            "pages": self.pages,
            "counts": [[k, v] for k, v in self.counts.items()],
            "seen": list(self.seen),
            "page_total": self.page_total,
            "page_counts": [[k, v] for k, v in self.page_counts.items()],
            "stories": [[story, [[k, v] for k, v in lines.items()]]
                        for story, lines in self.stories.items()],
        }

    def merge_document(self, doc: dict[str, Any]) -> None:
        """Load a stored state (from :meth:`to_document`) into this one.

        A document written before stories were counted (no ``page_total``) counted each page
        as its own story: its page counts are its story counts."""
        self.pages = max(self.pages, int(doc.get("pages", 0)))
        for key, value in doc.get("counts", []):
            self.counts[str(key)] = max(self.counts.get(str(key), 0), int(value))
        for page in doc.get("seen", []):
            self.seen[str(page)] = None
        if "page_total" in doc:
            page_total, page_counts = int(doc["page_total"]), doc.get("page_counts", [])
        else:
            page_total, page_counts = int(doc.get("pages", 0)), doc.get("counts", [])
        self.page_total = max(self.page_total, page_total)
        for key, value in page_counts:
            self.page_counts[str(key)] = max(self.page_counts.get(str(key), 0), int(value))
        for story, lines in doc.get("stories", []):
            self.remember_story(str(story), {str(k): int(v) for k, v in lines})

    def remember_story(self, story: str, lines: Mapping[str, int]) -> None:
        """Know a story's lines (already counted), as its most recent story, so that a page
        can join it."""
        known = self.stories.pop(story, {})
        self.stories[story] = known
        for sig, chars in lines.items():
            known[sig] = max(known.get(sig, 0), chars)
            self._where.setdefault(sig, set()).add(story)
