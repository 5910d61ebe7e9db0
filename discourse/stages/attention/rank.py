"""What a moderator should look at first, and why.

Each comment gets reason codes from its own scores (one threshold per attribute, see
:class:`AttentionThresholds`), from who it is aimed at (:mod:`.target`) and from its context (a
heated disagreement, an escalating chain, an uncertain inferred link). Every reason is a sentence
that starts with its code and names the score and the model behind it.

The priority (0..1) is set by the most serious reason, in tiers; within a tier the score orders:

====================================================  ============  ===========
reason                                                 priority      default
====================================================  ============  ===========
THREAT                                                 0.75 + 0.25 s  flagged
IDENTITY_ATTACK                                        0.70 + 0.25 s  flagged
INSULT aimed at a commenter (or the commenters)        0.65 + 0.25 s  flagged
TOXIC with severe toxicity                             0.60 + 0.25 s  flagged
TOXIC aimed at a commenter                             0.55 + 0.25 s  flagged
INSULT or TOXIC aimed at no one here (public figure)   0.30 + 0.10 s  watch
PROFANITY (swearing, nothing aimed or attacking)       0.20 + 0.10 s  watch
TOXIC borderline (watch level <= toxicity < its        0.20 .. 0.30   watch
threshold)
HEATED_DISAGREEMENT                                    + 0.05
ESCALATION                                             at least the flag threshold + 0.05
====================================================  ============  ===========

``s`` is the score that gave the code. The tiers are fixed; ``flag_threshold`` cuts them (0.5 by
default: attacks on people are flagged, swearing and harsh words about people outside the thread
are listed below them).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from discourse.core.layers import Annotations
from discourse.core.thread import Comment, Thread
from discourse.stages.attention.config import AttentionConfig
from discourse.stages.attention.result import CODES, AttentionItem
from discourse.stages.attention.target import AuthorIndex, Target, aimed_at, commenter_labels
from discourse.stages.chains.result import Chain
from discourse.stages.stance.result import StanceResult
from discourse.stages.toxicity.result import ToxicityResult

LABELS: dict[str, tuple[str, ...]] = {
    "insult": ("insult",),
    "threat": ("threat",),
    "identity_attack": ("identity_attack", "identity_hate"),
    "profanity": ("profanity", "obscene"),
    "severe_toxicity": ("severe_toxicity", "severe_toxic"),
}
"""Attribute -> the label names that carry it, the product name first, tox-block's raw one after."""


def read_label(labels: Mapping[str, float], attribute: str) -> tuple[str, float] | None:
    """``(label name, score)`` for an attribute: the first of its names the model gives, else None."""
    for name in LABELS[attribute]:
        if name in labels:
            return name, float(labels[name])
    return None


def _tier(lo: float, width: float, s: float) -> float:
    return lo + width * max(0.0, min(1.0, s))


def _assess(
    c: Comment,
    parent: Comment | None,
    tx: ToxicityResult | None,
    st: StanceResult | None,
    chain: Chain | None,
    cfg: AttentionConfig,
    earlier_authors: Sequence[str] | AuthorIndex = (),
) -> tuple[float, dict[str, str], Target | None]:
    """Priority, {code: reason sentence} and target of one comment."""
    th = cfg.thresholds
    reasons: dict[str, str] = {}
    priority = 0.0
    target = aimed_at(c, parent, earlier_authors)
    if target is None:
        how = "aimed at no one in the thread"
    elif target.kind == "commenters":
        how = f"aimed at the thread’s commenters ({target.cue})"
    elif parent is None:
        how = f"aimed at another commenter ({target.cue})"
    else:
        how = f"aimed at {parent.author or 'its parent’s author'} ({target.cue})"
    if tx is not None:
        m, score = tx.model, float(tx.score)
        words = f"; driven by “{', '.join(tx.evidence)}”" if tx.evidence else ""
        lab = {a: read_label(tx.labels, a) for a in LABELS}
        val = {a: (v[1] if v else 0.0) for a, v in lab.items()}

        def said(a: str) -> str:
            name, v = lab[a] or (a, 0.0)
            return f"{name} {v:.2f}"

        if lab["threat"] and val["threat"] >= th.threat:
            reasons["THREAT"] = f"THREAT: possible threat, {said('threat')} by {m}, {how}"
            priority = max(priority, _tier(0.75, 0.25, val["threat"]))
        if lab["identity_attack"] and val["identity_attack"] >= th.identity_attack:
            said_id = said("identity_attack")
            reasons["IDENTITY_ATTACK"] = f"IDENTITY_ATTACK: identity-based attack, {said_id} by {m}, {how}"
            priority = max(priority, _tier(0.70, 0.25, val["identity_attack"]))
        insult = bool(lab["insult"]) and val["insult"] >= th.insult
        labels = commenter_labels(c.text)
        if insult or labels:
            s = max(val["insult"], score)
            if insult and target is not None:
                reasons["INSULT"] = f"INSULT: {said('insult')} by {m}, {how}"
                priority = max(priority, _tier(0.65, 0.25, s))
            elif labels:
                named = ", ".join(f"“{w}”" for w in labels)
                reasons["INSULT"] = (
                    f"INSULT: calls the other commenters {named} (commenter-label word list),"
                    f" with toxicity {score:.2f} and {said('insult')} by {m}"
                )
                priority = max(priority, _tier(0.65, 0.25, s))
            else:
                reasons["INSULT"] = f"INSULT: {said('insult')} by {m}, {how} (a public figure or nobody)"
                priority = max(priority, _tier(0.30, 0.10, val["insult"]))
        severe = bool(lab["severe_toxicity"]) and val["severe_toxicity"] >= th.severe_toxicity
        person = {"THREAT", "IDENTITY_ATTACK", "INSULT"} & set(reasons)
        profane = bool(lab["profanity"]) and val["profanity"] >= th.profanity
        # a toxic score with profanity its strongest label, nothing aimed and no attack: swearing
        swearing = (
            score >= th.toxicity
            and not person
            and not severe
            and target is None
            and lab["profanity"] is not None
            and val["profanity"] >= max(val["insult"], val["threat"], val["identity_attack"])
            and val["profanity"] >= cfg.watch_threshold
        )
        if severe:
            reasons["TOXIC"] = f"TOXIC: severe, {said('severe_toxicity')} (toxicity {score:.2f}) by {m}, {how}"
            priority = max(priority, _tier(0.60, 0.25, val["severe_toxicity"]))
        elif score >= th.toxicity and not swearing:
            top = sorted(
                ((a, val[a]) for a in ("insult", "threat", "identity_attack", "profanity") if lab[a]),
                key=lambda kv: -kv[1],
            )[:2]
            detail = "".join(f", {said(a)}" for a, _ in top)
            reasons["TOXIC"] = f"TOXIC: toxicity {score:.2f}{detail} by {m}, {how}"
            priority = max(priority, _tier(0.55, 0.25, score) if target else _tier(0.30, 0.10, score))
        elif cfg.watch_threshold <= score < th.toxicity and not person:
            shown = f"{score:.2f}" if f"{score:.2f}" != f"{th.toxicity:.2f}" else f"{score:.4f}"
            reasons["TOXIC"] = f"TOXIC: borderline, toxicity {shown} (below {th.toxicity:.2f}) by {m}, {how}"
            span = max(th.toxicity - cfg.watch_threshold, 1e-9)
            priority = max(priority, _tier(0.20, 0.10, (score - cfg.watch_threshold) / span))
        if profane or swearing:
            prof = said("profanity")
            why = f"{prof} by {m}" if profane else f"toxicity {score:.2f} by {m} is mostly {prof}"
            alone = "" if person or "TOXIC" in reasons else ", swearing that attacks no one"
            reasons["PROFANITY"] = f"PROFANITY: {why}{alone}"
            priority = max(priority, _tier(0.20, 0.10, max(val["profanity"], score)))
        if reasons:
            first = next(iter(reasons))
            reasons[first] += words
        if st is not None and st.label == "disagree" and score >= cfg.watch_threshold:
            p = float(st.scores.get("disagree", 0.0))
            reasons["HEATED_DISAGREEMENT"] = (
                f"HEATED_DISAGREEMENT: stance disagree {p:.2f} by {st.model}, with toxicity {score:.2f} by {m}"
            )
            priority += 0.05
    if chain is not None:
        a, b = (chain.participants + ("?", "?"))[:2]
        reasons["ESCALATION"] = (
            f"ESCALATION: in an escalating exchange between {a} and {b}"
            f" (toxicity trend {chain.escalation:+.2f}/turn, chains stage)"
        )
        priority = max(priority, cfg.flag_threshold) + 0.05
    return min(1.0, priority), reasons, target


def rank_attention(
    thread: Thread,
    annotations: Annotations,
    chains: tuple[Chain, ...],
    config: AttentionConfig | None = None,
) -> tuple[AttentionItem, ...]:
    """The comments a moderator should look at, highest priority first (at most ``max_items``)."""
    cfg = config or AttentionConfig()
    escalating: dict[str, Chain] = {}
    for ch in chains:
        if ch.outcome == "escalated":
            for cid in ch.comment_ids:
                escalating.setdefault(cid, ch)
    byid = thread.by_id()
    items: list[AttentionItem] = []
    authors = AuthorIndex()  # authors of the comments so far, in order
    for c in thread.comments:
        parent = byid.get(c.parent_id) if c.parent_id is not None else None
        tox, st = annotations.get(c.id, "toxicity"), annotations.get(c.id, "stance")
        priority, reasons, target = _assess(c, parent, tox, st, escalating.get(c.id), cfg, authors)
        authors.add(c.author)
        if not reasons or priority < cfg.watch_threshold:
            continue
        if priority >= cfg.flag_threshold and not thread.structure_known and c.parent_confidence < cfg.link_confidence:
            where = f"to {parent.author or c.parent_id}" if parent is not None else "to the article"
            reasons["LOW_CONFIDENCE_LINK"] = (
                f"LOW_CONFIDENCE_LINK: its reply link {where} was inferred with confidence"
                f" {c.parent_confidence:.2f} (below {cfg.link_confidence:.2f}), so who it answers is uncertain"
            )
        codes = tuple(k for k in CODES if k in reasons)
        items.append(
            AttentionItem(
                c.id, round(priority, 6), tuple(reasons[k] for k in codes), codes, target.kind if target else None
            )
        )
    items.sort(key=lambda it: -it.priority)
    return tuple(items[: cfg.max_items])
