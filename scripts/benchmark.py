"""Throughput and peak memory of the whole pipeline (needs ../shared/data for real comments).

    python scripts/benchmark.py [--sizes 100 1000 10000] [--dtype auto] [--no-write]

Results go to reports/benchmark.md and .json. The work is done by :func:`discourse.bench.main`
(each measurement in a fresh ``python -m discourse.bench --child ...`` process).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from discourse.bench import main  # noqa: E402

if __name__ == "__main__":
    raise SystemExit(main())
