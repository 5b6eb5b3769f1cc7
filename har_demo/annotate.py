"""The video and its timeline together: WebVTT subtitles and an annotated H.264 mp4.

Subtitles: one cue per stretch of time in which no model changes its answer (the union of every
model's segment edges), "ConvLSTM: TaiChi 87% · LRCN: Swing 55%", for `gr.Video(subtitles=...)`.

Annotated mp4: the clip's own frames (decoded once, sequentially), each with every model's label
and confidence at that moment (the window whose centre is nearest) and a strip of the models'
segments with a playhead; where the truth is known (`har_demo.truth`), the true label at that
moment and a strip of its pieces. Drawn with OpenCV and encoded by Debian's ffmpeg (libx264,
yuv420p, +faststart) through a pipe, so a browser plays it and a person can download it. Frames,
size and encoding time are bounded by the caller's limits. No gradio here.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from har_demo.names import display_name
from har_demo.timeline import Segment, Timeline
from har_demo.truth import Truth, label_from_name

MAX_WIDTH = 640  # annotated videos are scaled down to this width (and made even for yuv420p)
ENCODE_TIMEOUT_S = 120.0
# Where the subtitles sit: their first line starts this far down the picture (a WebVTT cue setting;
# Chromium has no line alignment, so the cue's top is placed), and two lines of them (about 6% of the
# height each) end clear of the segment strip drawn at the bottom, below the label panel at the top.
SUBTITLE_TOP = 0.66
CUE_SETTINGS = f"line:{SUBTITLE_TOP:.0%}"


class AnnotateError(RuntimeError):
    """The annotated video could not be made (no ffmpeg, an unreadable clip, too slow); says why."""


# ----------------------------------------------------------------------------- subtitles


@dataclass(frozen=True)
class Cue:
    start_s: float
    end_s: float
    text: str


def _segment_at(segments: list[Segment], t: float) -> Segment:
    for segment in segments:
        if segment.start_s <= t < segment.end_s:
            return segment
    return segments[-1] if t >= segments[-1].end_s else segments[0]


def cues(timeline: Timeline, threshold: float | None = None) -> list[Cue]:
    """Cues tiling the timeline's covered time; a new cue wherever any model's segment changes.

    With a threshold, a model whose segment's mean confidence is below it reads "not sure (label?)".
    """
    per_model = timeline.all_segments()
    per_model = {m: s for m, s in per_model.items() if s}
    if not per_model:
        return []
    edges = sorted({round(e, 3) for segs in per_model.values() for s in segs for e in (s.start_s, s.end_s)})
    out = []
    for start, end in zip(edges, edges[1:]):
        if end <= start:
            continue
        middle = (start + end) / 2
        parts = []
        for model, segments in per_model.items():
            s = _segment_at(segments, middle)
            if threshold is not None and s.mean_confidence < threshold:
                parts.append(f"{display_name(model)}: not sure ({s.label}? {s.mean_confidence:.0%})")
            else:
                parts.append(f"{display_name(model)}: {s.label} {s.mean_confidence:.0%}")
        out.append(Cue(start, end, " · ".join(parts)))
    return out


def _vtt_time(seconds: float) -> str:
    ms = int(round(seconds * 1000))
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"


def webvtt(timeline: Timeline, threshold: float | None = None) -> str:
    """The timeline's segments as a WebVTT file's text, each cue placed by CUE_SETTINGS."""
    blocks = ["WEBVTT", ""]
    for number, cue in enumerate(cues(timeline, threshold), start=1):
        times = f"{_vtt_time(cue.start_s)} --> {_vtt_time(cue.end_s)} {CUE_SETTINGS}"
        blocks += [str(number), times, cue.text, ""]
    return "\n".join(blocks)


def write_webvtt(path: str | Path, timeline: Timeline, threshold: float | None = None) -> Path:
    path = Path(path)
    path.write_text(webvtt(timeline, threshold), encoding="utf-8")
    return path


# ----------------------------------------------------------------------------- annotated video


def _hex_bgr(colour: str) -> tuple[int, int, int]:
    colour = colour.lstrip("#")
    r, g, b = (int(colour[i : i + 2], 16) for i in (0, 2, 4))
    return b, g, r


def _class_colours(count: int) -> list[tuple[int, int, int]]:
    from har_demo.plots import class_colour  # the page's class colours, so video and figure match

    return [_hex_bgr(class_colour(i)) for i in range(count)]


def _out_size(width: int, height: int, max_width: int) -> tuple[int, int]:
    scale = min(1.0, max_width / width)
    w, h = int(round(width * scale)), int(round(height * scale))
    return max(2, w - w % 2), max(2, h - h % 2)


def _window_at(timeline: Timeline, t: float) -> int:
    centers = timeline.centers
    return int(np.argmin(np.abs(centers - t)))


class _Painter:
    """Draws one model-per-line label panel and a segment strip onto frames of one size."""

    def __init__(self, timeline: Timeline, size: tuple[int, int], truth: Truth | None) -> None:
        self.timeline, self.truth = timeline, truth
        self.w, self.h = size
        self.scale = max(0.4, self.w / 640)
        self.colours = _class_colours(len(timeline.classes))
        self.line_h = int(26 * self.scale)
        self.strip_h = max(6, int(10 * self.scale))
        self.segments = timeline.all_segments()
        self.duration = max(timeline.duration, 1e-6)
        self.strip = self._strip()

    def _colour_of(self, label: str) -> tuple[int, int, int]:
        classes = self.timeline.classes
        return self.colours[classes.index(label)] if label in classes else (200, 200, 200)

    def _span(self, start_s: float, end_s: float) -> tuple[int, int]:
        x0 = int(min(max(start_s, 0.0), self.duration) / self.duration * self.w)
        x1 = int(min(max(end_s, 0.0), self.duration) / self.duration * self.w)
        return x0, max(x0, x1 - 1)

    def _strip(self) -> np.ndarray:
        """The segments of every model (and the true label's pieces, when known) as coloured bands, drawn once."""
        rows = len(self.segments) + (1 if self.truth else 0)
        strip = np.full((rows * (self.strip_h + 2), self.w, 3), 40, np.uint8)
        for r, segments in enumerate(self.segments.values()):
            y = r * (self.strip_h + 2)
            for s in segments:
                x0, x1 = self._span(s.start_s, s.end_s)
                cv2.rectangle(strip, (x0, y), (x1, y + self.strip_h - 1), self._colour_of(s.label), -1)
        if self.truth:
            y = len(self.segments) * (self.strip_h + 2)
            for s in self.truth.segments:
                x0, x1 = self._span(s.start_s, s.end_s)
                if s.start_s < self.duration:
                    cv2.rectangle(strip, (x0, y), (x1, y + self.strip_h - 1), self._colour_of(s.label), -1)
        return strip

    def lines_at(self, t: float) -> list[tuple[str, int | None, float]]:
        """(text, class index or None, confidence) for each line of the label panel at time t."""
        window = _window_at(self.timeline, t)
        lines = []
        for model, probs in self.timeline.probabilities.items():
            p = probs[window]
            top = int(np.argmax(p))
            lines.append((f"{display_name(model)}: {self.timeline.classes[top]} {p[top]:.0%}", top, float(p[top])))
        if self.truth:
            label = self.truth.label_at(t)
            lines.append((f"True label: {label}" if label else "True label: (none here)", None, 0.0))
        return lines

    def layout(self, t: float) -> list[tuple[str, tuple[int, int, int, int], float]]:
        """What is drawn at time t and where: (text or "bar" or "strip", (x0, y0, x1, y1), font scale).

        A line's font shrinks (then its name is shortened) until the text ends before its confidence
        bar, so no label is drawn over another; tests check the boxes (and the subtitles' place) here.
        """
        font, thick = cv2.FONT_HERSHEY_SIMPLEX, max(1, int(round(1.5 * self.scale)))
        bar_w = int(self.w * 0.22)
        bar_x0 = self.w - bar_w - 8
        boxes = []
        for i, (text, cls, _conf) in enumerate(self.lines_at(t)):
            y = 4 + self.line_h * (i + 1) - int(7 * self.scale)
            size = 0.6 * self.scale
            right = bar_x0 - 6 if cls is not None else self.w - 8
            (tw, th), base = cv2.getTextSize(text, font, size, thick)
            while 8 + tw > right and size > 0.25:
                size *= 0.9
                (tw, th), base = cv2.getTextSize(text, font, size, thick)
            head, tail = text.rsplit(" ", 1) if cls is not None else (text, "")
            while 8 + tw > right and len(head) > 8:  # still too wide: shorten the name, keep the percentage
                head = head[:-1]
                text = f"{head}.. {tail}".rstrip()
                (tw, th), base = cv2.getTextSize(text, font, size, thick)
            boxes.append((text, (8, y - th, 8 + tw, y + base), size))
            if cls is not None:
                boxes.append(("bar", (bar_x0, y - int(14 * self.scale), bar_x0 + bar_w, y), 0.0))
        boxes.append(("strip", (0, self.h - len(self.strip), self.w, self.h), 0.0))
        return boxes

    def draw(self, frame: np.ndarray, t: float) -> np.ndarray:
        lines = self.lines_at(t)
        panel_h = self.line_h * len(lines) + 8
        top_part = frame[:panel_h]
        top_part[:] = (top_part * 0.45).astype(np.uint8)
        font, thick = cv2.FONT_HERSHEY_SIMPLEX, max(1, int(round(1.5 * self.scale)))
        bars = iter((cls, conf) for _text, cls, conf in lines if cls is not None)
        for what, (x0, y0, x1, y1), size in self.layout(t):
            if what == "strip":
                continue
            if what == "bar":
                cls, conf = next(bars)
                cv2.rectangle(frame, (x0, y0), (x1, y1), (90, 90, 90), -1)
                cv2.rectangle(frame, (x0, y0), (x0 + int((x1 - x0) * conf), y1), self.colours[cls], -1)
                continue
            baseline_y = y1 - cv2.getTextSize(what, font, size, thick)[1]
            cv2.putText(frame, what, (x0, baseline_y), font, size, (255, 255, 255), thick, cv2.LINE_AA)
        sh = len(self.strip)
        frame[self.h - sh :] = self.strip
        x = min(self.w - 1, int(t / self.duration * self.w))
        cv2.line(frame, (x, self.h - sh - 3), (x, self.h - 1), (255, 255, 255), max(1, int(2 * self.scale)))
        return frame


def ffmpeg_path() -> str:
    found = shutil.which("ffmpeg")
    if not found:
        raise AnnotateError("ffmpeg is not installed here, so no annotated video can be made (apt install ffmpeg).")
    return found


def annotate_video(
    source: str | Path,
    timeline: Timeline,
    out: str | Path,
    *,
    truth: Truth | None = None,
    true_label: str | None = None,
    max_width: int = MAX_WIDTH,
    timeout_s: float = ENCODE_TIMEOUT_S,
) -> Path:
    """Write `out` (.mp4, H.264): the first timeline.frame_count frames of `source`, annotated.

    The timeline bounds the frames (it was computed under the caller's frame limit); `max_width`
    bounds the size and `timeout_s` the wall time. `truth` (or `true_label`, one label over the
    whole clip) adds a strip of the true label's pieces and the true label at each moment.
    Raises AnnotateError with a sentence for a person.
    """
    if truth is None and true_label:
        truth = Truth.whole(true_label, timeline.duration)
    out = Path(out)
    cap = cv2.VideoCapture(str(source))
    if not cap.isOpened():
        raise AnnotateError(f"Could not open {Path(source).name} to annotate it.")
    started = time.monotonic()
    process = None
    written = 0
    try:
        ok, frame = cap.read()
        if not ok:
            raise AnnotateError(f"{Path(source).name} has no frames to annotate.")
        size = _out_size(frame.shape[1], frame.shape[0], max_width)
        painter = _Painter(timeline, size, truth)
        command = [
            ffmpeg_path(),
            *("-hide_banner", "-loglevel", "error", "-y"),
            *("-f", "rawvideo", "-pix_fmt", "bgr24", "-s", f"{size[0]}x{size[1]}", "-r", f"{timeline.fps:.6f}"),
            *("-i", "-", "-an", "-c:v", "libx264", "-preset", "veryfast", "-crf", "23"),
            *("-pix_fmt", "yuv420p", "-movflags", "+faststart", str(out)),
        ]
        process = subprocess.Popen(command, stdin=subprocess.PIPE, stderr=subprocess.PIPE)
        while ok and written < timeline.frame_count:
            if time.monotonic() - started > timeout_s:
                raise AnnotateError(f"Annotating the video took longer than {timeout_s:g} s and was stopped.")
            if (frame.shape[1], frame.shape[0]) != size:
                frame = cv2.resize(frame, size, interpolation=cv2.INTER_AREA)
            painter.draw(frame, written / timeline.fps)
            process.stdin.write(np.ascontiguousarray(frame).tobytes())
            written += 1
            ok, frame = cap.read()
        process.stdin.close()
        remaining = max(1.0, timeout_s - (time.monotonic() - started))
        process.wait(timeout=remaining)  # stderr stays small at -loglevel error: the pipe cannot fill
        err = process.stderr.read()
        if process.returncode != 0:
            raise AnnotateError(f"ffmpeg could not encode the annotated video: {err.decode(errors='replace')[-300:]}")
    except BaseException as exc:
        out.unlink(missing_ok=True)  # only what this call was writing
        if isinstance(exc, (BrokenPipeError, subprocess.TimeoutExpired)):
            raise AnnotateError(f"ffmpeg stopped while encoding the annotated video ({type(exc).__name__}).") from exc
        raise
    finally:
        cap.release()
        if process is not None and process.poll() is None:
            process.kill()
            process.wait()
    return out


# ----------------------------------------------------------------------------- from the JSON export


def timeline_from_dict(data: dict) -> Timeline:
    """A Timeline back from `Timeline.to_dict()` (the app's JSON download): enough for subtitles and video."""
    windows = data["windows"]
    classes = list(data["classes"])
    models = list(data["models"])
    indices = np.array([w["frame_indices"] for w in windows], dtype=np.int64).reshape(len(windows), -1)
    return Timeline(
        source=data.get("source", ""),
        classes=classes,
        fps=float(data["fps"]),
        frame_count=int(data["frame_count"]),
        window_s=float(data["window_s"]),
        stride_s=float(data["stride_s"]),
        span_frames=int(data["window_frames"]),
        stride_frames=int(data["stride_frames"]),
        sampling=data.get("sampling", "tutorial"),
        start_frames=indices[:, 0].copy(),
        frame_indices=indices,
        probabilities={
            m: np.array([[w["probabilities"][m][c] for c in classes] for w in windows], np.float32) for m in models
        },
        notes=list(data.get("notes", [])),
    )


def true_label_of(name: str, classes: list[str]) -> str | None:
    """The class a file name states, if it is one of ours (`har_demo.truth.label_from_name`; a
    clip's whole truth, sidecars included, is `har_demo.truth.truth_of`)."""
    return label_from_name(name, classes)
