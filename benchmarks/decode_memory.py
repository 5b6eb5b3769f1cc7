"""Memory and time of decoding hostile-but-small files (timeline memory and frame size), the old
path as the baseline in the same run.

    python benchmarks/decode_memory.py                      # the issue's files: 240 s of 16x16 at 900 fps, 16000x16000
    python benchmarks/decode_memory.py --seconds 30 --big 8000   # a short run

Each case runs in a fresh subprocess, so its peak RSS (VmHWM) is its own: the table shows the
RSS the call added at its peak and what it still held after returning (and `gc.collect()`).
"Before" is a copy of the pre-fix code kept only here: `decode_all` (every frame prepared, kept
in a dict, then `np.stack`ed) feeding the sliding windows, and a read_clip without a pixel limit.
"After" is `har_demo.timeline.compute_timeline` / `har_demo.clip.read_clip` as they are.
"""

from __future__ import annotations

import argparse
import gc
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def peak_mb() -> float:
    """This process's high-water RSS. VmHWM, not ru_maxrss: Linux carries ru_maxrss across
    fork+exec, so a child would report its parent's peak (here: the writer of a 16000x16000 frame)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# --------------------------------------------------------------------------- inputs
def write_high_fps_file(path: Path, seconds: float, fps: float, size: int) -> None:
    """The issue's file: tiny frames at a huge frame rate, mp4v (which makes it ~13 bytes a frame)."""
    import cv2

    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (size, size))
    if not writer.isOpened():
        raise SystemExit("OpenCV cannot write mp4v here")
    for i in range(int(seconds * fps)):
        writer.write(np.full((size, size, 3), (i // int(fps)) * 37 % 256, np.uint8))
    writer.release()


def write_big_file(path: Path, side: int, frames: int) -> int:
    """A few side x side MJPEG frames (simple content: they compress to a few MB). Returns the side written."""
    import cv2

    for s in (side, 12000, 8000, 6000, 4096):
        if s > side:
            continue
        writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 25.0, (s, s))
        if writer.isOpened():
            frame = np.zeros((s, s, 3), np.uint8)
            frame[:, : s // 2] = (40, 90, 200)
            for i in range(frames):
                frame[s // 3 : s // 2, :] = (i * 20) % 256
                writer.write(frame)
            writer.release()
            if path.stat().st_size > 0:
                return s
        writer.release()
    raise SystemExit("OpenCV could not write a big MJPEG here")


# --------------------------------------------------------------------------- the old path (baseline only)
def old_decode_all(path: Path, settings, max_frames: int | None):
    """Pre-fix clip.decode_all: every frame prepared and kept, then stacked (a second copy)."""
    import cv2

    from har_demo.clip import prepare_frame

    cap = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG, [cv2.CAP_PROP_N_THREADS, 1])
    fps = cap.get(cv2.CAP_PROP_FPS)
    fps = float(fps) if np.isfinite(fps) and 0 < fps < 1000 else 25.0
    kept, index = {}, 0
    while cap.grab():
        if max_frames is not None and index >= max_frames:
            raise ValueError("too long")
        ok, frame = cap.retrieve()
        if ok and frame is not None:
            kept[index] = prepare_frame(frame, settings)
        index += 1
    cap.release()
    return np.stack([kept[i] for i in sorted(kept)]), fps


def old_compute_timeline(path: Path, predictor, window_s: float, stride_s: float, max_frames: int | None):
    """Pre-fix compute_timeline: decode_all, then fancy-index every batch out of the stack."""
    from har_demo.timeline import padded_size, window_indices, window_starts

    frames, fps = old_decode_all(path, predictor.settings, max_frames)
    count = len(frames)
    span, stride = max(1, round(window_s * fps)), max(1, round(stride_s * fps))
    starts = window_starts(count, span, stride)
    indices = window_indices(starts, span, count, predictor.settings.frames, predictor.settings.sampling)
    out = []
    for begin in range(0, len(starts), 32):
        batch = frames[indices[begin : begin + 32]]
        n = len(batch)
        if padded_size(n, 32) > n:
            batch = np.concatenate([batch, np.repeat(batch[-1:], padded_size(n, 32) - n, axis=0)])
        out.append(predictor.predict_frames(batch)[0]["a"][:n])
    return np.concatenate(out)


def old_read_clip(path: Path, settings):
    """Pre-fix read_clip on a file with an honest header: no pixel limit, wanted frames prepared."""
    import cv2

    from har_demo.clip import prepare_frame, sample_indices

    cap = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG, [cv2.CAP_PROP_N_THREADS, 1])
    wanted = set(sample_indices(int(cap.get(cv2.CAP_PROP_FRAME_COUNT)), settings.frames, settings.sampling))
    kept, index = {}, 0
    while cap.grab():
        if index in wanted:
            ok, frame = cap.retrieve()
            if ok:
                kept[index] = prepare_frame(frame, settings)
        index += 1
    cap.release()
    return kept


class MeanPredictor:
    """A numpy stand-in for the models, so the figures are the decoding's, not TensorFlow's."""

    classes = ["Dark", "Bright"]

    def __init__(self):
        from har_demo.clip import ClipSettings

        self.settings = ClipSettings()

    def predict_frames(self, frames):
        bright = frames.mean(axis=(1, 2, 3, 4)) / 255.0
        p = np.stack([1 - bright, bright], axis=1).astype(np.float32)
        return {"a": p}, {"a": 0.0}


# --------------------------------------------------------------------------- one case, in a child
def run_case(case: str, path: Path, fps: float) -> dict:
    from har_demo.clip import DEFAULT_LIMITS, ClipSettings, DecodeLimits, VideoError, read_clip
    from har_demo.timeline import compute_timeline

    predictor = MeanPredictor()
    timeline_frames = int(600 * fps) + 1  # the app's 10-minute timeline limit at the claimed rate (as before)
    gc.collect()
    before, started = rss_mb(), time.perf_counter()
    outcome = "ok"
    result = None
    try:
        if case == "timeline-before":
            result = old_compute_timeline(path, predictor, 4.0, 1.0, timeline_frames)
            outcome = f"ok, {len(result)} windows"
        elif case == "timeline-after":
            limits = DecodeLimits(max_fps=1000, max_frames=timeline_frames)  # let the 900 fps file through
            result = compute_timeline(path, predictor, window_s=4.0, stride_s=1.0, limits=limits)
            outcome = f"ok, {result.windows} windows"
        elif case == "timeline-defaults":
            result = compute_timeline(path, predictor, window_s=4.0, stride_s=1.0, limits=DEFAULT_LIMITS)
        elif case == "clip-before":
            result = old_read_clip(path, ClipSettings())
            outcome = f"ok, {len(result)} frames"
        elif case == "clip-after":
            result = read_clip(path, ClipSettings(), limits=DEFAULT_LIMITS)
    except VideoError as exc:
        outcome = f"refused ({type(exc).__name__}): {exc}"
    seconds = time.perf_counter() - started
    peak = peak_mb()
    del result
    gc.collect()
    return {
        "case": case,
        "seconds": seconds,
        "peak_added_mb": peak - before,
        "kept_mb": rss_mb() - before,
        "outcome": outcome,
    }


def child(case: str, path: Path, fps: float) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", case, "--path", str(path), "--fps", str(fps)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        return {"case": case, "seconds": float("nan"), "peak_added_mb": float("nan"), "kept_mb": float("nan"),
                "outcome": f"crashed (rc {out.returncode}): {out.stderr.strip().splitlines()[-1:]}"}  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def table(title: str, rows: list[dict]) -> None:
    print(f"\n{title}")
    print(f"  {'case':28} {'time':>9} {'peak +RSS':>11} {'kept after':>11}  outcome")
    for r in rows:
        print(
            f"  {r['case']:28} {r['seconds']:8.2f}s {r['peak_added_mb']:9.0f}MB {r['kept_mb']:9.0f}MB  {r['outcome'][:110]}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=240.0, help="length of the high-fps file (issue: 240)")
    parser.add_argument("--fps", type=float, default=900.0, help="its frame rate (issue: 900)")
    parser.add_argument("--size", type=int, default=16, help="its frame side (issue: 16)")
    parser.add_argument("--big", type=int, default=16000, help="side of the big MJPEG (issue: 16000); 0 skips")
    parser.add_argument("--big-frames", type=int, default=9, help="frames in it (9 make the issue's ~15 MB)")
    parser.add_argument("--only", choices=("timeline", "frames"), help="run one of the two parts")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--path", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        sys.path.insert(0, str(REPO))
        print(json.dumps(run_case(args.child, Path(args.path), args.fps)))
        return 0

    with tempfile.TemporaryDirectory(prefix="har-demo-bench-") as tmp:
        tmp = Path(tmp)
        if args.only != "frames":
            timeline_part(tmp, args)
        if args.big and args.only != "timeline":
            frames_part(tmp, args)
    return 0


def timeline_part(tmp: Path, args: argparse.Namespace) -> None:
    """Item 2: the high-frame-rate file through the old and the new timeline."""
    fast = tmp / f"{args.seconds:g}s_{args.size}px_{args.fps:g}fps.mp4"
    write_high_fps_file(fast, args.seconds, args.fps, args.size)
    rows = [child(c, fast, args.fps) for c in ("timeline-before", "timeline-after", "timeline-defaults")]
    table(
        f"Item 2, timeline: {fast.name}, {fast.stat().st_size / 1e6:.1f} MB, "
        f"{int(args.seconds * args.fps)} frames, window 4 s, stride 1 s",
        rows,
    )
    before, after = rows[0], rows[1]
    print(
        f"  peak RSS added: {before['peak_added_mb']:.0f} MB -> {after['peak_added_mb']:.0f} MB "
        f"({before['peak_added_mb'] / max(after['peak_added_mb'], 1):.0f}x less); kept after: "
        f"{before['kept_mb']:.0f} MB -> {after['kept_mb']:.0f} MB"
    )
    fast.unlink()


def frames_part(tmp: Path, args: argparse.Namespace) -> None:
    """Item 3: the huge-frame file through the old and the new read_clip, and a file at the limit."""
    big = tmp / "big.avi"
    side = write_big_file(big, args.big, args.big_frames)
    note = "" if side == args.big else f" (OpenCV could not write {args.big}x{args.big})"
    rows = [child(c, big, 25.0) for c in ("clip-before", "clip-after")]
    at_limit = tmp / "at_limit.avi"
    write_big_file(at_limit, 4096, args.big_frames)
    rows.append(child("clip-after", at_limit, 25.0) | {"case": "clip-after, 4096x4096 file"})
    table(
        f"Item 3, frame size: {side}x{side} MJPEG{note}, {args.big_frames} frames, "
        f"{big.stat().st_size / 1e6:.1f} MB, read_clip (20 frames of 64x64)",
        rows,
    )
    print(
        f"  time: {rows[0]['seconds']:.2f} s -> {rows[1]['seconds'] * 1000:.0f} ms; peak RSS added: "
        f"{rows[0]['peak_added_mb']:.0f} MB -> {rows[1]['peak_added_mb']:.0f} MB"
    )


if __name__ == "__main__":
    raise SystemExit(main())
