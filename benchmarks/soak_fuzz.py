"""The property-based tests, run long: every hypothesis property of the unit suite with many more examples.

CI runs each property with a bounded count (``tests/fuzzing.py``); this script runs the same files
with ``MYCLIENT_FUZZ_SCALE`` (default 50, so a property CI runs 300 times runs 15,000 times), in
parallel, and prints what pytest says. A failure prints hypothesis's minimal example; add it as an
``@example`` to the test so CI keeps it. Run from the repository root::

    python benchmarks/soak_fuzz.py [--scale 50] [--workers auto]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FILES = [
    "tests/unit/test_fuzz_core.py",
    "tests/unit/test_downloads_fuzz.py",
    "tests/unit/test_oauth2_hostile.py",
    "tests/unit/test_pagination_fuzz.py",
    "tests/unit/test_redaction.py",
    "tests/unit/test_transport_equivalence.py",
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=50, help="examples per property = CI count x scale")
    parser.add_argument("--workers", default="auto", help="pytest-xdist workers (default: auto)")
    args = parser.parse_args(argv)
    if args.scale < 1:
        parser.error("--scale must be >= 1")
    env = {**os.environ, "MYCLIENT_FUZZ_SCALE": str(args.scale)}
    command = [sys.executable, "-m", "pytest", "-q", "-n", args.workers, "-p", "no:cacheprovider",
               "--hypothesis-show-statistics", *FILES]
    began = time.monotonic()
    completed = subprocess.run(command, cwd=ROOT, env=env, check=False)
    print(f"soak_fuzz: scale {args.scale}, {time.monotonic() - began:.0f} s, pytest exit {completed.returncode}")
    return completed.returncode


if __name__ == "__main__":
    sys.exit(main())
