"""Training-time data augmentation on uint8 clip batches: seeded, switchable, never stored.

Four augmentations, each off unless asked for (`--augment crop,flip,jitter,color` or `all`):

    crop    a random crop of `crop_min`..100% of each side, resized back to the frame size
    flip    a horizontal flip, with probability 1/2
    color   brightness (+-`brightness` x 255) and contrast (x 1 +- `contrast`) around the clip mean
    jitter  temporal jitter: a random start and stride over a denser sampling of the clip

One transform is drawn per clip and applied to all of its frames, so motion stays coherent.
They run on the training split only, batch by batch as the model asks for it; validation, test,
the app and predict never see them. The default (nothing on) leaves training exactly as before.

Temporal jitter needs frames between the ones the bundle samples. When it is on, training reads
a second, denser cache of `jitter_factor * (frames - 1) + 1` frames spread uniformly over each
clip, and picks `frames` of them with a stride in [ceil(factor/2), factor] and a random start.
Stride `factor` from the start is exactly the "uniform" sampling of `frames` frames (and close to
the "tutorial" one), so what evaluation sees is one of the clips training sees; smaller strides
are a shorter window played slower, starting anywhere. Evaluation reads the usual cache.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields

import cv2
import numpy as np

KINDS = ("crop", "flip", "jitter", "color")


@dataclass(frozen=True)
class AugmentConfig:
    """Which augmentations run and how strong they are; recorded in the bundle's manifest."""

    crop: bool = False
    flip: bool = False
    jitter: bool = False
    color: bool = False
    crop_min: float = 0.8  # smallest crop side, as a fraction of the frame side
    brightness: float = 0.15  # largest brightness shift, as a fraction of 255
    contrast: float = 0.2  # largest contrast change, as a fraction of 1
    jitter_factor: int = 3  # the dense cache holds factor * (frames - 1) + 1 frames per clip

    def __post_init__(self) -> None:
        if not 0.1 <= self.crop_min <= 1.0:
            raise ValueError(f"crop_min must be in [0.1, 1], not {self.crop_min}")
        if not 0.0 <= self.brightness <= 1.0 or not 0.0 <= self.contrast < 1.0:
            raise ValueError("brightness must be in [0, 1] and contrast in [0, 1)")
        if self.jitter_factor < 2:
            raise ValueError(f"jitter_factor must be at least 2, not {self.jitter_factor}")

    @property
    def enabled(self) -> list[str]:
        return [kind for kind in KINDS if getattr(self, kind)]

    @property
    def any(self) -> bool:
        return bool(self.enabled)

    def describe(self) -> str:
        return ",".join(self.enabled) or "none"

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict | None) -> AugmentConfig:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in (data or {}).items() if k in known})

    @classmethod
    def parse(cls, text: str | None, **strengths) -> AugmentConfig:
        """ "none", "all", or a comma list of crop, flip, jitter, color."""
        names = (
            []
            if text in (None, "", "none")
            else list(KINDS)
            if text == "all"
            else [n.strip() for n in text.split(",") if n.strip()]
        )
        unknown = [n for n in names if n not in KINDS]
        if unknown:
            raise ValueError(f"unknown augmentation(s) {', '.join(unknown)}; choose from {', '.join(KINDS)}, all, none")
        return cls(**{n: True for n in names}, **strengths)


def dense_frames(frames: int, factor: int) -> int:
    """How many frames per clip the jitter cache holds."""
    return factor * (frames - 1) + 1


def jitter_indices(rng: np.random.Generator, frames: int, factor: int) -> np.ndarray:
    """`frames` positions in a dense clip of `dense_frames(frames, factor)`: random stride and start."""
    dense = dense_frames(frames, factor)
    stride = int(rng.integers(math.ceil(factor / 2), factor + 1))
    start = int(rng.integers(0, dense - (frames - 1) * stride))
    return start + stride * np.arange(frames)


def eval_indices(frames: int, factor: int) -> np.ndarray:
    """The dense positions equal to the uniform sampling of `frames` frames (stride = factor)."""
    return factor * np.arange(frames)


def _crop_resize(clip: np.ndarray, rng: np.random.Generator, crop_min: float, interpolation: int) -> np.ndarray:
    t, h, w, _ = clip.shape
    side = rng.uniform(crop_min, 1.0)
    ch, cw = max(1, round(h * side)), max(1, round(w * side))
    y0, x0 = int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1))
    if (ch, cw) == (h, w):
        return clip
    out = np.empty_like(clip)
    for i in range(t):
        out[i] = cv2.resize(clip[i, y0 : y0 + ch, x0 : x0 + cw], (w, h), interpolation=interpolation)
    return out


def _color(clip: np.ndarray, rng: np.random.Generator, brightness: float, contrast: float) -> np.ndarray:
    factor = rng.uniform(1.0 - contrast, 1.0 + contrast)
    shift = rng.uniform(-brightness, brightness) * 255.0
    x = clip.astype(np.float32)
    mean = x.mean()
    x = (x - mean) * np.float32(factor) + np.float32(mean + shift)
    return np.clip(np.rint(x), 0, 255).astype(np.uint8)


def augment_clip(
    clip: np.ndarray, rng: np.random.Generator, config: AugmentConfig, interpolation: int = cv2.INTER_LINEAR
) -> np.ndarray:
    """One uint8 clip (T, H, W, 3) -> an augmented copy (crop, flip, color as configured).

    Every random number is drawn whether or not its augmentation is on, so switching one
    augmentation off does not change what the others do to the same clip.
    """
    crop_rng, flip_rng, color_rng = rng.spawn(3)
    out = np.array(clip, dtype=np.uint8, copy=True)
    if config.crop:
        out = _crop_resize(out, crop_rng, config.crop_min, interpolation)
    if config.flip and flip_rng.random() < 0.5:
        out = np.ascontiguousarray(out[:, :, ::-1])
    if config.color:
        out = _color(out, color_rng, config.brightness, config.contrast)
    return out


def augment_batch(
    frames: np.ndarray, config: AugmentConfig, seed: int, epoch: int, batch: int, interpolation: int = cv2.INTER_LINEAR
) -> np.ndarray:
    """A uint8 batch (B, T, H, W, 3) augmented clip by clip.

    The random stream depends only on (seed, epoch, batch), not on the order Keras asks for
    batches in, so a run is reproducible with any number of data workers.
    """
    if not (config.crop or config.flip or config.color):
        return frames
    rngs = np.random.default_rng([seed, epoch, batch]).spawn(len(frames))
    return np.stack([augment_clip(clip, rng, config, interpolation) for clip, rng in zip(frames, rngs)])
