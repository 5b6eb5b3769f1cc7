"""The tiny preset's values and the tiny split: for a class's own recordings, about ten clips a class.

With so few clips the report's recipe fails (validation on 4-5 clips is noise, a one-group class
never reaches the test set, RGB frames teach the room): tiny sets train a fixed number of epochs
with no validation split, hold out whole groups per class (and the last clips of a one-group
class), augment (crop, flip), show the models frame differences, and start from the shipped
bundle's weights. training/presets.py makes these the `tiny` preset. Each choice, the candidates
that did not beat it, and the commands that measure them on real_tiny's held-out groups are in
docs/generalisation.md.
"""

from __future__ import annotations

import math

import numpy as np

from har_demo.split_kinds import SPLIT_KINDS
from har_demo.training.augment import AugmentConfig

TINY_SPLIT = SPLIT_KINDS["tiny"].name
TINY_WINDOW_SECONDS = SPLIT_KINDS["tiny"].window_seconds  # long clips become windows this long (training/windows.py)
TINY_MAX_CLIPS_PER_CLASS = 40  # at most this many clips per class on average: a tiny set
TINY_EPOCHS = 10
TINY_LEARNING_RATE = 1e-3
TINY_AUGMENT = AugmentConfig(crop=True, flip=True)
TINY_MOTION = "difference"


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
