"""Fitting and evaluation code for the shipped models (reads ../shared/data; never needed to
analyse threads). ``scripts/`` holds thin command-line wrappers over the ``main`` functions here."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
"""The checkout: where the training commands write ``models/`` and ``reports/`` by default."""

SHARED_DATA = REPO.parent / "shared" / "data"
"""The shared data folder beside the checkout (labelled sets under ``labeled/``)."""
