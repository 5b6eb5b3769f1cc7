"""The true label of a clip, where it is known: a list of (start_s, end_s, label) pieces.

One notion for every clip: a clip of one activity is one piece over the whole clip, a clip that
strings activities together (the Timeline tab's mixed example) is one piece per activity. The
timeline figure's band and the annotated video's strip both draw a `Truth`.

Where it comes from, first found wins:
1. a sidecar beside the video, `X.truth.json` for `X.<ext>`:
   `{"segments": [{"start_s": 0, "end_s": 4, "label": "TaiChi"}, ...]}`;
2. the sidecar of the shipped example with the same name and the same bytes (an upload or a
   Gradio example arrives as a copy, without the file beside it);
3. the file name: `v_<Class>_gXX_cYY` (UCF50, the bundle's test clips), `synthetic_<Class>`.
A sidecar that cannot be read, is malformed or names a class the bundle does not have is ignored
(as if it were not there), so a wrong sidecar never draws a wrong band and never raises.
No gradio here.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from har_demo.shipped import EXAMPLES_DIR

SIDECAR_SUFFIX = ".truth.json"
MAX_SIDECAR_BYTES = 256 * 1024  # a sidecar is read whole: bound it
MAX_SEGMENTS = 5000
FROM_FILE_NAME = "the file name"


@dataclass(frozen=True)
class TruthSegment:
    start_s: float
    end_s: float
    label: str


@dataclass(frozen=True)
class Truth:
    """The true label over time, pieces in time order; `source` says where it was read from."""

    segments: tuple[TruthSegment, ...]
    source: str = FROM_FILE_NAME

    @classmethod
    def whole(cls, label: str, duration_s: float, source: str = FROM_FILE_NAME) -> Truth:
        """One label over the whole clip."""
        return cls((TruthSegment(0.0, float(duration_s), label),), source)

    @property
    def labels(self) -> list[str]:
        """The distinct labels, in order of first appearance."""
        return list(dict.fromkeys(s.label for s in self.segments))

    @property
    def single_label(self) -> str | None:
        """The label when the whole clip has one, else None."""
        labels = self.labels
        return labels[0] if len(labels) == 1 else None

    def label_at(self, t: float) -> str | None:
        """The true label at `t` seconds, or None in a stretch no piece covers."""
        for s in self.segments:
            if s.start_s <= t < s.end_s:
                return s.label
        last = self.segments[-1] if self.segments else None
        return last.label if last is not None and t == last.end_s else None

    def describe(self) -> str:
        """ "TaiChi" for one label, else "WalkingWithDog 0–4 s, TaiChi 4–8 s, ..."."""
        if self.single_label and len(self.segments) == 1:
            return self.single_label
        return ", ".join(f"{s.label} {s.start_s:g}–{s.end_s:g} s" for s in self.segments)

    def to_dict(self) -> dict:
        return {"segments": [{"start_s": s.start_s, "end_s": s.end_s, "label": s.label} for s in self.segments]}


class SidecarError(ValueError):
    """A truth sidecar that cannot be used; callers that find truth treat it as absent."""


def sidecar_path(video: str | Path) -> Path:
    """`X.truth.json` beside `X.<ext>`."""
    video = Path(video)
    return video.with_name(video.stem + SIDECAR_SUFFIX)


def parse_truth(data: object, classes: Sequence[str], source: str) -> Truth:
    """A Truth from a sidecar's JSON value; raises SidecarError when it is malformed or names
    a class outside `classes` (pieces must be non-empty, in time order and not overlap)."""
    if not isinstance(data, dict) or not isinstance(data.get("segments"), list) or not data["segments"]:
        raise SidecarError("a truth sidecar is an object with a non-empty list of segments")
    items = data["segments"]
    if len(items) > MAX_SEGMENTS:
        raise SidecarError(f"more than {MAX_SEGMENTS} segments")
    segments = []
    for item in items:
        if not isinstance(item, dict):
            raise SidecarError("each segment is an object")
        start, end, label = item.get("start_s"), item.get("end_s"), item.get("label")
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (start, end)):
            raise SidecarError("start_s and end_s are numbers of seconds")
        if not (math.isfinite(start) and math.isfinite(end) and 0 <= start < end):
            raise SidecarError("each segment has 0 <= start_s < end_s")
        if label not in classes:
            raise SidecarError(f"{label!r} is not one of the bundle's classes")
        if segments and start < segments[-1].end_s:
            raise SidecarError("segments are in time order and do not overlap")
        segments.append(TruthSegment(float(start), float(end), str(label)))
    return Truth(tuple(segments), source)


def read_sidecar(path: str | Path, classes: Sequence[str]) -> Truth:
    """The Truth in one sidecar file; raises SidecarError when it is missing or unusable."""
    path = Path(path)
    try:
        if path.stat().st_size > MAX_SIDECAR_BYTES:
            raise SidecarError(f"{path.name} is larger than {MAX_SIDECAR_BYTES} bytes")
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SidecarError(f"{path.name} could not be read ({type(exc).__name__})") from exc
    return parse_truth(data, classes, source=path.name)


def write_sidecar(video: str | Path, segments: Iterable[TruthSegment]) -> Path:
    """Write `X.truth.json` beside `video` with these pieces; returns its path."""
    path = sidecar_path(video)
    truth = Truth(tuple(segments), source=path.name)
    path.write_text(json.dumps(truth.to_dict(), indent=2) + "\n", encoding="utf-8")
    return path


def label_from_name(name: str | Path, classes: Sequence[str]) -> str | None:
    """The class a file name states (UCF50's v_<Class>_gXX_cYY, the examples' synthetic_<Class>), if it is one of ours."""
    stem = Path(name).stem
    for prefix in ("v_", "synthetic_"):
        if stem.startswith(prefix):
            label = stem[len(prefix) :].split("_", 1)[0]
            return label if label in classes else None
    return None


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _shipped_twin(video: Path, examples_dir: Path) -> Path | None:
    """The shipped example this file is a byte-for-byte copy of (same name), if any."""
    twin = examples_dir / video.name
    try:
        if twin.resolve() == video.resolve() or twin.stat().st_size != video.stat().st_size:
            return None
        return twin if _digest(twin) == _digest(video) else None
    except OSError:
        return None


def truth_of(
    video: str | Path, classes: Sequence[str], duration_s: float, examples_dir: Path = EXAMPLES_DIR
) -> Truth | None:
    """The clip's true label over time, or None when nothing states it (see the module's rules)."""
    video = Path(video)
    candidates = [sidecar_path(video)]
    twin = _shipped_twin(video, Path(examples_dir))
    if twin is not None:
        candidates.append(sidecar_path(twin))
    for candidate in candidates:
        if candidate.is_file():
            try:
                return read_sidecar(candidate, classes)
            except SidecarError:
                continue  # ignored, as if absent
    label = label_from_name(video.name, classes)
    return Truth.whole(label, duration_s) if label else None
