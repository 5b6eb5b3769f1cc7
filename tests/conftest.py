"""Shared fixtures: the real clips and tutorial weights beside the checkout (never copied in)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
REAL_CLIPS = SHARED_DATA / "real_clips"
TUTORIAL_WEIGHTS = SHARED_DATA / "tutorial_weights"


@pytest.fixture(scope="session")
def real_clips() -> Path:
    if not REAL_CLIPS.is_dir():
        pytest.skip("../shared/data/real_clips is not beside this checkout")
    return REAL_CLIPS


@pytest.fixture(scope="session")
def tutorial_weights() -> Path:
    if not TUTORIAL_WEIGHTS.is_dir():
        pytest.skip("../shared/data/tutorial_weights is not beside this checkout")
    return TUTORIAL_WEIGHTS


@pytest.fixture(scope="session")
def expected_predictions(tutorial_weights: Path) -> dict:
    return json.loads((tutorial_weights / "expected_predictions.json").read_text())
