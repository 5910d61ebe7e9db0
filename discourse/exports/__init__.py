"""Exports of analysed threads for researchers, read back from their ``analysis.json`` files
(the public contract): Parquet and JSONL tables of comments, a GEXF reply graph, and a ConvoKit
corpus. :mod:`.source` reads an output folder (or one thread folder); each other module writes one
format. :func:`discourse.exports.run.export` is the entry point the ``discourse export`` command wraps.
"""
