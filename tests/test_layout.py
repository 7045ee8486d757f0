"""The code's map stays as docs/architecture.md draws it: library code in crawler/, thin item
pipelines in pipelines/, no import from the first into the second, one module per name."""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def _imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


def test_crawler_imports_nothing_of_pipelines() -> None:
    offenders = {str(path.relative_to(ROOT)): sorted(name for name in _imported(path)
                                                      if name.split(".")[0] == "pipelines")
                 for path in _modules("crawler")}
    assert {path: names for path, names in offenders.items() if names} == {}


def test_every_module_name_is_used_once() -> None:
    names = Counter(path.name for package in ("crawler", "pipelines")
                    for path in _modules(package) if path.name != "__init__.py")
    assert [name for name, count in names.items() if count > 1] == []


def _strings(path: Path) -> list[tuple[int, str]]:
    return [(node.lineno, node.value) for node in ast.walk(ast.parse(path.read_text("utf-8")))
            if isinstance(node, ast.Constant) and isinstance(node.value, str)]


def test_meta_keys_are_named_in_crawler_keys_only() -> None:
    # an HTML <meta name="news_keywords"> is no request.meta key
    written = {f"{path.relative_to(ROOT)}:{line}": value
               for package in ("crawler", "pipelines") for path in _modules(package)
               if path.name != "keys.py"
               for line, value in _strings(path)
               if value.startswith("news_") and value.isidentifier() and value != "news_keywords"}
    assert written == {}


def test_settings_are_read_without_a_second_default() -> None:
    # crawler/defaults.py reads each NEWS_ setting with its default from crawler/settings.py
    readers = ("get", "getint", "getfloat", "getbool", "getlist", "getdict")
    offenders = []
    for package in ("crawler", "pipelines"):
        for path in _modules(package):
            for node in ast.walk(ast.parse(path.read_text("utf-8"))):
                if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                        and node.func.attr in readers and len(node.args) == 2
                        and isinstance(node.args[0], ast.Constant)
                        and str(node.args[0].value).startswith("NEWS_")):
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []


_MIDDLEWARE_METHODS = {"process_request", "process_response", "process_exception",
                       "process_spider_input", "process_spider_output",
                       "process_spider_output_async", "process_spider_exception",
                       "process_start", "process_start_requests"}
# The distributed crawl keeps its own components (scheduler, middleware, add-on).
_FEATURES = {"distributed"}
# The template hold is one component with several roles (request ledger, held articles, the
# outermost spider middleware): crawler/template_hold.py, beside the folders it coordinates.
_ONE_COMPONENT = {"crawler/template_hold.py:TemplateHold"}


def test_middlewares_live_in_middlewares() -> None:
    misplaced = []
    for path in _modules("crawler"):
        folder = path.relative_to(ROOT / "crawler").parts[0]
        if folder in {"middlewares", *_FEATURES}:
            continue
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.ClassDef) and any(
                    isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef))
                    and item.name in _MIDDLEWARE_METHODS for item in node.body):
                misplaced.append(f"{path.relative_to(ROOT)}:{node.name}")
    assert sorted(set(misplaced) - _ONE_COMPONENT) == []


def test_no_two_folders_import_each_other() -> None:
    edges: set[tuple[str, str]] = set()
    for path in _modules("crawler"):
        parts = path.relative_to(ROOT / "crawler").parts
        if len(parts) < 2:
            continue
        for name in _imported(path):
            target = name.split(".")
            if len(target) >= 2 and target[0] == "crawler" and target[1] != parts[0] \
                    and (ROOT / "crawler" / target[1]).is_dir():
                edges.add((parts[0], target[1]))
    assert sorted((a, b) for a, b in edges if (b, a) in edges and a < b) == []


def test_per_source_counts_have_one_home() -> None:
    # written and read through crawler/per_source.py, never built or parsed as stats keys
    named = {f"{path.relative_to(ROOT)}:{line}"
             for package in ("crawler", "pipelines") for path in _modules(package)
             if path.name != "per_source.py"
             for line, value in _strings(path) if value.startswith("news/source/")}
    assert named == set()
