"""Importing myclient against ``import requests``: non-editable install, fresh interpreters, interleaved.

The package is installed into a scratch directory with ``pip install --no-deps --target`` (an editable
install adds its own finder to every import). ``import myclient`` alone loads nothing but the package
(names load on first use), so the honest figure is what a user needs before the first call:
``import myclient; myclient.Client`` — the client, adapter, transport, error tree and requests itself.
Each round runs, in alternating order, fresh interpreters timing (``time.perf_counter`` around the
statement, inside the process) ``import requests`` and the myclient statement; the ratio is the median
over rounds. Also printed: bare ``import myclient``, and the modules the client adds beyond requests'
(self time from ``-X importtime``, median). Target: ratio <= 1.15 (``--check``).
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

import _common

TARGET = 1.15
LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)")


def _install(target: str) -> None:
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target",
                    target, str(_common.ROOT)], check=True, env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"})


STATEMENTS = {
    "requests": "import requests",
    "myclient": "import myclient; myclient.Client",
    "bare": "import myclient",
}
TIMER = "import time; _t = time.perf_counter(); {stmt}; print(int((time.perf_counter() - _t) * 1e6))"


def _importtime(module: str, path: str) -> tuple[int, float, dict[str, int]]:
    """(microseconds for the statement, whole-process wall seconds, self us per module from -X importtime)."""
    env = {**os.environ, "PYTHONPATH": path, "PYTHONDONTWRITEBYTECODE": ""}
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-X", "importtime", "-c", TIMER.format(stmt=STATEMENTS[module])],
                          capture_output=True, text=True, env=env, check=True)
    wall = time.perf_counter() - started
    selfs: dict[str, int] = {}
    for line in done.stderr.splitlines():
        found = LINE.match(line)
        if found:
            selfs[found.group(4)] = int(found.group(1))
    return int(done.stdout.strip()), wall, selfs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--check", action="store_true", help="exit 1 when the target is missed")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="myclient-import-") as target:
        _install(target)
        for module in ("requests", "myclient", "bare"):  # warm the byte-code caches
            _importtime(module, target)
        ratios, walls, rq, mc, bare = [], [], [], [], []
        extra: dict[str, list[int]] = {}
        for n in range(args.rounds):
            order = ("requests", "myclient") if n % 2 == 0 else ("myclient", "requests")
            results = {m: _importtime(m, target) for m in order}
            (rq_total, rq_wall, rq_selfs), (mc_total, mc_wall, mc_selfs) = results["requests"], results["myclient"]
            ratios.append(mc_total / rq_total)
            walls.append(mc_wall / rq_wall)
            rq.append(rq_total)
            mc.append(mc_total)
            bare.append(_importtime("bare", target)[0])
            for name, value in mc_selfs.items():
                if name not in rq_selfs:
                    extra.setdefault(name, []).append(value)
    ratio = statistics.median(ratios)
    print(f"Python {sys.version.split()[0]}, {args.rounds} interleaved rounds, non-editable install")
    print(f"import requests: {statistics.median(rq) / 1000:.1f} ms; import myclient; myclient.Client: "
          f"{statistics.median(mc) / 1000:.1f} ms; bare import myclient: {statistics.median(bare) / 1000:.2f} ms "
          "(median)")
    print(f"ratio myclient/requests: {ratio:.3f} (median; min {min(ratios):.3f}, max {max(ratios):.3f}); "
          f"whole-process wall ratio {statistics.median(walls):.3f}; target <= {TARGET}")
    added = sorted(((statistics.median(v), k) for k, v in extra.items()), reverse=True)
    print("modules myclient adds (self us, median): " + ", ".join(f"{k} {v:.0f}" for v, k in added[:15]))
    return 1 if args.check and ratio > TARGET else 0


if __name__ == "__main__":
    sys.exit(main())
