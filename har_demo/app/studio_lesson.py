"""The Train tab's lesson pieces: the held-out curve, the banner and warnings, "next person".

Kept out of studio_tab.py, which calls these: the sentences live in har_demo/studio/lesson.py,
the plot is har_demo.plots' training curves with the held-out accuracy drawn as the dashed line.
"""

from __future__ import annotations

from har_demo import plots
from har_demo.studio import lesson

HELD_OUT_LABEL = "held-out (people not trained on)"
PEOPLE_LESSON = (
    "**Why more people?** With one or two people a class the models learn those people and rooms as "
    "much as the activity. Measured with the same 12 clips a class (docs/generalisation.md): a model "
    "that sees whole frames names the activity of someone new in 9% of clips when each class has one "
    "person, 29% with six; on real clips, a class recorded by two people was recognised on a new "
    "person in 100% of clips, classes recorded by one in 0% and 86%. Record each activity with as many "
    "people as you can: **Next person** gives each one a group of their own."
)


PRETRAINED_LESSON = (
    "**When to choose a pretrained model.** *Pretrained LRCN* and *Pretrained + attention* read each frame "
    "with EfficientNet-Lite0, an image network trained on ImageNet and kept frozen; only the part after it "
    "learns. They are the right choice for a dataset with **many people and scenes a class** (UCF50, UCF101, "
    "a class where many students each record a few clips). They are **not** the right choice for a set "
    "with one or two people a class: the frozen features tell rooms and people apart better than actions, "
    "so the model learns who and where. Measured on a real tiny set (docs/pretrained.md): 26-40% on people "
    "it did not train on in earlier runs and 18-23% in the latest (chance is 25%), against 69% for LRCN "
    "started from the shipped models, and 98-100% when the same people are in training. They also cost "
    "about 15x LRCN's time per clip on a CPU (103 ms against 7 ms) and a 15 MB model file. They train on "
    "their own (128-pixel colour frames, no start from the shipped models), not together with ConvLSTM or LRCN."
)


def pretrained_markdown(missing: str | None) -> str:
    """The pretrained lesson; `missing`: why they are not offered here (their weights package), or None."""
    return f"{PRETRAINED_LESSON}\n\n⚠ Not offered on this server: {missing}" if missing else PRETRAINED_LESSON


def lesson_curves(history: dict[str, dict[str, list[float]]]):
    """Training loss and accuracy per epoch, with each model's held-out accuracy beside its training accuracy."""
    mapped = {
        model: {
            "loss": curves.get("loss", []),
            "accuracy": curves.get("accuracy", []),
            "val_accuracy": curves.get("held_out_accuracy", []),
        }
        for model, curves in history.items()
    }
    figure = plots.training_curves(mapped)
    for trace in figure.data:
        if trace.name and trace.name.endswith(" validation"):
            trace.name = trace.name[: -len("validation")] + HELD_OUT_LABEL
    return figure


def counts_and_warnings(class_set) -> str:
    """The counts line (clips and people per class), then any warnings to read before training."""
    text = lesson.counts_markdown(class_set)
    warned = lesson.warnings_markdown(class_set)
    return f"{text}\n\n{warned}" if warned else text


def banner(class_set, label: str | None, group) -> str:
    return lesson.banner_markdown(class_set, label, group)
