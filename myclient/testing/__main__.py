"""``python -m myclient.testing scan PATH... [--secret VALUE]``: fail if cassettes hold secrets.

Reports file names and what kind of secret was found, never the secret itself.
"""

from __future__ import annotations

import argparse
import os
import sys

from ._scan import scan_paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m myclient.testing")
    sub = parser.add_subparsers(dest="command", required=True)
    scan = sub.add_parser("scan", help="scan cassettes (files or directories) for secrets")
    scan.add_argument("paths", nargs="+")
    scan.add_argument("--secret", action="append", default=[],
                      help="a literal secret to look for (repeatable); also MYCLIENT_SECRETS, comma-separated")
    args = parser.parse_args(argv)
    extra = list(args.secret) + [s for s in os.environ.get("MYCLIENT_SECRETS", "").split(",") if s]
    missing = [p for p in args.paths if not os.path.exists(p)]
    if missing:
        print(f"no such file or directory: {', '.join(missing)}", file=sys.stderr)
        return 2
    results = scan_paths(args.paths, extra)
    for path, findings in results.items():
        for finding in findings:
            print(f"{path}: {finding}")
    if results:
        print(f"secret scan FAILED: {len(results)} file(s) hold secrets", file=sys.stderr)
        return 1
    print("secret scan passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
