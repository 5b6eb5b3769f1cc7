"""The demo's example clips: small synthetic videos, committed in examples/ (about 15-60 KB each).

They are made by `training.synth` (the generator the shipped weights were trained on), with a
fixed seed, and encoded as VP9 WebM so a browser plays them in the page. Regenerate them with

    python -m har_demo.examples [FOLDER]

(needs Debian's `ffmpeg` for the fast path; OpenCV's own VP9 writer is used otherwise, slowly).
One clip per class, plus one longer clip that strings the four activities together for the
Timeline tab. If the folder is missing at start-up the app makes them in a cache folder.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np

EXAMPLES_DIR = Path(__file__).resolve().parents[1] / "examples"
SEED = 20240
FPS = 25.0
CLIP_SECONDS = 3.2
MIXED_SECONDS = 4.0
MIXED_NAME = "synthetic_mixed_activities.webm"


def clip_name(class_name: str) -> str:
    return f"synthetic_{class_name}.webm"


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


def make_examples(folder: Path = EXAMPLES_DIR, classes: tuple[str, ...] | None = None) -> list[Path]:
    """Render and encode the example clips into `folder`; returns their paths."""
    from har_demo.training.synth import REPORT_CLASSES, render_clip

    classes = tuple(classes or REPORT_CLASSES)
    folder = Path(folder)
    written = []
    pieces = []
    for i, name in enumerate(classes):
        rng = np.random.default_rng([SEED, i])
        frames = render_clip(name, rng, fps=FPS, seconds=CLIP_SECONDS)
        encode_webm(folder / clip_name(name), frames)
        written.append(folder / clip_name(name))
        rng = np.random.default_rng([SEED, 100 + i])
        pieces.append(render_clip(name, rng, fps=FPS, seconds=MIXED_SECONDS))
    encode_webm(folder / MIXED_NAME, np.concatenate(pieces))
    written.append(folder / MIXED_NAME)
    return written


def cache_folder() -> Path:
    return Path(os.environ.get("HAR_DEMO_CACHE", Path.home() / ".cache" / "har_demo")) / "examples"


def find_examples(classes: list[str], folder: Path = EXAMPLES_DIR) -> tuple[list[Path], Path | None]:
    """(one clip per class that exists, the mixed clip or None); made in the cache if none exist."""
    for place in (Path(folder), cache_folder()):
        clips = [place / clip_name(c) for c in classes if (place / clip_name(c)).is_file()]
        mixed = place / MIXED_NAME
        if clips:
            return clips, mixed if mixed.is_file() else None
    try:
        make_examples(cache_folder(), tuple(c for c in classes if _known(c)) or None)
    except Exception as exc:  # examples are a convenience: never stop the app for them
        print(f"note: could not make example clips ({exc})", file=sys.stderr)
        return [], None
    place = cache_folder()
    clips = [place / clip_name(c) for c in classes if (place / clip_name(c)).is_file()]
    return clips, place / MIXED_NAME if (place / MIXED_NAME).is_file() else None


def _known(class_name: str) -> bool:
    from har_demo.training.synth import REPORT_CLASSES

    return class_name in REPORT_CLASSES


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else EXAMPLES_DIR
    for path in make_examples(target):
        print(f"{path}  {path.stat().st_size / 1024:.0f} KB")
