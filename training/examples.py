"""The demo's example clips: small synthetic videos, committed in examples/ (about 15-60 KB each).

They are made by `training.synth` (the generator the shipped weights were trained on), with a
fixed seed, and encoded as VP9 WebM so a browser plays them in the page. Regenerate them with

    python -m har_demo.training.examples [FOLDER]

(needs Debian's `ffmpeg` for the fast path; OpenCV's own VP9 writer is used otherwise, slowly).
One clip per class, plus one longer clip that strings the four activities together for the
Timeline tab, with its true label over time in a sidecar beside it
(`synthetic_mixed_activities.truth.json`, see `har_demo.truth`). The app finds them with
`har_demo.app.examples.find_examples`. `python -m har_demo.training.examples --truth-only [FOLDER]`
writes only the sidecar (the videos stay as they are).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np

from har_demo.names import REPORT_CLASSES
from har_demo.shipped import EXAMPLES_DIR, MIXED_EXAMPLE_NAME, example_clip_name
from har_demo.truth import TruthSegment, write_sidecar

SEED = 20240
FPS = 25.0
CLIP_SECONDS = 3.2
MIXED_SECONDS = 4.0


def encode_webm(path: Path, frames: np.ndarray, fps: float = FPS) -> None:
    """BGR uint8 frames -> a small VP9 WebM (ffmpeg when installed, else OpenCV's writer)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        from har_demo.training.synth import write_video

        write_video(path, frames, fps)
        return
    height, width = frames.shape[1:3]
    command = [
        ffmpeg,
        "-v",
        "error",
        "-y",
        "-f",
        "rawvideo",
        "-pix_fmt",
        "bgr24",
        "-s",
        f"{width}x{height}",
        "-r",
        f"{fps:g}",
        "-i",
        "-",
        "-c:v",
        "libvpx-vp9",
        "-crf",
        "38",
        "-b:v",
        "0",
        "-row-mt",
        "1",
        "-deadline",
        "good",
        "-cpu-used",
        "4",
        "-pix_fmt",
        "yuv420p",
        str(path),
    ]
    subprocess.run(command, input=np.ascontiguousarray(frames).tobytes(), check=True)


def mixed_truth(classes: tuple[str, ...] | None = None) -> list[TruthSegment]:
    """The mixed clip's true label over time: MIXED_SECONDS of each class, one after another."""
    classes = tuple(classes or REPORT_CLASSES)
    return [TruthSegment(i * MIXED_SECONDS, (i + 1) * MIXED_SECONDS, name) for i, name in enumerate(classes)]


def write_mixed_truth(folder: Path = EXAMPLES_DIR, classes: tuple[str, ...] | None = None) -> Path:
    """The sidecar beside the mixed clip (what make_examples rendered, in its order)."""
    return write_sidecar(Path(folder) / MIXED_EXAMPLE_NAME, mixed_truth(classes))


def make_examples(folder: Path = EXAMPLES_DIR, classes: tuple[str, ...] | None = None) -> list[Path]:
    """Render and encode the example clips (and the mixed clip's truth sidecar) into `folder`; returns their paths."""
    from har_demo.training.synth import render_clip

    classes = tuple(classes or REPORT_CLASSES)
    folder = Path(folder)
    written = []
    pieces = []
    for i, name in enumerate(classes):
        rng = np.random.default_rng([SEED, i])
        frames = render_clip(name, rng, fps=FPS, seconds=CLIP_SECONDS)
        encode_webm(folder / example_clip_name(name), frames)
        written.append(folder / example_clip_name(name))
        rng = np.random.default_rng([SEED, 100 + i])
        pieces.append(render_clip(name, rng, fps=FPS, seconds=MIXED_SECONDS))
    encode_webm(folder / MIXED_EXAMPLE_NAME, np.concatenate(pieces))
    written.append(folder / MIXED_EXAMPLE_NAME)
    written.append(write_mixed_truth(folder, classes))
    return written


if __name__ == "__main__":
    truth_only = "--truth-only" in sys.argv[1:]
    folders = [a for a in sys.argv[1:] if a != "--truth-only"]
    target = Path(folders[0]) if folders else EXAMPLES_DIR
    for path in [write_mixed_truth(target)] if truth_only else make_examples(target):
        print(f"{path}  {path.stat().st_size / 1024:.0f} KB")
