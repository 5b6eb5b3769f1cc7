"""A class set in a per-session folder, in the UCF layout that `har-demo train` reads.

    <session>/studio/<Class>/v_<Class>_gXX_cYY.<ext>   the clips, as real video files
    <session>/frames/<key>/<Class>/<stem>.npy         each clip's sampled uint8 frames, per clip settings
    <session>/thumbs/<Class>/<stem>.jpg               a thumbnail (the middle sampled frame)

A clip is decoded once, when it arrives (that is also how it is validated), so pressing Train
never waits for decoding. A video longer than a clip (the tiny-set window, training/tiny.py) is
cut into clips of at most that length (training/windows.py), all in its group, with a note. The
group (gXX) is the one in a UCF name (v_X_g02_c01 stays g02) or else the caller's: one group per
person or recording session, so the held-out evaluation tests on people and rooms the model has
not seen.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from har_demo.clip import ClipSettings, VideoError, read_clip
from har_demo.studio.errors import ClipRefused, LimitReached, NameRefused
from har_demo.studio.limits import StudioLimits
from har_demo.studio.stored_copy import store_copy
from har_demo.training.dataset import CLIP_NAME, VIDEO_EXTENSIONS, FrameCache
from har_demo.training.tiny import TINY_WINDOW_SECONDS
from har_demo.training.windows import MAX_WINDOWS, TOLERANCE_SECONDS, window_count, window_ranges

CLASS_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9]{0,39}$")
SET_FOLDER = "studio"  # the dataset's name, in bundles and in the zip
FASTEST_FPS = 60.0  # bounds decoding before a file's own duration is known
THUMB_WIDTH = 112


def check_class_name(name: str) -> str:
    """A class name usable as a UCF folder and clip-name part: letters and digits, a letter first."""
    name = (name or "").strip()
    if not CLASS_NAME.match(name):
        raise NameRefused(
            f"{name!r} cannot be a class name: use 1-40 letters and digits, starting with a letter "
            "(for example Waving or JumpingJack)."
        )
    return name


def check_group(group: int) -> int:
    try:
        group = int(group)
    except (TypeError, ValueError):
        raise ClipRefused(f"The group must be a number from 1 to 99, not {group!r}.") from None
    if not 1 <= group <= 99:
        raise ClipRefused(f"The group must be a number from 1 to 99, not {group}.")
    return group


@dataclass(frozen=True)
class ClipInfo:
    """One clip of the set, as the page lists it."""

    label: str
    name: str  # file name, v_<Class>_gXX_cYY.<ext>
    group: int
    path: Path
    thumbnail: Path
    seconds: float


@dataclass(frozen=True)
class Added:
    """What one video became: its clips (several when it was long), and a sentence about it if any."""

    clips: list[ClipInfo]
    note: str = ""


def ucf_group(name: str) -> int | None:
    """The group of a UCF clip name (v_<Class>_gXX_cYY.<ext>), if it is one and in 1-99."""
    match = CLIP_NAME.match(Path(name).stem)
    return int(match["group"]) if match and 1 <= int(match["group"]) <= 99 else None


def settings_key(settings: ClipSettings) -> str:
    return hashlib.sha256(json.dumps(settings.to_dict(), sort_keys=True).encode()).hexdigest()[:12]


class ClassSet:
    """The clips of one session. Every change is checked first and either happens whole or not at all."""

    def __init__(self, folder: Path, limits: StudioLimits | None = None, settings: ClipSettings | None = None) -> None:
        self.folder = Path(folder)
        self.limits = limits or StudioLimits()
        self.settings = settings or ClipSettings()
        self.data = self.folder / SET_FOLDER
        self.data.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()

    # ------------------------------------------------------------------ classes
    @property
    def classes(self) -> list[str]:
        return sorted(p.name for p in self.data.iterdir() if p.is_dir() and CLASS_NAME.match(p.name))

    def add_class(self, name: str) -> str:
        name = check_class_name(name)
        with self._lock:
            existing = {c.lower(): c for c in self.classes}
            if name.lower() in existing:
                if existing[name.lower()] == name:
                    return name  # already there: nothing to do
                raise NameRefused(f"There is already a class {existing[name.lower()]}; names differ by more than case.")
            if len(existing) >= self.limits.max_classes:
                raise LimitReached(f"This studio allows at most {self.limits.max_classes} classes.")
            (self.data / name).mkdir()
        return name

    def delete_class(self, name: str) -> None:
        name = self._known_class(name)
        with self._lock:
            for root in (self.data, self.folder / "thumbs"):
                shutil.rmtree(root / name, ignore_errors=True)
            for key_dir in (self.folder / "frames").glob("*"):
                shutil.rmtree(key_dir / name, ignore_errors=True)

    def _known_class(self, name: str) -> str:
        if name not in self.classes:
            raise NameRefused(f"There is no class {name!r}; add it first.")
        return name

    # ------------------------------------------------------------------ clips
    def clips(self, label: str | None = None) -> list[ClipInfo]:
        labels = [label] if label else self.classes
        found = []
        for name in labels:
            folder = self.data / name
            for path in sorted(folder.iterdir()) if folder.is_dir() else []:
                match = CLIP_NAME.match(path.stem)
                if path.suffix.lower() in VIDEO_EXTENSIONS and match and match["label"] == name:
                    found.append(self._info(name, path, int(match["group"])))
        return found

    def counts(self) -> dict[str, int]:
        counts = {c: 0 for c in self.classes}
        for clip in self.clips():
            counts[clip.label] += 1
        return counts

    def groups(self) -> dict[str, list[int]]:
        """The groups each class has clips in."""
        groups: dict[str, set[int]] = {c: set() for c in self.classes}
        for clip in self.clips():
            groups[clip.label].add(clip.group)
        return {c: sorted(g) for c, g in groups.items()}

    def _info(self, label: str, path: Path, group: int) -> ClipInfo:
        meta = self._frames_path(self.settings, label, path.stem).with_suffix(".json")
        seconds = json.loads(meta.read_text()).get("seconds", 0.0) if meta.is_file() else 0.0
        return ClipInfo(label, path.name, group, path, self.folder / "thumbs" / label / f"{path.stem}.jpg", seconds)

    def _frames_path(self, settings: ClipSettings, label: str, stem: str) -> Path:
        return self.folder / "frames" / settings_key(settings) / label / f"{stem}.npy"

    def _next_name(self, label: str, group: int, ext: str, wanted: int | None = None) -> str:
        """The clip's name in the set: clip number `wanted` of its group if that is free, else the next free one."""
        taken = {
            int(m["clip"])
            for p in (self.data / label).iterdir()
            if (m := CLIP_NAME.match(p.stem)) and int(m["group"]) == group
        }
        if wanted is not None and 1 <= wanted < 10_000 and wanted not in taken:
            return f"v_{label}_g{group:02d}_c{wanted:02d}{ext}"
        number = next(n for n in range(1, 10_000) if n not in taken)
        return f"v_{label}_g{group:02d}_c{number:02d}{ext}"

    def next_group(self) -> int:
        """A group number no clip of any class uses yet: the next person's."""
        used = {g for groups in self.groups().values() for g in groups}
        return min(max(used, default=0) + 1, 99)

    def add_video(self, label: str, source: str | Path, group: int = 1, name: str | None = None) -> Added:
        """Add a video as one clip, or, when longer than a clip, as several (one per window).

        A clip is at most the tiny-set window (training/tiny.py; the host's clip limit if shorter):
        the length the models learn best from, and about as long as a recording. Videos up to
        MAX_WINDOWS clip limits long are taken.

        `name` is the file's own name (default: the source's), for the group of a UCF name and for
        messages. The windows' files are re-encoded cuts (recording.cut_windows), so the zip and
        `har-demo train` see the same clips as the page.
        """
        from har_demo.studio.recording import cut_windows

        source = Path(source)
        name = Path(name or source.name).name
        named = ucf_group(name)
        kept = f"{name} keeps group {named} from its name." if named and named != check_group(group) else ""
        group = named or group
        wanted = int(m["clip"]) if (m := CLIP_NAME.match(Path(name).stem)) else None
        limit = self.limits.max_clip_seconds
        window = min(limit, TINY_WINDOW_SECONDS)  # the length tiny sets train on, as `har-demo train` cuts
        self._check_source(label, source, name)
        clip = self._decode(source, name, max_seconds=limit * MAX_WINDOWS)
        count = window_count(clip.duration, window, MAX_WINDOWS)
        if count == 1:
            return Added([self.add_clip(label, source, group, _clip=clip, _wanted=wanted)], kept)
        with self._lock:
            room = self.limits.max_clips_per_class - self.counts().get(label, 0)
            if count > room:
                raise LimitReached(
                    f"{name} is {clip.duration:.1f} s long, {count} clips of {window:g} s; {label} has room for {room}."
                )
            ranges = window_ranges(clip.frame_count, clip.fps, window, MAX_WINDOWS)
            scratch = Path(tempfile.mkdtemp(dir=self.folder, prefix=".cut-"))
            try:
                added = [self.add_clip(label, part, group) for part in cut_windows(source, scratch, ranges)]
            finally:
                shutil.rmtree(scratch, ignore_errors=True)
        seconds = (ranges[0][1] - ranges[0][0]) / clip.fps
        return Added(
            added,
            f"{name} is {clip.duration:.1f} s long, longer than a clip ({window:g} s): it became {count} clips of "
            f"{seconds:.1f} s in group {group}, so each is a training example and they stay together in the split."
            + (f" {kept}" if kept else ""),
        )

    def _check_source(self, label: str, source: Path, name: str) -> None:
        self._known_class(label)
        if source.suffix.lower() not in VIDEO_EXTENSIONS:
            raise ClipRefused(
                f"{name} is not a video file this studio takes; use one of {', '.join(sorted(VIDEO_EXTENSIONS))}."
            )
        if not source.is_file():
            raise ClipRefused(f"{name} did not arrive (no such file).")
        if source.stat().st_size > self.limits.max_upload_bytes:
            raise LimitReached(f"{name} is larger than {self.limits.max_upload_mb:g} MB.")

    def add_clip(self, label: str, source: str | Path, group: int = 1, *, _clip=None, _wanted=None) -> ClipInfo:
        """Validate `source` by decoding it, then copy it in as the class's next clip of `group`.

        A clip longer than the limit is refused here; add_video cuts it into clips instead.
        """
        label = self._known_class(label)
        group = check_group(group)
        source = Path(source)
        ext = source.suffix.lower()
        self._check_source(label, source, source.name)
        with self._lock:
            if self.counts().get(label, 0) >= self.limits.max_clips_per_class:
                raise LimitReached(f"{label} already has {self.limits.max_clips_per_class} clips, the most allowed.")
            clip = _clip if _clip is not None else self._decode(source)
            name = self._next_name(label, group, ext, _wanted)
            target = self.data / label / name
            try:
                store_copy(source, target, clip)  # the container's own length, never appended bytes
                self._store_frames(label, target.stem, clip)
            except Exception:
                target.unlink(missing_ok=True)
                raise
            return self._info(label, target, group)

    def _decode(self, source: Path, name: str | None = None, max_seconds: float | None = None):
        """Decode `source` (at most `max_seconds`, default the clip limit), or ClipRefused naming `name`."""
        limit = self.limits.max_clip_seconds
        longest = max_seconds or limit
        name = name or source.name
        try:
            clip = read_clip(source, self.settings, max_frames=int(longest * FASTEST_FPS) + 1)
        except VideoError as exc:
            raise ClipRefused(str(exc).replace(source.name, name)) from None
        if clip.duration > longest + TOLERANCE_SECONDS:
            raise ClipRefused(f"{name} is {clip.duration:.1f} s long; videos may be at most {longest:g} s.")
        return clip

    def _store_frames(self, label: str, stem: str, clip) -> None:
        from har_demo.images import write_image

        path = self._frames_path(self.settings, label, stem)
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, clip.frames)
        path.with_suffix(".json").write_text(json.dumps({"seconds": round(clip.duration, 2), "fps": clip.fps}))
        thumb = self.folder / "thumbs" / label / f"{stem}.jpg"
        thumb.parent.mkdir(parents=True, exist_ok=True)
        write_image(thumb, _thumbnail(clip.rgb()[len(clip.frames) // 2]))

    def delete_clip(self, label: str, name: str) -> None:
        label = self._known_class(label)
        with self._lock:
            match = [c for c in self.clips(label) if c.name == name]
            if not match:
                raise NameRefused(f"{label} has no clip {name!r}.")
            clip = match[0]
            clip.path.unlink()
            clip.thumbnail.unlink(missing_ok=True)
            stem = Path(name).stem
            for key_dir in (self.folder / "frames").glob("*"):
                for suffix in (".npy", ".json"):
                    (key_dir / label / f"{stem}{suffix}").unlink(missing_ok=True)

    # ------------------------------------------------------------------ training input
    def frame_cache(self, settings: ClipSettings | None = None) -> FrameCache:
        """The whole set as training's FrameCache, from the per-clip arrays (decoding only what is missing).

        The default settings were decoded when each clip arrived; other settings (temporal
        jitter's denser sampling) are decoded now, once per clip, and kept.
        """
        settings = settings or self.settings
        with self._lock:
            classes = [c for c, n in self.counts().items() if n > 0]
            clips = [c for c in self.clips() if c.label in classes]
            frames, skipped = [], []
            kept = []
            for clip in clips:
                path = self._frames_path(settings, clip.label, clip.path.stem)
                if not path.is_file():
                    try:
                        decoded = read_clip(clip.path, settings).frames
                    except VideoError as exc:
                        skipped.append({"path": f"{clip.label}/{clip.name}", "reason": str(exc)})
                        continue
                    path.parent.mkdir(parents=True, exist_ok=True)
                    np.save(path, decoded)
                frames.append(np.load(path))
                kept.append(clip)
        shape = (0, settings.frames, settings.height, settings.width, 3)
        return FrameCache(
            folder=self.folder / "frames" / settings_key(settings),
            frames=np.stack(frames) if frames else np.zeros(shape, np.uint8),
            labels=np.array([classes.index(c.label) for c in kept], dtype=np.int64),
            classes=classes,
            paths=[f"{c.label}/{c.name}" for c in kept],
            groups=[f"{c.label}/g{c.group:02d}" for c in kept],
            settings=settings,
            root=self.data,
            skipped=skipped,
            synthetic=(self.data / "SYNTHETIC.json").is_file(),
        )


def _thumbnail(rgb: np.ndarray) -> np.ndarray:
    import cv2

    h, w = rgb.shape[:2]
    return cv2.resize(rgb, (THUMB_WIDTH, max(1, round(h * THUMB_WIDTH / w))), interpolation=cv2.INTER_AREA)
