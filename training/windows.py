"""A clip longer than the clip length is several training examples, not one squeezed clip.

The models sample 20 frames over a whole clip, so a 30 s recording of one activity would be seen
at a third of the speed of a 10 s one. It is cut instead into equal, non-overlapping windows no
longer than the clip length, each sampled like a clip of its own. Windows keep their clip's group,
so a group split still never puts two windows of one recording on both sides.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import replace

import numpy as np

from har_demo.clip import DEFAULT_LIMITS, ClipSettings, DecodeLimits, FrameStream, VideoError, sample_indices

WINDOW_SECONDS = 10.0  # the studio's clip limit; `har-demo train` cuts at the same length
TOLERANCE_SECONDS = 0.5  # a clip this much over the length is still one clip (recordings overrun)
MAX_WINDOWS = 6  # a longer clip gives this many windows spread over it (bounds the work per file)
WINDOW_MARK = "#w"  # a window's path: "<Class>/<clip stem>#w2<ext>" (the second window of that clip)
_WINDOW = re.compile(r"#w\d+(?=\.[^./]*$|$)")


def window_count(seconds: float, window_seconds: float = WINDOW_SECONDS, max_windows: int = MAX_WINDOWS) -> int:
    """How many windows a clip of `seconds` gives: 1 up to the length (plus tolerance), else ceil(seconds / length)."""
    if window_seconds <= 0 or seconds <= window_seconds + TOLERANCE_SECONDS:
        return 1
    return min(max_windows, math.ceil(seconds / window_seconds))


def window_ranges(frame_count: int, fps: float, window_seconds: float = WINDOW_SECONDS, max_windows: int = MAX_WINDOWS):
    """[(first, stop)) frame ranges of the windows: equal, non-overlapping, spread over the whole clip."""
    seconds = frame_count / fps if fps > 0 else 0.0
    count = window_count(seconds, window_seconds, max_windows)
    if count == 1:
        return [(0, frame_count)]
    length = min(frame_count // count, max(1, round(window_seconds * fps)))
    starts = np.rint(np.linspace(0, frame_count - length, count)).astype(int)
    return [(int(s), int(s) + length) for s in starts]


def window_path(path: str, number: int) -> str:
    """The name of window `number` (1-based) of a clip, as reports list it (its own stem, for its images)."""
    stem, dot, ext = path.rpartition(".")
    return f"{stem}{WINDOW_MARK}{number}.{ext}" if dot and "/" not in ext else f"{path}{WINDOW_MARK}{number}"


def source_path(path: str) -> str:
    """The clip a window (or clip) path comes from."""
    return _WINDOW.sub("", path)


def read_windows(
    path: str | os.PathLike,
    settings: ClipSettings,
    frame_count: int,
    fps: float,
    window_seconds: float = WINDOW_SECONDS,
    max_windows: int = MAX_WINDOWS,
    limits: DecodeLimits | None = None,
) -> list[np.ndarray]:
    """The sampled frames of each window of a clip already known to have `frame_count` frames (one pass)."""
    ranges = window_ranges(frame_count, fps, window_seconds, max_windows)
    picks = [
        [first + i for i in sample_indices(stop - first, settings.frames, settings.sampling)] for first, stop in ranges
    ]
    needed = {i for pick in picks for i in pick}
    limits = replace(limits or DEFAULT_LIMITS, max_frames=frame_count + 1)
    with FrameStream(path, settings, limits) as stream:
        kept = {i: f for i, f in stream.frames(needed.__contains__) if f is not None}
    if not needed <= kept.keys():
        raise VideoError(f"{os.path.basename(path)} decodes differently on each pass; it is probably damaged.")
    return [np.stack([kept[i] for i in pick]) for pick in picks]
