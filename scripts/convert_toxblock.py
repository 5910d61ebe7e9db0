"""Convert tox-block 0.1.2 (Keras .h5 + pickled tokenizer) into a shipped model folder.

Usage (needs ``pip install --no-deps tox-block==0.1.2`` and ``h5py``; never TensorFlow)::

    PYTHONPATH=. python scripts/convert_toxblock.py [--out models/tox-block-0.1.2] [--eval reports/toxicity_eval.json]

Writes ``model.safetensors``, ``vocab.json``, ``model.json``, ``LICENSE`` and a ``README.md``
model card, then registers the folder in ``models/registry.json``. The work is done by
:func:`discourse.train.convert_toxblock.main`.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from discourse.train.convert_toxblock import main  # noqa: E402

if __name__ == "__main__":
    raise SystemExit(main())
