"""``import myclient`` against ``import requests``: cumulative import time, non-editable install, interleaved.

The package is installed into a scratch directory with ``pip install --no-deps --target`` (an editable
install adds its own finder to every import), then each round runs, in alternating order, a fresh
interpreter doing ``import requests`` and one doing ``import myclient`` under ``-X importtime``; the
figure is the cumulative microseconds of the top-level module. The ratio is the median over rounds of
myclient/requests. Also printed: the median wall time of the whole ``python -c`` process, and the
modules myclient adds beyond requests' (self time, median). Target: ratio <= 1.15 (``--check``).
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


def _importtime(module: str, path: str) -> tuple[int, float, dict[str, int]]:
    env = {**os.environ, "PYTHONPATH": path, "PYTHONDONTWRITEBYTECODE": ""}
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-X", "importtime", "-c", f"import {module}"], capture_output=True,
                          text=True, env=env, check=True)
    wall = time.perf_counter() - started
    selfs: dict[str, int] = {}
    total = 0
    for line in done.stderr.splitlines():
        found = LINE.match(line)
        if found:
            selfs[found.group(4)] = int(found.group(1))
            if found.group(4) == module:
                total = int(found.group(2))
    return total, wall, selfs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--check", action="store_true", help="exit 1 when the target is missed")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="myclient-import-") as target:
        _install(target)
        for module in ("requests", "myclient"):  # warm the byte-code caches
            _importtime(module, target)
        ratios, walls, rq, mc = [], [], [], []
        extra: dict[str, list[int]] = {}
        for n in range(args.rounds):
            order = ("requests", "myclient") if n % 2 == 0 else ("myclient", "requests")
            results = {m: _importtime(m, target) for m in order}
            (rq_total, rq_wall, rq_selfs), (mc_total, mc_wall, mc_selfs) = results["requests"], results["myclient"]
            ratios.append(mc_total / rq_total)
            walls.append(mc_wall / rq_wall)
            rq.append(rq_total)
            mc.append(mc_total)
            for name, value in mc_selfs.items():
                if name not in rq_selfs:
                    extra.setdefault(name, []).append(value)
    ratio = statistics.median(ratios)
    print(f"Python {sys.version.split()[0]}, {args.rounds} interleaved rounds, non-editable install")
    print(f"import requests: {statistics.median(rq) / 1000:.1f} ms; import myclient: "
          f"{statistics.median(mc) / 1000:.1f} ms (cumulative, median)")
    print(f"ratio myclient/requests: {ratio:.3f} (median; min {min(ratios):.3f}, max {max(ratios):.3f}); "
          f"whole-process wall ratio {statistics.median(walls):.3f}; target <= {TARGET}")
    added = sorted(((statistics.median(v), k) for k, v in extra.items()), reverse=True)
    print("modules myclient adds (self us, median): " + ", ".join(f"{k} {v:.0f}" for v, k in added[:15]))
    return 1 if args.check and ratio > TARGET else 0


if __name__ == "__main__":
    sys.exit(main())
