"""Training defaults for tiny datasets (a class's own recordings: about ten clips a class).

With so few clips the report's recipe fails (validation on 4-5 clips is noise, a one-group class
never reaches the test set, RGB frames teach the room): tiny sets train a fixed number of epochs
with no validation split, hold out whole groups per class (and the last clips of a one-group
class), augment (crop, flip), show the models frame differences, and start from the shipped
bundle's weights. Each choice, the candidates that did not beat it, and the commands that measure
them on real_tiny's held-out groups are in docs/generalisation.md.
"""

from __future__ import annotations

import math

import numpy as np

from har_demo.training.augment import AugmentConfig

TINY_SPLIT = "tiny"
TINY_MAX_CLIPS_PER_CLASS = 40  # at most this many clips per class on average: a tiny set
TINY_EPOCHS = 10
TINY_LEARNING_RATE = 1e-3
TINY_AUGMENT = AugmentConfig(crop=True, flip=True)
TINY_MOTION = "difference"
TINY_WINDOW_SECONDS = 5.0  # long clips become windows this long (training/windows.py; docs/generalisation.md)
NOTE = (
    "tiny-set defaults (training/tiny.py): fixed epochs without a validation split, "
    "augmentation on, frame differences as input, long clips cut into windows, groups held out per class "
    "and the last clips of single-group classes"
)


def is_tiny(clips: int, classes: int) -> bool:
    """A dataset this small trains with the tiny defaults."""
    return clips > 0 and clips <= TINY_MAX_CLIPS_PER_CLASS * max(1, classes)


def window_seconds(config) -> float:
    """How long a training example may be for this run: tiny sets cut long clips into windows, others do not
    (the report's random split counts clips, and its reproduction must see the same ones)."""
    return TINY_WINDOW_SECONDS if config.split == TINY_SPLIT else 0.0


def tiny_overrides(clips: int, classes: int, settings=None, models: tuple[str, ...] = ()) -> dict:
    """TrainConfig fields to change for a dataset of `clips` clips in `classes` classes ({} if not tiny).

    The models start from the shipped bundle's weights when it has `models` for clips of this
    `settings`'s shape (the shipped 20x64x64; another shape starts from random weights).
    """
    from har_demo.names import PRETRAINED_NAMES
    from har_demo.training.warm_start import SHIPPED_REF, source_fits

    if not is_tiny(clips, classes):
        return {}
    overrides = {
        "split": TINY_SPLIT,
        "val_fraction": 0.0,
        "epochs": TINY_EPOCHS,
        "learning_rate": TINY_LEARNING_RATE,
        "augment": TINY_AUGMENT.to_dict(),
        "motion": TINY_MOTION,
    }
    if models and set(models) <= set(PRETRAINED_NAMES):
        del overrides["motion"]  # an ImageNet encoder reads frames, not frame differences
    if settings is not None and models and source_fits(SHIPPED_REF, models, settings):
        overrides["init_from"] = SHIPPED_REF
    return overrides


def tiny_splits(groups: list[str], labels: list[str], paths: list[str], test_fraction: float = 0.25, seed: int = 27):
    """Train/test with no validation: whole groups held out per class, clips of a one-group class.

    A class with several groups holds out about `test_fraction` of its groups (at least one, and
    always keeps one for training); a class with a single group holds out its last
    `ceil(test_fraction * clips)` clips by name, so every class is in the test set.
    """
    from har_demo.training.dataset import Splits
    from har_demo.training.windows import source_path

    rng = np.random.RandomState(seed)
    held = np.zeros(len(labels), dtype=bool)
    for label in sorted(set(labels)):
        members = [i for i, l in enumerate(labels) if l == label]
        class_groups = sorted({groups[i] for i in members})
        if len(class_groups) >= 2:
            n_held = min(len(class_groups) - 1, max(1, math.ceil(test_fraction * len(class_groups))))
            held_groups = set(rng.permutation(class_groups)[:n_held].tolist())
            for i in members:
                held[i] = groups[i] in held_groups
        else:  # by source clip: the windows of one long clip stay on one side
            sources = sorted({source_path(paths[i]) for i in members})
            if len(sources) >= 2:
                held_sources = set(sources[-max(1, math.ceil(test_fraction * len(sources))) :])
                for i in members:
                    held[i] = source_path(paths[i]) in held_sources
    train, test = np.flatnonzero(~held), np.flatnonzero(held)
    return Splits(train, np.zeros(0, dtype=np.int64), test, TINY_SPLIT, test_fraction, 0.0, seed)
