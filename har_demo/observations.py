"""A timeline as observation sequences: the table `har-demo timeline` writes and the Python call
that returns it.

One row per window: its time span, each model's probability for every class, each model's top
class, the Viterbi-smoothed class where smoothing was asked for (har_demo.smoothing) and the true
label where one is known (har_demo.truth: a `.truth.json` sidecar or the file name), taken at the
window's centre, which is the label covering most of a window that crosses one change.

The CSV and JSON are the Timeline tab's own exports (`Timeline.to_csv` / `to_dict`) with columns
and keys added, never changed, so a file from the page and one from the command line read the
same; docs/timeline.md describes the format and how to load it into hmmlearn. The .npz holds the
same numbers as arrays, concatenated over videos with hmmlearn's `lengths`.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from har_demo.clip import DecodeLimits
from har_demo.smoothing import smooth
from har_demo.timeline import DEFAULT_STRIDE_S, DEFAULT_WINDOW_S, Progress, Timeline, compute_timeline
from har_demo.truth import Truth, truth_of

FORMATS = ("csv", "json", "npz")
UNKNOWN = -1  # the class index of a window whose true label is not known


@dataclass
class Observations:
    """One video's timeline with the true label per window and, optionally, the smoothed class."""

    timeline: Timeline
    truth: Truth | None = None
    stickiness: float | None = None  # None: not smoothed

    @property
    def classes(self) -> list[str]:
        return self.timeline.classes

    @property
    def models(self) -> list[str]:
        return self.timeline.models

    def true_indices(self) -> np.ndarray:
        """(W,) index of the true class at each window's centre; UNKNOWN where nothing says."""
        if self.truth is None:
            return np.full(self.timeline.windows, UNKNOWN, dtype=np.int64)
        labels = [self.truth.label_at(float(t)) for t in self.timeline.centers]
        return np.array([self.classes.index(label) if label else UNKNOWN for label in labels], dtype=np.int64)

    def true_labels(self) -> list[str]:
        """The true class per window, "" where it is not known."""
        return [self.classes[i] if i >= 0 else "" for i in self.true_indices()]

    def smoothed_indices(self) -> dict[str, np.ndarray]:
        """model -> (W,) Viterbi class index per window; empty when not smoothed."""
        if self.stickiness is None:
            return {}
        return {m: smooth(self.timeline.probabilities[m], self.stickiness) for m in self.models}

    # ------------------------------------------------------------------ exports
    def header(self) -> list[str]:
        smoothed = [f"{m}_smoothed" for m in self.models] if self.stickiness is not None else []
        return self.timeline.header() + smoothed + ["true"]

    def rows(self) -> list[list]:
        smoothed = self.smoothed_indices()
        truth = self.true_labels()
        return [
            row + [self.classes[int(smoothed[m][w])] for m in smoothed] + [truth[w]]
            for w, row in enumerate(self.timeline.rows())
        ]

    def to_csv(self) -> str:
        return _csv(self.header(), self.rows())

    def to_dict(self) -> dict:
        """The tab's JSON document, plus the truth, the smoothing and per window "true" / "smoothed"."""
        document = self.timeline.to_dict()
        smoothed = self.smoothed_indices()
        truth = self.true_labels()
        document["truth"] = None if self.truth is None else {"source": self.truth.source, **self.truth.to_dict()}
        document["smoothing"] = (
            None if self.stickiness is None else {"method": "viterbi", "stickiness": self.stickiness}
        )
        for w, window in enumerate(document["windows"]):
            if smoothed:
                window["smoothed"] = {m: self.classes[int(smoothed[m][w])] for m in smoothed}
            window["true"] = truth[w] or None
        return document

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1)

    def arrays(self) -> dict[str, np.ndarray]:
        """The numbers as arrays (see `to_npz`): probabilities (M, W, C), top (M, W), true (W,), ..."""
        tl = self.timeline
        arrays = {
            "classes": np.array(self.classes),
            "models": np.array(self.models),
            "start_s": tl.starts.astype(np.float64),
            "end_s": tl.ends.astype(np.float64),
            "probabilities": np.stack([tl.probabilities[m] for m in self.models]).astype(np.float32),
            "top": np.stack([tl.top_indices(m) for m in self.models]).astype(np.int64),
            "true": self.true_indices(),
            "lengths": np.array([tl.windows], dtype=np.int64),
            "window_s": np.float64(tl.window_s),
            "stride_s": np.float64(tl.stride_s),
        }
        smoothed = self.smoothed_indices()
        if smoothed:
            arrays["smoothed"] = np.stack([smoothed[m] for m in self.models]).astype(np.int64)
            arrays["stickiness"] = np.float64(self.stickiness)
        return arrays


def _csv(header: list[str], rows: list[list]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def observe(
    path: str | Path,
    predictor,
    *,
    window_s: float = DEFAULT_WINDOW_S,
    stride_s: float = DEFAULT_STRIDE_S,
    limits: DecodeLimits | None = None,
    stickiness: float | None = None,
    truth: Truth | None = None,
    progress: Progress | None = None,
) -> Observations:
    """The observation table of one video: `compute_timeline` as the Timeline tab runs it, the true
    label found the way the tab finds it (unless `truth` is given) and, with a `stickiness`, the
    Viterbi-smoothed class. Raises what `compute_timeline` raises (VideoError, ValueError)."""
    timeline = compute_timeline(path, predictor, window_s=window_s, stride_s=stride_s, limits=limits, progress=progress)
    timeline.source = Path(path).name  # as on the page: the name, never a server path
    if truth is None:
        truth = truth_of(path, timeline.classes, timeline.duration)
    return Observations(timeline=timeline, truth=truth, stickiness=stickiness)


# --------------------------------------------------------------------------- several videos in one file
def combined_csv(items: Sequence[tuple[str, Observations]]) -> str:
    """One CSV for several videos: a `video` column first, then each video's rows (same columns)."""
    header = ["video", *items[0][1].header()]
    return _csv(header, [[name, *row] for name, obs in items for row in obs.rows()])


def combined_json(items: Sequence[tuple[str, Observations]]) -> str:
    return json.dumps({"videos": [{"video": name, **obs.to_dict()} for name, obs in items]}, indent=1)


def combined_arrays(items: Sequence[tuple[str, Observations]]) -> dict[str, np.ndarray]:
    """Every video's arrays concatenated along the windows, with `lengths` (windows per video, as
    hmmlearn's fit/decode take it), `video` (the video index of each window) and `videos`."""
    parts = [obs.arrays() for _, obs in items]
    first = parts[0]
    arrays = {k: first[k] for k in ("classes", "models", "window_s", "stride_s")}
    for key in ("start_s", "end_s", "true", "lengths"):
        arrays[key] = np.concatenate([p[key] for p in parts])
    for key in ("probabilities", "top", "smoothed"):
        if key in first:
            arrays[key] = np.concatenate([p[key] for p in parts], axis=1)
    if "stickiness" in first:
        arrays["stickiness"] = first["stickiness"]
    arrays["video"] = np.repeat(np.arange(len(parts)), arrays["lengths"])
    arrays["videos"] = np.array([name for name, _ in items])
    return arrays


def render(items: Sequence[tuple[str, Observations]], fmt: str) -> str | dict[str, np.ndarray]:
    """One file's content: text for csv/json (one item: that video's own file), arrays for npz."""
    if fmt not in FORMATS:
        raise ValueError(f"The format is one of {', '.join(FORMATS)}, not {fmt!r}.")
    if len(items) == 1 and fmt != "npz":
        obs = items[0][1]
        return obs.to_csv() if fmt == "csv" else obs.to_json()
    if fmt == "csv":
        return combined_csv(items)
    if fmt == "json":
        return combined_json(items)
    return combined_arrays(items)


def load_npz(path: str | Path) -> dict[str, np.ndarray]:
    """An .npz the verb wrote, as a dict of arrays (no pickles: strings are stored as unicode)."""
    with np.load(path, allow_pickle=False) as data:
        return {k: data[k] for k in data.files}


__all__ = ["FORMATS", "UNKNOWN", "Observations", "combined_arrays", "load_npz", "observe", "render"]
