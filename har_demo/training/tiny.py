"""Training defaults for tiny datasets (a class's own recordings: about ten clips a class).

Measured on ../shared/data/real_tiny (42 real UCF101 clips, 4 classes, groups g01-g03, Lunges in
one group), 20x64x64 clips, seed 27, on the shared 2-core machine (each row: `python -m
benchmarks.tiny_sets SPEC`). Accuracy on held-out clips:

    config (30 epochs, batch 4, Adam 1e-3 unless said)              LRCN         ConvLSTM
    report's: group split, early stopping on 4-5 val clips (#11)     0% of 10     40% of 10 (one class)
    tiny split, no validation, crop+flip+colour, RGB frames          23% of 13    -
    tiny split, no validation, crop+flip, motion (frame differences) 46% of 13    23% of 13 (stuck)
    the same plus temporal jitter                                     46% of 13    -
    motion, crop+flip, Adam 3e-3 (stopped after 8 epochs)             -            23% (stuck)
    motion, crop+flip, learning rate cosine 1e-3 -> 0 (--lr-schedule) 46% of 13    -
    motion, crop+flip, batch 1 (4x the steps; stopped after 14)       -            stuck (train 31%)
    motion, crop+flip, weights averaged (Adam EMA, momentum 0.98)     46% of 13    -
    motion, crop+flip, ConvLSTM kernels scaled on real clips (LSUV)   -            stuck (10 epochs)
    synthetic tiny set (10 a class, 3 groups), motion, Adam 5e-3      -            23% (stuck)
    the same at 1e-3 with every dropout off (stopped after 17)        -            stuck (train 26%)
    warm start from the shipped bundle (warm_start.py), RGB           38% of 13    46% of 13
    warm start, motion, crop+flip (ConvLSTM 15 epochs)                77% of 13    54% of 13
    the defaults now, `har-demo train real_tiny --classes all`:
      warm start, motion, crop+flip, 10 epochs                        77% of 13    46% of 13
      the same with seed 28 (another split: 17 test clips)            59% of 17    35% of 17
      the same from random weights (--init-from none), seed 27        46% of 13    23% of 13
      ... and seed 28                                                 35% of 17    18% of 17
      the defaults, seed 29 (the split of seed 28, other draws)       59% of 17    35% of 17
      the defaults, seed 30 (19 test clips)                           58% of 19    79% of 19
      mean of the defaults over seeds 27-30                           63%          49%
      the defaults from the 1,200-clip shipped bundle (mirrored clips;
      every row above started from the 800-clip one), seeds
      27 / 28 / 29 / 30: LRCN 69/59/47/63%, ConvLSTM 54/47/47/58%     60%          51%
    warm start, only the classifier trained (the rest frozen*), 27/28 8% / 82%     54% / 76%
      ... seed 29                                                     -            35% of 17
    warm start at Adam 1e-4, seeds 27 / 28 / 29                       23/94/24%    54% / 47% / -

(The warm-start rows: spec key "init_from": "weights". *Frozen by a patch that set the other
layers' `trainable` off before compiling; not kept.)

The 13 test clips are the held-out group of each multi-group class plus Lunges c08-c10. With RGB
frames LRCN reaches 100% training accuracy and 23% on held-out groups: with one or two groups a
class, it learns the rooms, not the actions (its confusions map each test room to the training
class filmed in a similar one). Frame differences (clip.to_model_input, motion "difference")
cancel the still background and doubled LRCN's held-out accuracy (its test accuracy per epoch
ranged 46-77% from epoch 13 on; jitter lowered the test loss, 2.07 -> 1.63, not the accuracy, so
it stays off: it also needs a second, denser decode). The remaining errors are whole scenes: the
held-out JumpRope room is called PushUps and the JumpingJack room JumpRope, so with one training
group for those classes, 60% (3 of 4 test rooms) was not reached. ConvLSTM did not start learning
on motion input (training accuracy 31%, chance, for 30 epochs at 1e-3, 8 at 3e-3, and 14 at batch
1, i.e. 406 steps); on the synthetic shipped set it, too, sat at chance for its first ~700 steps
before learning, far more steps than a tiny set gives in minutes. It was not measured on RGB frames
with fixed epochs (the report's run gave 40%, one class for everything). A cosine learning rate
(constant is kept) left LRCN where it was: the same 6 of 13, with the same two rooms confused.
The rows from the cosine one on were measured with training_model (fastpath), whose dropout masks
are drawn per call rather than per frame: the same distribution, other draws.

Why ConvLSTM does not start, as far as measured (the last four rows): at Keras's initialisation the
four stacked ConvLSTM layers shrink the signal (mean |feature| at Flatten 0.02, the softmax's spread
over clips 0.001), and on frame differences the features differ less from clip to clip than two
dropout draws of the same clip do (ratio 0.25; 0.87 on RGB frames). Scaling each layer's cell-input
kernels so its output has a standard deviation of 0.5 on real clips made the features 17x larger
but left that ratio at 0.3, and the model stuck. A 5x learning rate did not start it on a synthetic
tiny set, and neither did turning every dropout off, so noise alone is not what holds it. EMA
weights left LRCN on the same 6 of 13. Unrolling ConvLSTM's time loop for training ran no faster
(0.43 s a clip either way at batch 4; the first step 38 s instead of 15 s), so it is not used.

What worked is a warm start (training/warm_start.py): every layer but the classifier begins with
the shipped bundle's weights, learned on synthetic clips of moving figures (800 when measured here,
1,200 now), instead of Keras's random ones. ConvLSTM then learns from its first epoch (training
accuracy 55% after one, 100% after three, where from random weights it never left chance), and
LRCN's held-out accuracy is 77% from epoch 5 on. Both fit their training clips within a few epochs (training accuracy: ConvLSTM 100%,
LRCN 92-100%), so tiny sets train 10 epochs, not 30 (a third of the time: 112 s for ConvLSTM and 18
s for LRCN on real_tiny). The errors left are one pair of classes that move alike: held-out
JumpingJack clips are called JumpRope (all 7 of them with seed 28, whose LRCN misses 60% by one
clip); Lunges and PushUps are right in every run. Which clips are held out, and the seed, move a
model by up to 70 points on so few clips (frozen layers gave LRCN 8% and 82% on two seeds, Adam
1e-4 23% and 94%), so the defaults were chosen on the mean over seeds, where no variant beat them.
The studio bench's synthetic classes are ones the shipped bundle was trained on, so its accuracy
says nothing about this; real_tiny is the measure.

What goes wrong with the report's config on so few clips, and what the defaults do instead:

- Validation on 4-5 clips is noise: early stopping stopped at epoch 6 with its "best" at epoch 1,
  so both models came back barely trained and answered one class for everything. Tiny sets train
  a fixed number of epochs with no validation split at all (every clip that is not test trains).
- A class recorded in a single group (one person, one room) never reached the test set of the
  group split, so the test said nothing about it. The tiny split holds out whole groups where a
  class has several, and the last clips (by clip number) of a class that has only one.
- Augmentation (training/augment.py) multiplies what a handful of clips can teach; colour is
  left out with motion input (a brightness shift cancels in a difference anyway).
- The models see frame differences (motion "difference", recorded in the bundle's clip settings,
  so every tab and `har-demo predict` feed the models the same way).
- The models start from the shipped bundle's weights (recorded as `init_from` in the manifest and
  `warm_start` in each model's report), when the run's clips have its shape (20 frames of 64x64).
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
NOTE = (
    "tiny-set defaults (har_demo/training/tiny.py): fixed epochs without a validation split, "
    "augmentation on, frame differences as input, groups held out per class and the last clips "
    "of single-group classes"
)


def is_tiny(clips: int, classes: int) -> bool:
    """A dataset this small trains with the tiny defaults."""
    return clips > 0 and clips <= TINY_MAX_CLIPS_PER_CLASS * max(1, classes)


def tiny_overrides(clips: int, classes: int, settings=None, models: tuple[str, ...] = ()) -> dict:
    """TrainConfig fields to change for a dataset of `clips` clips in `classes` classes ({} if not tiny).

    The models start from the shipped bundle's weights when it has `models` for clips of this
    `settings`'s shape (the shipped 20x64x64; another shape starts from random weights).
    """
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
