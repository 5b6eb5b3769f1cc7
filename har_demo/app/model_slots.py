"""Per-model slots on a static page: a fixed number of boxes, filled by whatever models the served bundle has.

Gradio lays a page out once, but a session's bundle (studio-trained, uploaded, from the Hub) may hold
one model or several, of any kind (the report's two, the pretrained ones). So a tab that shows
something per model builds `MODEL_SLOTS` boxes and fills them in the bundle's model order; the boxes
left over are hidden, and a bundle with more models than boxes is told so in words (its downloads and
JSON still carry every model).
"""

from __future__ import annotations

from collections.abc import Sequence

from har_demo.names import ALL_MODEL_NAMES, display_name

MODEL_SLOTS = len(ALL_MODEL_NAMES)  # the most models a bundle of ours holds (`--models all`)


def slot_models(models: Sequence[str]) -> list[str | None]:
    """The model each slot shows, in order; None for a slot left empty."""
    shown = list(models)[:MODEL_SLOTS]
    return shown + [None] * (MODEL_SLOTS - len(shown))


def overflow_note(models: Sequence[str], what: str) -> str:
    """A sentence naming the models that got no slot ("" when every model has one)."""
    left = list(models)[MODEL_SLOTS:]
    if not left:
        return ""
    names = ", ".join(display_name(m) for m in left)
    return f"This page has room for {MODEL_SLOTS} models' {what}; not shown here: {names}."
