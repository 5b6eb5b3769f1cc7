"""Where the tests find the repository and the real data beside the checkout (never copied in)."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
ARTIFACTS = REPO / "test-artifacts"  # screenshots for a person to look at (gitignored)
SHARED_DATA = REPO.parent / "shared" / "data"
REAL_CLIPS = SHARED_DATA / "real_clips"
REAL_TINY = SHARED_DATA / "real_tiny"
TUTORIAL_WEIGHTS = SHARED_DATA / "tutorial_weights"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
