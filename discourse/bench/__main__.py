"""``python -m discourse.bench``: the benchmark (also how each measurement's fresh process starts)."""

from __future__ import annotations

from discourse.bench.runner import main

raise SystemExit(main())
