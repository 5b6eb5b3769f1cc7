"""Presets: named sets of training options for a kind of dataset, chosen by name or by the dataset's size.

`har-demo train --preset NAME` (or `preset = "NAME"` in a recipe's [train]) asks for one; the
default, `auto`, chooses the first preset made for a dataset of this size, and `none` asks for
none. The studio always trains with the tiny preset. A preset sets only the options a person left
alone, and a run records which preset it used and what it set (the manifest's `training`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from har_demo.training import tiny

AUTO = "auto"  # the option value: choose by the dataset's size
NONE = "none"  # the option value: no preset


@dataclass(frozen=True)
class Preset:
    name: str
    description: str
    fields: dict[str, Any]  # TrainConfig fields it sets
    warm_start: bool = False  # also start from the shipped bundle's weights where they fit the run
    max_clips_per_class: int = 0  # `auto` chooses it for at most this many clips a class on average (0: never)
    frame_fields: tuple[str, ...] = field(default=())  # fields an ImageNet encoder's run leaves alone

    def fits(self, clips: int, classes: int) -> bool:
        """Whether `auto` chooses this preset for a dataset of `clips` clips in `classes` classes."""
        return 0 < clips <= self.max_clips_per_class * max(1, classes)

    def fields_for(self, settings=None, models: tuple[str, ...] = ()) -> dict[str, Any]:
        """The TrainConfig fields this preset sets for a run of `models` on clips of `settings`.

        The warm start is the shipped bundle when it has `models` for clips of this shape (the
        shipped 20x64x64; another shape starts from random weights).
        """
        from har_demo.names import PRETRAINED_NAMES
        from har_demo.training.warm_start import SHIPPED_REF, source_fits

        chosen = dict(self.fields)
        if models and set(models) <= set(PRETRAINED_NAMES):
            for name in self.frame_fields:  # an ImageNet encoder reads frames, not frame differences
                chosen.pop(name, None)
        if self.warm_start and settings is not None and models and source_fits(SHIPPED_REF, models, settings):
            chosen["init_from"] = SHIPPED_REF
        return chosen


PRESETS: dict[str, Preset] = {
    preset.name: preset
    for preset in (
        Preset(
            "tiny",
            "for a few clips a class (a class's own recordings): the tiny split with no validation, "
            f"{tiny.TINY_EPOCHS} epochs, crop and flip, frame differences as input, long clips cut into "
            f"{tiny.TINY_WINDOW_SECONDS:g} s windows, and the shipped models' weights to start from",
            {
                "split": tiny.TINY_SPLIT,
                "val_fraction": 0.0,
                "epochs": tiny.TINY_EPOCHS,
                "learning_rate": tiny.TINY_LEARNING_RATE,
                "augment": tiny.TINY_AUGMENT.to_dict(),
                "motion": tiny.TINY_MOTION,
            },
            warm_start=True,
            max_clips_per_class=tiny.TINY_MAX_CLIPS_PER_CLASS,
            frame_fields=("motion",),
        ),
    )
}
PRESET_CHOICES: tuple[str, ...] = (AUTO, NONE, *PRESETS)


def choose_preset(clips: int, classes: int) -> Preset | None:
    """The preset `auto` chooses for a dataset of `clips` clips in `classes` classes, if any."""
    return next((preset for preset in PRESETS.values() if preset.fits(clips, classes)), None)


def apply_preset(config, preset: Preset, settings=None, keep: set[str] = frozenset()) -> Any:
    """`config` (a TrainConfig) with `preset`'s fields, but those in `keep` (set by a person), recorded in
    `extra` as the preset's name and the fields it set."""
    chosen = {k: v for k, v in preset.fields_for(settings, config.models).items() if k not in keep}
    return replace(config, **chosen, extra={**config.extra, **preset_record(preset.name, chosen)})


def preset_record(name: str, fields: dict[str, Any]) -> dict[str, Any]:
    """What a bundle's manifest records of a preset (its `training`): the name, shown on the model card,
    and the fields it set."""
    return {"preset": name, "preset_fields": dict(fields)}
