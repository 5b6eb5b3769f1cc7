"""Sliding windows over a whole video: what each model thinks, second by second.

The video is decoded ONCE, as a stream (`clip.FrameStream`, with the bundle's clip settings),
while a window of `window_s` seconds is moved along it in steps of `stride_s` seconds. Each window
is sampled to the bundle's `frames` frames exactly the way the bundle samples a clip
(`sample_indices` over the window's frames), and windows go through `predictor.predict_frames` in
batches as soon as their frames have been decoded. Only the frames some pending window still
needs are held (reduced to the model's size as they are decoded), so memory is bounded by one
window span, not by the video's length; `DecodeLimits` bound the frame rate and the frames
decoded.

The result is plain data: window times, per-model probabilities, and per-model segments
(consecutive windows with the same top class, merged). `to_csv()` / `to_json()` are the export
the report feeds as observations to an HMM/DBN movement model, so their columns are stable:

    window, start_s, end_s, <model>_<class> ... (probabilities), <model>_top ...
"""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from har_demo.clip import (
    DEFAULT_LIMITS,
    DecodeLimits,
    FrameStream,
    VideoError,
    decoded_notes,
    release_memory,
    sample_indices,
)

DEFAULT_WINDOW_S = 4.0
DEFAULT_STRIDE_S = 1.0
BATCH_SIZE = 32

Progress = Callable[[float, str], None]


@dataclass
class Segment:
    """A run of consecutive windows on which one model's top class stays the same."""

    model: str
    label: str
    start_s: float
    end_s: float
    first_window: int
    last_window: int
    mean_confidence: float

    @property
    def windows(self) -> int:
        return self.last_window - self.first_window + 1

    def to_dict(self) -> dict:
        return {
            "model": self.model,
            "label": self.label,
            "start_s": round(self.start_s, 3),
            "end_s": round(self.end_s, 3),
            "first_window": self.first_window,
            "last_window": self.last_window,
            "windows": self.windows,
            "mean_confidence": round(self.mean_confidence, 4),
        }


@dataclass
class Timeline:
    """Per-window probabilities of every model over one video."""

    source: str
    classes: list[str]
    fps: float
    frame_count: int
    window_s: float  # requested window span
    stride_s: float  # requested stride
    span_frames: int  # window span in source frames
    stride_frames: int
    sampling: str
    start_frames: np.ndarray  # (W,) first source frame of each window
    frame_indices: np.ndarray  # (W, T) source frames each window was sampled from
    probabilities: dict[str, np.ndarray]  # model -> (W, C)
    seconds: dict[str, float] = field(default_factory=dict)  # "decode" and one entry per model
    notes: list[str] = field(default_factory=list)

    # ------------------------------------------------------------------ times
    @property
    def models(self) -> list[str]:
        return list(self.probabilities)

    @property
    def windows(self) -> int:
        return int(len(self.start_frames))

    @property
    def duration(self) -> float:
        return self.frame_count / self.fps

    @property
    def starts(self) -> np.ndarray:
        return self.start_frames / self.fps

    @property
    def ends(self) -> np.ndarray:
        return np.minimum(self.start_frames + self.span_frames, self.frame_count) / self.fps

    @property
    def centers(self) -> np.ndarray:
        return (self.starts + self.ends) / 2

    # ------------------------------------------------------------------ decisions
    def top_indices(self, model: str) -> np.ndarray:
        return np.argmax(self.probabilities[model], axis=1)

    def top(self, model: str) -> list[str]:
        return [self.classes[i] for i in self.top_indices(model)]

    def segments(self, model: str, tops: np.ndarray | None = None) -> list[Segment]:
        """Consecutive windows with the same top class (or the class `tops` gives each window,
        e.g. a smoothed one), merged; the confidence is the model's probability for that class.

        Windows overlap, so segment edges are placed halfway between the centres of the last
        window of one segment and the first of the next; the first segment starts at 0 s and
        the last ends where the last window ends. Segments therefore tile the covered time.
        """
        tops = self.top_indices(model) if tops is None else np.asarray(tops)
        confidence = self.probabilities[model][np.arange(len(tops)), tops]
        centers = self.centers
        out: list[Segment] = []
        first = 0
        for i in range(1, len(tops) + 1):
            if i < len(tops) and tops[i] == tops[first]:
                continue
            last = i - 1
            start = 0.0 if first == 0 else float((centers[first - 1] + centers[first]) / 2)
            end = float(self.ends[-1]) if i == len(tops) else float((centers[last] + centers[i]) / 2)
            out.append(
                Segment(
                    model=model,
                    label=self.classes[int(tops[first])],
                    start_s=start,
                    end_s=end,
                    first_window=first,
                    last_window=last,
                    mean_confidence=float(confidence[first : last + 1].mean()),
                )
            )
            first = i
        return out

    def all_segments(self) -> dict[str, list[Segment]]:
        return {m: self.segments(m) for m in self.models}

    # ------------------------------------------------------------------ exports
    def header(self) -> list[str]:
        columns = ["window", "start_s", "end_s"]
        for model in self.models:
            columns += [f"{model}_{c}" for c in self.classes]
        columns += [f"{model}_top" for model in self.models]
        return columns

    def rows(self) -> list[list]:
        starts, ends = self.starts, self.ends
        tops = {m: self.top(m) for m in self.models}
        rows = []
        for w in range(self.windows):
            row: list = [w, round(float(starts[w]), 3), round(float(ends[w]), 3)]
            for model in self.models:
                row += [round(float(p), 6) for p in self.probabilities[model][w]]
            row += [tops[m][w] for m in self.models]
            rows.append(row)
        return rows

    def to_csv(self) -> str:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(self.header())
        writer.writerows(self.rows())
        return buffer.getvalue()

    def to_dict(self) -> dict:
        starts, ends = self.starts, self.ends
        tops = {m: self.top(m) for m in self.models}
        return {
            "source": self.source,
            "classes": list(self.classes),
            "models": self.models,
            "fps": round(self.fps, 4),
            "frame_count": self.frame_count,
            "duration_s": round(self.duration, 3),
            "window_s": self.window_s,
            "stride_s": self.stride_s,
            "window_frames": self.span_frames,
            "stride_frames": self.stride_frames,
            "frames_per_window": int(self.frame_indices.shape[1]) if self.windows else 0,
            "sampling": self.sampling,
            "notes": list(self.notes),
            "windows": [
                {
                    "window": w,
                    "start_s": round(float(starts[w]), 3),
                    "end_s": round(float(ends[w]), 3),
                    "frame_indices": [int(i) for i in self.frame_indices[w]],
                    "probabilities": {
                        m: {c: round(float(p), 6) for c, p in zip(self.classes, self.probabilities[m][w])}
                        for m in self.models
                    },
                    "top": {m: tops[m][w] for m in self.models},
                }
                for w in range(self.windows)
            ],
            "segments": {m: [s.to_dict() for s in segs] for m, segs in self.all_segments().items()},
            "seconds": {k: round(v, 4) for k, v in self.seconds.items()},
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1)


def window_starts(frame_count: int, span_frames: int, stride_frames: int) -> np.ndarray:
    """First frame of each window: regular steps; one window when the video is shorter than a span."""
    if frame_count <= span_frames:
        return np.zeros(1, dtype=np.int64)
    return np.arange(0, frame_count - span_frames + 1, stride_frames, dtype=np.int64)


def window_indices(
    start_frames: np.ndarray, span_frames: int, frame_count: int, frames: int, sampling: str
) -> np.ndarray:
    """(W, frames) source frame indices: each window sampled like a whole clip of its span."""
    span = min(span_frames, frame_count)
    local = np.asarray(sample_indices(span, frames, sampling), dtype=np.int64)
    return start_frames[:, None] + local[None, :]


def padded_size(n: int, batch_size: int) -> int:
    """The next power of two >= n, at most batch_size (so batch shapes come from a small set)."""
    size = 1
    while size < n:
        size *= 2
    return max(n, min(size, batch_size))


class _WindowSampler:
    """Which decoded frames the windows need, and each window's frames once they are all in.

    Windows start every `stride` frames and take the frames `start + local`; only frames some
    window still needs are held. A video not longer than one span is one window sampled over all
    of it, so while that is possible (`hold_first_span`: the header gives no count, or a count
    that short) every frame of the first span is held too, until the video proves longer.
    """

    def __init__(self, span: int, stride: int, frames: int, sampling: str, *, hold_first_span: bool) -> None:
        self.span, self.stride, self.frames, self.sampling = span, stride, frames, sampling
        self.local = np.asarray(sample_indices(span, frames, sampling), dtype=np.int64)
        self._first: dict[int, int] = {}  # residue mod stride -> smallest local offset with it
        for offset in sorted(self.local.tolist(), reverse=True):
            self._first[offset % stride] = offset
        self.hold_first_span = hold_first_span
        self.held: dict[int, np.ndarray] = {}
        self.next_start = 0

    def needed(self, index: int) -> bool:
        """Is `index` = start + offset for some window start (a multiple of stride) and offset?"""
        offset = self._first.get(index % self.stride)
        return offset is not None and index >= offset

    def wanted(self, index: int) -> bool:
        return (self.hold_first_span and index < self.span) or self.needed(index)

    def add(self, index: int, frame: np.ndarray | None) -> Iterator[tuple[int, np.ndarray]]:
        """Take decoded frame `index`; yield (start, (T, H, W, C) frames) of each window it completes."""
        if frame is not None:
            self.held[index] = frame
        moved = False
        while index >= self.next_start + self.span - 1:
            start = self.next_start
            yield start, np.stack([self.frame(start + int(o)) for o in self.local])
            self.next_start += self.stride
            moved = True
        if self.hold_first_span and index >= self.span:  # longer than one span: drop what no window needs
            self.held = {i: f for i, f in self.held.items() if self.needed(i)}
            self.hold_first_span = False
        if moved:  # frames before the next window's start are needed by no window any more
            for old in [i for i in self.held if i < self.next_start]:
                del self.held[old]

    def single_window(self, count: int) -> list[int] | None:
        """The frames of the one window of a video shorter than a span (None when windows were made)."""
        if count >= self.span or count < 1:
            return None
        return sample_indices(count, self.frames, self.sampling)

    def frame(self, index: int) -> np.ndarray:
        """A held frame; one that failed to decode is replaced by the nearest held one before it."""
        frame = self.held.get(index)
        if frame is None:
            earlier = [i for i in self.held if i <= index]
            if not earlier:
                raise VideoError("No frame of this window could be decoded; the file is probably damaged.")
            frame = self.held[max(earlier)]
        return frame


def compute_timeline(
    path: str | Path,
    predictor,
    *,
    window_s: float = DEFAULT_WINDOW_S,
    stride_s: float = DEFAULT_STRIDE_S,
    limits: DecodeLimits | None = None,
    max_frames: int | None = None,
    batch_size: int = BATCH_SIZE,
    progress: Progress | None = None,
) -> Timeline:
    """Decode `path` once, streaming every window through `predictor.predict_frames` in batches.

    `predictor` needs `.settings` (ClipSettings), `.classes` and `.predict_frames(uint8 (B,T,H,W,C))`.
    `limits` (default `clip.DEFAULT_LIMITS`) bound the length, frame rate, frame size and frames
    decoded; `max_frames`, if given, tightens `limits.max_frames`. Raises a VideoError subclass
    for a video that cannot be read or breaks the limits, ValueError for a bad window or stride.
    """
    if not window_s > 0 or not stride_s > 0:
        raise ValueError("The window and the stride must both be longer than 0 seconds.")
    settings = predictor.settings
    limits = limits or DEFAULT_LIMITS
    if max_frames is not None:
        limits = replace(
            limits, max_frames=max_frames if limits.max_frames is None else min(max_frames, limits.max_frames)
        )
    started = time.perf_counter()
    if progress:
        progress(0.0, "Decoding the video")
    probabilities: dict[str, list[np.ndarray]] = {}
    seconds: dict[str, float] = {}
    starts: list[int] = []
    pending: list[np.ndarray] = []

    def run(batch_frames: list[np.ndarray]) -> None:
        batch = np.stack(batch_frames)  # (B, T, H, W, C)
        n = len(batch)
        padded = padded_size(n, batch_size)
        if padded > n:  # a few fixed batch shapes: no retracing/recompiling for every odd size
            batch = np.concatenate([batch, np.repeat(batch[-1:], padded - n, axis=0)])
        probs, spent = predictor.predict_frames(batch)
        for model, p in probs.items():
            probabilities.setdefault(model, []).append(np.asarray(p, dtype=np.float32)[:n])
            seconds[model] = seconds.get(model, 0.0) + float(spent[model])

    with FrameStream(path, settings, limits) as stream:
        fps, info = stream.fps, stream.info
        span = max(1, int(round(window_s * fps)))
        stride = max(1, int(round(stride_s * fps)))
        expected = len(window_starts(info.frame_count, span, stride)) if info.frame_count else None
        short_possible = info.frame_count is None or info.frame_count <= span
        sampler = _WindowSampler(span, stride, settings.frames, settings.sampling, hold_first_span=short_possible)
        for index, frame in stream.frames(sampler.wanted):
            for start, window in sampler.add(index, frame):
                starts.append(start)
                pending.append(window)
                if len(pending) == batch_size:
                    run(pending)
                    pending = []
                    if progress:
                        done = len(starts)
                        total = max(expected or done, done)
                        progress(min(done / total, 0.99), f"Windows {done}/{total}")
        count = stream.decoded
    notes = decoded_notes(info, count, settings.frames, served="the timeline covers")
    single = sampler.single_window(count)
    if single is not None:
        if not set(single) <= sampler.held.keys():
            # The header promised more than one span: decode the short video again for its frames.
            with FrameStream(path, settings, limits) as again:
                sampler.held = {i: f for i, f in again.frames(set(single).__contains__) if f is not None}
        starts.append(0)
        pending.append(np.stack([sampler.frame(i) for i in single]))
    sampler.held.clear()
    if pending:
        run(pending)
        pending = []
    release_memory()
    if progress:
        progress(1.0, f"Windows {len(starts)}/{len(starts)}")
    start_frames = np.asarray(starts, dtype=np.int64)
    indices = window_indices(start_frames, span, count, settings.frames, settings.sampling)
    model_seconds = sum(seconds.values())
    seconds = {"decode": max(time.perf_counter() - started - model_seconds, 0.0), **seconds}

    if count <= span:
        notes.append(
            f"The video ({count / fps:.1f} s) is not longer than one window ({window_s:g} s): "
            "it is shown as a single window."
        )
        if count < settings.frames:
            notes.append(f"It has only {count} frames, so some of the {settings.frames} sampled frames repeat.")
    else:
        tail = count - (int(start_frames[-1]) + span)
        if tail > 0:
            notes.append(f"The last {tail / fps:.2f} s fall after the last full window and are not covered.")

    return Timeline(
        source=str(path),
        classes=list(predictor.classes),
        fps=float(fps),
        frame_count=count,
        window_s=float(window_s),
        stride_s=float(stride_s),
        span_frames=span,
        stride_frames=stride,
        sampling=settings.sampling,
        start_frames=start_frames,
        frame_indices=indices,
        probabilities={m: np.concatenate(p) for m, p in probabilities.items()},
        seconds=seconds,
        notes=notes,
    )


__all__ = [
    "DEFAULT_STRIDE_S",
    "DEFAULT_WINDOW_S",
    "Segment",
    "Timeline",
    "VideoError",
    "compute_timeline",
    "window_indices",
    "window_starts",
]
