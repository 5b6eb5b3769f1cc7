"""Training defaults for tiny datasets (a class's own recordings: about ten clips a class).

Measured on ../shared/data/real_tiny (42 real UCF101 clips, 4 classes, groups g01-g03, Lunges in
one group), 20x64x64 clips, seed 27, held-out groups (benchmarks/tiny_sets.py prints the table):

    MEASUREMENTS_PLACEHOLDER

What goes wrong with the report's config on so few clips, and what the defaults do instead:

- Validation on 4-5 clips is noise: early stopping stopped at epoch 6 with its "best" at epoch 1,
  so both models came back barely trained and answered one class for everything. Tiny sets train
  a fixed number of epochs with no validation split at all (every clip that is not test trains).
- A class recorded in a single group (one person, one room) never reached the test set of the
  group split, so the test said nothing about it. The tiny split holds out whole groups where a
  class has several, and the last clips (by clip number) of a class that has only one.
- Augmentation (training/augment.py) multiplies what a handful of clips can teach.
"""

from __future__ import annotations

import math

import numpy as np

from har_demo.training.augment import AugmentConfig

TINY_SPLIT = "tiny"
TINY_MAX_CLIPS_PER_CLASS = 40  # at most this many clips per class on average: a tiny set
TINY_EPOCHS = 30
TINY_LEARNING_RATE = 1e-3
TINY_AUGMENT = AugmentConfig(crop=True, flip=True, color=True)
NOTE = (
    "tiny-set defaults (har_demo/training/tiny.py): fixed epochs without a validation split, "
    "augmentation on, groups held out per class and the last clips of single-group classes"
)


def is_tiny(clips: int, classes: int) -> bool:
    """A dataset this small trains with the tiny defaults."""
    return clips > 0 and clips <= TINY_MAX_CLIPS_PER_CLASS * max(1, classes)


def tiny_overrides(clips: int, classes: int) -> dict:
    """TrainConfig fields to change for a dataset of `clips` clips in `classes` classes ({} if not tiny)."""
    if not is_tiny(clips, classes):
        return {}
    return {
        "split": TINY_SPLIT,
        "val_fraction": 0.0,
        "epochs": TINY_EPOCHS,
        "learning_rate": TINY_LEARNING_RATE,
        "augment": TINY_AUGMENT.to_dict(),
    }


def tiny_splits(groups: list[str], labels: list[str], paths: list[str], test_fraction: float = 0.25, seed: int = 27):
    """Train/test with no validation: whole groups held out per class, clips of a one-group class.

    A class with several groups holds out about `test_fraction` of its groups (at least one, and
    always keeps one for training); a class with a single group holds out its last
    `ceil(test_fraction * clips)` clips by name, so every class is in the test set.
    """
    from har_demo.training.dataset import Splits

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
        elif len(members) >= 2:
            members.sort(key=lambda i: paths[i])
            for i in members[-max(1, math.ceil(test_fraction * len(members))) :]:
                held[i] = True
    train, test = np.flatnonzero(~held), np.flatnonzero(held)
    return Splits(train, np.zeros(0, dtype=np.int64), test, TINY_SPLIT, test_fraction, 0.0, seed)
