"""Fit the learned reply-link scorer and measure reply structure on held-out threads (needs ../shared/data).

    python scripts/fit_reply_links.py [--shared ../shared/data] [--cache FILE] [--no-save]

Writes models/reply-links-v2 (model.json + card, registered with its sha256), and
reports/reply_graph.md + reports/reply_graph.json. The r/nfl thread is never used for
fitting; the other sources are split by thread (60% fit, 10% dev, 30% test).
The work is done by :func:`discourse.train.structure_train.main`.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from discourse.train.structure_train import main  # noqa: E402

if __name__ == "__main__":
    raise SystemExit(main())
