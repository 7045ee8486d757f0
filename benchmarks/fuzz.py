"""Fuzz extraction for longer than CI does: the properties of tests/test_fuzz_extraction.py
with many random examples (Hypothesis profile ``fuzz-long``).

    .venv/bin/python benchmarks/fuzz.py [--examples N]

Prints the examples run and the time taken; a failing example is printed with the blob that
reproduces it (``@reproduce_failure``), and the exit code is 1.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hypothesis import given, settings  # noqa: E402

from tests.fuzz_html import check_page, mutated_pages, random_pages  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=2000,
                        help="examples per property (default 2000)")
    args = parser.parse_args()
    long = settings(settings.get_profile("fuzz-long"), max_examples=args.examples)
    failed = False
    for name, strategy in (("mutated real pages", mutated_pages()),
                           ("random pages", random_pages)):
        count = 0

        def prop(html: str) -> None:
            nonlocal count
            count += 1
            check_page(html)

        started = time.monotonic()
        try:
            long(given(strategy)(prop))()
        except Exception as exc:  # the failing example was printed by Hypothesis
            failed = True
            print(f"{name}: FAILED after {count} calls: {type(exc).__name__}: {exc}")
            continue
        print(f"{name}: {count} calls passed in {time.monotonic() - started:.0f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
