"""Extra evidence for lost authors: signatures, a reply naming a known participant, two-person threads."""

from __future__ import annotations

from discourse.core.thread import Comment
from discourse.stages.reply_graph.authors import addressed_known, signatures, two_person


def _comments(texts: list[str]) -> list[Comment]:
    return [Comment(id=f"c{k}", text=t) for k, t in enumerate(texts)]


def test_a_signature_names_the_author() -> None:
    cs = _comments(["I think so.", "No, the vote is next week.\n— John", "Fine.\n-- Ann", "10 - 5"])
    found = signatures(cs, ["Ann Lee", None, None, None])
    assert found[1][0] == "John"
    assert found[2][0] == "Ann Lee"  # matched to the known display name
    assert 3 not in found and 0 not in found  # a known author; a number is no signature


def test_a_reply_naming_a_known_participant() -> None:
    cs = _comments(["Start.", "Lost author line here.", "bob: are you sure?", "Other.", "Ann: hi"])
    authors = ["Ann Lee", None, "Cy Dunn", "Bob Ray", "Cy Dunn"]
    parents = [None, 0, 1, None, 0]
    found = addressed_known(cs, authors, parents)
    assert found == {1: ("Bob Ray", "named as Bob Ray by c2")}
    # the name is not taken when the named person wrote a comment above on the path (meant for them)
    assert addressed_known(cs, authors, [None, 0, 1, None, 0]) == found
    assert addressed_known(_comments(["x", "y", "Ann: no"]), ["Ann Lee", None, "Cy Dunn"], [None, 0, 1]) == {}


def test_two_person_threads_only() -> None:
    cs = _comments(["a", "b", "c", "d", "e"])
    parents = [None, 0, 1, 2, 3]
    assert two_person(cs, ["Ann", "Bob", "Ann", "Bob", None], parents) == {4: ("Ann", "two-person thread: answers Bob")}
    assert two_person(cs, ["Ann", "Bob", "Ann", "Cy", None], parents) == {}  # three people
    assert two_person(cs, ["Ann", "Bob", "Ann", None, None], parents) == {}  # Bob spoke once only
