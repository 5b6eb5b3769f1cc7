"""The tiny preset's values: for a class's own recordings, about ten clips a class (the split is dataset.tiny_splits).

With so few clips the report's recipe fails (validation on 4-5 clips is noise, a one-group class
never reaches the test set, RGB frames teach the room): tiny sets train a fixed number of epochs
with no validation split, hold out whole groups per class (and the last clips of a one-group
class), augment (crop, flip), show the models frame differences, and start from the shipped
bundle's weights. training/presets.py makes these the `tiny` preset. Each choice, the candidates
that did not beat it, and the commands that measure them on real_tiny's held-out groups are in
docs/generalisation.md.
"""

from __future__ import annotations

from har_demo.split_kinds import SPLIT_KINDS
from har_demo.training.augment import AugmentConfig

TINY_SPLIT = SPLIT_KINDS["tiny"].name
TINY_WINDOW_SECONDS = SPLIT_KINDS["tiny"].window_seconds  # long clips become windows this long (training/windows.py)
TINY_MAX_CLIPS_PER_CLASS = 40  # at most this many clips per class on average: a tiny set
TINY_EPOCHS = 10
TINY_LEARNING_RATE = 1e-3
TINY_AUGMENT = AugmentConfig(crop=True, flip=True)
TINY_MOTION = "difference"
