"""The class set as a zip, out and back in.

Export writes `<Class>/v_<Class>_gXX_cYY.<ext>` entries (the UCF layout `har-demo train` reads).
Import takes such a zip, or one with a single top folder around the class folders, and refuses,
with a sentence and without changing anything, a zip that:

- is not a zip, or is bigger than the upload limit;
- has an entry outside its folder (absolute, `..`, a drive letter: zip-slip) or a symlink;
- has more entries, or more uncompressed bytes, than the limits allow (zip bombs);
- has files other than videos (a few harmless extras such as __MACOSX/ are skipped);
- has a class name that cannot be a folder, too many classes or clips;
- has no video that decodes.

A video that does not decode, or is too long even to cut into clips, is skipped and named (by its
name in the zip); the others are imported. A video longer than a clip becomes several clips
(ClassSet.add_video). The zip is unpacked into a staging class set next to the session's, every
clip validated the same way as an upload, and only then swapped in.
"""

from __future__ import annotations

import re
import shutil
import stat
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from har_demo.studio.classset import CLASS_NAME, SET_FOLDER, ClassSet, ucf_group
from har_demo.studio.errors import ArchiveRefused, StudioError
from har_demo.training.dataset import CLIP_NAME, VIDEO_EXTENSIONS

SKIPPED_NAMES = {".DS_Store", "Thumbs.db", "SYNTHETIC.json", "README.md", "README.txt"}
SKIPPED_FOLDERS = {"__MACOSX"}
UNSAFE_NAME_CHARACTERS = re.compile(r"[^A-Za-z0-9._-]")


@dataclass
class ImportReport:
    """What an import did: clips imported, videos skipped ("<Class>/<name>: why"), notes on long videos."""

    clips: int = 0
    skipped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def sentence(self) -> str:
        """The page's message, in Markdown."""
        lines = [f"Imported {self.clips} clip{'s' if self.clips != 1 else ''} from the zip."]
        lines += self.notes
        if self.skipped:
            lines.append(f"Skipped {len(self.skipped)}: " + "; ".join(self.skipped))
        return "  \n".join(lines)


def export_zip(class_set: ClassSet, out: Path) -> Path:
    """Write the set's videos to `out` (stored, not deflated: videos do not compress)."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as archive:
        for clip in class_set.clips():
            archive.write(clip.path, f"{clip.label}/{clip.name}")
    return out


def _entry_parts(info: zipfile.ZipInfo) -> tuple[str, ...]:
    name = info.filename
    if "\\" in name or name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        raise ArchiveRefused(f"The zip has an entry outside its folder ({name!r}); nothing was imported.")
    parts = PurePosixPath(name).parts
    if any(p in ("..", "") for p in parts):
        raise ArchiveRefused(f"The zip has an entry outside its folder ({name!r}); nothing was imported.")
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        raise ArchiveRefused(f"The zip holds a symbolic link ({name!r}); nothing was imported.")
    return parts


def _planned_entries(archive: zipfile.ZipFile, class_set: ClassSet) -> list[tuple[zipfile.ZipInfo, str, str]]:
    """(entry, class, file name) for every video, after every check that needs no decoding."""
    limits = class_set.limits
    infos = archive.infolist()
    if len(infos) > limits.max_clips + limits.max_classes + 64:
        raise ArchiveRefused(
            f"The zip has {len(infos)} entries; a class set here has at most {limits.max_clips} clips."
        )
    total = sum(i.file_size for i in infos)
    if total > limits.max_upload_bytes:
        raise ArchiveRefused(f"The zip unpacks to {total / 2**20:.0f} MB; the limit is {limits.max_upload_mb:g} MB.")
    files = []
    for info in infos:
        parts = _entry_parts(info)
        if info.is_dir() or parts[-1] in SKIPPED_NAMES or parts[0] in SKIPPED_FOLDERS or parts[-1].startswith("._"):
            continue
        files.append((info, parts))
    if not files:
        raise ArchiveRefused("The zip has no video files.")
    tops = {parts[0] for _, parts in files}
    strip = 1 if len(tops) == 1 and all(len(parts) == 3 for _, parts in files) else 0
    planned = []
    for info, parts in files:
        inner = parts[strip:]
        if len(inner) != 2:
            raise ArchiveRefused(
                f"{info.filename} is not in a class folder: the zip must hold <Class>/<clip> "
                "(optionally inside one top folder)."
            )
        label, name = inner
        if not CLASS_NAME.match(label):
            raise ArchiveRefused(f"{label!r} in the zip cannot be a class name (letters and digits, a letter first).")
        if PurePosixPath(name).suffix.lower() not in VIDEO_EXTENSIONS:
            raise ArchiveRefused(f"{info.filename} is not a video file; the zip may hold only videos.")
        planned.append((info, label, name))
    labels = sorted({label for _, label, _ in planned})
    if len(labels) > limits.max_classes:
        raise ArchiveRefused(f"The zip has {len(labels)} classes; this studio allows at most {limits.max_classes}.")
    for label in labels:
        count = sum(1 for _, l, _ in planned if l == label)
        if count > limits.max_clips_per_class:
            raise ArchiveRefused(
                f"{label} has {count} clips in the zip; this studio allows {limits.max_clips_per_class} per class."
            )
    return planned


def import_zip(class_set: ClassSet, zip_path: Path) -> ImportReport:
    """Replace the set's clips with the zip's, or raise ArchiveRefused and leave the set as it was.

    Clip names that follow v_<Class>_gXX_cYY keep their group (and clip number); the other videos
    of a class folder together make one new group after those, as one upload does.
    """
    zip_path = Path(zip_path)
    if not zip_path.is_file() or not zipfile.is_zipfile(zip_path):
        raise ArchiveRefused(f"{zip_path.name} is not a zip file.")
    if zip_path.stat().st_size > class_set.limits.max_upload_bytes:
        raise ArchiveRefused(f"{zip_path.name} is larger than {class_set.limits.max_upload_mb:g} MB.")
    staging = Path(tempfile.mkdtemp(prefix=".import-", dir=class_set.folder))
    try:
        staged = ClassSet(staging, class_set.limits, class_set.settings)
        report = ImportReport()
        with zipfile.ZipFile(zip_path) as archive:
            planned = _planned_entries(archive, class_set)
            unpacked = staging / "unpacked"
            named_groups = {
                (label, int(m["group"]))
                for _, label, name in planned
                if (m := CLIP_NAME.match(PurePosixPath(name).stem)) and 1 <= int(m["group"]) <= 99
            }
            for index, (info, label, name) in enumerate(planned):
                staged.add_class(label)
                unnamed = 1 + max((g for l, g in named_groups if l == label), default=0)
                # the entry keeps its own name (what the teacher knows it by), made safe for a file name
                source = unpacked / f"{index:05d}" / UNSAFE_NAME_CHARACTERS.sub("_", name)[-120:]
                source.parent.mkdir(parents=True, exist_ok=True)
                _extract_capped(archive, info, source, class_set.limits.max_upload_bytes)
                try:
                    group = ucf_group(name) or min(unnamed, 99)
                    added = staged.add_video(label, source, group, name=name)
                    report.clips += len(added.clips)
                    if added.note:
                        report.notes.append(f"{label}/{added.note}")
                except StudioError as exc:
                    report.skipped.append(f"{label}/{name}: {exc}")
                shutil.rmtree(source.parent, ignore_errors=True)
            shutil.rmtree(unpacked, ignore_errors=True)
        if report.clips == 0:
            raise ArchiveRefused("No video in the zip could be imported: " + "; ".join(report.skipped))
        _swap_in(class_set, staged)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return report


def _extract_capped(archive: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, limit: int) -> None:
    """Copy one entry out, never writing more than `limit` bytes whatever its header claims."""
    written = 0
    with archive.open(info) as src, open(target, "wb") as dst:
        while chunk := src.read(1 << 20):
            written += len(chunk)
            if written > limit:
                raise ArchiveRefused(f"{info.filename} unpacks to more than the upload limit.")
            dst.write(chunk)


def _swap_in(class_set: ClassSet, staged: ClassSet) -> None:
    """Move the staged set's folders over the session's (same file system, so renames)."""
    for part in (SET_FOLDER, "frames", "thumbs"):
        old = class_set.folder / part
        backup = class_set.folder / f".{part}.old"
        if old.exists():
            old.rename(backup)
        new = staged.folder / part
        if new.exists():
            new.rename(old)
        else:
            old.mkdir()
        shutil.rmtree(backup, ignore_errors=True)
