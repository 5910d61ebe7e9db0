"""What a moderator should look at first, and why.

Priority in 0..1 per comment, from its own toxicity (overall and the severe labels:
threat, identity hate, severe toxicity) and from its context (a heated
disagreement, a chain that escalates). Every reason is a sentence naming the
score and the model behind it.
"""

from __future__ import annotations

from discourse.core.layers import Annotations
from discourse.core.thread import Thread
from discourse.stages.attention.result import AttentionItem
from discourse.stages.chains.result import Chain
from discourse.stages.stance.result import StanceResult
from discourse.stages.toxicity.result import ToxicityResult

_SEVERE = {"threat": "possible threat", "identity_hate": "identity-based hate", "severe_toxic": "severe toxicity"}


def rank_attention(
    thread: Thread,
    annotations: Annotations,
    chains: tuple[Chain, ...],
    flag_threshold: float = 0.5,
    watch_threshold: float = 0.2,
    max_items: int = 25,
) -> tuple[AttentionItem, ...]:
    escalating: dict[str, Chain] = {}
    for ch in chains:
        if ch.outcome == "escalated":
            for cid in ch.comment_ids:
                escalating[cid] = ch
    items: list[AttentionItem] = []
    for c in thread.comments:
        tx: ToxicityResult | None = annotations.get(c.id, "toxicity")
        st: StanceResult | None = annotations.get(c.id, "stance")
        reasons: list[str] = []
        priority = 0.0
        if tx is not None:
            priority = tx.score
            words = f"; driven by “{', '.join(tx.evidence)}”" if tx.evidence else ""
            if tx.score >= flag_threshold:
                top = sorted(tx.labels.items(), key=lambda kv: -kv[1])[:2]
                lab = ", ".join(f"{k} {v:.2f}" for k, v in top)
                reasons.append(f"toxic: score {tx.score:.2f} ({lab}) by {tx.model}{words}")
            elif tx.score >= watch_threshold:
                reasons.append(f"borderline toxicity {tx.score:.2f} by {tx.model}{words}")
            for label, text in _SEVERE.items():
                v = float(tx.labels.get(label, 0.0))
                if v >= watch_threshold:
                    reasons.append(f"{text}: {label} {v:.2f} by {tx.model}")
                    priority = max(priority, min(1.0, v + 0.3))
            if st is not None and st.label == "disagree" and tx.score >= watch_threshold:
                p = st.scores.get("disagree", 0.0)
                reasons.append(
                    f"heated disagreement: stance disagree ({p:.2f}, {st.model}) with toxicity {tx.score:.2f}"
                )
                priority = min(1.0, priority + 0.1)
        if c.id in escalating:
            ch = escalating[c.id]
            reasons.append(
                f"in an escalating exchange between {ch.participants[0]} and {ch.participants[1]}"
                f" (toxicity trend {ch.escalation:+.2f}/turn)"
            )
            priority = min(1.0, max(priority, flag_threshold) + 0.05)
        if reasons and priority >= watch_threshold:
            items.append(AttentionItem(c.id, round(priority, 6), tuple(reasons)))
    items.sort(key=lambda it: -it.priority)
    return tuple(items[:max_items])
