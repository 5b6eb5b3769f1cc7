"""Batches for fit(): read straight from the memory-mapped frame cache, augmented on the fly."""

from __future__ import annotations

import numpy as np

from har_demo.training import sharding
from har_demo.training.augment import AugmentConfig, augment_batch, jitter_indices
from har_demo.training.dataset import FrameCache


def make_batches(
    cache: FrameCache,
    indices: np.ndarray,
    batch_size: int,
    shuffle: bool,
    seed: int,
    augment: AugmentConfig | None = None,
    dense: FrameCache | None = None,
    replicas: int = 1,
):
    """A Keras PyDataset reading batches straight from the memory-mapped cache.

    Only one batch is ever converted to float32, so the full UCF50 cache never has to fit in RAM.
    With `augment` (training only), each batch is augmented on the fly; temporal jitter reads
    the clip's frames from `dense`, the denser cache (see training/augment.py).
    With `replicas` > 1 (tf.distribute), the last batch is cut to a multiple of `replicas`, so
    every replica gets the same number of clips (an empty or uneven share breaks Keras 3.15's
    distributed step); at most replicas - 1 clips per pass are left out.
    """
    import cv2
    import keras

    from har_demo.clip import INTERPOLATIONS, to_model_input

    num_classes = len(cache.classes)
    augment = augment if augment is not None and augment.any else None
    if augment is not None and augment.jitter:
        if dense is None:
            raise ValueError("temporal jitter needs the dense frame cache")
        where = {path: row for row, path in enumerate(dense.paths)}
        dense_rows = np.array([where.get(path, -1) for path in cache.paths], dtype=np.int64)
    interpolation = INTERPOLATIONS.get(cache.settings.interpolation, cv2.INTER_LINEAR)

    class CachedClips(keras.utils.PyDataset):
        def __init__(self) -> None:
            super().__init__()
            self.order = np.array(indices, dtype=np.int64)
            self.rng = np.random.default_rng(seed)
            self.epoch = 0
            if shuffle:
                self.rng.shuffle(self.order)

        def __len__(self) -> int:
            usable = len(self.order) - len(self.order) % replicas if replicas > 1 else len(self.order)
            return max(1, -(-usable // batch_size))

        def _frames(self, rows: np.ndarray, i: int) -> np.ndarray:
            if augment is None:
                return cache.frames[rows]
            if augment.jitter:
                rng = np.random.default_rng([seed, self.epoch, i, 1])
                clips = []
                for row in rows:
                    positions = jitter_indices(rng, cache.settings.frames, augment.jitter_factor)
                    d = dense_rows[row]
                    # a clip the dense pass could not read keeps its usual frames
                    clips.append(dense.frames[d][positions] if d >= 0 else cache.frames[row])
                frames = np.stack(clips)
            else:
                frames = cache.frames[rows]
            return augment_batch(frames, augment, seed, self.epoch, i, interpolation)

        def __getitem__(self, i: int):
            rows = self.order[i * batch_size : (i + 1) * batch_size]
            if replicas > 1:
                rows = rows[: len(rows) - len(rows) % replicas]
            rows = sharding.local_rows(np.sort(rows))  # several processes: each feeds its own slice
            x = to_model_input(self._frames(rows, i), cache.settings)
            y = np.eye(num_classes, dtype=np.float32)[cache.labels[rows]]
            return x, y

        def on_epoch_end(self) -> None:
            self.epoch += 1
            if shuffle:
                self.rng.shuffle(self.order)

    return CachedClips()
