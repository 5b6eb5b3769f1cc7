"""Where the shipped bundle and example clips are, in a checkout and in an installed package.

In a checkout they are `weights/` and `examples/` beside the package; a wheel carries them as
`har_demo/_shipped/weights` and `har_demo/_shipped/examples` (see pyproject.toml).
"""

from __future__ import annotations

import os
from pathlib import Path

BUNDLE_ENV = "HAR_DEMO_BUNDLE"  # the bundle the app and `predict` serve when none is named
SHIPPED_NAME = "weights"  # `--bundle weights` names the shipped bundle from any folder

_PACKAGE = Path(__file__).resolve().parent
_CHECKOUT = _PACKAGE.parent


def _first_existing(name: str) -> Path:
    for candidate in (_CHECKOUT / name, _PACKAGE / "_shipped" / name):
        if candidate.is_dir():
            return candidate
    return _CHECKOUT / name


SHIPPED_BUNDLE: Path = _first_existing("weights")
EXAMPLES_DIR: Path = _first_existing("examples")


def default_bundle_ref() -> str:
    """$HAR_DEMO_BUNDLE if set, else the shipped bundle."""
    return os.environ.get(BUNDLE_ENV) or str(SHIPPED_BUNDLE)


# The example clips' file names (written by training.examples, found by the app).
MIXED_EXAMPLE_NAME = "synthetic_mixed_activities.webm"


def example_clip_name(class_name: str) -> str:
    return f"synthetic_{class_name}.webm"
