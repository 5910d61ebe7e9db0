"""More evidence for the author of a comment whose author line was lost, precision first.

* A signature closing the comment ("— John", "-- Ann Lee", "~Marco").
* A reply that addresses a participant by name ("@X", "X: ...", "Thank you X") while answering the
  anonymous comment, when no comment of X's lies on the path above the reply (so the name cannot
  be meant for an ancestor): the anonymous comment is X's.
* A two-person thread: when every known author line belongs to A or B (and each wrote two or
  more), an anonymous reply to A is B's and one to B is A's.

Each returns ``{comment index: (name, evidence)}`` for comments whose author is unknown.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from discourse.core.thread import Comment
from discourse.stages.reply_graph.addressing import addressed_names, name_tokens

_SIGNATURE = re.compile(r"(?:^|\n)[ \t]*(?:—|–|--|~~?|-)[ \t]*([A-Z][\w'’\-]{1,30}(?: [A-Z][\w'’\-]{1,30})?)[ \t]*$")


def signatures(comments: Sequence[Comment], authors: Sequence[str | None]) -> dict[int, tuple[str, str]]:
    out: dict[int, tuple[str, str]] = {}
    for i, c in enumerate(comments):
        if authors[i] is None:
            m = _SIGNATURE.search(c.text.rstrip())
            if m:
                name = m.group(1)
                known = [a for a in authors if a and name.lower() in name_tokens(a)]
                out[i] = (known[0] if len(set(known)) == 1 else name, f"signed {m.group(1)}")
    return out


def _ancestors(i: int, parents: Sequence[int | None]) -> list[int]:
    out: list[int] = []
    p = parents[i]
    while p is not None and len(out) < 200:
        out.append(p)
        p = parents[p]
    return out


def addressed_known(
    comments: Sequence[Comment], authors: Sequence[str | None], parents: Sequence[int | None]
) -> dict[int, tuple[str, str]]:
    """A reply naming a known participant X at its opening (vocative, "@X", "X:"), answering an
    anonymous comment, with no comment of X's above it on the path."""
    by_token: dict[str, set[str]] = {}
    for a in {a for a in authors if a}:
        for t in name_tokens(a):
            by_token.setdefault(t, set()).add(a)
    votes: dict[int, Counter[str]] = {}
    why: dict[tuple[int, str], str] = {}
    for y, c in enumerate(comments):
        x = parents[y]
        if x is None or authors[x] is not None:
            continue
        head = c.text[:80]
        names = set(addressed_names(head, strict=True))
        opening = re.match(r"^\s*@?([\w'’\-]{2,40})\s*[:,]", head)
        if opening:
            names.add(opening.group(1))
        hits = {a for n in names for a in by_token.get(n.lower(), ())}
        if len(hits) != 1:
            continue
        (who,) = hits
        if who == authors[y] or any(authors[k] == who for k in _ancestors(x, parents)):
            continue
        votes.setdefault(x, Counter())[who] += 1
        why.setdefault((x, who), comments[y].id)
    out: dict[int, tuple[str, str]] = {}
    for x, counter in votes.items():
        (who, _), *rest = counter.most_common()
        if not rest:
            out[x] = (who, f"named as {who} by {why[(x, who)]}")
    return out


def two_person(
    comments: Sequence[Comment], authors: Sequence[str | None], parents: Sequence[int | None]
) -> dict[int, tuple[str, str]]:
    """In a thread whose known authors are exactly two people, each with two or more comments."""
    counts = Counter(a for a in authors if a)
    if len(counts) != 2 or min(counts.values()) < 2:
        return {}
    a, b = sorted(counts)
    out: dict[int, tuple[str, str]] = {}
    for x, p in enumerate(parents):
        if authors[x] is None and p is not None and authors[p] in (a, b):
            other = b if authors[p] == a else a
            out[x] = (other, f"two-person thread: answers {authors[p]}")
    return out
