"""Every setting and every stat is documented in docs/settings.md.

The names are read from the source: every ``NEWS_*`` string or setting of crawler/settings.py,
and every Scrapy stat key under ``news/`` that the code of crawler/ and pipelines/ spells out,
whole or as the literal start of an f-string. A helper such as ``_count(event)`` that counts
``f"news/templates/{event}"`` is followed to its calls in the same module, so the events it
is called with are checked as whole keys.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

from scrapy.settings import default_settings

from crawler import settings as project_settings

ROOT = Path(__file__).resolve().parent.parent
DOC = (ROOT / "docs" / "settings.md").read_text(encoding="utf-8")
SOURCES = sorted(p for d in ("crawler", "pipelines") for p in (ROOT / d).rglob("*.py"))
SETTING = re.compile(r"NEWS_[A-Z0-9_]+")


def _modules() -> Iterator[tuple[str, ast.Module]]:
    for path in SOURCES:
        yield str(path.relative_to(ROOT)), ast.parse(path.read_text(encoding="utf-8"))


def _documented_settings() -> set[str]:
    """The names of the rows of the settings tables."""
    return set(re.findall(r"^\| `([A-Z][A-Z0-9_]*)`", DOC, re.MULTILINE))


def test_every_setting_of_ours_is_documented() -> None:
    used: dict[str, str] = {}
    for where, tree in _modules():
        for node in ast.walk(tree):
            if (isinstance(node, ast.Constant) and isinstance(node.value, str)
                    and SETTING.fullmatch(node.value)):
                used.setdefault(node.value, f"{where}:{node.lineno}")
    # ours: every NEWS_ name, and what crawler/settings.py sets that Scrapy does not know
    for name in dir(project_settings):
        if name.isupper() and (name.startswith("NEWS_") or not hasattr(default_settings, name)):
            used.setdefault(name, "crawler/settings.py")
    assert len(used) > 30  # the scan found the settings
    missing = {name: where for name, where in used.items() if name not in _documented_settings()}
    assert not missing, f"settings missing from the tables of docs/settings.md: {missing}"


# -- stats ---------------------------------------------------------------------------------


def _literal_start(node: ast.JoinedStr) -> str:
    start = ""
    for part in node.values:
        if not isinstance(part, ast.Constant):
            break
        start += str(part.value)
    return start


def _stat_keys() -> dict[str, str]:
    """Stat keys the code spells out: a whole key, or (ending in "*") the start of keys."""
    keys: dict[str, str] = {}
    for where, tree in _modules():
        helpers: dict[str, tuple[int, str]] = {}  # counting helper -> (argument index, start)
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            params = [a.arg for a in function.args.args]
            for node in ast.walk(function):
                if not isinstance(node, ast.JoinedStr):
                    continue
                start = _literal_start(node)
                if not start.startswith("news/"):
                    continue
                first_hole = next(
                    (p for p in node.values if isinstance(p, ast.FormattedValue)), None)
                if (first_hole is not None and isinstance(first_hole.value, ast.Name)
                        and first_hole.value.id in params and start.count("/") == 2):
                    helpers.setdefault(function.name, (params.index(first_hole.value.id), start))
                keys.setdefault(start + "*", f"{where}:{node.lineno}")
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) \
                    and node.value.startswith("news/"):
                key = node.value + "*" if node.value.endswith("/") else node.value
                keys.setdefault(key, f"{where}:{node.lineno}")
            if not isinstance(node, ast.Call):
                continue
            name = (node.func.attr if isinstance(node.func, ast.Attribute)
                    else node.func.id if isinstance(node.func, ast.Name) else "")
            if name not in helpers:
                continue
            index, start = helpers[name]
            index -= 1 if isinstance(node.func, ast.Attribute) else 0  # self
            if index >= len(node.args):
                continue
            arg = node.args[index]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                keys.setdefault(start + arg.value, f"{where}:{node.lineno}")
            elif isinstance(arg, ast.JoinedStr):
                keys.setdefault(start + _literal_start(arg) + "*", f"{where}:{node.lineno}")
    return keys


def _documented_stats() -> list[str]:
    """The stat keys of the Stats section, ``{a,b}`` spelled out; ``<name>`` stays."""
    section = DOC.split("## Stats", 1)[1]
    patterns = []
    for token in re.findall(r"`(news/[^`]+)`", section):
        alternatives = [""]
        for literal, choices in re.findall(r"([^{]*)(?:\{([^}]*)\})?", token):
            options = choices.split(",") if choices else [""]
            alternatives = [a + literal + o for a in alternatives for o in options]
        patterns += alternatives
    return patterns


def _is_documented(key: str, patterns: list[str]) -> bool:
    for pattern in patterns:  # "<name>" stands for any text
        regex = re.compile(".+".join(re.escape(p) for p in re.split(r"<[^>]*>", pattern)))
        if key.endswith("*"):
            if pattern.startswith(key[:-1]) or regex.fullmatch(key[:-1] + "x"):
                return True
        elif regex.fullmatch(key):
            return True
    return False


def test_the_documented_patterns_are_read() -> None:
    patterns = _documented_stats()
    assert "news/page/extracted" in patterns and "news/source/<name>/<event>" in patterns
    assert _is_documented("news/source/bbc/articles", patterns)
    assert _is_documented("news/fetch/http_status/*", patterns)
    assert not _is_documented("news/nowhere", patterns)


def test_every_stat_is_documented() -> None:
    keys = _stat_keys()
    assert "news/templates/held" in keys  # a helper's event, followed to its call
    assert len(keys) > 30
    patterns = _documented_stats()
    missing = {key: where for key, where in keys.items() if not _is_documented(key, patterns)}
    assert not missing, f"stats missing from the Stats section of docs/settings.md: {missing}"
