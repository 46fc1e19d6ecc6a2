"""Every operation of the named specs called through ``myclient.openapi.load`` against Prism on loopback.

    python benchmarks/openapi_prism.py                          # github, twilio, asana, digitalocean (+ clerk)
    python benchmarks/openapi_prism.py --spec github --sample 100 --seed 3
    python benchmarks/openapi_prism.py --check                  # exit 1 on any rejection or undecoded 2xx

Prism (``prism mock --errors``, pinned in tests/run.sh) serves each document on 127.0.0.1; operations whose
static example breaks the spec are called again against ``prism mock --errors -d --seed 1``. Clerk is run
when its document is on this machine (tests/servers/specs.py says where it is looked for; CI has none).
Per spec it prints: operations, called, rejected by Prism (must be 0), 2xx decoded into the declared type,
2xx not decoded (must be 0), Prism's own mock failures, other answers, errors, and the operations for which
no valid arguments could be made, with the reason (tests/openapi_live.py defines each outcome).
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

import _common  # noqa: F401 - puts the repository root on sys.path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

NAMES = ("github", "twilio", "asana", "digitalocean")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--spec", action="append", help="a named spec (repeatable; default: all, clerk if present)")
    parser.add_argument("--sample", type=int, default=0, help="a seeded sample of N operations per spec")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--check", action="store_true", help="exit 1 on a rejection, an undecoded 2xx or an error")
    args = parser.parse_args()

    from openapi_live import exercise
    from servers import HarnessError
    from servers.prism import PrismPool
    from servers.specs import named_spec

    from myclient.openapi import SpecModel, read_document

    names = list(args.spec or NAMES)
    if not args.spec:
        try:
            named_spec("clerk")
            names.append("clerk")
        except HarnessError as exc:
            print(f"clerk: skipped ({exc})")
    failed = False
    with tempfile.TemporaryDirectory(prefix="openapi-prism-") as workdir:
        pool = PrismPool(Path(workdir), max_running=2)
        try:
            for name in names:
                path = named_spec(name)
                document = read_document(path)
                only = None
                if args.sample:
                    model = SpecModel(document)
                    labels = [f"{op.group}.{op.name}" for op in model.operations]
                    only = random.Random(args.seed).sample(labels, min(args.sample, len(labels)))
                began = time.perf_counter()
                server = pool.get(path, verbose="warn")
                startup = time.perf_counter() - began
                mark = server.log_position()
                report = exercise(document, name, server, only=only,
                                  fallback=lambda p=path: pool.get(p, dynamic=True, seed=1, verbose="warn"))
                log = server.log_report(mark)
                print(report.summary())
                print(f"  Prism: started in {startup:.1f} s; its log counts {log.rejected} rejected requests and "
                      f"{log.mock_errors} mock errors; {report.called / max(report.seconds, 1e-9):.0f} calls/s\n",
                      flush=True)
                failed = failed or bool(report.rejected or report.undecoded or report.errors or log.rejected)
        finally:
            pool.stop()
    return 1 if args.check and failed else 0


if __name__ == "__main__":
    sys.exit(main())
