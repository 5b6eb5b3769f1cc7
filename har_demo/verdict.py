"""An honest verdict: whether the models agree, and how sure each one is, in words a student reads right.

Why: a tick and "Both models: HorseRace" reads as "correct", yet it only means the two models
picked the same class; both can be sure and wrong, and a clip of an activity they were never
shown still gets one of their classes. So the verdict names each model's answer with how sure it
is, and below a confidence threshold (the user's to change) a model says it is not sure, maybe
none of the N activities it knows. Plain data and strings: no Keras, no gradio.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import numpy as np

from har_demo.names import display_name

DEFAULT_THRESHOLD = 0.7  # a model is "sure" when its top probability is at least this
TOP_K = 5  # more classes than this: the top five and one "others" bar
OTHERS = "others"

CAVEAT = (
    "'Sure' only means the model's top probability is at or above the threshold. A model can be "
    "sure and wrong, and it always answers with one of the activities it was trained on, even for a "
    "clip of something else."
)


@dataclass(frozen=True)
class Reading:
    """One model's answer."""

    model: str
    label: str
    confidence: float
    sure: bool

    @property
    def name(self) -> str:
        return display_name(self.model)

    def to_dict(self) -> dict:
        return {"label": self.label, "confidence": round(self.confidence, 6), "sure": self.sure}


@dataclass(frozen=True)
class Verdict:
    """What the page says: one headline, one line per model, and the facts behind them."""

    headline: str
    lines: tuple[str, ...]
    readings: tuple[Reading, ...]
    agree: bool | None  # None with a single model
    threshold: float
    classes: int

    def to_dict(self) -> dict:
        return {
            "headline": self.headline,
            "lines": list(self.lines),
            "agree": self.agree,
            "threshold": self.threshold,
            "models": {r.model: r.to_dict() for r in self.readings},
            "caveat": CAVEAT,
        }

    def markdown(self) -> str:
        """For the page: the lines hold class names from the model's files, so they are escaped."""
        lines = "\n".join(f"- {html.escape(line, quote=False)}" for line in self.lines)
        return f"### {html.escape(self.headline, quote=False)}\n\n{lines}\n\n<small>{CAVEAT}</small>"


def check_threshold(threshold: float) -> float:
    """The threshold as a float in [0, 1]; anything else is a ValueError a person can read."""
    try:
        value = float(threshold)
    except (TypeError, ValueError):
        raise ValueError(f"The confidence threshold must be a number between 0 and 1, not {threshold!r}.") from None
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"The confidence threshold must be between 0 and 1 (it is {value:g}).")
    return value


def _percent(p: float) -> str:
    return f"{100 * p:.0f}%"


def _line(r: Reading, n_classes: int) -> str:
    if r.sure:
        return f"{r.name} says {r.label}, sure ({_percent(r.confidence)})."
    return (
        f"{r.name} is not sure: its best guess is {r.label} at only {_percent(r.confidence)}; "
        f"maybe it is none of its {n_classes} activities."
    )


def _headline(readings: list[Reading], n_classes: int) -> tuple[str, bool | None]:
    if len(readings) == 1:
        (r,) = readings
        if r.sure:
            return f"{r.name} says {r.label}, sure", None
        return f"{r.name} is not sure: maybe none of its {n_classes} activities", None
    labels = {r.label for r in readings}
    sure = [r for r in readings if r.sure]
    unsure = [r for r in readings if not r.sure]
    agree = len(labels) == 1
    if agree:
        label = readings[0].label
        if not unsure:
            return f"Both models say {label}, both sure", True
        if not sure:
            return f"Both models lean to {label}, but neither is sure: maybe none of the {n_classes} activities", True
        how = ", ".join(f"{r.name} {'sure' if r.sure else 'unsure'}" for r in readings)
        return f"Both models say {label}, {how}", True
    said = ", ".join(f"{r.name} says {r.label} ({'sure' if r.sure else 'unsure'})" for r in readings)
    if not sure:
        return f"The models disagree and neither is sure: {said}", False
    return f"The models disagree: {said}", False


def judge(classes: list[str], probabilities: dict[str, np.ndarray], threshold: float = DEFAULT_THRESHOLD) -> Verdict:
    """The verdict for one clip from each model's class probabilities (model -> (C,) array)."""
    threshold = check_threshold(threshold)
    if not probabilities:
        raise ValueError("There are no model outputs to judge.")
    readings = []
    for model, probs in probabilities.items():
        p = np.asarray(probs, dtype=np.float64).reshape(-1)
        if len(p) != len(classes):
            raise ValueError(f"{display_name(model)} gave {len(p)} probabilities for {len(classes)} classes.")
        top = int(np.argmax(p))
        readings.append(Reading(model, classes[top], float(p[top]), bool(p[top] >= threshold)))
    headline, agree = _headline(readings, len(classes))
    return Verdict(
        headline=headline,
        lines=tuple(_line(r, len(classes)) for r in readings),
        readings=tuple(readings),
        agree=agree,
        threshold=threshold,
        classes=len(classes),
    )


@dataclass(frozen=True)
class Bars:
    """Plotting data for one model's bars: labels and values, an 'others' bar when classes were folded."""

    model: str
    labels: tuple[str, ...]
    values: tuple[float, ...]
    folded: int  # how many classes the "others" bar holds (0: no such bar)


def bar_data(classes: list[str], probabilities: dict[str, np.ndarray], top_k: int = TOP_K) -> list[Bars]:
    """Per model: all classes when there are at most top_k, else its own top_k and an "others" bar (their sum)."""
    out = []
    for model, probs in probabilities.items():
        p = np.asarray(probs, dtype=np.float64).reshape(-1)
        if len(p) <= top_k:
            out.append(Bars(model, tuple(classes), tuple(float(v) for v in p), 0))
            continue
        order = np.argsort(-p, kind="stable")
        keep, rest = order[:top_k], order[top_k:]
        labels = tuple(classes[i] for i in keep) + (OTHERS,)
        values = tuple(float(p[i]) for i in keep) + (float(p[rest].sum()),)
        out.append(Bars(model, labels, values, len(rest)))
    return out
