"""Synthetic UCF50-layout video dataset: `har-demo synth OUT --clips-per-class N`.

Why: the real UCF50 is gigabytes and slow to fetch; tests, CI and quick demos need a small
dataset with the same folder layout (OUT/<Class>/v_<Class>_gXX_cYY.avi) whose classes can
only be told apart by MOTION and shape. So every scene is drawn from the same class-agnostic
distributions (background, clothes, animal and prop colours, camera shake, lighting, noise);
only what moves, and how, depends on the class:

  WalkingWithDog  a walking person (swinging legs and arms) leading a dog on a leash across the frame
  TaiChi          a standing person slowly raising / circling the arms, shifting weight
  Swing           a person sitting on a swing that oscillates like a pendulum under a frame
  HorseRace       2-5 galloping horses with jockeys streaking past along a rail

Like UCF50, clips of one group share the scene and the actor. Every clip's random numbers
come from SeedSequence([seed, class, group, ...]), so the output is identical for any
number of worker processes. No TensorFlow here: this module runs in fresh worker processes.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import os
import time
import zlib
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from tqdm.auto import tqdm

from har_demo.names import REPORT_CLASSES
from har_demo.training.synth_actions import SETUPS, check_class
from har_demo.training.synth_drawing import FPS, HEIGHT, MARGIN, WIDTH, Painter, Scene, make_scene

GENERATOR_VERSION = 1
DEFAULT_SECONDS = (2.4, 4.0)  # 60-100 frames at 25 fps
FOURCCS = {  # tried in order: the first codec whose writer opens wins
    ".avi": ("XVID", "MJPG"),  # XVID is what UCF50 ships
    ".mp4": ("mp4v",),
    ".mov": ("mp4v",),
    ".webm": ("VP90", "VP80"),  # browsers play VP9/VP8 WebM
    ".mkv": ("XVID", "MJPG"),
}

# ----------------------------------------------------------------------------- clips


def render_clip(
    class_name: str,
    rng: np.random.Generator,
    *,
    scene: Scene | None = None,
    width: int = WIDTH,
    height: int = HEIGHT,
    fps: float = FPS,
    seconds: float | tuple[float, float] = DEFAULT_SECONDS,
    nuisance: bool = True,
) -> np.ndarray:
    """Render one clip as uint8 BGR frames (T, H, W, 3); T = fps * uniform(seconds).

    `nuisance=False` drops camera shake, lighting drift and pixel noise (handy for tests and
    debugging); the random numbers are still drawn, so the actors move exactly the same.
    """
    return _render(class_name, rng, scene, width, height, fps, seconds, nuisance, None)


def render_clip_with_boxes(
    class_name: str,
    rng: np.random.Generator,
    *,
    scene: Scene | None = None,
    width: int = WIDTH,
    height: int = HEIGHT,
    fps: float = FPS,
    seconds: float | tuple[float, float] = DEFAULT_SECONDS,
    nuisance: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """`render_clip`'s frames (identical, same random numbers) plus where the actor is in each one.

    Why: explanations (Grad-CAM) can then be checked against ground truth. The box of frame t is
    (x0, y0, x1, y1) in frame pixels, x1/y1 exclusive, around every pixel that the moving parts
    (people, animals, swing ropes) changed from the static background, after camera shake;
    (-1, -1, -1, -1) where nothing moving is in view.
    """
    boxes: list[tuple[int, int, int, int]] = []
    frames = _render(class_name, rng, scene, width, height, fps, seconds, nuisance, boxes)
    return frames, np.asarray(boxes, dtype=np.int32).reshape(-1, 4)


def _moving_box(canvas: np.ndarray, base: np.ndarray, dx: int, dy: int, width: int, height: int) -> tuple:
    """Bounding box of the pixels where canvas differs from base, in the frame cut at (dx, dy)."""
    view = (slice(dy, dy + height), slice(dx, dx + width))
    changed = np.any(canvas[view] != base[view], axis=-1)
    rows, cols = np.flatnonzero(changed.any(axis=1)), np.flatnonzero(changed.any(axis=0))
    if not len(rows):
        return (-1, -1, -1, -1)
    return (int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1)


def _render(
    class_name: str,
    rng: np.random.Generator,
    scene: Scene | None,
    width: int,
    height: int,
    fps: float,
    seconds: float | tuple[float, float],
    nuisance: bool,
    boxes: list | None,
) -> np.ndarray:
    """render_clip's body; appends each frame's actor box to `boxes` when it is a list."""
    check_class(class_name)
    if scene is None:
        scene = make_scene(rng, width, height)
    elif (scene.width, scene.height) != (width, height):
        raise ValueError(f"scene is {scene.width}x{scene.height}, clip is {width}x{height}")
    lo, hi = (seconds, seconds) if isinstance(seconds, (int, float)) else seconds
    n = max(2, int(round(rng.uniform(lo, hi) * fps)))
    base = scene.background.copy()
    draw = SETUPS[class_name](rng, scene, Painter(base), n, fps)
    shake, (alpha, beta) = _camera_shake(rng, n), _lighting(rng, n, fps)
    noise_pos, noise_neg, noise_at = _noise(rng, n, width, height)

    frames = np.empty((n, height, width, 3), np.uint8)
    canvas = np.empty_like(base)
    paint = Painter(canvas)
    for t in range(n):
        np.copyto(canvas, base)
        draw(paint, t)
        if boxes is not None:
            dx, dy = (shake[t] + MARGIN) if nuisance else (MARGIN, MARGIN)
            boxes.append(_moving_box(canvas, base, int(dx), int(dy), width, height))
        if not nuisance:
            frames[t] = canvas[MARGIN : MARGIN + height, MARGIN : MARGIN + width]
            continue
        dx, dy = shake[t] + MARGIN
        out = frames[t]
        cv2.convertScaleAbs(canvas[dy : dy + height, dx : dx + width], dst=out, alpha=alpha[t], beta=beta[t])
        ox, oy = noise_at[t]
        cv2.add(out, noise_pos[oy : oy + height, ox : ox + width], dst=out)
        cv2.subtract(out, noise_neg[oy : oy + height, ox : ox + width], dst=out)
    return frames


def _camera_shake(rng: np.random.Generator, n: int) -> np.ndarray:
    """(n, 2) integer frame offsets: smooth hand-held wobble (AR(1)) plus a slow drift, within MARGIN."""
    amp, drift = rng.uniform(0, 2.5), rng.uniform(-1, 1, 2) * rng.uniform(0, 4)
    steps, walk, acc = rng.standard_normal((n, 2)), np.empty((n, 2)), np.zeros(2)
    for t in range(n):
        acc = 0.8 * acc + steps[t]
        walk[t] = acc
    path = walk * amp / 1.67 + np.linspace(-1, 1, n)[:, None] * drift  # 1.67 = std of this AR(1)
    return np.clip(np.round(path), -MARGIN, MARGIN).astype(int)


def _lighting(rng: np.random.Generator, n: int, fps: float) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame contrast (alpha) and brightness (beta): a random level plus a slow sinusoidal drift."""
    t = np.arange(n) / fps

    def drift(level: float, swing: float) -> np.ndarray:
        return level + swing * np.sin(2 * np.pi * t / rng.uniform(1.5, 6) + rng.uniform(0, 2 * np.pi))

    return drift(rng.uniform(0.8, 1.15), rng.uniform(0, 0.12)), drift(rng.uniform(-25, 25), rng.uniform(0, 18))


def _noise(rng: np.random.Generator, n: int, width: int, height: int, pad: int = 32) -> tuple[np.ndarray, ...]:
    """One Gaussian noise tile per clip, split into +/- uint8 parts; each frame reads it at a random offset."""
    tile = rng.standard_normal((height + pad, width + pad, 3), dtype=np.float32) * rng.uniform(1.5, 7)
    pos = np.clip(tile, 0, 255).astype(np.uint8)
    neg = np.clip(-tile, 0, 255).astype(np.uint8)
    return pos, neg, rng.integers(0, pad + 1, (n, 2))


def write_video(path: Path, frames: np.ndarray, fps: float = FPS) -> None:
    """Encode BGR uint8 frames (T, H, W, 3); the extension picks the codec (see FOURCCS), with fallbacks."""
    path = Path(path)
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8 or len(frames) == 0:
        raise ValueError(f"expected non-empty uint8 frames (T, H, W, 3), got {frames.dtype} {frames.shape}")
    ext = path.suffix.lower()
    if ext not in FOURCCS:
        raise ValueError(f"unsupported video extension {ext!r}; use one of {', '.join(FOURCCS)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    size = (frames.shape[2], frames.shape[1])
    for code in FOURCCS[ext]:
        writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*code), float(fps), size, True)
        if writer.isOpened():
            try:
                for frame in frames:
                    writer.write(np.ascontiguousarray(frame))
            finally:
                writer.release()
            return
        writer.release()
    path.unlink(missing_ok=True)
    raise RuntimeError(
        f"OpenCV could not open a video writer for {path} with fourcc {' or '.join(FOURCCS[ext])}; "
        "is this OpenCV build missing FFmpeg? Try --ext .avi (MJPG needs no FFmpeg)."
    )


# ----------------------------------------------------------------------------- dataset


@dataclass(frozen=True)
class SynthSummary:
    """What write_synthetic_dataset produced."""

    out: Path
    paths: tuple[Path, ...]
    counts: dict[str, int]
    groups_per_class: int
    seed: int
    seconds: float  # wall-clock time taken

    def line(self) -> str:
        per_class = ", ".join(f"{c} {k}" for c, k in self.counts.items())
        return (
            f"synth: wrote {len(self.paths)} clips ({per_class}; groups per class {self.groups_per_class}, "
            f"seed {self.seed}) to {self.out} in {self.seconds:.1f}s"
        )


@dataclass(frozen=True)
class _Job:
    class_name: str
    group: int  # 0-based
    clip: int  # 0-based, within the group
    path: Path
    seed: int
    seconds: tuple[float, float]


def _rng(seed: int, class_name: str, group: int, purpose: int, clip: int) -> np.random.Generator:
    """Independent, order-free random stream per (seed, class, group, purpose, clip); crc32 is stable across processes."""
    return np.random.default_rng(np.random.SeedSequence([seed, zlib.crc32(class_name.encode()), group, purpose, clip]))


def _run_job(job: _Job) -> Path:
    scene = make_scene(_rng(job.seed, job.class_name, job.group, 0, 0))
    rng = _rng(job.seed, job.class_name, job.group, 1, job.clip)
    frames = render_clip(job.class_name, rng, scene=scene, seconds=job.seconds)
    write_video(job.path, frames, FPS)
    return job.path


def _init_worker() -> None:
    cv2.setNumThreads(1)  # one process per core already; OpenCV threads would only fight over them


def _default_workers(jobs: int) -> int:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(cores, jobs))


def write_synthetic_dataset(
    out: Path,
    clips_per_class: int,
    *,
    classes: Sequence[str] = REPORT_CLASSES,
    seed: int = 27,
    groups_per_class: int | None = None,
    ext: str = ".avi",
    workers: int | None = None,
    progress: bool = True,
    seconds: tuple[float, float] = DEFAULT_SECONDS,
) -> SynthSummary:
    """Write OUT/<Class>/v_<Class>_gXX_cYY<ext> plus OUT/SYNTHETIC.json; clips go round-robin over groups.

    workers=1 renders in this process; more use spawned processes (safe with any parent state).
    """
    start = time.perf_counter()
    out, classes = Path(out), list(dict.fromkeys(classes))
    for name in classes:
        check_class(name)
    ext = ext if ext.startswith(".") else "." + ext
    if ext.lower() not in FOURCCS:
        raise ValueError(f"unsupported video extension {ext!r}; use one of {', '.join(FOURCCS)}")
    if clips_per_class < 1 or seed < 0 or not classes:
        raise ValueError("need clips_per_class >= 1, seed >= 0 and at least one class")
    groups = groups_per_class or max(1, min(25, math.ceil(clips_per_class / 4)))
    lo, hi = float(seconds[0]), float(seconds[1])
    if not 0 < lo <= hi:
        raise ValueError(f"seconds must satisfy 0 < min <= max, got {seconds}")
    jobs = []
    for name in classes:
        for i in range(clips_per_class):
            group, clip = i % groups, i // groups  # round-robin, so every group gets clips early
            path = out / name / f"v_{name}_g{group + 1:02d}_c{clip + 1:02d}{ext}"
            jobs.append(_Job(name, group, clip, path, seed, (lo, hi)))
    for name in classes:
        (out / name).mkdir(parents=True, exist_ok=True)

    workers = workers or _default_workers(len(jobs))
    bar = tqdm(total=len(jobs), desc="synth", unit="clip", disable=not progress)
    if workers <= 1:
        for job in jobs:
            _run_job(job)
            bar.update()
    else:
        with ProcessPoolExecutor(
            workers, mp_context=multiprocessing.get_context("spawn"), initializer=_init_worker
        ) as pool:
            futures = [pool.submit(_run_job, job) for job in jobs]
            try:
                for future in as_completed(futures):
                    future.result()
                    bar.update()
            except BaseException:
                pool.shutdown(wait=False, cancel_futures=True)
                raise
    bar.close()

    counts = {name: clips_per_class for name in classes}
    meta = {
        "synthetic": True,
        "generator": "har_demo.training.synth",
        "version": GENERATOR_VERSION,
        "seed": seed,
        "classes": classes,
        "clips_per_class": clips_per_class,
        "groups_per_class": groups,
        "counts": counts,
        "total_clips": len(jobs),
        "ext": ext,
        "width": WIDTH,
        "height": HEIGHT,
        "fps": FPS,
        "seconds": [lo, hi],
    }
    (out / "SYNTHETIC.json").write_text(json.dumps(meta, indent=2) + "\n")
    return SynthSummary(out, tuple(j.path for j in jobs), counts, groups, seed, time.perf_counter() - start)


# ----------------------------------------------------------------------------- CLI


def _class_list(text: str) -> list[str]:
    names = [c.strip() for c in text.split(",") if c.strip()]
    unknown = [c for c in names if c not in SETUPS]
    if unknown or not names:
        what = ", ".join(unknown) or "(none)"
        raise argparse.ArgumentTypeError(f"unknown class(es) {what}; choose from {','.join(REPORT_CLASSES)}")
    return names


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add = parser.add_argument
    add("out", type=Path, metavar="OUT", help="output folder (UCF50 layout: OUT/<Class>/v_<Class>_gXX_cYY.avi)")
    add("--clips-per-class", type=int, default=20, help="clips per class (default 20)")
    add(
        "--classes",
        type=_class_list,
        default=",".join(REPORT_CLASSES),
        help="comma-separated classes (default: all four)",
    )
    add("--groups-per-class", type=int, default=None, help="UCF50-style groups (default: ceil(clips/4), at most 25)")
    add("--seed", type=int, default=27, help="dataset seed (default 27)")
    add(
        "--ext",
        default=".avi",
        choices=sorted(FOURCCS),
        help="container: .avi = XVID (default), .mp4, .webm = VP9, .mkv",
    )
    add("--workers", type=int, default=None, help="processes (default: one per available core)")
    add(
        "--seconds",
        type=float,
        nargs=2,
        metavar=("MIN", "MAX"),
        default=DEFAULT_SECONDS,
        help="clip length range (default 2.4 4.0)",
    )
    add("--no-progress", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    summary = write_synthetic_dataset(
        args.out,
        args.clips_per_class,
        classes=args.classes,
        seed=args.seed,
        groups_per_class=args.groups_per_class,
        ext=args.ext,
        workers=args.workers,
        progress=not args.no_progress,
        seconds=tuple(args.seconds),
    )
    print(summary.line())
    return 0
