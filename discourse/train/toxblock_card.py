"""The documents shipped with the converted tox-block model: its ``LICENSE`` and ``README.md``
model card (:mod:`discourse.train.convert_toxblock` writes them)."""

from __future__ import annotations

import importlib.metadata as md
from pathlib import Path
from typing import Any

REFERENCE = {  # raw (not rescaled) outputs of the original package under TensorFlow (shared/STACK.md)
    "You are an idiot and I hate you": {"toxic": 0.995, "insult": 0.946, "threat": 0.012},
    "Thank you for your kind words": {"toxic": 0.0015, "insult": 0.0002, "threat": 0.0001},
    "I will kill you": {"toxic": 0.941, "insult": 0.414, "threat": 0.937},
    "CIA trolls and hasbarats will cry and rage.": {"toxic": 0.184, "insult": 0.015, "threat": 0.008},
}
PACKAGE = "tox-block"
VERSION = "0.1.2"


def licence_text(dist: md.Distribution, pkg_root: Path) -> str:
    for f in dist.files or []:
        if Path(str(f)).name.upper() in {"LICENSE", "LICENSE.TXT", "LICENCE"}:
            text = Path(str(dist.locate_file(f))).read_bytes().decode("utf-8")
            if text.strip():
                return text
    for cand in (pkg_root / "LICENSE", pkg_root.parent / "LICENSE"):
        if cand.is_file():
            return cand.read_bytes().decode("utf-8")
    author = (dist.metadata["Author"] if "Author" in dist.metadata else "") or "the tox-block authors"
    return _MIT.format(author=author)


_MIT = """MIT License

Copyright (c) 2020 {author}

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
"""


def model_card(
    meta: dict[str, Any], repro: dict[str, dict[str, float]], max_err: float, eval_report: dict[str, Any] | None
) -> str:
    rows = "\n".join(
        f"| {text} | {ref['toxic']} / {ref['insult']} / {ref['threat']} | "
        f"{repro[text]['toxic']:.4f} / {repro[text]['insult']:.4f} / {repro[text]['threat']:.4f} |"
        for text, ref in REFERENCE.items()
    )
    if eval_report:
        j, h = eval_report["jigsaw_test_sample"], eval_report["hatexplain"]
        per = ", ".join(f"{k} {v:.3f}" for k, v in j["auroc_per_label"].items())
        scores = (
            f"Measured by `scripts/eval_toxicity.py` on data tox-block did not train on:\n\n"
            f"- Jigsaw **test**-set sample (101 Wikipedia comments, {j['n_any']} with any label): "
            f"AUROC overall score vs any label **{j['auroc_overall_vs_any']:.3f}**; per label: {per}.\n"
            f"- HateXplain (n={h['n']}, Twitter/Gab posts; normal vs offensive/hate): AUROC "
            f"**{h['auroc_overall']:.3f}**, F1 at 0.5 **{h['f1_at_0.5']:.3f}** "
            f"(precision {h['precision_at_0.5']:.3f}, recall {h['recall_at_0.5']:.3f}).\n\n"
            f"See `reports/toxicity_eval.md` for the exact command."
        )
    else:
        scores = "Run `scripts/eval_toxicity.py`, then re-run this script to fill this section."
    return f"""# tox-block 0.1.2 (torch port)

Six-label toxicity classifier (toxic, severe_toxic, obscene, threat, insult, identity_hate): a
bidirectional LSTM over 50-d word embeddings (GloVe-initialised), by Pascal Bliem, converted from
the Keras model shipped in the PyPI package `tox-block` {VERSION} to safetensors for
`discourse.stages.toxicity.toxblock`. Scores are the model's raw sigmoid outputs (tox-block's optional
per-class min-max rescale is *not* applied).

## Source and licence
- Package: `{PACKAGE}=={VERSION}` (PyPI), file `tox_block/trained_models/lstm_model_0.1.2.h5`,
  sha256 `{meta["source"]["h5_sha256"]}`; tokenizer `encoder_0.1.2.pkl`, sha256
  `{meta["source"]["encoder_sha256"]}`. Upstream: https://github.com/Pascal-Bliem/tox-block
- Licence: MIT (copy in `LICENSE`). Training data: Jigsaw/Conversation AI Toxic Comment
  Classification Challenge (Kaggle 2018, CC0; text from Wikipedia talk pages).

## How it was converted
`PYTHONPATH=. python scripts/convert_toxblock.py` reads the .h5 with h5py (Keras {meta["versions"]["keras"]}
config checked layer by layer) and the tokenizer pickle with a restricted unpickler (the Keras
`Tokenizer` and tox-block `TokenSequencer` are mapped to inert stand-ins; any other class is
refused). Kernels are transposed to torch layout; the gate order i, f, c, o is the same. No
TensorFlow is involved, and nothing is unpickled at run time.

Model: Embedding(20000, 50, pads not masked) -> BiLSTM(50, tanh, recurrent activation Keras 2
hard_sigmoid `clip(0.2x + 0.5, 0, 1)`, all 100 steps run) concat -> global max pool -> Dense(50, relu)
-> Dense(6, sigmoid). Preprocessing: lower-case, the characters
`{meta["preprocessing"]["filters"]!r}` become spaces, split on spaces, keep ids < 20,000, drop unknown
words, pad/truncate to 100 ids at the front.

## Reference outputs reproduced
Raw toxic / insult / threat of the original package run under TensorFlow, and this port
(max abs difference {max_err:.1e}: every value rounds to the reference at the 3-4 decimals it was
recorded with; TensorFlow is not installed here to compare more digits):

| text | original | this port |
|---|---|---|
{rows}

## Held-out scores
{scores}

## Known failure modes
- Trained on Wikipedia talk-page comments (2018): it knows that register of abuse (profanity, direct
  insults) far better than coded hate speech, dog whistles, sarcasm or political invective; scores
  on other platforms (news comments, Gab, Twitter) are lower in quality, see HateXplain above.
- Word-level, lower-case vocabulary of the 20,000 most frequent training words; misspellings,
  obfuscations ("f*ck", "1d10t"), new slang and names are unknown and silently dropped. A text with
  no known words gets the score of an all-padding input (low).
- Only the **last 100 known words** are read; an insult early in a long comment can be missed.
- Bag-of-context LSTM: negation and quotation ("he called me an idiot") are often scored as toxic;
  identity terms ("gay", "muslim", "black") raise scores on their own (known Jigsaw bias).
- Probabilities are not calibrated across labels (severe_toxic, threat, identity_hate stay low).
"""
