"""The clip pipeline: video file -> N sampled, resized uint8 frames.

ONE implementation, used by dataset building, training, evaluation, the CLI, the app and the
timeline, so a model always sees frames made the same way it was trained on. How the frames are
made (colour order, channels, sampling, resize) is a `ClipSettings` recorded in every bundle.

Decoding is one sequential pass (grab() every frame, retrieve() only the ones we keep): seeking
with CAP_PROP_POS_FRAMES is slow and wrong on some codecs, and CAP_PROP_FRAME_COUNT lies for
webm/VP9, GIF and some mp4, so the count is checked against what the pass actually decoded.

What one decode may cost (length, frame rate, frame size, frames decoded) is a `DecodeLimits`
a host sets; the header is checked against it before any frame is decoded (`probe`), and the
pass enforces it again because headers lie. Every refusal is a `VideoError` subclass whose
message is one sentence for a person; callers branch on the type, never on the text.
"""

from __future__ import annotations

import ctypes
import math
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import ClassVar

import cv2
import numpy as np

SAMPLINGS = ("tutorial", "uniform")
COLOR_ORDERS = ("bgr", "rgb")
CHANNELS = (1, 3)
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
# Reported frame rates at or above this are noise too; such files get FALLBACK_FPS.
_PLAUSIBLE_MAX_FPS = 1000.0
FALLBACK_FPS = 25.0  # the frame rate assumed (for times) when a file does not state one
VIDEO_EXTENSIONS = {".avi", ".mp4", ".mov", ".mkv", ".webm", ".gif", ".mpg", ".mpeg", ".m4v"}
LENGTH_TOLERANCE = 1.02  # containers round their durations; 2% over a limit is still within it
# A file is truncated when fewer frames decode than its header promises, by both margins.
_TRUNCATED_SHARE = 0.9
_TRUNCATED_FRAMES = 2


# --------------------------------------------------------------------------- errors
class VideoError(ValueError):
    """A video that cannot be turned into a clip; the message is one sentence for a person."""


class NotAVideo(VideoError):
    """Not a video at all: a folder, an empty file, text, random bytes, a still image."""


class VideoTooLong(VideoError):
    """Longer than the host allows. `duration` (seconds, None when unknown) and `limit` (seconds)."""

    def __init__(self, message: str, *, duration: float | None, limit: float | None) -> None:
        super().__init__(message)
        self.duration = duration
        self.limit = limit


class FrameRateTooHigh(VideoError):
    """A frame rate above the host's limit (each second would cost that many decoded frames)."""

    def __init__(self, message: str, *, fps: float, limit: float) -> None:
        super().__init__(message)
        self.fps = fps
        self.limit = limit


class VideoTooLarge(VideoError):
    """Frames with more pixels than the host allows (`width` x `height` > `limit` pixels)."""

    def __init__(self, message: str, *, width: int, height: int, limit: int) -> None:
        super().__init__(message)
        self.width = width
        self.height = height
        self.limit = limit


class TooFewFrames(VideoError):
    """Too few frames decode to sample a clip from (a truncated or damaged file)."""

    def __init__(self, message: str, *, decoded: int, reported: int | None, needed: int) -> None:
        super().__init__(message)
        self.decoded = decoded
        self.reported = reported
        self.needed = needed


def format_seconds(seconds: float) -> str:
    """'90 s', '10 minutes': how a length reads in a message."""
    if seconds >= 60 and seconds % 60 == 0:
        minutes = int(seconds // 60)
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    return f"{seconds:g} s"


# --------------------------------------------------------------------------- settings and limits
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
    channels: int = 3  # 1 = grayscale (models with input (..., 1)); color_order is then moot
    motion: str = "none"  # "difference": the models see frame-to-frame change (tiny sets)

    # The one table of what each setting may be: checked here, and by the manifest reader (which
    # first checks the JSON types and then names the field of the bundle at fault).
    CHOICES: ClassVar[dict[str, tuple]] = {
        "color_order": COLOR_ORDERS,
        "sampling": SAMPLINGS,
        "interpolation": tuple(INTERPOLATIONS),
        "scale": SCALES,
        "crop": CROPS,
        "channels": CHANNELS,
        "motion": MOTIONS,
    }
    MINIMUMS: ClassVar[dict[str, int]] = {"frames": 1, "height": 8, "width": 8}

    @classmethod
    def problem(cls, name: str, value) -> str | None:
        """What is wrong with `value` for the setting `name` ("must be one of ..., got ..."), or None."""
        allowed = cls.CHOICES.get(name)
        if allowed is not None and value not in allowed:
            return f"must be one of {', '.join(map(str, allowed))}, got {value!r}"
        minimum = cls.MINIMUMS.get(name)
        if minimum is not None and value < minimum:
            return f"must be at least {minimum}, got {value}"
        return None

    def __post_init__(self) -> None:
        for name in (*self.CHOICES, *self.MINIMUMS):
            problem = self.problem(name, getattr(self, name))
            if problem:
                raise ValueError(f"{name} {problem}")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> ClipSettings:
        """Manifests written before a field existed get its default (e.g. channels=3)."""
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)

    def with_(self, **changes) -> ClipSettings:
        return replace(self, **changes)


@dataclass(frozen=True)
class DecodeLimits:
    """What one decode may cost; a host sets these per request (None = no bound).

    `max_frames` bounds the frames one pass decodes whatever the header says (None: derived
    from max_seconds and the frame rate). The defaults suit the app: 10 minutes, 120 fps,
    4096x4096 pixels per frame.
    """

    max_seconds: float | None = 600.0
    max_fps: float | None = 120.0
    max_frames: int | None = None
    max_pixels: int | None = 4096 * 4096

    def frame_budget(self, fps: float | None) -> int | None:
        """The most frames a pass may decode at this (reported) frame rate."""
        bounds = []
        if self.max_frames is not None:
            bounds.append(int(self.max_frames))
        if self.max_seconds is not None:
            rate = fps or self.max_fps or _PLAUSIBLE_MAX_FPS
            bounds.append(int(math.ceil(self.max_seconds * LENGTH_TOLERANCE * rate)) + 1)
        return min(bounds) if bounds else None


DEFAULT_LIMITS = DecodeLimits()
NO_LIMITS = DecodeLimits(max_seconds=None, max_fps=None, max_frames=None, max_pixels=None)


@dataclass(frozen=True)
class VideoInfo:
    """What a container's header claims (it can lie: the decoding pass checks again)."""

    name: str
    size_bytes: int
    frame_count: int | None  # None when the count is missing or implausible
    fps: float | None  # None when the container does not state a plausible one
    width: int
    height: int
    codec: str | None  # fourcc, e.g. "XVID", "MJPG", "VP90"

    @property
    def duration(self) -> float | None:
        return self.frame_count / self.fps if self.fps and self.frame_count else None

    @property
    def pixels(self) -> int:
        return self.width * self.height


@dataclass
class Clip:
    """Sampled frames plus what a person (or a report) needs to know about where they came from."""

    frames: np.ndarray  # (N, H, W, C) uint8 in settings.color_order; C = settings.channels
    indices: list[int]  # source frame index of each sampled frame
    frame_count: int  # frames actually decoded
    fps: float
    source_size: tuple[int, int]  # (width, height) of the video
    settings: ClipSettings
    repeated: int = 0  # how many sampled frames repeat an earlier one (clip shorter than N)
    decode_seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    info: VideoInfo | None = None  # what the header claimed

    @property
    def duration(self) -> float:
        return self.frame_count / self.fps if self.fps > 0 else 0.0

    @property
    def times(self) -> list[float]:
        """Timestamp in seconds of each sampled frame."""
        return [i / self.fps if self.fps > 0 else 0.0 for i in self.indices]

    def rgb(self) -> np.ndarray:
        """Frames in RGB for display, whatever order (or channels) the model takes."""
        if self.frames.shape[-1] == 1:
            return np.repeat(self.frames, 3, axis=-1)
        return self.frames[..., ::-1] if self.settings.color_order == "bgr" else self.frames


# --------------------------------------------------------------------------- frames
def sample_indices(frame_count: int, n: int, sampling: str = "tutorial") -> list[int]:
    """Which source frames to keep.

    "tutorial" is `i * max(count // n, 1)`, what the tutorial's models were trained on (it covers
    only the first n * (count // n) frames). "uniform" spreads n frames over the whole clip.
    Clips shorter than n repeat the nearest frames instead of being dropped as the seed did.
    """
    if frame_count < 1:
        raise TooFewFrames("The video has no frames.", decoded=0, reported=None, needed=n)
    if frame_count < n:
        return [int(i) for i in np.rint(np.linspace(0, frame_count - 1, n))]
    if sampling == "tutorial":
        step = max(frame_count // n, 1)
        return [i * step for i in range(n)]
    if sampling == "uniform":
        return [int(i) for i in np.rint(np.linspace(0, frame_count - 1, n))]
    raise ValueError(f"sampling must be one of {', '.join(SAMPLINGS)}, not {sampling!r}")


def prepare_frame(frame: np.ndarray, settings: ClipSettings) -> np.ndarray:
    """One decoded BGR frame -> the model's size, colour order and channels (uint8, (H, W, C))."""
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
    if settings.channels == 1:
        return cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)[..., None]
    if settings.color_order == "rgb":
        frame = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
    return frame


# ITU-R BT.601 luma, what cv2.COLOR_BGR2GRAY uses.
_LUMA_BGR = np.array([0.114, 0.587, 0.299], dtype=np.float32)


def to_model_input(frames: np.ndarray, settings: ClipSettings) -> np.ndarray:
    """uint8 frames (..., T, H, W, C) -> float32 model input (..., T, H, W, settings.channels), scaled
    as the bundle says. Three-channel frames given to a grayscale bundle are reduced to luma.

    With motion "difference", frame t becomes mid-grey + MOTION_GAIN x (frame t - frame t-1),
    clipped to the pixel range (the first frame: mid-grey): the background, which a tiny set
    would otherwise learn instead of the action, cancels out.
    """
    x = np.asarray(frames, dtype=np.float32)
    if settings.channels == 1 and x.shape[-1] == 3:
        weights = _LUMA_BGR if settings.color_order == "bgr" else _LUMA_BGR[::-1]
        x = (x @ weights)[..., None]
    if settings.motion == "difference":
        moved = np.zeros_like(x)
        moved[..., 1:, :, :, :] = x[..., 1:, :, :, :] - x[..., :-1, :, :, :]
        x = np.clip(moved * np.float32(MOTION_GAIN) + np.float32(128.0), 0.0, 255.0)
    if settings.scale == "unit":
        x *= np.float32(1.0 / 255.0)
    return x


# --------------------------------------------------------------------------- the header
# Still-image formats FFmpeg happily opens as a "one-frame video" (GIF is not here: it animates).
_IMAGE_SIGNATURES = (
    (0, b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (0, b"\xff\xd8\xff", "a JPEG image"),
    (0, b"II*\x00", "a TIFF image"),
    (0, b"MM\x00*", "a TIFF image"),
    (8, b"WEBP", "a WebP image"),
    (4, b"ftypheic", "a HEIC photo"),
    (4, b"ftypheix", "a HEIC photo"),
    (4, b"ftypmif1", "a HEIF photo"),
    (4, b"ftypavif", "an AVIF image"),
)


def _still_image_kind(head: bytes) -> str | None:
    for offset, signature, kind in _IMAGE_SIGNATURES:
        if head[offset : offset + len(signature)] == signature:
            return kind
    if head[:2] == b"BM" and head[6:10] == b"\x00\x00\x00\x00":
        return "a BMP image"
    return None


def _check_file(path: Path) -> int:
    if not path.exists():
        raise VideoError(f"No such file: {path.name}.")
    if path.is_dir():
        raise NotAVideo(f"{path.name} is a folder, not a video file.")
    if not path.is_file():  # a FIFO, a device such as /dev/zero, a socket: reading could never end
        raise NotAVideo(f"{path.name} is not a regular file, so it is not a video file.")
    size = path.stat().st_size
    if size == 0:
        raise NotAVideo(f"{path.name} is empty (0 bytes).")
    with path.open("rb") as f:
        kind = _still_image_kind(f.read(16))
    if kind:
        raise NotAVideo(f"{path.name} is {kind}, not a video: upload a video clip instead.")
    return size


# FFmpeg decoder threads per video (0 = FFmpeg's choice). One: clips are small (UCF50 is
# 320x240) and the app and the cache builder already run one decode per request / per core. On
# the shared 2-core machine FFmpeg's own threads cost more CPU per clip than they saved in time
# (docs/performance.md, "What was changed for speed").
DECODE_THREADS = int(os.environ.get("HAR_DEMO_DECODE_THREADS", "1"))


def _open(path: Path) -> cv2.VideoCapture:
    cap = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG, [cv2.CAP_PROP_N_THREADS, DECODE_THREADS])
    if not cap.isOpened():
        cap.release()
        cap = cv2.VideoCapture(str(path))  # other backends read a few formats FFmpeg will not
    if not cap.isOpened():
        cap.release()
        raise NotAVideo(
            f"{path.name} could not be opened as a video: it is not a video file, "
            "or it is corrupt, or its codec is not supported."
        )
    return cap


def _reported_count(cap: cv2.VideoCapture) -> int | None:
    count = cap.get(cv2.CAP_PROP_FRAME_COUNT)
    if not np.isfinite(count) or count < 1 or count > _PLAUSIBLE_MAX_FRAMES:
        return None
    return int(count)


def _reported_fps(cap: cv2.VideoCapture) -> float | None:
    fps = cap.get(cv2.CAP_PROP_FPS)
    return float(fps) if np.isfinite(fps) and 0 < fps < _PLAUSIBLE_MAX_FPS else None


def _fourcc(cap: cv2.VideoCapture) -> str | None:
    code = int(cap.get(cv2.CAP_PROP_FOURCC))
    if code <= 0:
        return None
    text = code.to_bytes(4, "little").decode("latin-1").strip("\x00 ")
    return text if text.isprintable() and text else None


def _header(path: Path, size: int, cap: cv2.VideoCapture) -> VideoInfo:
    return VideoInfo(
        name=path.name,
        size_bytes=size,
        frame_count=_reported_count(cap),
        fps=_reported_fps(cap),
        width=max(0, int(cap.get(cv2.CAP_PROP_FRAME_WIDTH))),
        height=max(0, int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))),
        codec=_fourcc(cap),
    )


def _too_large(name: str, width: int, height: int, limit: int) -> VideoTooLarge:
    side = int(math.isqrt(limit))
    return VideoTooLarge(
        f"{name} is {width}x{height} pixels; the limit here is {limit / 1e6:.3g} megapixels "
        f"(about {side}x{side}). Scale it down and try again.",
        width=width,
        height=height,
        limit=limit,
    )


def check_header(info: VideoInfo, limits: DecodeLimits) -> None:
    """Refuse, from the header alone, what the limits forbid (nothing has been decoded yet)."""
    if limits.max_pixels is not None and info.pixels > limits.max_pixels:
        raise _too_large(info.name, info.width, info.height, limits.max_pixels)
    if limits.max_fps is not None and info.fps is not None and info.fps > limits.max_fps:
        raise FrameRateTooHigh(
            f"{info.name} runs at {info.fps:.4g} frames per second; the limit here is {limits.max_fps:g}. "
            "Convert it to a lower frame rate and try again.",
            fps=info.fps,
            limit=limits.max_fps,
        )
    duration = info.duration
    if limits.max_seconds is not None and duration is not None and duration > limits.max_seconds * LENGTH_TOLERANCE:
        raise VideoTooLong(
            f"{info.name} is too long ({format_seconds(round(duration))}): the limit here is "
            f"{format_seconds(limits.max_seconds)}. Trim it and try again.",
            duration=duration,
            limit=limits.max_seconds,
        )
    budget = limits.frame_budget(info.fps)
    if budget is not None and info.frame_count is not None and info.frame_count > budget * LENGTH_TOLERANCE:
        raise VideoTooLong(
            f"{info.name} is too long: about {info.frame_count} frames, the limit here is {budget}. "
            "Trim it and try again.",
            duration=duration,
            limit=budget / (info.fps or FALLBACK_FPS),
        )


def probe(path: str | os.PathLike, limits: DecodeLimits | None = None) -> VideoInfo:
    """Open only the header: what the file claims, refused with a typed VideoError where the
    limits (default `DEFAULT_LIMITS`) forbid it or it is not a video at all."""
    path = Path(path)
    size = _check_file(path)
    cap = _open(path)
    try:
        info = _header(path, size, cap)
    finally:
        cap.release()
    check_header(info, limits or DEFAULT_LIMITS)
    return info


# --------------------------------------------------------------------------- decoding
class FrameStream:
    """One open of a container and one sequential pass over it, within `limits`.

    The header is read and checked on open (`.info`); `frames(wanted)` then grabs every frame
    once and yields `(index, frame)` for each, with the frame prepared (reduced to the model's
    size as it is decoded) when `wanted(index)` says so and None otherwise. Nothing else is
    kept, so what a caller holds is what it chooses to. Use as a context manager.
    """

    def __init__(self, path: str | os.PathLike, settings: ClipSettings, limits: DecodeLimits | None = None) -> None:
        self.path = Path(path)
        self.settings = settings
        self.limits = limits or DEFAULT_LIMITS
        size = _check_file(self.path)
        self._cap = _open(self.path)
        try:
            self.info = _header(self.path, size, self._cap)
            check_header(self.info, self.limits)
        except BaseException:
            self.close()
            raise
        self.fps = self.info.fps or FALLBACK_FPS
        self.decoded = 0  # frames grabbed so far (the true count once the pass is over)

    def __enter__(self) -> FrameStream:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None

    def _too_long(self, budget: int) -> VideoTooLong:
        name, limits = self.info.name, self.limits
        if limits.max_frames is not None and budget == limits.max_frames:
            return VideoTooLong(
                f"{name} is too long: more than {budget} frames, the limit here. Trim it and try again.",
                duration=None,
                limit=budget / self.fps,
            )
        return VideoTooLong(
            f"{name} is too long: more than {format_seconds(limits.max_seconds)} of video, the limit here. "
            "Trim it and try again.",
            duration=None,
            limit=limits.max_seconds,
        )

    def frames(self, wanted: Callable[[int], bool] | None = None) -> Iterator[tuple[int, np.ndarray | None]]:
        """Every frame in order; prepared where `wanted(index)` (all when wanted is None)."""
        if self._cap is None:
            raise RuntimeError("the stream is closed")
        cap, settings, max_pixels = self._cap, self.settings, self.limits.max_pixels
        budget = self.limits.frame_budget(self.info.fps)
        index = 0
        try:
            while cap.grab():
                if budget is not None and index >= budget:
                    raise self._too_long(budget)
                frame = None
                if wanted is None or wanted(index):
                    ok, raw = cap.retrieve()
                    if ok and raw is not None:
                        if max_pixels is not None and raw.shape[0] * raw.shape[1] > max_pixels:
                            raise _too_large(self.info.name, raw.shape[1], raw.shape[0], max_pixels)
                        frame = prepare_frame(raw, settings)
                index += 1
                self.decoded = index
                yield index - 1, frame
        except cv2.error as exc:  # a decoder that gives up mid-stream
            raise VideoError(f"{self.info.name} could not be decoded: {exc.msg or exc}") from exc


def release_memory() -> None:
    """Hand freed frame buffers back to the OS (glibc keeps small freed blocks in its arenas, so a
    long decode would otherwise stay in the process's RSS after the request); a no-op elsewhere."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def decoded_notes(info: VideoInfo, decoded: int, needed: int, served: str = "the clip was sampled from") -> list[str]:
    """What a person must know about how much of the file decoded; refuse only what cannot be
    sampled (fewer than `needed` frames of a truncated file, none at all, or a single frame).
    Predict and the timeline both say it this way (`served` + "the first 1.3 s of 6.7 s")."""
    reported = info.frame_count
    truncated = (
        reported is not None and decoded < reported * _TRUNCATED_SHARE and reported - decoded > _TRUNCATED_FRAMES
    )
    if decoded == 0:
        raise TooFewFrames(
            f"{info.name} has no frames that can be decoded (it is corrupt or truncated).",
            decoded=0,
            reported=reported,
            needed=needed,
        )
    if truncated and decoded < needed:
        raise TooFewFrames(
            f"{info.name} is truncated or damaged: only {decoded} of the {reported} frames its header promises "
            f"could be decoded, fewer than the {needed} frames the models need.",
            decoded=decoded,
            reported=reported,
            needed=needed,
        )
    if decoded == 1:
        raise NotAVideo(f"{info.name} has a single frame: it is a still image, not a video.")
    if truncated:
        fps = info.fps or FALLBACK_FPS
        return [
            f"Only {decoded} of {reported} frames could be decoded (the file is truncated or damaged): "
            f"{served} the first {decoded / fps:.1f} s of {reported / fps:.1f} s."
        ]
    return []


# Without a frame count, read_clip keeps prepared frames while it counts; past this many bytes of
# them (64 MB: 5461 frames of 64x64x3, 3.6 minutes at 25 fps) it only counts and decodes the
# sampled frames in a second pass.
UNKNOWN_COUNT_KEEP_BYTES = 64 * 2**20


def read_clip(
    path: str | os.PathLike,
    settings: ClipSettings | None = None,
    *,
    limits: DecodeLimits | None = None,
    max_frames: int | None = None,
) -> Clip:
    """Decode `path` and return `settings.frames` sampled, resized frames.

    Raises a VideoError subclass with a message for a person on anything that is not a usable
    video or breaks `limits` (default `DEFAULT_LIMITS`). `max_frames`, if given, tightens
    `limits.max_frames` (the older way to bound the work). A truncated file is served from the
    frames that decode, with a note saying how much could be read.
    """
    settings = settings or ClipSettings()
    limits = limits or DEFAULT_LIMITS
    if max_frames is not None:
        limits = replace(
            limits, max_frames=max_frames if limits.max_frames is None else min(max_frames, limits.max_frames)
        )
    started = time.perf_counter()
    with FrameStream(path, settings, limits) as stream:
        info = stream.info
        reported = info.frame_count
        if reported:
            wanted = set(sample_indices(reported, settings.frames, settings.sampling)).__contains__
        else:  # no count (webm, GIF): keep the first frames, up to a memory bound, until it is known
            keep = max(
                settings.frames, UNKNOWN_COUNT_KEEP_BYTES // (settings.height * settings.width * settings.channels)
            )
            wanted = keep.__gt__
        kept = {i: f for i, f in stream.frames(wanted) if f is not None}
        decoded = stream.decoded

    read_notes = decoded_notes(info, decoded, settings.frames)
    indices = sample_indices(decoded, settings.frames, settings.sampling)
    if not set(indices) <= kept.keys():
        # The container's count was wrong: decode again, now that the true count is known.
        with FrameStream(path, settings, limits) as again:
            needed = set(indices)
            kept = {i: f for i, f in again.frames(needed.__contains__) if f is not None}
        if not needed <= kept.keys():
            raise VideoError(f"{info.name} decodes differently on each pass; it is probably damaged.")
    frames = np.stack([kept[i] for i in indices])
    repeated = settings.frames - len(set(indices))
    notes = []
    if repeated:
        notes.append(
            f"The clip has only {decoded} frames; {repeated} of the {settings.frames} sampled "
            "frames repeat a neighbour."
        )
    notes += read_notes  # after the short-clip note, which callers show first
    return Clip(
        frames=frames,
        indices=indices,
        frame_count=decoded,
        fps=stream.fps,
        source_size=(info.width, info.height),
        settings=settings,
        repeated=repeated,
        decode_seconds=time.perf_counter() - started,
        notes=notes,
        info=info,
    )


def video_paths(paths: list[Path]) -> tuple[list[Path], list[str]]:
    """Files as given, and the videos inside folders (recursively, sorted); plus a sentence for each
    folder that holds none. What the verbs that take VIDEO... accept (predict, timeline)."""
    videos, problems = [], []
    for path in map(Path, paths):
        if not path.is_dir():
            videos.append(path)
            continue
        found = sorted(
            p
            for p in path.rglob("*")
            if p.suffix.lower() in VIDEO_EXTENSIONS and p.is_file() and not p.name.startswith(".")
        )
        if not found:
            problems.append(f"{path}: there is no video in this folder.")
        videos += found
    return videos, problems
