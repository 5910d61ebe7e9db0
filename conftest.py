"""Fixtures shared by every test folder (tests/ and the stage packages' own tests/)."""

from __future__ import annotations

from pathlib import Path

import pytest

from discourse import testing

REPO = Path(__file__).resolve().parent


@pytest.fixture(scope="session")
def shared() -> Path:
    path = testing.shared_data(REPO)
    if path is None:
        pytest.skip("../shared/data is not present (set DISCOURSE_SHARED_DATA to run this test)")
    return path


@pytest.fixture(scope="session")
def reference_thread(shared: Path) -> Path:
    return shared / "threads" / "idlib_patrol_thread.txt"


@pytest.fixture(scope="session")
def tiny_config(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A config running every stage with tiny random models: the real code paths in well under a second."""
    return testing.tiny_config(tmp_path_factory.mktemp("tiny_models"))


@pytest.fixture(scope="session")
def hf_single(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return testing.tiny_bert_classifier(tmp_path_factory.mktemp("hf_single"), ["normal", "offensive", "hate"])


@pytest.fixture(scope="session")
def hf_multi(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return testing.tiny_bert_classifier(
        tmp_path_factory.mktemp("hf_multi"), ["toxic", "obscene", "threat", "insult"], multi_label=True, seed=1
    )
