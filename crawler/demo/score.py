"""Score what a crawl stored against the demo sites' truth: paragraph precision and recall,
template lines leaked, metadata matches. Used by the crawl tests and benchmarks/demo_quality.py."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from crawler.demo.content import DemoSite
from crawler.demo.truth import article_truth, boilerplate_lines, non_article_urls


@dataclass
class DemoScore:
    articles_expected: int = 0
    articles_stored: int = 0
    articles_missing: list[str] = field(default_factory=list)
    non_articles_stored: list[str] = field(default_factory=list)
    paragraphs_stored: int = 0
    paragraphs_true: int = 0
    paragraphs_matched: int = 0
    text_exact: int = 0
    template_lines_leaked: list[tuple[str, str]] = field(default_factory=list)
    title_exact: int = 0
    language_exact: int = 0
    authors_exact: int = 0
    published_exact: int = 0

    @property
    def precision(self) -> float:
        return self.paragraphs_matched / self.paragraphs_stored if self.paragraphs_stored else 0.0

    @property
    def recall(self) -> float:
        return self.paragraphs_matched / self.paragraphs_true if self.paragraphs_true else 0.0

    def lines(self) -> list[str]:
        n = self.articles_expected
        return [
            f"articles stored {self.articles_stored}/{n}, non-articles stored "
            f"{len(self.non_articles_stored)}",
            f"paragraph precision {self.precision:.3f}, recall {self.recall:.3f}, "
            f"text exact {self.text_exact}/{n}",
            f"template lines leaked {len(self.template_lines_leaked)}",
            f"title exact {self.title_exact}/{n}, language {self.language_exact}/{n}, "
            f"authors {self.authors_exact}/{n}, published {self.published_exact}/{n}",
        ]


def score(docs: Iterable[dict[str, Any]], sites: list[DemoSite]) -> DemoScore:
    truth = article_truth(sites)
    templates = {line for lines in boilerplate_lines(sites).values() for line in lines}
    stored = {doc["url"]: doc for doc in docs}
    result = DemoScore(articles_expected=len(truth), articles_stored=len(set(stored) & set(truth)))
    result.articles_missing = sorted(set(truth) - set(stored))
    result.non_articles_stored = sorted(set(stored) & set(non_article_urls(sites)))
    for url, expected in truth.items():
        result.paragraphs_true += len(expected.paragraphs)
        doc = stored.get(url)
        if doc is None:
            continue
        paragraphs = [p for p in doc["text"].split("\n\n") if p]
        result.paragraphs_stored += len(paragraphs)
        true_set = set(expected.paragraphs)
        result.paragraphs_matched += sum(1 for p in paragraphs if p in true_set)
        result.template_lines_leaked += [(url, p) for p in paragraphs if p in templates]
        result.text_exact += doc["text"] == expected.text
        result.title_exact += doc.get("title") == expected.title
        result.language_exact += doc.get("language") == expected.language
        result.authors_exact += doc.get("authors") == expected.authors
        published = doc.get("published")
        result.published_exact += published is not None and published == expected.published
    return result
