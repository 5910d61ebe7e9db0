"""Issue 12's benchmark in one command (needs ../shared/data for real comments).

    python scripts/benchmark.py                               # full: 1,000 / 10,000 / 100,000 comments
    python scripts/benchmark.py --sizes 1000 --night 50,20    # quick: prints, writes nothing

Whole-pipeline comments/s and peak RSS (one thread and threads of 5, with and without the stance
pair pass) against the bare encode of the same texts and the machine's limit (measured matmul peak /
FLOPs per comment), each stage's model and non-model time, a second night with 5% new comments,
and start-up. The full run writes reports/benchmark.md and .json. The work is done by
:func:`discourse.bench.main`, each measurement in a fresh ``python -m discourse.bench --child``.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from discourse.bench import main  # noqa: E402

if __name__ == "__main__":
    raise SystemExit(main())
