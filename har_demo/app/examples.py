"""The example clips the page offers: one per class, and the mixed clip for the Timeline tab;
and how a click on one is answered (`wire_examples`, `ExampleAnswers`).

They are committed in examples/ (`har_demo.shipped.EXAMPLES_DIR`); `python -m
har_demo.training.examples` regenerates them. When none are there (a bundle of other classes, a
stripped install), they are made once in a cache folder; the training code that draws them is
imported only then.
"""

from __future__ import annotations

import hashlib
import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from har_demo.cache_dirs import cache_home
from har_demo.names import REPORT_CLASSES
from har_demo.shipped import EXAMPLES_DIR, MIXED_EXAMPLE_NAME, example_clip_name


def cache_folder() -> Path:
    return cache_home() / "examples"


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


class ExampleAnswers:
    """The default bundle's answers to the example clips, computed once each and kept in memory.

    This replaces Gradio's example cache, which is one answer per example for the whole process:
    a session serving its own bundle (trained or imported in the Train tab) must never be shown
    the shipped bundle's cached answer, so its clicks run live and only the default's are kept.
    Keyed by the clip's content (Gradio hands each click a fresh copy of the file).
    """

    def __init__(self, max_entries: int = 32) -> None:
        self.max_entries = max_entries
        self._answers: dict[str, Any] = {}
        self._lock = threading.Lock()

    def get(self, clip: str | os.PathLike, compute: Callable[[], Any]) -> Any:
        key = hashlib.sha256(Path(clip).read_bytes()).hexdigest()
        with self._lock:
            if key in self._answers:
                return self._answers[key]
        answer = compute()  # outside the lock: the model call has its own
        with self._lock:
            if len(self._answers) >= self.max_entries:
                self._answers.clear()
            self._answers[key] = answer
        return answer


def wire_examples(ctx, clips: list[Path], video, outputs: list, answer: Callable, **examples_options) -> Any:
    """Example buttons that put a clip into `video`, then fill `outputs` with `answer(clip, session_key)`.

    The answer takes the session key, so a session with its own bundle gets its own models' answer
    (see ExampleAnswers). Returns the gr.Examples.
    """
    import gradio as gr

    block = gr.Examples(
        examples=[[str(p)] for p in clips], inputs=[video], api_visibility="private", **examples_options
    )
    block.load_input_event.then(
        answer, inputs=[video, ctx.session], outputs=outputs, api_visibility="private", show_progress="minimal"
    )
    return block
