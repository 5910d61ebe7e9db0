"""Registers the built-in input formats (found through the ``discourse.formats`` entry point)."""

from __future__ import annotations

from discourse.core.inputs import register_format
from discourse.core.thread import Thread
from discourse.formats.commento import parse_commento
from discourse.formats.convokit import parse_convokit, sniff_convokit
from discourse.formats.disqus import parse_disqus
from discourse.formats.flat import parse_flat
from discourse.formats.isso import parse_isso
from discourse.formats.reddit import parse_reddit
from discourse.formats.tabular import parse_csv, parse_jsonl, parse_tsv
from discourse.formats.wikiconv import parse_wikiconv
from discourse.formats.wordpress import parse_wordpress


def _flat(text: str, name: str) -> list[Thread]:
    return [parse_flat(text, name)]


register_format("flat", _flat)
register_format("reddit", parse_reddit)
register_format("disqus", parse_disqus)
register_format("wordpress", parse_wordpress)
register_format("commento", parse_commento)
register_format("isso", parse_isso)
register_format("wikiconv", parse_wikiconv)
register_format("jsonl", parse_jsonl)
register_format("json_rows", parse_jsonl)
register_format("csv", parse_csv)
register_format("tsv", parse_tsv)
register_format("convokit", parse_convokit, sniff_convokit)
