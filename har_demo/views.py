"""What each tab of the app shows, as plain functions of plain inputs (no Gradio here).

`har_demo.ui` only lays the page out and wires these functions to components, so every number,
table, caption and message on the page is computed (and tested) here:

- `choose_bundle`       which bundle to serve (HAR_DEMO_BUNDLE, a folder or OWNER/NAME[@REV]; weights/)
- `Engine`              the loaded models behind one lock, the limits, the device
- `analyse_video`       the Predict tab: verdict, probability bars, the 20 frames, timing, notices
- `timeline_view`       the Timeline tab: windows over a long video, plot, segments, CSV/JSON files
- `misclassified_view`  the Misclassifications tab, filtered by model and true class
- `models_view`         the Models tab: Table 1, per-class metrics, confusion, curves, layers, provenance

Bad input never raises out of a view: it comes back as a message for the page.
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from har_demo import plots
from har_demo.bundle import Bundle, BundleError
from har_demo.clip import Clip, VideoError, read_clip
from har_demo.inference import Prediction, describe_device
from har_demo.loader import load_bundle
from har_demo.models import DISPLAY_NAMES, layer_table

REPO = Path(__file__).resolve().parents[1]
DEFAULT_BUNDLE = REPO / "weights"
BUNDLE_ENV = "HAR_DEMO_BUNDLE"
ALL_MODELS = "All models"
ALL_CLASSES = "All classes"


# --------------------------------------------------------------------------- limits
@dataclass(frozen=True)
class Limits:
    """What one request may ask of the server. Stated on the page and in docs/app.md."""

    max_upload_mb: float = 200  # also Gradio's max_file_size, so bigger uploads never arrive
    predict_seconds: float = 120.0  # longest video for a prediction (2 minutes)
    timeline_seconds: float = 600.0  # longest video for the timeline (10 minutes)
    min_window_s: float = 1.0
    max_window_s: float = 20.0
    min_stride_s: float = 0.25
    max_stride_s: float = 10.0
    fallback_fps: float = 60.0  # bound on decoding when a file does not state its frame rate

    def describe(self) -> str:
        return (
            f"Videos up to {self.max_upload_mb:g} MB; up to {fmt_duration(self.predict_seconds)} for a "
            f"prediction and {fmt_duration(self.timeline_seconds)} for the timeline."
        )


def fmt_duration(seconds: float) -> str:
    if seconds >= 60 and seconds % 60 == 0:
        minutes = int(seconds // 60)
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    return f"{seconds:g} s"


def fmt_ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 10 else f"{seconds:.1f} s"


def display(model: str) -> str:
    return DISPLAY_NAMES.get(model, model)


# --------------------------------------------------------------------------- the bundle
def choose_bundle(
    ref: str | os.PathLike | None = None,
    *,
    default: str | os.PathLike = DEFAULT_BUNDLE,
    env: dict | None = None,
    loader: Callable[[Any], Bundle] = load_bundle,
) -> tuple[Bundle, str]:
    """Load the bundle to serve and say, for the page, if it is not the one asked for.

    `ref` (or $HAR_DEMO_BUNDLE) is a local folder or a Hub reference OWNER/NAME[@REVISION];
    nothing given means `default` (the shipped weights/). When the asked-for bundle cannot be
    loaded (Hub unreachable and not cached, a damaged folder) the default is served and the
    returned notice says why. When the default itself fails, BundleError says what to do.
    """
    env = os.environ if env is None else env
    wanted = str(ref) if ref else (env.get(BUNDLE_ENV) or "").strip() or None
    if wanted is None or _same_place(wanted, default):
        try:
            return loader(default), ""
        except BundleError as exc:
            raise BundleError(
                f"{exc}\nThe app serves {default} by default: put a bundle there (train one with "
                "`har-demo train`, or import tutorial weights with `har-demo import`), "
                f"or set {BUNDLE_ENV} to a bundle folder or a Hub repo OWNER/NAME[@REVISION]."
            ) from exc
    try:
        return loader(wanted), ""
    except BundleError as exc:
        first = str(exc).strip()
    try:
        bundle = loader(default)
    except BundleError as exc:
        raise BundleError(f"Could not load {wanted}: {first}\nThe fallback {default} failed too: {exc}") from exc
    return (
        bundle,
        f"Could not load the bundle **{wanted}**: {first} Showing the shipped bundle ({_short(default)}) instead.",
    )


def _same_place(ref: str, default) -> bool:
    try:
        return Path(ref).expanduser().resolve() == Path(default).expanduser().resolve()
    except OSError:
        return False


def _short(path) -> str:
    """A folder relative to the working directory when it is inside it, else as it is."""
    path = Path(path).expanduser()
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve())) + "/"
    except ValueError:
        return str(path)


def bundle_fingerprint(bundle: Bundle) -> str:
    """12 hex digits that change whenever the bundle's files or clip settings do (for caches of
    results, such as Gradio's cached examples, which must never outlive the models they came from)."""
    import hashlib
    import json

    payload = json.dumps(
        {
            "files": bundle.manifest.get("files", {}),
            "clip": bundle.manifest.get("clip", {}),
            "models": sorted(bundle.models),
        },
        sort_keys=True,
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:12]


class Engine:
    """The served bundle's predictor, the limits and the device: built once at start-up.

    Model calls go through one lock: Keras models are not guaranteed to be thread-safe on every
    backend, and on a small CPU box parallel calls only compete for the same cores. A call takes
    tens of milliseconds (timelines go in batches), so no request waits long behind another.
    """

    def __init__(self, predictor, limits: Limits | None = None, notice: str = "", bundle: Bundle | None = None) -> None:
        self.predictor = predictor
        self.bundle: Bundle = bundle or predictor.bundle  # what the page describes (the predictor's by default)
        self.limits = limits or Limits()
        self.notice = notice  # e.g. the Hub bundle could not be loaded; shown at the top of the page
        self.device = describe_device()
        self._lock = threading.Lock()

    @property
    def settings(self):
        return self.predictor.settings

    @property
    def classes(self) -> list[str]:
        return list(self.predictor.classes)

    def predict_frames(self, frames: np.ndarray):
        with self._lock:
            return self.predictor.predict_frames(frames)

    def predict_clip(self, clip: Clip, source: str = "") -> Prediction:
        return Prediction.for_clip(clip, self.classes, *self.predict_frames(clip.frames), source=source)


# --------------------------------------------------------------------------- input checks
@dataclass
class VideoInfo:
    size_bytes: int
    fps: float | None  # None when the container does not say
    frames: int | None  # None when the container's count is missing or implausible

    @property
    def duration(self) -> float | None:
        return self.frames / self.fps if self.fps and self.frames else None


def check_video(path, limit_seconds: float, limits: Limits) -> VideoInfo:
    """Cheap checks before decoding: there is a file, it is not too big, not obviously too long.

    Raises VideoError with a message for a person. The container's numbers can lie (webm), so
    decoding is also bounded by `max_frames_for`.
    """
    if path is None or str(path).strip() == "":
        raise VideoError("No video yet: upload one, record one with the webcam, or click an example.")
    path = Path(path)
    if not path.is_file():
        raise VideoError(f"No such file: {path.name}")
    size = path.stat().st_size
    if size == 0:
        raise VideoError(f"{path.name} is empty (0 bytes).")
    if size > limits.max_upload_mb * 1024 * 1024:
        raise VideoError(
            f"{path.name} is {size / 2**20:.1f} MB; the limit is {limits.max_upload_mb:g} MB. "
            "Trim or compress it and try again."
        )
    import cv2

    cap = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    try:
        fps = cap.get(cv2.CAP_PROP_FPS) if cap.isOpened() else 0.0
        count = cap.get(cv2.CAP_PROP_FRAME_COUNT) if cap.isOpened() else 0.0
    finally:
        cap.release()
    fps_ok = fps if np.isfinite(fps) and 0 < fps < 1000 else None
    count_ok = int(count) if np.isfinite(count) and 0 < count < 10_000_000 else None
    info = VideoInfo(size_bytes=size, fps=fps_ok, frames=count_ok)
    if info.duration is not None and info.duration > limit_seconds * 1.02:
        raise VideoError(too_long_message(path.name, limit_seconds, info.duration))
    return info


def too_long_message(name: str, limit_seconds: float, duration: float | None = None) -> str:
    length = f" ({fmt_duration(round(duration))})" if duration else ""
    return f"{name} is too long{length}: the limit here is {fmt_duration(limit_seconds)}. Trim it and try again."


def max_frames_for(info: VideoInfo, limit_seconds: float, limits: Limits) -> int:
    return int(limit_seconds * (info.fps or limits.fallback_fps)) + 1


# --------------------------------------------------------------------------- Predict tab
@dataclass
class Analysis:
    """Everything the Predict tab shows for one video."""

    ok: bool
    message: str = ""  # markdown: the error, or notices (short clip, synthetic weights)
    verdict: str = ""
    figure: Any = None
    gallery: list[tuple[np.ndarray, str]] = field(default_factory=list)
    timing: str = ""
    device: str = ""
    result: dict = field(default_factory=dict)  # JSON for API users

    @property
    def info_markdown(self) -> str:
        parts = [
            p
            for p in (
                self.message,
                self.timing and f"**Time:** {self.timing}",
                self.device and f"**Device:** {self.device}",
            )
            if p
        ]
        return "\n\n".join(parts)


def frame_caption(index: int, seconds: float) -> str:
    return f"frame {index} · {seconds:.2f} s"


def gallery_items(clip: Clip) -> list[tuple[np.ndarray, str]]:
    """The sampled frames in the order the models saw them, in RGB, captioned with index and time."""
    frames = clip.rgb()
    return [(np.ascontiguousarray(f), frame_caption(i, t)) for f, i, t in zip(frames, clip.indices, clip.times)]


def timing_text(seconds: dict[str, float]) -> str:
    parts = [f"decoding {fmt_ms(seconds.get('decode', 0.0))}"]
    parts += [f"{display(m)} {fmt_ms(s)}" for m, s in seconds.items() if m != "decode"]
    total = sum(seconds.values())
    return " · ".join(parts) + f" · total {fmt_ms(total)}"


def verdict_markdown(prediction: Prediction) -> str:
    tops = {m: prediction.top(m) for m in prediction.probabilities}
    if len(set(tops.values())) == 1 and len(tops) > 1:
        return f"✓ **{prediction.verdict}**"
    if len(tops) > 1:
        return f"≠ **{prediction.verdict}**"
    return f"**{prediction.verdict}**"


def warning(text: str) -> str:
    return f"⚠ {text}"


def analyse_video(engine: Engine, path, temp: TempFiles | None = None) -> Analysis:
    """The Predict tab: decode with the bundle's settings, run both models, describe the result.

    `temp` maps a browser preview back to the uploaded original, which is what gets analysed.
    """
    limits = engine.limits
    if temp is not None:
        path = temp.original_of(path)
    try:
        info = check_video(path, limits.predict_seconds, limits)
        try:
            clip = read_clip(path, engine.settings, max_frames=max_frames_for(info, limits.predict_seconds, limits))
        except VideoError as exc:
            if "too long" in str(exc):
                raise VideoError(too_long_message(Path(path).name, limits.predict_seconds)) from exc
            raise
        duration = clip.duration
        if duration > limits.predict_seconds * 1.02:
            raise VideoError(too_long_message(Path(path).name, limits.predict_seconds, duration))
    except VideoError as exc:
        return Analysis(ok=False, message=warning(str(exc)), device=engine.device)
    except Exception as exc:  # a decoder crash we did not foresee: the page must keep serving
        return Analysis(ok=False, message=warning(f"This video could not be read ({type(exc).__name__}: {exc})."))

    try:
        prediction = engine.predict_clip(clip, source=Path(path).name)
    except Exception as exc:  # a model failure is a bug, but the page keeps serving and says so
        return Analysis(ok=False, message=warning(f"The models failed on this clip ({type(exc).__name__}: {exc})."))
    notes = []
    if clip.repeated:
        notes.append(
            warning(
                f"Short clip: {clip.notes[0] if clip.notes else ''} The prediction is still made, "
                "but treat it with care."
            )
        )
    notes += [warning(n) for n in clip.notes[1:]]
    if engine.bundle.synthetic:
        notes.append(
            "ℹ These models were trained on synthetic clips: expect them to be wrong on real videos "
            "(see the Models tab)."
        )
    known = ", ".join(engine.classes) if len(engine.classes) <= 8 else "listed on the Models tab"
    notes.append(
        f"ℹ The models only know {len(engine.classes)} activities ({known}); "
        "any other activity is still given one of these names."
    )
    clip_line = (
        f"**Clip:** {Path(path).name}, {clip.frame_count} frames at {clip.fps:.3g} fps "
        f"({clip.duration:.1f} s), {clip.source_size[0]}×{clip.source_size[1]}"
    )
    result = prediction.to_dict()
    result["device"] = engine.device
    result["frame_times"] = [round(t, 3) for t in clip.times]
    return Analysis(
        ok=True,
        message="\n\n".join([clip_line, *notes]),
        verdict=verdict_markdown(prediction),
        figure=plots.probability_bars(prediction.classes, prediction.probabilities),
        gallery=gallery_items(clip),
        timing=timing_text(prediction.seconds),
        device=engine.device,
        result=result,
    )


# --------------------------------------------------------------------------- Timeline tab
class TempFiles:
    """The app's own temporary files: timeline exports and browser-playable previews.

    One folder per app, one sub-folder per request. Sub-folders older than `max_age_s` are
    removed whenever a new one is made, and the whole folder at exit. (Gradio's own upload cache
    is cleaned by `gr.Blocks(delete_cache=...)`.)
    """

    PREVIEW = re.compile(r"\.preview-(?P<token>[0-9a-f]{12})\.mp4$")

    def __init__(self, root: Path | None = None, max_age_s: float = 3600.0) -> None:
        self.root = Path(root) if root else Path(tempfile.mkdtemp(prefix="har-demo-"))
        self.root.mkdir(parents=True, exist_ok=True)
        self.max_age_s = max_age_s
        self._originals: dict[str, Path] = {}
        atexit.register(shutil.rmtree, self.root, True)

    def prune(self) -> None:
        cutoff = time.time() - self.max_age_s
        for child in self.root.iterdir():
            try:
                if child.stat().st_mtime < cutoff:
                    shutil.rmtree(child, ignore_errors=True) if child.is_dir() else child.unlink()
            except OSError:
                pass

    def new_folder(self) -> Path:
        self.prune()
        folder = self.root / uuid.uuid4().hex[:12]
        folder.mkdir()
        return folder

    def write(self, stem: str, files: dict[str, str]) -> list[Path]:
        """Write text files `stem + suffix` into a new request folder; returns their paths."""
        folder = self.new_folder()
        paths = []
        for suffix, text in files.items():
            path = folder / f"{stem}{suffix}"
            path.write_text(text)
            paths.append(path)
        return paths

    PREVIEW_SECONDS = 60  # a preview shows what was uploaded; it need not be all of a long video

    def preview(self, path, timeout_s: float = 120.0) -> Path | None:
        """An H.264 mp4 copy the browser can play, for uploads it cannot (XVID .avi, mp4v, ...):
        at most 640 px wide and the first PREVIEW_SECONDS, so it stays cheap on a small CPU.

        None when the file already plays in a browser, or when ffmpeg is missing or fails (the
        page then shows the player's own message; the analysis is unaffected). The models never
        see the preview: `original_of` maps it back to the upload.
        """
        if path is None or browser_playable(path) or shutil.which("ffmpeg") is None:
            return None
        token = uuid.uuid4().hex[:12]
        out = self.new_folder() / f"{Path(path).stem}.preview-{token}.mp4"
        command = [
            "ffmpeg",
            "-v",
            "error",
            "-y",
            "-i",
            str(path),
            "-map",
            "0:v:0",
            "-t",
            str(self.PREVIEW_SECONDS),
            "-vf",
            "scale=trunc(min(iw\\,640)/2)*2:-2",
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-crf",
            "23",
            "-pix_fmt",
            "yuv420p",
            "-movflags",
            "+faststart",
            "-an",
            str(out),
        ]
        try:
            subprocess.run(command, check=True, timeout=timeout_s, capture_output=True)
        except (subprocess.SubprocessError, OSError):
            return None
        self._originals[token] = Path(path)
        return out

    def original_of(self, path):
        """The upload a preview was made from (the models analyse the original, never the copy)."""
        if path is None:
            return None
        match = self.PREVIEW.search(Path(path).name)
        if match:
            original = self._originals.get(match["token"])
            if original is not None and original.is_file():
                return original
        return path


# Browser-playable (container, codec) pairs, as ffprobe names them.
PLAYABLE = {
    (".mp4", "h264"),
    (".mp4", "av1"),
    (".m4v", "h264"),
    (".webm", "vp8"),
    (".webm", "vp9"),
    (".webm", "av1"),
    (".ogg", "theora"),
    (".ogv", "theora"),
}


def video_codec(path) -> str | None:
    """The first video stream's codec name by ffprobe (None without ffprobe or a video stream)."""
    if shutil.which("ffprobe") is None:
        return None
    try:
        out = subprocess.run(
            [
                "ffprobe",
                "-v",
                "error",
                "-select_streams",
                "v:0",
                "-show_entries",
                "stream=codec_name",
                "-of",
                "csv=p=0",
                str(path),
            ],
            capture_output=True,
            text=True,
            timeout=20,
        )
    except (subprocess.SubprocessError, OSError):
        return None
    codec = out.stdout.strip().splitlines()[0].strip(",") if out.stdout.strip() else ""
    return codec or None


def browser_playable(path) -> bool:
    """True when browsers play this file as it is (or when it cannot be told: no ffprobe)."""
    codec = video_codec(path)
    if codec is None:
        return True
    return (Path(path).suffix.lower(), codec) in PLAYABLE


@dataclass
class TimelineView:
    ok: bool
    message: str = ""
    figure: Any = None
    summary: str = ""  # markdown: what was run, notices, timing
    segments: list[str] = field(default_factory=list)  # markdown: one table of segments per model
    files: list[Path] = field(default_factory=list)  # CSV, JSON
    timeline: Any = None


def segment_table(timeline, model: str) -> str:
    """One model's segments as a markdown table (time span, activity, windows, mean confidence)."""
    segments = timeline.segments(model)
    lines = [
        f"**{display(model)}**: {len(segments)} segment{'s' if len(segments) != 1 else ''}\n",
        "| time | activity | windows | confidence |",
        "|:---|:---|---:|---:|",
    ]
    for s in segments:
        lines.append(f"| {s.start_s:.1f}–{s.end_s:.1f} s | {s.label} | {s.windows} | {s.mean_confidence:.0%} |")
    return "\n".join(lines)


def timeline_view(
    engine: Engine,
    path,
    window_s: float,
    stride_s: float,
    exports: TempFiles | None = None,
    progress: Callable[[float, str], None] | None = None,
) -> TimelineView:
    """The Timeline tab: slide a window over the whole video; plot, segments and downloads."""
    from har_demo.timeline import compute_timeline

    limits = engine.limits
    if exports is not None:
        path = exports.original_of(path)
    try:
        window_s, stride_s = float(window_s), float(stride_s)
    except (TypeError, ValueError):
        return TimelineView(ok=False, message=warning("The window and the stride must be numbers of seconds."))
    if not limits.min_window_s <= window_s <= limits.max_window_s:
        return TimelineView(
            ok=False,
            message=warning(f"Choose a window between {limits.min_window_s:g} and {limits.max_window_s:g} seconds."),
        )
    if not limits.min_stride_s <= stride_s <= limits.max_stride_s:
        return TimelineView(
            ok=False,
            message=warning(f"Choose a stride between {limits.min_stride_s:g} and {limits.max_stride_s:g} seconds."),
        )
    try:
        info = check_video(path, limits.timeline_seconds, limits)
        try:
            timeline = compute_timeline(
                path,
                engine,
                window_s=window_s,
                stride_s=stride_s,
                max_frames=max_frames_for(info, limits.timeline_seconds, limits),
                progress=progress,
            )
        except VideoError as exc:
            if "too long" in str(exc):
                raise VideoError(too_long_message(Path(path).name, limits.timeline_seconds)) from exc
            raise
        if timeline.duration > limits.timeline_seconds * 1.02:
            raise VideoError(too_long_message(Path(path).name, limits.timeline_seconds, timeline.duration))
    except VideoError as exc:
        return TimelineView(ok=False, message=warning(str(exc)))
    except Exception as exc:
        return TimelineView(ok=False, message=warning(f"This video could not be read ({type(exc).__name__}: {exc})."))

    timeline.source = Path(path).name
    stem = f"{Path(path).stem}_timeline"
    files = (exports or _default_exports()).write(stem, {".csv": timeline.to_csv(), ".json": timeline.to_json()})
    seconds = timeline.seconds
    head = (
        f"**{Path(path).name}**: {timeline.duration:.1f} s at {timeline.fps:.3g} fps · "
        f"{timeline.windows} window{'s' if timeline.windows != 1 else ''} of {window_s:g} s every {stride_s:g} s, "
        f"{engine.settings.frames} frames each"
    )
    timing = f"**Time:** {timing_text(seconds)}\n\n**Device:** {engine.device}"
    notes = "\n\n".join(warning(n) for n in timeline.notes)
    summary = "\n\n".join(p for p in (head, notes, timing) if p)
    return TimelineView(
        ok=True,
        figure=plots.timeline_figure(timeline),
        summary=summary,
        segments=[segment_table(timeline, m) for m in timeline.models],
        files=files,
        timeline=timeline,
    )


_EXPORTS: TempFiles | None = None


def _default_exports() -> TempFiles:
    global _EXPORTS
    if _EXPORTS is None:
        _EXPORTS = TempFiles()
    return _EXPORTS


# --------------------------------------------------------------------------- Misclassifications tab
def report_models(bundle: Bundle) -> list[str]:
    return list((bundle.report or {}).get("models", {}))


def model_choices(bundle: Bundle) -> list[str]:
    return [ALL_MODELS] + [display(m) for m in report_models(bundle) or bundle.model_names]


def class_choices(bundle: Bundle) -> list[str]:
    return [ALL_CLASSES] + bundle.classes


def _model_key(bundle: Bundle, choice: str | None) -> str | None:
    if not choice or choice == ALL_MODELS:
        return None
    for m in report_models(bundle) or bundle.model_names:
        if choice in (m, display(m)):
            return m
    return choice


def split_words(split: dict) -> str:
    """'group split (no UCF group on both sides)' and its sizes, for every number we show."""
    kind = split.get("kind", "")
    words = {
        "group": "group split (no UCF group in both training and test)",
        "random": "random split (the report's; clips of one group can land on both sides)",
    }.get(kind, f"{kind} split" if kind else "unknown split")
    sizes = [f"{split[k]} {k.split('_')[0]}" for k in ("train_clips", "val_clips", "test_clips") if k in split]
    if sizes:
        words += f", {' / '.join(sizes)} clips"
    if "test_fraction" in split and "seed" in split:
        words += f", {split['test_fraction']:.0%} held out for test, seed {split['seed']}"
    return words


def misclassified_view(
    bundle: Bundle, model: str | None = ALL_MODELS, true_class: str | None = ALL_CLASSES
) -> tuple[list[tuple[Path, str]], str]:
    """Gallery items (frame strip image in the bundle, caption) of the misclassified test clips, and a message."""
    report = bundle.report or {}
    if not report.get("models"):
        return [], (
            "ℹ This bundle has no evaluation report (it was imported from weight files, not trained "
            "here), so there are no test clips to show. Train a bundle with `har-demo train` "
            "to get one."
        )
    wanted_model = _model_key(bundle, model)
    wanted_class = None if not true_class or true_class == ALL_CLASSES else true_class
    split = split_words(report.get("split", {}))
    total_wrong = {m: len(r.get("misclassified", [])) for m, r in report["models"].items()}
    if not any(total_wrong.values()):
        clips = max((r.get("test", {}).get("clips", 0) for r in report["models"].values()), default=0)
        return [], f"✓ No misclassified test clips: every model got all {clips} test clips right ({split})."
    items, missing = [], 0
    for name, result in report["models"].items():
        if wanted_model and name != wanted_model:
            continue
        for entry in result.get("misclassified", []):
            if wanted_class and entry.get("true") != wanted_class:
                continue
            image = bundle.path / entry["image"] if entry.get("image") else None
            if image is None or not image.is_file():
                missing += 1
                continue
            caption = (
                f"{display(name)} · true {entry['true']} → predicted {entry['predicted']} "
                f"({entry['confidence']:.0%}) · {Path(entry['clip']).stem}"
            )
            items.append((image, caption))
    counts = ", ".join(f"{display(m)} {n}" for m, n in total_wrong.items())
    message = f"Misclassified test clips ({split}): {counts}."
    if not items and not missing:
        message += "\n\nNo misclassified clips match these filters."
    else:
        message += f" Showing {len(items)}."
    if missing:
        message += f" {missing} more have no frame strip in the bundle (it keeps at most 48 per model)."
    return items, message


# --------------------------------------------------------------------------- Models tab
@dataclass
class ModelsView:
    banner: str  # provenance, and a warning when the weights are synthetic-trained
    table1: str  # accuracy/loss per model, split named
    per_class: str
    layers: list[str]  # per model: parameter count and layer table (markdown)
    confusions: list  # one plotly figure per model (empty without a report)
    curves: Any  # plotly figure, or None without a report


SYNTHETIC_BANNER = (
    "⚠ **These weights were trained on synthetic clips** (drawn figures walking a dog, doing tai chi, "
    "swinging, racing horses), not on UCF50. They show how the two models work, but on real videos "
    "they will often be wrong. For real videos use a UCF50-trained bundle: download UCF50, run "
    "`har-demo train UCF50/ --split group --out runs/ucf50`, then start the app with "
    "`HAR_DEMO_BUNDLE=runs/ucf50 python app.py` (or push it with `har-demo push` and set "
    "`HAR_DEMO_BUNDLE=OWNER/NAME@REVISION`). Tutorial weights import with `har-demo import`."
)


def provenance_markdown(bundle: Bundle, notice: str = "") -> str:
    m = bundle.manifest
    dataset = m.get("dataset", {}) or {}
    lines = []
    if notice:
        lines.append(warning(notice))
    if bundle.synthetic:
        lines.append(SYNTHETIC_BANNER)
    source = m.get("source", "?")
    what = {"trained": "trained with `har-demo train`", "imported": "imported from weight files"}.get(source, source)
    lines.append(f"**Bundle:** {m.get('name', '?')}, loaded from `{where(bundle)}`; {what}, {m.get('created', '?')}.")
    if dataset:
        data = f"**Data:** {dataset.get('name', '?')}"
        if dataset.get("clips"):
            data += f", {dataset['clips']} clips"
        data += " (synthetic)" if bundle.synthetic else ""
        lines.append(data + f"; classes: {', '.join(bundle.classes)}.")
    imported = m.get("imported_from") or {}
    if imported:
        files = ", ".join(
            f"{display(k)} from `{v.get('file', '?')}` (sha256 {str(v.get('sha256', ''))[:12]}…)"
            for k, v in imported.items()
        )
        lines.append(f"**Weights:** {files}.")
    s = bundle.settings
    lines.append(
        f"**Frames:** {s.frames} frames of {s.width}×{s.height}, {s.color_order.upper()}, "
        f"{s.sampling} sampling, {s.interpolation} resize, crop {s.crop}."
    )
    versions = m.get("versions") or {}
    if versions:
        lines.append("**Written with:** " + ", ".join(f"{k} {v}" for k, v in versions.items()) + ".")
    return "\n\n".join(lines)


def table1_markdown(bundle: Bundle) -> str:
    """The report's Table 1 (accuracy and loss per model), plus macro F1, with the split named."""
    report = bundle.report or {}
    if not report.get("models"):
        return (
            "ℹ No evaluation report in this bundle (imported weights): no test accuracy or loss to show. "
            "A bundle trained with `har-demo train` carries one."
        )
    lines = [
        "| Model | Test accuracy | Test loss | Macro F1 | Test clips | Parameters | Epochs (best) |",
        "|:---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, r in report["models"].items():
        t = r.get("test", {})
        params = r.get("params") or bundle.manifest.get("models", {}).get(name, {}).get("params")
        lines.append(
            f"| {display(name)} | {t.get('accuracy', 0):.1%} | {t.get('loss', 0):.4f} | {t.get('macro_f1', 0):.3f} | "
            f"{t.get('clips', '?')} | {f'{params:,}' if params else '?'} | "
            f"{r.get('epochs_trained', '?')} ({r.get('best_epoch', '?')}) |"
        )
    lines.append("")
    lines.append(f"*Test set: {split_words(report.get('split', {}))}.*")
    dataset = report.get("dataset", {})
    if dataset.get("synthetic"):
        lines.append("*Measured on synthetic clips: these numbers say nothing about real videos.*")
    return "\n".join(lines)


def per_class_markdown(bundle: Bundle) -> str:
    report = bundle.report or {}
    if not report.get("models"):
        return ""
    models = list(report["models"])
    header = "| Class | " + " | ".join(f"{display(m)} P / R / F1" for m in models) + " | Test clips |"
    lines = [header, "|:---|" + "---:|" * (len(models) + 1)]
    for c in bundle.classes:
        cells, support = [], None
        for m in models:
            pc = report["models"][m].get("test", {}).get("per_class", {}).get(c)
            if pc is None:
                cells.append("–")
                continue
            support = pc.get("support", support)
            cells.append(f"{pc['precision']:.2f} / {pc['recall']:.2f} / {pc['f1']:.2f}")
        lines.append(f"| {c} | " + " | ".join(cells) + f" | {support if support is not None else '–'} |")
    lines.append("")
    lines.append(
        "*P = precision (of the clips called this class, the share that were), R = recall "
        "(of the clips of this class, the share found), F1 = their harmonic mean.*"
    )
    return "\n".join(lines)


def layers_markdown(model, name: str) -> str:
    """One model's layer table (the report's Figures 1 and 2 as a table) and its parameter count."""
    parts = [
        f"#### {display(name)}: {int(model.count_params()):,} parameters\n",
        "| Layer | Type | Output per clip | Params |",
        "|:---|:---|:---|---:|",
    ]
    for r in layer_table(model):
        dims = (
            [str(d) for d in r["output_shape"][1:]]
            if r["output_shape"] and r["output_shape"][0] is None
            else [str(d) for d in r["output_shape"]]
        )
        shape = " × ".join(dims)
        kind = r["type"].replace("TimeDistributed(", "TimeDistributed(<br>")
        parts.append(f"| {r['name']} | {kind} | {shape} | {r['params']:,} |")
    return "\n".join(parts)


def models_view(bundle: Bundle, notice: str = "") -> ModelsView:
    report = bundle.report or {}
    results = report.get("models", {})
    split = report.get("split", {}).get("kind", "")
    confusions = [
        plots.confusion_heatmap(
            r["test"]["confusion"], bundle.classes, m, f"{split} split test set" if split else "test set"
        )
        for m, r in results.items()
        if r.get("test", {}).get("confusion")
    ]
    histories = {m: r.get("history", {}) for m, r in results.items() if r.get("history")}
    curves = (
        plots.training_curves(histories, {m: r.get("best_epoch") for m, r in results.items()}) if histories else None
    )
    return ModelsView(
        banner=provenance_markdown(bundle, notice),
        table1=table1_markdown(bundle),
        per_class=per_class_markdown(bundle),
        layers=[layers_markdown(model, name) for name, model in bundle.models.items()],
        confusions=confusions,
        curves=curves,
    )


def where(bundle: Bundle) -> str:
    """Where a bundle was loaded from, for people: a Hub reference as given, a folder relative to
    the working directory when it is inside it."""
    origin = str(bundle.origin or bundle.path)
    return _short(origin) if Path(origin).expanduser().is_dir() else origin


def header_markdown(engine: Engine) -> str:
    b = engine.bundle
    names = " and ".join(display(m) for m in b.model_names)
    trained = "synthetic clips" if b.synthetic else (b.manifest.get("dataset", {}) or {}).get("name", "?")
    line = (
        f"{names} from **{b.manifest.get('name', b.path.name)}** (`{where(b)}`, trained on {trained}) · "
        f"{len(b.classes)} classes: {', '.join(b.classes)} · running on {engine.device}"
    )
    return line
