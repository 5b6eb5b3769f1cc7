"""Names the whole project shares: the report's classes and the two models (no Keras here)."""

from __future__ import annotations

# The report's four UCF50 classes, in the tutorial's output order.
REPORT_CLASSES: tuple[str, ...] = ("WalkingWithDog", "TaiChi", "Swing", "HorseRace")

# The two architectures, by the keys used in bundles, CLIs and file names.
MODEL_NAMES: tuple[str, ...] = ("convlstm", "lrcn")
DISPLAY_NAMES: dict[str, str] = {"convlstm": "ConvLSTM", "lrcn": "LRCN"}


def display_name(model: str) -> str:
    """The name people read ("ConvLSTM") for a model key ("convlstm"); unknown keys pass through."""
    return DISPLAY_NAMES.get(model, model)
