"""``python -m myclient.codegen SPEC --package NAME --out DIR [--base-url URL] [--check]``.

Exit codes: 0 written (or, with ``--check``, up to date), 1 ``--check`` found differences, 2 bad arguments or
a document that cannot be generated (the message says why).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from ..exceptions import UsageError

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m myclient.codegen",
        description="Write a small, typed Python package (built on myclient) for the API an OpenAPI 3 document "
                    "describes.")
    parser.add_argument("spec", help="the OpenAPI 3 document: a .json, .yaml or .yml file")
    parser.add_argument("--package", required=True, help="the package's name, a Python identifier (e.g. acme_api)")
    parser.add_argument("--out", required=True, help="the folder the package folder is written into")
    parser.add_argument("--base-url", help="the client's default base URL (default: the document's first server)")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 if the package on disk differs from what would be generated")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    args = _parser().parse_args(argv)
    from ._generate import generate, line_counts, save

    started = time.perf_counter()
    try:
        files = generate(args.spec, args.package, base_url=args.base_url)
        if args.check:
            out = Path(args.out)
            stale = sorted(name for name, text in files.items()
                           if not (out / name).is_file() or (out / name).read_text(encoding="utf-8") != text)
            stale += sorted(p.relative_to(out).as_posix() for p in (out / args.package).glob("*.py")
                            if p.relative_to(out).as_posix() not in files)
            if stale:
                print(f"out of date: {', '.join(stale)}", file=sys.stderr)
                return 1
            print(f"{Path(args.out) / args.package} is up to date")
            return 0
        changed = save(files, args.package, args.out)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    elapsed = time.perf_counter() - started
    print(f"wrote {Path(args.out) / args.package}: {len(files)} files, {line_counts(files)} lines "
          f"({len(changed)} changed) in {elapsed:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
