"""Who a comment is aimed at: another commenter, the commenters as a group, or nobody here.

An insult aimed at a person in the thread is what a moderator acts on first; swearing at nobody,
or a harsh word about a public figure, is not the same. Three cues, all rules (no model):

* a **reply** that speaks to its parent's author: second person ("you", "your", "you're", "u"),
  or the parent author's name as a vocative (:func:`discourse.stages.reply_graph.addressing.addresses`);
* a comment with **no parent** (a top-level comment, or a reply whose link was not found) that
  names an earlier commenter as a vocative ("Ann, you are ..."): the name says whom it speaks to
  even when the reply link does not;
* **any** comment that labels the thread's commenters as a group with a name used to dismiss
  fellow posters ("trolls", "shills", "hasbarats", "sock puppets", "paid posters", "bots"), or
  speaks to them as a group ("you people", "all of you", "y'all").

Quoted lines (``> …``, the parent's words) are left out before looking. Known limits: a generic
"you" ("you never know") reads as aimed; an insult of a commenter by a name of their own choosing
("the guy above") is not seen.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from discourse.core.thread import Comment
from discourse.stages.reply_graph.addressing import addressed_names, addresses, name_tokens

_SECOND = re.compile(
    r"\b(?:you|your|you're|you’re|youre|yours|yourself|yourselves|ya|y'all|y’all|yall)\b"
    r"|(?<![\w.])(?:u|ur)(?![\w.’'])",
    re.IGNORECASE,
)
_LOWER_U = re.compile(r"(?<![\w.])(?:U|UR|Ur)(?![\w.’'])")  # "U" of "U.S."-like capitals is not "you"
_LABELS = re.compile(
    r"\b(?:trolls|shills|hasbara\w*|sock ?puppets|paid (?:posters|commenters|trolls|shills|agents)"
    r"|bots|npcs|sheeple|keyboard warriors|bootlickers|propagandists)\b",
    re.IGNORECASE,
)

_GROUP_YOU = re.compile(r"\b(?:you (?:people|guys|lot|all)|all of you|y'all|y’all|yall)\b", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Target:
    """``kind`` is ``"commenter"`` (the parent's author) or ``"commenters"`` (the thread's
    commenters as a group); ``cue`` says how that was seen, for the reason sentence."""

    kind: str
    cue: str


class AuthorIndex:
    """Authors in the order first seen, indexed by the name tokens that address them
    (:func:`~discourse.stages.reply_graph.addressing.name_tokens`): finding whom a text names
    costs the names it holds, not the number of authors (a huge thread's top-level comments each
    scanned every earlier author: quadratic)."""

    def __init__(self, authors: Iterable[str | None] = ()) -> None:
        self._rank: dict[str, int] = {}
        self._by_token: dict[str, list[str]] = {}
        for a in authors:
            self.add(a)

    def add(self, author: str | None) -> None:
        if not author or author in self._rank:
            return
        self._rank[author] = len(self._rank)
        for token in name_tokens(author):
            self._by_token.setdefault(token, []).append(author)

    def first_addressed(self, text: str, exclude: str | None = None) -> str | None:
        """The first author (in the order seen), other than ``exclude``, whom ``text`` addresses
        (as :func:`~discourse.stages.reply_graph.addressing.addresses` decides)."""
        best: str | None = None
        for name in addressed_names(text):
            who = next((a for a in self._by_token.get(name.lower(), ()) if a != exclude), None)
            if who is not None and (best is None or self._rank[who] < self._rank[best]):
                best = who
        return best


def unquoted(text: str) -> str:
    """The comment without its quoted lines (``>`` quotes: the parent's words, not the author's)."""
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith(">"))


def commenter_labels(text: str) -> tuple[str, ...]:
    """Group labels for fellow commenters the text uses ("trolls", "hasbarats"), in order, once each."""
    seen: dict[str, None] = {}
    for m in _LABELS.finditer(unquoted(text)):
        seen.setdefault(m.group(0), None)
    return tuple(seen)


def second_person(text: str) -> str | None:
    """The first second-person word of the (unquoted) text, or None."""
    own = unquoted(text)
    for m in _SECOND.finditer(own):
        word = m.group(0)
        if word.lower() in ("u", "ur") and _LOWER_U.fullmatch(word):
            continue
        return word
    return None


def aimed_at(
    comment: Comment, parent: Comment | None, earlier_authors: Sequence[str] | AuthorIndex = ()
) -> Target | None:
    """Who ``comment`` is aimed at, or None (see the module docstring for the cues);
    ``earlier_authors`` are the authors of the comments before it (for a comment with no parent),
    in order, or an :class:`AuthorIndex` of them (what a caller going through a thread keeps)."""
    if parent is not None:
        if parent.author and addresses(unquoted(comment.text), parent.author):
            return Target("commenter", "addressed by name")
        word = second_person(comment.text)
        if word is not None:
            return Target("commenter", f"a reply in the second person, “{word}”")
    else:
        own = unquoted(comment.text)
        index = earlier_authors if isinstance(earlier_authors, AuthorIndex) else AuthorIndex(earlier_authors)
        named = index.first_addressed(own, comment.author)
        if named is not None:
            return Target("commenter", f"addresses {named} by name")
    labels = commenter_labels(comment.text)
    if labels:
        return Target("commenters", "calls the other commenters " + ", ".join(f"“{w}”" for w in labels))
    group = _GROUP_YOU.search(unquoted(comment.text))
    if group is not None:
        return Target("commenters", f"speaks to the commenters as a group, “{group.group(0)}”")
    return None
