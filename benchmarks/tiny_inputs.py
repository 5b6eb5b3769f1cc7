"""Candidate model inputs for tiny sets, measured by benchmarks/tiny_sets.py (docs/generalisation.md).

Each turns a frame cache's uint8 clips (N, T, H, W, 3) into uint8 clips of the models' shape, so
both architectures stay layer for layer (three input channels, as the warm start expects):

- "flow": dense optical flow (OpenCV Farneback, no weights) between consecutive frames, as
  mid-grey + gain x (dx, dy, magnitude); the camera's own motion (the median flow) is taken out.
- "crop": the frames cropped to a square around where things move (frame differences summed over
  the clip), then shown as frame differences by the models' own motion setting.
"""

from __future__ import annotations

import cv2
import numpy as np

FLOW_GAIN = 24.0  # pixels per frame at the 64x64 model size -> grey levels
CROP_MIN = 0.45  # the crop is at least this fraction of the shorter side
CROP_PAD = 0.15
ENERGY_FLOOR = 80  # percentile of the motion energy taken as background


def _gray(clip: np.ndarray) -> np.ndarray:
    return np.stack([cv2.cvtColor(np.ascontiguousarray(f), cv2.COLOR_BGR2GRAY) for f in clip])


def flow_clip(clip: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """(T, H, W, 3) BGR -> (T, size) uint8 flow images; the first frame is mid-grey (no motion)."""
    gray = _gray(clip)
    height, width = size
    scale = width / clip.shape[2]
    out = np.full((len(clip), height, width, 3), 128, np.uint8)
    for t in range(1, len(gray)):
        flow = cv2.calcOpticalFlowFarneback(gray[t - 1], gray[t], None, 0.5, 3, 9, 3, 5, 1.1, 0)
        flow -= np.median(flow.reshape(-1, 2), axis=0)  # a panning camera moves everything alike
        flow = cv2.resize(flow, (width, height), interpolation=cv2.INTER_AREA) * scale
        magnitude = np.linalg.norm(flow, axis=-1, keepdims=True)
        encoded = np.concatenate([flow, magnitude], axis=-1) * FLOW_GAIN + 128.0
        out[t] = np.clip(encoded, 0, 255).astype(np.uint8)
    return out


def motion_box(clip: np.ndarray) -> tuple[int, int, int, int]:
    """(x0, y0, side_x, side_y) of a box around where the clip moves (the middle 90% of its strongest motion)."""
    gray = _gray(clip).astype(np.float32)
    energy = np.abs(np.diff(gray, axis=0)).sum(axis=0)
    energy = cv2.GaussianBlur(energy, (0, 0), 2.0)
    energy = np.maximum(energy - np.percentile(energy, ENERGY_FLOOR), 0)  # sensor noise and shake move everywhere
    h, w = energy.shape
    if energy.sum() <= 0:
        return 0, 0, w, h

    def span(profile: np.ndarray) -> tuple[float, float]:
        cumulative = np.cumsum(profile) / profile.sum()
        return float(np.searchsorted(cumulative, 0.05)), float(np.searchsorted(cumulative, 0.95))

    x0, x1 = span(energy.sum(axis=0))
    y0, y1 = span(energy.sum(axis=1))
    side = max(x1 - x0, y1 - y0) * (1 + 2 * CROP_PAD)
    side = int(np.clip(side, CROP_MIN * min(h, w), min(h, w)))
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    left = int(np.clip(cx - side / 2, 0, w - side))
    top = int(np.clip(cy - side / 2, 0, h - side))
    return left, top, side, side


def crop_clip(clip: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """(T, H, W, 3) -> (T, size): every frame cropped to the clip's motion box."""
    left, top, side_x, side_y = motion_box(clip)
    height, width = size
    return np.stack(
        [
            cv2.resize(
                np.ascontiguousarray(f[top : top + side_y, left : left + side_x]),
                (width, height),
                interpolation=cv2.INTER_AREA,
            )
            for f in clip
        ]
    )


TRANSFORMS = {"flow": flow_clip, "crop": crop_clip}


def transform_frames(frames: np.ndarray, kind: str, size: tuple[int, int] = (64, 64)) -> np.ndarray:
    """Every clip of `frames` through the named transform, at the models' frame `size`."""
    transform = TRANSFORMS[kind]
    return np.stack([transform(np.asarray(clip), size) for clip in frames])
