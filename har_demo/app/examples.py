"""The example clips the page offers: one per class, and the mixed clip for the Timeline tab.

They are committed in examples/ (`har_demo.shipped.EXAMPLES_DIR`); `python -m
har_demo.training.examples` regenerates them. When none are there (a bundle of other classes, a
stripped install), they are made once in a cache folder; the training code that draws them is
imported only then.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from har_demo.names import REPORT_CLASSES
from har_demo.shipped import EXAMPLES_DIR, MIXED_EXAMPLE_NAME, example_clip_name


def cache_folder() -> Path:
    return Path(os.environ.get("HAR_DEMO_CACHE", Path.home() / ".cache" / "har_demo")) / "examples"


def _found(place: Path, classes: list[str]) -> tuple[list[Path], Path | None]:
    clips = [place / example_clip_name(c) for c in classes if (place / example_clip_name(c)).is_file()]
    mixed = place / MIXED_EXAMPLE_NAME
    return clips, mixed if mixed.is_file() else None


def find_examples(classes: list[str], folder: Path = EXAMPLES_DIR) -> tuple[list[Path], Path | None]:
    """(one clip per class that exists, the mixed clip or None); made in the cache if none exist."""
    for place in (Path(folder), cache_folder()):
        clips, mixed = _found(place, classes)
        if clips:
            return clips, mixed
    known = tuple(c for c in classes if c in REPORT_CLASSES)
    if not known:  # the generator draws only the report's classes
        return [], None
    try:
        from har_demo.training.examples import make_examples

        make_examples(cache_folder(), known)
    except Exception as exc:  # examples are a convenience: never stop the app for them
        print(f"note: could not make example clips ({exc})", file=sys.stderr)
        return [], None
    return _found(cache_folder(), classes)
