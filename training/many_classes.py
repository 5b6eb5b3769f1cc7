"""A many-class UCF50-layout folder made from a four-class one, for testing at 50 classes.

    python -m har_demo.training.many_classes SRC OUT --classes 50

The synthetic generator draws only the report's four activities. This makes up to 96 classes
from them by transforming whole clips: each new class is one source class under one variant
(orientation: as is, upside down, rotated left or right; colours: as is, negative, grey; time:
forward or reversed), e.g. `TaiChiUpsideDownNegative`. Every clip of the new class is the
source clip under that transform, with its group and clip numbers kept.

This is a test set for scale (class count, memory, the app at 50 classes), not a benchmark: the
variants are easy to tell apart by orientation and colour, and "reversed" differs from "forward"
only in the direction of motion, which the models may or may not pick up. Say so beside any
number measured on it. OUT/SYNTHETIC.json marks it synthetic, as the generator's own sets are.
"""

from __future__ import annotations

import argparse
import itertools
import json
from pathlib import Path

import cv2
import numpy as np

from har_demo.training.dataset import CLIP_NAME

ORIENTATIONS = {"": None, "UpsideDown": "ud", "RotatedLeft": "ccw", "RotatedRight": "cw"}
COLOURS = {"": None, "Negative": "negative", "Grey": "grey"}
TIMES = {"": None, "Reversed": "reversed"}


def variants() -> list[tuple[str, tuple]]:
    """(name suffix, (orientation, colour, time)), the plain clip first, simplest changes first."""
    combos = itertools.product(TIMES.items(), COLOURS.items(), ORIENTATIONS.items())
    return [(o[0] + c[0] + t[0], (o[1], c[1], t[1])) for t, c, o in combos]


def transform(frames: np.ndarray, orientation: str | None, colour: str | None, time: str | None) -> np.ndarray:
    """BGR uint8 frames (T, H, W, 3) under one variant."""
    if orientation == "ud":
        frames = frames[:, ::-1]
    elif orientation == "cw":
        frames = np.rot90(frames, k=-1, axes=(1, 2))
    elif orientation == "ccw":
        frames = np.rot90(frames, k=1, axes=(1, 2))
    if colour == "negative":
        frames = 255 - frames
    elif colour == "grey":
        grey = frames.astype(np.float32) @ np.array([0.114, 0.587, 0.299], np.float32)
        frames = np.repeat(np.clip(grey, 0, 255).astype(np.uint8)[..., None], 3, axis=-1)
    if time == "reversed":
        frames = frames[::-1]
    return np.ascontiguousarray(frames)


def _read_all(path: Path) -> tuple[np.ndarray, float]:
    cap = cv2.VideoCapture(str(path))
    fps = cap.get(cv2.CAP_PROP_FPS) or 25.0
    frames = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(frame)
    cap.release()
    if not frames:
        raise ValueError(f"{path} has no frames")
    return np.stack(frames), float(fps)


def make_many_class_folder(src: Path, out: Path, classes: int, clips_per_class: int | None = None) -> list[str]:
    """Write `classes` classes to OUT from the class folders of SRC; return their names."""
    from har_demo.training.dataset import VIDEO_EXTENSIONS
    from har_demo.training.synth import write_video

    src, out = Path(src), Path(out)
    bases = sorted(p.name for p in src.iterdir() if p.is_dir() and not p.name.startswith("."))
    table = [(base + suffix, base, spec) for suffix, spec in variants() for base in bases]
    if not bases or classes > len(table):
        raise ValueError(f"{src} has {len(bases)} classes: at most {len(table)} can be made from them")
    names = []
    for name, base, spec in table[:classes]:
        clips = sorted(p for p in (src / base).iterdir() if p.suffix.lower() in VIDEO_EXTENSIONS)
        for clip in clips[:clips_per_class]:
            match = CLIP_NAME.match(clip.stem)
            tail = f"_g{match['group']}_c{match['clip']}" if match else f"_{clip.stem}"
            frames, fps = _read_all(clip)
            write_video(out / name / f"v_{name}{tail}.avi", transform(frames, *spec), fps)
        names.append(name)
    (out / "SYNTHETIC.json").write_text(
        json.dumps(
            {
                "synthetic": True,
                "generator": "har_demo.training.many_classes",
                "source": src.name,
                "classes": names,
                "note": "source classes under orientation/colour/time transforms; a scale test, not a benchmark",
            },
            indent=2,
        )
        + "\n"
    )
    return names


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m har_demo.training.many_classes", description=__doc__.splitlines()[0]
    )
    parser.add_argument("src", type=Path, help="a UCF50-layout folder (e.g. from `har-demo synth`)")
    parser.add_argument("out", type=Path)
    parser.add_argument("--classes", type=int, default=50)
    parser.add_argument("--clips-per-class", type=int, default=None, help="at most this many clips per class")
    args = parser.parse_args(argv)
    names = make_many_class_folder(args.src, args.out, args.classes, args.clips_per_class)
    print(f"Wrote {len(names)} classes to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
