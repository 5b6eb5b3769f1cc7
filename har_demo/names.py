"""Names the whole project shares: the report's classes and the models (no Keras here)."""

from __future__ import annotations

# The report's four UCF50 classes, in the tutorial's output order.
REPORT_CLASSES: tuple[str, ...] = ("WalkingWithDog", "TaiChi", "Swing", "HorseRace")

# The two architectures, by the keys used in bundles, CLIs and file names.
MODEL_NAMES: tuple[str, ...] = ("convlstm", "lrcn")
DISPLAY_NAMES: dict[str, str] = {
    "convlstm": "ConvLSTM",
    "lrcn": "LRCN",
    "pretrained": "Pretrained LRCN",
    "pretrained_attention": "Pretrained + attention",
}

# The third kind (har_demo/pretrained.py): the LRCN on a frozen ImageNet EfficientNet-Lite0, with the
# report's LSTM or attention over frames as its head. Not in MODEL_NAMES: "both" stays the report's two.
PRETRAINED_NAMES: tuple[str, ...] = ("pretrained", "pretrained_attention")
ALL_MODEL_NAMES: tuple[str, ...] = MODEL_NAMES + PRETRAINED_NAMES


def display_name(model: str) -> str:
    """The name people read ("ConvLSTM") for a model key ("convlstm"); unknown keys pass through."""
    return DISPLAY_NAMES.get(model, model)
