"""UCF50-style folders -> a memory-mapped uint8 frame cache, and the train/val/test splits.

    ROOT/<Class>/v_<Class>_gXX_cYY.avi

Clips of one group (gXX) share actor and scene, so a random split leaks near-duplicates into
the test set; the group split keeps every group on one side. Each reported number names its split.

The cache stores uint8 frames (the tutorial kept float64: 8x the bytes) in a .npy file that
training memory-maps, is built by a thread pool in one sequential decode per clip (OpenCV
decodes and resizes with the GIL released, so threads run in parallel without the start-up and
pickling cost of processes), and is reused while the source files and clip settings are unchanged.
With a window length (tiny sets: training/tiny.py), a clip longer than it becomes several rows,
one per window (training/windows.py), with the clip's group.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import re
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from har_demo.cache_dirs import cache_home
from har_demo.clip import VIDEO_EXTENSIONS, ClipSettings, VideoError, read_clip
from har_demo.names import REPORT_CLASSES
from har_demo.split_kinds import SPLIT_NAMES
from har_demo.training.windows import read_windows, source_path, window_count, window_path

CLIP_NAME = re.compile(r"^v_(?P<label>.+)_g(?P<group>\d+)_c(?P<clip>\d+)$")
CACHE_VERSION = 2  # 2: clips longer than the window length are several rows


class DatasetError(ValueError):
    """A dataset folder that cannot be trained on as asked; the message names the classes and counts."""


@dataclass(frozen=True)
class ClipRecord:
    path: Path
    label: str
    group: str  # "<Class>/gXX": UCF groups are numbered within each class


def default_cache_dir() -> Path:
    return cache_home() / "datasets"


def parse_classes(text: str | None) -> list[str] | None:
    """`None`/"report" -> the report's four; "all" -> None (every class found); else a comma list."""
    if text is None or text == "report":
        return list(REPORT_CLASSES)
    if text == "all":
        return None
    return [c.strip() for c in text.split(",") if c.strip()]


def scan_dataset(root: Path, classes: list[str] | None = None) -> list[ClipRecord]:
    """Every video under ROOT/<Class>/ for the chosen classes (all class folders if None)."""
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"Dataset folder {root} does not exist.")
    found = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    chosen = found if classes is None else list(classes)
    missing = [c for c in chosen if c not in found]
    if missing:
        raise DatasetError(
            f"Class folder(s) {', '.join(missing)} not found in {root}; it has: {', '.join(found) or 'none'}."
        )
    records = []
    for label in chosen:
        for path in sorted((root / label).iterdir()):
            if path.suffix.lower() not in VIDEO_EXTENSIONS or not path.is_file():
                continue
            match = CLIP_NAME.match(path.stem)
            group = f"{label}/g{match['group']}" if match else f"{label}/{path.stem}"
            records.append(ClipRecord(path=path, label=label, group=group))
    if not records:
        raise DatasetError(f"No video files found in {root} for classes {', '.join(chosen)}.")
    empty = [label for label in chosen if not any(r.label == label for r in records)]
    if empty:
        raise DatasetError(
            f"Class folder(s) {', '.join(empty)} in {root} hold no video files; add clips or leave the class out "
            f"(--classes {','.join(c for c in chosen if c not in empty)})."
        )
    return records


def split_random(n: int, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """sklearn's train_test_split(shuffle=True, random_state=seed), which the tutorial used.

    The kept part comes back in its shuffled order, as sklearn returns it.
    """
    n_held = math.ceil(fraction * n)
    order = np.random.RandomState(seed).permutation(n)
    return order[n_held:], order[:n_held]


def split_groups(groups: list[str], labels: list[str], fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Hold out about `fraction` of each class's groups; no group lands on both sides."""
    rng = np.random.RandomState(seed)
    held_groups: set[str] = set()
    for label in sorted(set(labels)):
        class_groups = sorted({g for g, l in zip(groups, labels) if l == label})
        if len(class_groups) < 2:
            continue  # one group cannot be split; it stays in training
        n_held = min(len(class_groups) - 1, max(1, math.ceil(fraction * len(class_groups))))
        held_groups.update(rng.permutation(class_groups)[:n_held].tolist())
    held = np.array([g in held_groups for g in groups])
    return np.flatnonzero(~held), np.flatnonzero(held)


@dataclass
class Splits:
    train: np.ndarray
    val: np.ndarray
    test: np.ndarray
    kind: str
    test_fraction: float
    val_fraction: float
    seed: int

    def describe(self) -> dict:
        return {
            "kind": self.kind,
            "test_fraction": self.test_fraction,
            "val_fraction": self.val_fraction,
            "seed": self.seed,
            "train_clips": int(len(self.train)),
            "val_clips": int(len(self.val)),
            "test_clips": int(len(self.test)),
        }


def make_splits(
    groups: list[str],
    labels: list[str],
    kind: str = "random",
    test_fraction: float = 0.25,
    val_fraction: float = 0.2,
    seed: int = 27,
    paths: list[str] | None = None,
) -> Splits:
    """Test first, then validation out of what is left, both of the same kind (har_demo/split_kinds.py).

    The random kind takes validation as the last `val_fraction` of the shuffled training set, as
    Keras's `validation_split` did in the report. The tiny kind (training/tiny.py) holds out no
    validation and needs the clips' `paths` (a long clip's windows stay on one side).
    """
    n = len(labels)
    if kind == "tiny":
        if paths is None:
            raise ValueError("the tiny split needs the clips' paths")
        return tiny_splits(groups, labels, paths, test_fraction, seed)
    if kind == "random":
        train, test = split_random(n, test_fraction, seed)
        split_at = math.ceil(len(train) * (1.0 - val_fraction))
        train, val = train[:split_at], train[split_at:]
    elif kind == "group":
        train, test = split_groups(groups, labels, test_fraction, seed)
        if val_fraction > 0:
            sub_train, sub_val = split_groups(
                [groups[i] for i in train], [labels[i] for i in train], val_fraction, seed + 1
            )
            train, val = train[sub_train], train[sub_val]
        else:  # no validation asked for: a fixed number of epochs on everything not tested
            val = train[:0]
    else:
        raise ValueError(f"split must be one of {', '.join(SPLIT_NAMES)}, not {kind!r}")
    return Splits(np.sort(train), np.sort(val), np.sort(test), kind, test_fraction, val_fraction, seed)


def tiny_splits(groups: list[str], labels: list[str], paths: list[str], test_fraction: float = 0.25, seed: int = 27):
    """Train/test with no validation: whole groups held out per class, clips of a one-group class.

    A class with several groups holds out about `test_fraction` of its groups (at least one, and
    always keeps one for training); a class with a single group holds out its last
    `ceil(test_fraction * clips)` clips by name, so every class is in the test set.
    """
    rng = np.random.RandomState(seed)
    held = np.zeros(len(labels), dtype=bool)
    for label in sorted(set(labels)):
        members = [i for i, l in enumerate(labels) if l == label]
        class_groups = sorted({groups[i] for i in members})
        if len(class_groups) >= 2:
            n_held = min(len(class_groups) - 1, max(1, math.ceil(test_fraction * len(class_groups))))
            held_groups = set(rng.permutation(class_groups)[:n_held].tolist())
            for i in members:
                held[i] = groups[i] in held_groups
        else:  # by source clip: the windows of one long clip stay on one side
            sources = sorted({source_path(paths[i]) for i in members})
            if len(sources) >= 2:
                held_sources = set(sources[-max(1, math.ceil(test_fraction * len(sources))) :])
                for i in members:
                    held[i] = source_path(paths[i]) in held_sources
    train, test = np.flatnonzero(~held), np.flatnonzero(held)
    return Splits(train, np.zeros(0, dtype=np.int64), test, "tiny", test_fraction, 0.0, seed)


def check_splits(splits: Splits, labels: list[str], classes: list[str]) -> None:
    """Refuse a dataset too small to train, validate and test honestly, with the counts per split.

    Each class needs a training clip (a class never seen in training cannot be learnt), the test
    split at least one clip (an accuracy of no clips is no accuracy), and validation at least one
    clip when a validation fraction is asked for (early stopping and the best checkpoint need it).
    A handful of clips per class (e.g. 4 classes x 10 clips) passes.
    """
    labels = list(labels)
    if len(classes) < 2:
        raise DatasetError(f"A classifier needs at least two classes; only {', '.join(classes) or 'none'} given.")
    without_clips = [c for c in classes if c not in labels]
    if without_clips:
        raise DatasetError(f"Class(es) {', '.join(without_clips)} have no readable clips; add clips or leave them out.")

    def counts(indices: np.ndarray) -> str:
        per_class = {c: 0 for c in classes}
        for i in indices:
            per_class[labels[i]] += 1
        return f"{len(indices)} (" + ", ".join(f"{c} {n}" for c, n in per_class.items()) + ")"

    untrained = [c for c in classes if not any(labels[i] == c for i in splits.train)]
    problems = []
    if untrained:
        problems.append(f"no training clip of {', '.join(untrained)}")
    if splits.val_fraction > 0 and len(splits.val) == 0:
        problems.append("no validation clip")
    if len(splits.test) == 0:
        problems.append("no test clip")
    if problems:
        hint = "add clips or groups (a group split holds out whole groups)" if splits.kind == "group" else "add clips"
        if problems == ["no validation clip"]:
            hint += ", or train a fixed number of epochs without validation (--val-fraction 0)"
        raise DatasetError(
            f"The {splits.kind} split is too small to train, validate and test: {'; '.join(problems)}. "
            f"Train {counts(splits.train)}, validation {counts(splits.val)}, test {counts(splits.test)}; {hint}."
        )


@dataclass
class FrameCache:
    """The decoded dataset: frames[i] is clip i as uint8 (T, H, W, 3), memory-mapped."""

    folder: Path
    frames: np.ndarray
    labels: np.ndarray  # int class index per clip
    classes: list[str]
    paths: list[str]  # relative to the dataset root
    groups: list[str]
    settings: ClipSettings
    root: Path
    skipped: list[dict] = field(default_factory=list)
    synthetic: bool = False
    build_seconds: float = 0.0
    reused: bool = False

    @property
    def name(self) -> str:
        return self.root.name


def _cache_key(
    records: list[ClipRecord], root: Path, settings: ClipSettings, classes: list[str], window_seconds: float
) -> str:
    digest = hashlib.sha256()
    digest.update(json.dumps([CACHE_VERSION, settings.to_dict(), classes, window_seconds]).encode())
    for record in records:
        stat = record.path.stat()
        digest.update(f"{record.path.relative_to(root)}|{stat.st_size}|{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]


def _decode_for_cache(job: tuple[int, str, dict, float]) -> tuple[int, list[np.ndarray] | None, str | None]:
    """A clip's frames, as a list of one array per window (one window unless it is long)."""
    index, path, settings, window_seconds = job
    try:
        settings = ClipSettings.from_dict(settings)
        clip = read_clip(path, settings)
        if window_count(clip.duration, window_seconds) == 1:
            return index, [clip.frames], None
        return index, read_windows(path, settings, clip.frame_count, clip.fps, window_seconds), None
    except VideoError as exc:
        return index, None, str(exc)
    except Exception as exc:  # a decoder crash in one file must not stop the build
        return index, None, f"{type(exc).__name__}: {exc}"


def _progress(iterable, total: int, desc: str, enabled: bool):
    if not enabled:
        return iterable
    from tqdm import tqdm

    return tqdm(iterable, total=total, desc=desc, unit="clip")


def build_cache(
    root: Path,
    classes: list[str] | None = None,
    settings: ClipSettings | None = None,
    cache_dir: Path | None = None,
    workers: int | None = None,
    progress: bool = True,
    log=print,
    window_seconds: float = 0.0,
) -> FrameCache:
    """Decode every clip once into `cache_dir`, or reuse an up-to-date cache.

    A clip longer than `window_seconds` is cut into windows, each a row of its own (0, the default:
    never; every clip is one row, as the report's splits expect).
    """
    root = Path(root).resolve()
    settings = settings or ClipSettings()
    records = scan_dataset(root, classes)
    classes = list(dict.fromkeys(r.label for r in records)) if classes is None else list(classes)
    key = _cache_key(records, root, settings, classes, window_seconds)
    folder = Path(cache_dir or default_cache_dir()) / f"{root.name}-{key}"
    meta_path = folder / "meta.json"
    if meta_path.is_file():
        cache = _open_cache(folder, root)
        cache.reused = True
        log(f"Reusing frame cache {folder} ({len(cache.labels)} clips).")
        return cache

    started = time.perf_counter()
    folder.mkdir(parents=True, exist_ok=True)
    shape = (len(records), settings.frames, settings.height, settings.width, settings.channels)
    partial = folder / "frames.partial.npy"
    frames = np.lib.format.open_memmap(partial, mode="w+", dtype=np.uint8, shape=shape)
    jobs = [(i, str(r.path), settings.to_dict(), window_seconds) for i, r in enumerate(records)]
    workers = max(1, min(workers or os.cpu_count() or 1, len(jobs)))
    ok = np.zeros(len(records), dtype=bool)
    extra: dict[int, list[np.ndarray]] = {}  # a long clip's windows after its first
    skipped = []
    if workers == 1:
        results = map(_decode_for_cache, jobs)
        results = _progress(results, len(jobs), "Decoding clips", progress)
        executor = None
    else:
        executor = ThreadPoolExecutor(workers)
        results = _progress(executor.map(_decode_for_cache, jobs), len(jobs), "Decoding clips", progress)
    try:
        for index, clip_windows, error in results:
            if error is None:
                frames[index] = clip_windows[0]
                ok[index] = True
                if len(clip_windows) > 1:
                    extra[index] = clip_windows[1:]
            else:
                skipped.append({"path": str(records[index].path.relative_to(root)), "reason": error})
    finally:
        if executor is not None:  # on Ctrl-C, do not decode the clips still queued
            executor.shutdown(cancel_futures=True)
    frames.flush()
    del frames
    for item in skipped:
        log(f"Skipped unreadable video {item['path']}: {item['reason']}")
    if skipped:
        log(f"{len(skipped)} of {len(records)} videos were skipped (named above and in the report).")

    kept = np.flatnonzero(ok)
    rows = [(i, None) for i in kept]  # (clip, window number or None): a long clip's windows follow it
    if extra:
        rows = [(i, w) for i in kept for w in (range(1, 2 + len(extra[i])) if i in extra else [None])]
        log(
            f"{len(extra)} clip(s) longer than {window_seconds:g} s became {len(rows) - len(kept) + len(extra)} windows."
        )
    if len(rows) < len(records) or extra:  # compact, so row i is always clip (or window) i
        source = np.load(partial, mmap_mode="r")
        compact = np.lib.format.open_memmap(
            folder / "frames.npy", mode="w+", dtype=np.uint8, shape=(len(rows), *shape[1:])
        )
        for row, (index, window) in enumerate(rows):
            compact[row] = source[index] if window in (None, 1) else extra[index][window - 2]
        compact.flush()
        del compact, source
        partial.unlink()
    else:
        partial.rename(folder / "frames.npy")
    meta = {
        "version": CACHE_VERSION,
        "root": str(root),
        "classes": classes,
        "settings": settings.to_dict(),
        "paths": [
            str(records[i].path.relative_to(root))
            if w is None
            else window_path(str(records[i].path.relative_to(root)), w)
            for i, w in rows
        ],
        "labels": [classes.index(records[i].label) for i, _ in rows],
        "groups": [records[i].group for i, _ in rows],
        "skipped": skipped,
        "synthetic": (root / "SYNTHETIC.json").is_file(),
        "build_seconds": round(time.perf_counter() - started, 3),
    }
    meta_path.write_text(json.dumps(meta, indent=1))
    log(f"Cached {len(rows)} clips in {meta['build_seconds']:.1f} s -> {folder}")
    return _open_cache(folder, root)


def _open_cache(folder: Path, root: Path) -> FrameCache:
    meta = json.loads((folder / "meta.json").read_text())
    return FrameCache(
        folder=folder,
        frames=np.load(folder / "frames.npy", mmap_mode="r"),
        labels=np.asarray(meta["labels"], dtype=np.int64),
        classes=meta["classes"],
        paths=meta["paths"],
        groups=meta["groups"],
        settings=ClipSettings.from_dict(meta["settings"]),
        root=Path(root),
        skipped=meta["skipped"],
        synthetic=meta["synthetic"],
        build_seconds=meta["build_seconds"],
    )


def add_dataset_arguments(parser: argparse.ArgumentParser) -> None:
    """Options shared by build, train and evaluate."""
    parser.add_argument("--classes", default="report", help='"report" (the four), "all", or a comma list')
    parser.add_argument("--frames", type=int, default=20, help="frames per clip")
    parser.add_argument("--size", type=int, default=64, help="frame height and width")
    parser.add_argument("--sampling", default="tutorial", choices=("tutorial", "uniform"))
    add_cache_arguments(parser)


def add_cache_arguments(parser: argparse.ArgumentParser) -> None:
    """Where the frame cache lives and how many threads decode into it."""
    parser.add_argument(
        "--cache-dir", type=Path, default=None, help="where frame caches live (default ~/.cache/har_demo)"
    )
    parser.add_argument("--workers", type=int, default=None, help="decoding threads (default: all cores)")


def settings_from_args(args: argparse.Namespace) -> ClipSettings:
    return ClipSettings(frames=args.frames, height=args.size, width=args.size, sampling=args.sampling)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("data", type=Path, help="UCF50-style folder: ROOT/<Class>/<clip>.avi")
    add_dataset_arguments(parser)


def run(args: argparse.Namespace) -> int:
    try:
        cache = build_cache(
            args.data, parse_classes(args.classes), settings_from_args(args), args.cache_dir, args.workers
        )
    except DatasetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    size_mb = cache.frames.nbytes / 1e6
    print(
        f"{len(cache.labels)} clips, {len(cache.classes)} classes, {size_mb:.1f} MB of uint8 frames at {cache.folder}"
    )
    return 0
