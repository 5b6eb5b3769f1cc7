"""Webcam recordings -> comparable clips: a fixed length, a UCF-like size, a file browsers play.

The browser records for as long as the person holds the button; clips of one set should all be
about as long (the models sample 20 frames over the whole clip, so a 10 s clip and a 2 s clip
show the same action at different speeds). A recording is cut to `seconds`, starting `lead`
seconds in (the moment between pressing record and starting to move), scaled down to at most
`max_width` pixels wide, and written as VP8 .webm (what browsers play).

A video longer than a clip is cut the same way into several clips (`cut_windows`), one per window.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from har_demo.clip import VideoError
from har_demo.studio.errors import ClipRefused

DEFAULT_SECONDS = 3.0
DEFAULT_LEAD = 0.5
MAX_WIDTH = 320
MAX_RECORDING_SECONDS = 60.0
FOURCC = "VP80"  # VP8: browsers play it, and libvpx writes it several times faster than VP9


def trim_recording(
    source: str | Path,
    out: str | Path,
    seconds: float = DEFAULT_SECONDS,
    lead: float = DEFAULT_LEAD,
    max_width: int = MAX_WIDTH,
) -> Path:
    """Write the `seconds`-long window of `source` starting at `lead` s (earlier if it is short) to `out`."""
    source, out = Path(source), Path(out)
    cap = cv2.VideoCapture(str(source))
    if not cap.isOpened():
        cap.release()
        raise ClipRefused(f"{source.name} could not be opened as a video.")
    fps = cap.get(cv2.CAP_PROP_FPS)
    # browsers' webm recordings often state no usable rate (0 or 1000); 30 fps is what webcams send
    fps = float(fps) if np.isfinite(fps) and 1 <= fps <= 120 else 30.0
    frames = []
    limit = int(MAX_RECORDING_SECONDS * fps)
    try:
        while len(frames) <= limit:
            ok, frame = cap.read()
            if not ok or frame is None:
                break
            h, w = frame.shape[:2]
            if w > max_width:
                frame = cv2.resize(frame, (max_width, round(h * max_width / w)), interpolation=cv2.INTER_AREA)
            frames.append(frame)
    except cv2.error as exc:
        raise ClipRefused(f"{source.name} could not be decoded: {exc.msg or exc}") from None
    finally:
        cap.release()
    if len(frames) < 2:
        raise ClipRefused(f"{source.name} has no frames; record again.")
    want = max(2, round(seconds * fps))
    start = min(round(lead * fps), max(0, len(frames) - want))
    return _write(out, frames[start : start + want], fps)


def _write(out: Path, frames: list[np.ndarray], fps: float) -> Path:
    """BGR frames of one size -> `out` as VP8 .webm (or what synth can write, where OpenCV has no VP8)."""
    window = np.stack(frames)
    out.parent.mkdir(parents=True, exist_ok=True)
    h, w = window.shape[1:3]
    writer = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*FOURCC), fps, (w, h), True)
    if not writer.isOpened():  # no VP8 in this OpenCV: the codecs synth knows for the extension
        writer.release()
        from har_demo.training.synth import write_video

        try:
            write_video(out, window, fps=fps)
        except (RuntimeError, ValueError) as exc:
            raise VideoError(f"The recording could not be written: {exc}") from None
        return out
    try:
        for frame in window:
            writer.write(np.ascontiguousarray(frame))
    finally:
        writer.release()
    return out


def cut_windows(
    source: str | Path, folder: str | Path, ranges: list[tuple[int, int]], max_width: int = MAX_WIDTH
) -> list[Path]:
    """Write frames [first, stop) of `source` for each range as `folder`/window-N.webm, in one decoding pass."""
    source, folder = Path(source), Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    cap = cv2.VideoCapture(str(source))
    if not cap.isOpened():
        cap.release()
        raise ClipRefused(f"{source.name} could not be opened as a video.")
    fps = cap.get(cv2.CAP_PROP_FPS)
    fps = float(fps) if np.isfinite(fps) and 1 <= fps <= 120 else 30.0
    outs = [folder / f"window-{n}.webm" for n in range(1, len(ranges) + 1)]
    current: list[np.ndarray] = []
    index, window = 0, 0
    try:
        while window < len(ranges):
            ok, frame = cap.read()
            if not ok or frame is None:
                break
            first, stop = ranges[window]
            if index >= first:
                h, w = frame.shape[:2]
                if w > max_width:
                    frame = cv2.resize(frame, (max_width, round(h * max_width / w)), interpolation=cv2.INTER_AREA)
                current.append(frame)
            index += 1
            if index >= stop:
                _write(outs[window], current, fps)
                current, window = [], window + 1
    except cv2.error as exc:
        raise ClipRefused(f"{source.name} could not be decoded: {exc.msg or exc}") from None
    finally:
        cap.release()
    if window < len(ranges) and len(current) >= 2:  # the file ended early: keep what the last window got
        _write(outs[window], current, fps)
        window += 1
    return outs[:window]
