"""Train, select and honestly evaluate the stance head ``stance-minilm-v1``.

Usage (needs ``../shared/data/labeled``; with the encoder pass cached, about 8 minutes on
2 cores, 6.5 of them the MLP candidates; ``--mlp-hidden`` with no value skips those)::

    .venv/bin/python scripts/train_stance.py [--data ../shared/data/labeled] [--cache-dir ~/.cache/discourse]

Writes ``models/stance-minilm-v1/`` (weights, model.json, model card; registered in
``models/registry.json``), ``reports/stance.md`` and ``reports/stance.json``. The work is done by
:func:`discourse.train.stance.main`; ``--help`` lists every option.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from discourse.train.stance import main  # noqa: E402

if __name__ == "__main__":
    raise SystemExit(main())
