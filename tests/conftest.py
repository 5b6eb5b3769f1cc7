"""Shared fixtures: the real clips and tutorial weights beside the checkout (never copied in), and
the app's fixtures (tests/app_fixtures.py). Plain helpers are in tests/helpers.py, paths in tests/paths.py.

Outside CI a test whose ../shared/data input is missing skips with the reason; in CI (CI=true)
it fails, so a missing data folder can never turn a green run into a run that tested nothing.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.paths import IN_CI, REAL_CLIPS, REAL_TINY, REPO, TUTORIAL_WEIGHTS

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# Every fixture module, registered once for every test (one mechanism: fixtures).
pytest_plugins = ["tests.app_fixtures", "tests.hub_fixtures", "tests.pretrained_fixtures"]


def require(path: Path) -> Path:
    """`path` if it exists; else skip (on a laptop) or fail (in CI) with where it was looked for."""
    if path.exists():
        return path
    reason = f"{path.relative_to(REPO.parent)} is not beside this checkout"
    if IN_CI:
        pytest.fail(f"{reason} (CI must have ../shared/data)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def real_clips() -> Path:
    return require(REAL_CLIPS)


@pytest.fixture(scope="session")
def real_tiny() -> Path:
    return require(REAL_TINY)


@pytest.fixture(scope="session")
def tutorial_weights() -> Path:
    return require(TUTORIAL_WEIGHTS)


@pytest.fixture(scope="session")
def expected_predictions(tutorial_weights: Path) -> dict:
    return json.loads((tutorial_weights / "expected_predictions.json").read_text())
