"""Where `train` and `import` write a bundle, without ever deleting what they did not write.

    check_output(out, overwrite)   refuse, before any slow work, a folder we must not replace
    new_scratch(out) / Scratch     a sibling folder the new bundle is written into
    publish(scratch, out)          swap it in only once it is complete

Rules: an `--out` that does not exist or is empty is used; an existing bundle
is replaced only with `--overwrite`, and only when every file in it is one the bundle lists (its
manifest's hashed files, the manifest itself, a Hub card, a TFLite export); anything else, and any
folder that is not a bundle, is refused with a sentence and left untouched. The new bundle is
built in `<out>.partial` beside it, so until it is complete the old bundle stays where the app
looks for it; an interrupted `train` keeps that folder (its checkpoints) for `--resume`.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

from har_demo.bundle import MANIFEST_NAME, UNHASHED, BundleError, read_manifest

SCRATCH_MARKER = ".har-demo-scratch"  # in every folder this module creates, so it only ever removes its own
SCRATCH_SUFFIX = ".partial"
EXPORT_FILES = ("tflite/export.json", "tflite/convlstm.tflite", "tflite/lrcn.tflite")  # what `export` adds


class OutputRefused(Exception):
    """An output folder the tool must not write into; the message says why and what to do."""


def _describe(paths: list[str]) -> str:
    shown = ", ".join(paths[:3])
    return shown + (f" and {len(paths) - 3} more" if len(paths) > 3 else "")


def bundle_files(folder: Path) -> set[str] | None:
    """Every file a bundle at `folder` may hold (relative posix paths), or None if it is no bundle."""
    try:
        manifest = read_manifest(folder)
    except BundleError:
        return None
    return {str(name) for name in manifest.files} | UNHASHED | {MANIFEST_NAME} | set(EXPORT_FILES)


def _contents(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if not p.is_dir())


def check_output(out: Path, overwrite: bool = False, flag: str = "--out") -> None:
    """Raise OutputRefused unless a bundle may be written at `out` (nothing is changed here)."""
    out = Path(out)
    resolved = out.resolve()
    cwd = Path.cwd().resolve()
    if resolved == cwd or resolved in cwd.parents or resolved == Path.home().resolve():
        raise OutputRefused(
            f"{flag} {out} is the current folder, your home folder or a folder above them; "
            "name a new folder for the bundle (e.g. runs/bundle)."
        )
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise OutputRefused(f"{flag} {out} is a file or a link, not a folder; name a new folder for the bundle.")
    if not out.exists():
        return
    contents = _contents(out)
    if not contents and not any(out.iterdir()):
        return  # an empty folder: nothing to lose
    allowed = bundle_files(out)
    if allowed is None:
        raise OutputRefused(
            f"{flag} {out} is not empty and is not a har-demo bundle ({_describe(contents) or 'empty folders'}); "
            "nothing was changed: name a new or empty folder."
        )
    unknown = [p for p in contents if p not in allowed]
    if unknown:
        raise OutputRefused(
            f"{flag} {out} is a bundle but also holds files the bundle does not list ({_describe(unknown)}); "
            "nothing was changed: move them out or name another folder."
        )
    if not overwrite:
        raise OutputRefused(
            f"{flag} {out} already holds a bundle; add --overwrite to replace it, or name another folder."
        )


def scratch_path(out: Path) -> Path:
    """The sibling folder a run builds its bundle in (and keeps its checkpoints in until done)."""
    out = Path(out)
    out = out if out.name else out.resolve()  # "." or "..": name the folder itself
    return out.with_name(out.name + SCRATCH_SUFFIX)


def is_scratch(folder: Path) -> bool:
    return (Path(folder) / SCRATCH_MARKER).is_file()


def read_marker(folder: Path) -> dict:
    try:
        return json.loads((Path(folder) / SCRATCH_MARKER).read_text() or "{}")
    except (OSError, json.JSONDecodeError):
        return {}


def write_marker(folder: Path, data: dict) -> None:
    """Atomically (write then rename), so an interrupt never leaves half a marker."""
    target = Path(folder) / SCRATCH_MARKER
    temporary = target.with_name(target.name + ".tmp")
    temporary.write_text(json.dumps(data, indent=1))
    os.replace(temporary, target)


def new_scratch(out: Path, kind: str, named: bool = True) -> Path:
    """Create a fresh scratch folder beside `out` (named `<out>.partial`, or a unique temporary name)."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if named:
        folder = scratch_path(out)
        if folder.exists():
            raise OutputRefused(f"{folder} already exists; it is in the way of the new bundle.")
        folder.mkdir()
    else:
        folder = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=SCRATCH_SUFFIX, dir=out.parent))
    write_marker(folder, {"kind": kind, "out": str(out)})
    return folder


def remove_scratch(folder: Path) -> None:
    """Remove a scratch folder this module created (it carries the marker), and nothing else."""
    folder = Path(folder)
    if not is_scratch(folder):
        raise OutputRefused(f"{folder} was not created by har-demo; it is left as it is.")
    # rmtree is safe here: the marker says har-demo made this folder and everything in it.
    shutil.rmtree(folder)


def _remove_bundle_files(folder: Path, allowed: set[str]) -> bool:
    """Delete the listed bundle files and the folders they leave empty; True if the folder is gone."""
    for relative in _contents(folder):
        if relative in allowed:
            (folder / relative).unlink()
    for directory in sorted((p for p in folder.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)):
        if not any(directory.iterdir()):
            directory.rmdir()
    if not any(folder.iterdir()):
        folder.rmdir()
        return True
    return False


def publish(scratch: Path, out: Path, overwrite: bool = False) -> Path:
    """Swap a complete bundle in `scratch` into `out`; the old bundle (if any) goes only after.

    Checked again here, since a run can last hours and the folder may have changed meanwhile.
    """
    scratch, out = Path(scratch), Path(out)
    try:
        check_output(out, overwrite)
    except OutputRefused as exc:
        raise OutputRefused(f"{exc} The new bundle is kept in {scratch}.") from None
    (scratch / SCRATCH_MARKER).unlink()
    if not out.exists():
        scratch.rename(out)
        return out
    allowed = bundle_files(out)
    if allowed is None:  # an empty folder (check_output refused anything else)
        out.rmdir()
        scratch.rename(out)
        return out
    old = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".old", dir=out.parent))
    old.rmdir()
    out.rename(old)
    scratch.rename(out)
    if not _remove_bundle_files(old, allowed):
        print(f"note: the previous bundle's folder {old} kept files it did not list; they are left there.")
    return out
