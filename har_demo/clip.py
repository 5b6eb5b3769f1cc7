"""The clip pipeline: video file -> N sampled, resized uint8 frames.

ONE implementation, used by dataset building, training, evaluation, the CLI and the app, so a
model always sees frames made the same way it was trained on. How the frames are made (colour
order, sampling, resize) is a `ClipSettings` recorded in every bundle.

Decoding is one sequential pass (grab() every frame, retrieve() only the ones we keep): seeking
with CAP_PROP_POS_FRAMES is slow and wrong on some codecs, and CAP_PROP_FRAME_COUNT lies for
webm/VP9, GIF and some mp4, so the count is checked against what the pass actually decoded.
"""

from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import cv2
import numpy as np

SAMPLINGS = ("tutorial", "uniform")
COLOR_ORDERS = ("bgr", "rgb")
INTERPOLATIONS = {
    "bilinear": cv2.INTER_LINEAR,
    "area": cv2.INTER_AREA,
    "nearest": cv2.INTER_NEAREST,
    "bicubic": cv2.INTER_CUBIC,
}
SCALES = ("unit", "none")
CROPS = ("none", "center")
MOTIONS = ("none", "difference")  # "difference": each frame minus the one before (training/tiny.py)
MOTION_GAIN = 2.0

# Reported counts outside this range are container noise (0, negative, absurd), not counts.
_PLAUSIBLE_MAX_FRAMES = 10_000_000


class VideoError(ValueError):
    """A video that cannot be turned into a clip; the message is meant for a person."""


@dataclass(frozen=True)
class ClipSettings:
    """How frames are made. Defaults are the tutorial's, which its weights were trained on."""

    frames: int = 20
    height: int = 64
    width: int = 64
    color_order: str = "bgr"
    sampling: str = "tutorial"
    interpolation: str = "bilinear"
    scale: str = "unit"
    crop: str = "none"
    motion: str = "none"

    def __post_init__(self) -> None:
        checks = {
            "sampling": (self.sampling, SAMPLINGS),
            "color_order": (self.color_order, COLOR_ORDERS),
            "interpolation": (self.interpolation, tuple(INTERPOLATIONS)),
            "scale": (self.scale, SCALES),
            "crop": (self.crop, CROPS),
            "motion": (self.motion, MOTIONS),
        }
        for name, (value, allowed) in checks.items():
            if value not in allowed:
                raise ValueError(f"{name} must be one of {', '.join(allowed)}, not {value!r}")
        if self.frames < 1 or self.height < 8 or self.width < 8:
            raise ValueError("frames must be >= 1 and the frame size at least 8x8")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> ClipSettings:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)

    def with_(self, **changes) -> ClipSettings:
        return replace(self, **changes)


@dataclass
class Clip:
    """Sampled frames plus what a person (or a report) needs to know about where they came from."""

    frames: np.ndarray  # (N, H, W, 3) uint8 in settings.color_order
    indices: list[int]  # source frame index of each sampled frame
    frame_count: int  # frames actually decoded
    fps: float
    source_size: tuple[int, int]  # (width, height) of the video
    settings: ClipSettings
    repeated: int = 0  # how many sampled frames repeat an earlier one (clip shorter than N)
    decode_seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def duration(self) -> float:
        return self.frame_count / self.fps if self.fps > 0 else 0.0

    @property
    def times(self) -> list[float]:
        """Timestamp in seconds of each sampled frame."""
        return [i / self.fps if self.fps > 0 else 0.0 for i in self.indices]

    def rgb(self) -> np.ndarray:
        """Frames in RGB for display, whatever order the model takes."""
        return self.frames[..., ::-1] if self.settings.color_order == "bgr" else self.frames


def sample_indices(frame_count: int, n: int, sampling: str = "tutorial") -> list[int]:
    """Which source frames to keep.

    "tutorial" is `i * max(count // n, 1)`, what the tutorial's models were trained on (it covers
    only the first n * (count // n) frames). "uniform" spreads n frames over the whole clip.
    Clips shorter than n repeat the nearest frames instead of being dropped as the seed did.
    """
    if frame_count < 1:
        raise VideoError("The video has no frames.")
    if frame_count < n:
        return [int(i) for i in np.rint(np.linspace(0, frame_count - 1, n))]
    if sampling == "tutorial":
        step = max(frame_count // n, 1)
        return [i * step for i in range(n)]
    if sampling == "uniform":
        return [int(i) for i in np.rint(np.linspace(0, frame_count - 1, n))]
    raise ValueError(f"sampling must be one of {', '.join(SAMPLINGS)}, not {sampling!r}")


def prepare_frame(frame: np.ndarray, settings: ClipSettings) -> np.ndarray:
    """One decoded BGR frame -> the model's size and colour order (uint8)."""
    if frame.ndim == 2:
        frame = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
    elif frame.shape[2] == 4:
        frame = cv2.cvtColor(frame, cv2.COLOR_BGRA2BGR)
    if settings.crop == "center":
        h, w = frame.shape[:2]
        target = settings.width / settings.height
        if w / h > target:
            new_w = max(1, round(h * target))
            x0 = (w - new_w) // 2
            frame = frame[:, x0 : x0 + new_w]
        else:
            new_h = max(1, round(w / target))
            y0 = (h - new_h) // 2
            frame = frame[y0 : y0 + new_h]
    frame = cv2.resize(frame, (settings.width, settings.height), interpolation=INTERPOLATIONS[settings.interpolation])
    if settings.color_order == "rgb":
        frame = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
    return frame


def to_model_input(frames: np.ndarray, settings: ClipSettings) -> np.ndarray:
    """uint8 frames (..., T, H, W, 3) -> float32 model input, scaled as the bundle says.

    With motion "difference", frame t becomes mid-grey + MOTION_GAIN x (frame t - frame t-1),
    clipped to the pixel range (the first frame: mid-grey): the background, which a tiny set
    would otherwise learn instead of the action, cancels out.
    """
    x = np.asarray(frames, dtype=np.float32)
    if settings.motion == "difference":
        moved = np.zeros_like(x)
        moved[..., 1:, :, :, :] = x[..., 1:, :, :, :] - x[..., :-1, :, :, :]
        x = np.clip(moved * np.float32(MOTION_GAIN) + np.float32(128.0), 0.0, 255.0)
    if settings.scale == "unit":
        x *= np.float32(1.0 / 255.0)
    return x


def _check_file(path: Path) -> None:
    if not path.exists():
        raise VideoError(f"No such file: {path.name}")
    if path.is_dir():
        raise VideoError(f"{path.name} is a folder, not a video file.")
    if path.stat().st_size == 0:
        raise VideoError(f"{path.name} is empty (0 bytes).")


# FFmpeg decoder threads per video (0 = FFmpeg's choice). One: clips are small (UCF50 is
# 320x240) and the app and the cache builder already run one decode per request / per core. On
# the shared 2-core machine of docs/performance.md FFmpeg's threads cost 1.45x the CPU time per
# clip, for wall-clock times from 1.5x slower (idle box) to 1.25x faster (busy box).
DECODE_THREADS = int(os.environ.get("HAR_DEMO_DECODE_THREADS", "1"))


def _open(path: Path) -> cv2.VideoCapture:
    cap = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG, [cv2.CAP_PROP_N_THREADS, DECODE_THREADS])
    if not cap.isOpened():
        cap.release()
        cap = cv2.VideoCapture(str(path))  # other backends read a few formats FFmpeg will not
    if not cap.isOpened():
        cap.release()
        raise VideoError(
            f"{path.name} could not be opened as a video: it is not a video file, "
            "or it is corrupt, or its codec is not supported."
        )
    return cap


def _reported_count(cap: cv2.VideoCapture) -> int | None:
    count = cap.get(cv2.CAP_PROP_FRAME_COUNT)
    if not np.isfinite(count) or count < 1 or count > _PLAUSIBLE_MAX_FRAMES:
        return None
    return int(count)


def _fps(cap: cv2.VideoCapture) -> float:
    fps = cap.get(cv2.CAP_PROP_FPS)
    return float(fps) if np.isfinite(fps) and 0 < fps < 1000 else 25.0


def _decode_pass(
    cap: cv2.VideoCapture,
    wanted: set[int] | None,
    settings: ClipSettings,
    max_frames: int | None,
    name: str,
) -> tuple[dict[int, np.ndarray], int]:
    """Grab every frame once; keep (prepared) the wanted ones, or all of them if wanted is None."""
    kept: dict[int, np.ndarray] = {}
    index = 0
    while cap.grab():
        if max_frames is not None and index >= max_frames:
            raise VideoError(f"{name} is too long: more than {max_frames} frames. Trim it and try again.")
        if wanted is None or index in wanted:
            ok, frame = cap.retrieve()
            if ok and frame is not None:
                kept[index] = prepare_frame(frame, settings)
        index += 1
    return kept, index


def read_clip(
    path: str | os.PathLike,
    settings: ClipSettings | None = None,
    *,
    max_frames: int | None = None,
) -> Clip:
    """Decode `path` and return `settings.frames` sampled, resized frames.

    Raises VideoError with a message for a person on anything that is not a usable video.
    `max_frames` bounds the work on enormous inputs (the app sets it from its duration limit).
    """
    settings = settings or ClipSettings()
    path = Path(path)
    _check_file(path)
    started = time.perf_counter()
    cap = _open(path)
    try:
        fps = _fps(cap)
        size = (int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)))
        reported = _reported_count(cap)
        if max_frames is not None and reported is not None and reported > max_frames * 1.5:
            raise VideoError(f"{path.name} is too long: about {reported} frames, the limit is {max_frames}.")
        wanted = set(sample_indices(reported, settings.frames, settings.sampling)) if reported else None
        kept, decoded = _decode_pass(cap, wanted, settings, max_frames, path.name)
    except cv2.error as exc:  # a decoder that gives up mid-stream
        raise VideoError(f"{path.name} could not be decoded: {exc.msg or exc}") from exc
    finally:
        cap.release()

    if decoded == 0 or not kept:
        raise VideoError(f"{path.name} has no frames that can be decoded (corrupt or truncated).")
    notes: list[str] = []
    if reported and decoded < reported * 0.9 and reported - decoded > 2:
        raise VideoError(
            f"{path.name} is truncated or damaged: its header promises {reported} frames "
            f"but only {decoded} could be decoded."
        )
    indices = sample_indices(decoded, settings.frames, settings.sampling)
    if not set(indices) <= kept.keys():
        # The container's count was wrong: decode again, now that the true count is known.
        cap = _open(path)
        try:
            kept, decoded_again = _decode_pass(cap, set(indices), settings, max_frames, path.name)
        finally:
            cap.release()
        missing = set(indices) - kept.keys()
        if missing:
            raise VideoError(f"{path.name} decodes differently on each pass; it is probably damaged.")
    frames = np.stack([kept[i] for i in indices])
    repeated = settings.frames - len(set(indices))
    if repeated:
        notes.append(
            f"The clip has only {decoded} frames; {repeated} of the {settings.frames} sampled "
            "frames repeat a neighbour."
        )
    return Clip(
        frames=frames,
        indices=indices,
        frame_count=decoded,
        fps=fps,
        source_size=size,
        settings=settings,
        repeated=repeated,
        decode_seconds=time.perf_counter() - started,
        notes=notes,
    )


def decode_all(
    path: str | os.PathLike, settings: ClipSettings | None = None, *, max_frames: int | None = None
) -> tuple[np.ndarray, float]:
    """Every frame of a video, prepared as in `read_clip`: (count, H, W, 3) uint8 and the fps.

    For sliding-window views over long videos; `max_frames` bounds memory and time.
    """
    settings = settings or ClipSettings()
    path = Path(path)
    _check_file(path)
    cap = _open(path)
    try:
        fps = _fps(cap)
        kept, decoded = _decode_pass(cap, None, settings, max_frames, path.name)
    except cv2.error as exc:
        raise VideoError(f"{path.name} could not be decoded: {exc.msg or exc}") from exc
    finally:
        cap.release()
    if not kept:
        raise VideoError(f"{path.name} has no frames that can be decoded (corrupt or truncated).")
    return np.stack([kept[i] for i in sorted(kept)]), fps
