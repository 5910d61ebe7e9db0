"""Train, evaluate and ship the stance cross-encoder ``stance-pair-minilm-v1``.

Usage (needs ``../shared/data/labeled``; about an hour on 2 shared cores; resumes from its
checkpoints in ``--work``)::

    nice -n 19 .venv/bin/python scripts/train_stance_pair.py [--work DIR] [--threads 2] [--no-save]

Writes ``models/stance-pair-minilm-v1/`` (fp16 weights, tokenizer, model.json, MODEL_CARD.md;
registered in ``models/registry.json``) and ``reports/stance-pair.{md,json}``. The work is done by
:func:`discourse.train.stance_pair.main`; ``--help`` lists every option.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from discourse.train.stance_pair import main  # noqa: E402

if __name__ == "__main__":
    raise SystemExit(main())
