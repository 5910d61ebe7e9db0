"""Measure a toxicity model on labelled data: HateXplain and the Jigsaw test-set sample.

Usage::

    .venv/bin/python scripts/eval_toxicity.py [--data ../shared/data] [--out reports]
        [--model '{"name": "tox-block-0.1.2"}'] [--batch-size 256] [--threads N] [--minilm-head]

Prints a table and writes ``<out>/toxicity.json`` and ``<out>/toxicity.md``. The JSON also
carries the keys ``scripts/convert_toxblock.py --eval`` reads for the model card.
The work is done by :func:`discourse.train.eval_toxicity.main`.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from discourse.train.eval_toxicity import main  # noqa: E402

if __name__ == "__main__":
    raise SystemExit(main())
