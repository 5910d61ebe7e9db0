"""Fit the reply-link weights and measure reply-link and author recovery (needs ../shared/data).

    python scripts/fit_reply_links.py [--shared ../shared/data] [--no-save]

Writes models/reply-links-v1/model.json (registered with its sha256), and
reports/reply_graph.md + reports/reply_graph.json. The r/nfl thread is never used for
fitting: it is the held-out test. Cross-validation is 2-fold by thread.
The work is done by :func:`discourse.train.reply_links.main`.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from discourse.train.reply_links import main  # noqa: E402

if __name__ == "__main__":
    raise SystemExit(main())
