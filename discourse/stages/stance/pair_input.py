"""The input of the stance pair model: ``[CLS] target [SEP] reply [SEP]`` in at most ``max_length`` tokens.

When the pair is too long the TARGET gives way first (down to ``MIN_TARGET`` tokens) and keeps the
part the reply answers: the reply's quoted lines (``> ...``) when it quotes, otherwise its sentences
most similar to the reply (bag-of-words cosine, greedy by similarity, kept in the target's order).
A reply longer than what is left is cut the same way against the target. Training
(:mod:`discourse.train.stance_pair`) and the stage build pairs with this one function.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from typing import Any, NamedTuple

from discourse.text import scrub_surrogates, sentences

MIN_TARGET = 48
"""Target tokens kept at least (when the target is that long, and at most half the room)."""

_WORD = re.compile(r"[a-z0-9']+")
_QUOTE = re.compile(r"^\s*(?:>|&gt;)\s?(.*)$", re.MULTILINE)
_STOP = frozenset(
    "the a an and or but of to in on at for with is are was were be been it this that these those i you he "
    "she we they my your his her our their me him them not no do does did have has had as by from so if then "
    "than there here what which who whom how why when just also can could would should will about into out up "
    "down over all any some".split()
)


class PairIds(NamedTuple):
    input_ids: list[int]
    token_type_ids: list[int]
    reply: str = ""
    """The reply text as read (after any trimming)."""
    reply_tokens: tuple[tuple[int, int], ...] = ()
    """(position in ``input_ids``, character offset in ``reply``) of every reply token."""


def _bow(text: str) -> Counter[str]:
    return Counter(w for w in _WORD.findall(text.lower()) if w not in _STOP)


def _cos(a: Counter[str], b: Counter[str]) -> float:
    if not a or not b:
        return 0.0
    num = sum(v * b.get(k, 0) for k, v in a.items())
    return num / math.sqrt(sum(v * v for v in a.values()) * sum(v * v for v in b.values()))


def quoted(reply: str) -> str:
    """The lines of ``reply`` that quote its parent (``> ...``), joined; "" when it quotes nothing."""
    return "\n".join(m.group(1) for m in _QUOTE.finditer(reply)).strip()


def _n(tok: Any, text: str) -> int:
    return len(tok(text, add_special_tokens=False)["input_ids"])


def select_text(tok: Any, text: str, query: str, budget: int) -> str:
    """``text`` within ``budget`` tokens: all of it if it fits, otherwise its sentences most
    similar to ``query``, greedily in similarity order, kept in text order (joined by spaces)."""
    if _n(tok, text) <= budget:
        return text
    sents = sentences(text)
    if len(sents) <= 1:
        return text  # one long sentence: the tokenizer cuts it
    qb = _bow(query)
    sizes = [_n(tok, s) for s in sents]
    order = sorted(range(len(sents)), key=lambda i: (-_cos(_bow(sents[i]), qb), i))
    keep, used = [], 0
    for i in order:
        if used + sizes[i] <= budget:
            keep.append(i)
            used += sizes[i]
    if not keep:  # the best sentence alone is too long: the tokenizer cuts it
        return sents[order[0]]
    return " ".join(sents[i].strip() for i in sorted(keep))


def _encode(tok: Any, target: str, reply: str, max_length: int | None) -> PairIds:
    enc = tok(
        target,
        reply,
        truncation="longest_first" if max_length else False,
        max_length=max_length,
        return_offsets_mapping=bool(getattr(tok, "is_fast", False)),
    )
    types = enc.get("token_type_ids") or [0] * len(enc["input_ids"])
    where: tuple[tuple[int, int], ...] = ()
    if "offset_mapping" in enc:
        seq = enc.sequence_ids()
        where = tuple((i, int(off[0])) for i, (s, off) in enumerate(zip(seq, enc["offset_mapping"])) if s == 1)
    return PairIds(list(enc["input_ids"]), list(types), reply, where)


def encode_pair(tok: Any, target: str, reply: str, max_length: int = 256) -> PairIds:
    """Token ids and token types of ``target`` (segment A) and ``reply`` (segment B) for ``tok``'s model."""
    target, reply = scrub_surrogates(target), scrub_surrogates(reply)
    whole = _encode(tok, target, reply, None)
    if len(whole.input_ids) <= max_length:
        return whole
    room = max_length - tok.num_special_tokens_to_add(pair=True)
    n_reply, n_target = _n(tok, reply), _n(tok, target)
    t_budget = max(room - n_reply, min(MIN_TARGET, n_target, room // 2))
    if n_reply > room - t_budget:
        reply = select_text(tok, reply, target, room - t_budget)
        n_reply = min(_n(tok, reply), room - t_budget)
    target = select_text(tok, target, quoted(reply) or reply, room - n_reply)
    return _encode(tok, target, reply, max_length)


def encode_pairs(tok: Any, pairs: Sequence[tuple[str, str]], max_length: int = 256) -> list[PairIds]:
    """:func:`encode_pair` of every ``(target, reply)``."""
    return [encode_pair(tok, t, r, max_length) for t, r in pairs]
