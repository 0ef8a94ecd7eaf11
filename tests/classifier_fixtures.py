"""Session-scoped classifier fixtures shared by tests/classifiers and the DB tests of the classifier.

The seed model is trained once per session (a few seconds); tests that change
the store get their own copy of it.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from feedback.classifiers import ModelStore, TriageModel, load_seed, train_version


@pytest.fixture(scope="session")
def seed_model() -> TriageModel:
    """A model trained on the whole seed corpus."""
    return TriageModel().fit(load_seed())


@pytest.fixture(scope="session")
def seed_store_template(tmp_path_factory) -> Path:
    """A store holding one active seed version, trained through the real training path.

    ``TEST_SEED_STORE=dir`` (mutation runs only, see bin/mutation) trains it once into
    that directory and reuses it in later sessions; tests only ever get copies of it.
    """
    cached = os.environ.get("TEST_SEED_STORE")
    if cached and ModelStore(Path(cached)).active_version() is not None:
        return Path(cached)
    root = Path(cached) if cached else tmp_path_factory.mktemp("seed-store")
    train_version(ModelStore(root), load_seed(), note="test fixture")
    return root


@pytest.fixture
def seed_store_dir(seed_store_template: Path, tmp_path: Path) -> Path:
    """A private copy of the seed store, safe to modify."""
    target = tmp_path / "models"
    shutil.copytree(seed_store_template, target)
    return target
