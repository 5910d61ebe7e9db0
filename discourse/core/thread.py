"""The typed, immutable data model: a Thread of Comments under an article root.

Frozen dataclasses, no back-pointers. Stages never mutate a Thread; those that
change structure (reply-link inference) return a new one via ``dataclasses.replace``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any, Literal

ROOT_ID = "root"
"""Node id of the article in the reply graph. A comment whose ``parent_id`` is
None answers the article."""


def _frozen(mapping: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(mapping or {}))


@dataclass(frozen=True, slots=True)
class Comment:
    """One comment. ``text`` is verbatim as found in the source.

    ``parent_id`` is None when the comment answers the article. For formats with
    no reply structure (flat text) the parser leaves it None and
    ``parent_confidence`` at 0.0 until the reply-graph stage infers a link.
    """

    id: str
    text: str
    author: str | None = None
    author_inferred: bool = False
    parent_id: str | None = None
    parent_confidence: float = 1.0
    parent_evidence: tuple[str, ...] = ()
    created: str | None = None
    meta: Mapping[str, Any] = field(default_factory=lambda: _frozen(None))

    def __post_init__(self) -> None:
        if not isinstance(self.meta, MappingProxyType):
            object.__setattr__(self, "meta", _frozen(self.meta))


@dataclass(frozen=True, slots=True)
class Problem:
    """One integrity problem found by :meth:`Thread.validate`."""

    kind: Literal["duplicate_id", "missing_parent", "self_parent", "cycle", "empty_text"]
    comment_id: str
    detail: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.comment_id}: {self.detail}"


@dataclass(frozen=True, slots=True)
class Thread:
    """An article (the root) and its comments in document order."""

    id: str
    title: str
    comments: tuple[Comment, ...]
    article: str = ""
    source_format: str = "unknown"
    structure_known: bool = True
    warnings: tuple[str, ...] = ()
    meta: Mapping[str, Any] = field(default_factory=lambda: _frozen(None))

    def __post_init__(self) -> None:
        if not isinstance(self.meta, MappingProxyType):
            object.__setattr__(self, "meta", _frozen(self.meta))

    # -- lookup -----------------------------------------------------------
    def __len__(self) -> int:
        return len(self.comments)

    def by_id(self) -> dict[str, Comment]:
        return {c.id: c for c in self.comments}

    def children(self) -> dict[str | None, list[str]]:
        """Map parent id (None for the article) to child ids in document order."""
        out: dict[str | None, list[str]] = {None: []}
        for c in self.comments:
            out.setdefault(c.parent_id, []).append(c.id)
        return out

    def with_warnings(self, *messages: str) -> Thread:
        return replace(self, warnings=self.warnings + tuple(messages))

    # -- integrity ----------------------------------------------------------
    def validate(self) -> list[Problem]:
        """Return integrity problems (never raises, never prints)."""
        problems: list[Problem] = []
        seen: set[str] = set()
        for c in self.comments:
            if c.id in seen:
                problems.append(Problem("duplicate_id", c.id, "id appears more than once"))
            seen.add(c.id)
        ids = seen
        parent = {c.id: c.parent_id for c in self.comments}
        for c in self.comments:
            if c.parent_id is None:
                continue
            if c.parent_id == c.id:
                problems.append(Problem("self_parent", c.id, "comment is its own parent"))
            elif c.parent_id not in ids:
                problems.append(Problem("missing_parent", c.id, f"parent {c.parent_id!r} not in thread"))
        # cycles longer than one
        state: dict[str, int] = {}
        for start in parent:
            path: list[str] = []
            node: str | None = start
            while node is not None and node in parent and state.get(node, 0) == 0:
                state[node] = 1
                path.append(node)
                nxt = parent[node]
                node = nxt if nxt != node else None
            if node is not None and state.get(node) == 1 and node in path and len(path) > 1:
                cyc = path[path.index(node) :]
                if len(cyc) > 1:
                    problems.append(Problem("cycle", node, " -> ".join(cyc + [node])))
            for p in path:
                state[p] = 2
        return problems

    # -- traversal ------------------------------------------------------------
    def traverse(self, order: Literal["preorder", "bfs", "postorder"] = "preorder") -> Iterator[Comment]:
        """Visit every comment reachable from the article exactly once."""
        kids = self.children()
        byid = self.by_id()
        if order == "bfs":
            queue = list(kids.get(None, []))
            i = 0
            while i < len(queue):
                cid = queue[i]
                i += 1
                yield byid[cid]
                queue.extend(kids.get(cid, []))
            return
        if order == "preorder":
            stack = list(reversed(kids.get(None, [])))
            while stack:
                cid = stack.pop()
                yield byid[cid]
                stack.extend(reversed(kids.get(cid, [])))
            return
        # postorder, iterative
        out: list[str] = []
        stack = list(kids.get(None, []))
        while stack:
            cid = stack.pop()
            out.append(cid)
            stack.extend(kids.get(cid, []))
        for cid in reversed(out):
            yield byid[cid]

    def depth(self) -> dict[str, int]:
        """Depth of each comment (1 = answers the article)."""
        d: dict[str, int] = {}
        for c in self.traverse("preorder"):
            d[c.id] = 1 if c.parent_id is None else d[c.parent_id] + 1
        return d
