"""Files the app makes for the browser: temporary folders, images, playable previews, codec checks.

`TempFiles` is the app's one temporary folder (`/tmp/har-demo-<pid>-*`): one sub-folder per
request, written once and never rewritten, so a response can never stream a file that another
request is overwriting (Gradio copies each returned file into its cache by content hash, with an
atomic rename). Folders are bounded in number and age, removed at exit and on SIGTERM
(`remove_all`), and folders left by processes that died are removed when the next app starts.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np

from har_demo.owner import alive, owner_record

PREFIX = "har-demo-"
OWNER_FILE = ".har-demo-owner"  # marks a folder as this app's, with the pid that owns it
KEEP = "keep"  # copies made once and kept for the app's lifetime (the misclassified strips)

_LIVE: list[TempFiles] = []


def clean_stale_folders(parent: Path | None = None) -> list[Path]:
    """Remove the temp folders of app processes that are gone (killed, crashed); returns them.

    Only folders carrying this app's owner file are touched: nothing the app did not write.
    """
    parent = Path(parent or tempfile.gettempdir())
    removed = []
    for folder in parent.glob(f"{PREFIX}*"):
        try:
            owner = json.loads((folder / OWNER_FILE).read_text())
            pid, started = int(owner["pid"]), owner.get("started")
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if pid != os.getpid() and not alive(pid, started):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def remove_all() -> None:
    """Remove every live TempFiles folder of this process (for SIGTERM, where atexit does not run)."""
    for temp in list(_LIVE):
        temp.remove()


class TempFiles:
    """The app's own temporary files: per-request images, timeline exports, browser previews.

    One folder per app, one sub-folder per request. Whenever a new one is made, sub-folders older
    than `max_age_s` are removed, and the oldest beyond `max_folders`. (Gradio's own upload cache
    is cleaned by `gr.Blocks(delete_cache=...)`.)
    """

    PREVIEW = re.compile(r"\.preview-(?P<token>[0-9a-f]{12})\.mp4$")
    PREVIEW_SECONDS = 60  # a preview shows what was uploaded; it need not be all of a long video

    def __init__(self, root: Path | None = None, max_age_s: float = 3600.0, max_folders: int = 256) -> None:
        if root is None:
            clean_stale_folders()
            root = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-"))
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / OWNER_FILE).write_text(owner_record())
        self.max_age_s = max_age_s
        self.max_folders = max_folders
        self._originals: dict[str, Path] = {}
        _LIVE.append(self)
        atexit.register(self.remove)

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
        if self in _LIVE:
            _LIVE.remove(self)

    def _request_folders(self) -> list[Path]:
        try:
            return [c for c in self.root.iterdir() if c.is_dir() and c.name != KEEP]
        except OSError:
            return []

    def prune(self) -> None:
        cutoff = time.time() - self.max_age_s
        aged = []
        for child in self._request_folders():
            try:
                mtime = child.stat().st_mtime
            except OSError:
                continue
            if mtime < cutoff:
                shutil.rmtree(child, ignore_errors=True)
            else:
                aged.append((mtime, child))
        aged.sort()
        for _, child in aged[: max(0, len(aged) - self.max_folders + 1)]:  # room for the one being made
            shutil.rmtree(child, ignore_errors=True)

    def new_folder(self) -> Path:
        self.prune()
        folder = self.root / uuid.uuid4().hex[:12]
        folder.mkdir(parents=True)
        return folder

    def write(self, stem: str, files: dict[str, str]) -> list[Path]:
        """Write text files `stem + suffix` into a new request folder; returns their paths."""
        folder = self.new_folder()
        paths = []
        for suffix, text in files.items():
            path = folder / f"{stem}{suffix}"
            path.write_text(text)
            paths.append(path)
        return paths

    def write_images(self, images: list[tuple[np.ndarray, str]], stem: str = "frame") -> list[tuple[Path, str]]:
        """RGB images (with captions) as PNG files in a new request folder: (path, caption) pairs."""
        import cv2

        folder = self.new_folder()
        items = []
        for i, (image, caption) in enumerate(images):
            path = folder / f"{stem}_{i:03d}.png"
            if not cv2.imwrite(str(path), np.ascontiguousarray(image[..., ::-1])):
                raise OSError(f"could not write {path}")
            items.append((path, caption))
        return items

    def kept_copy(self, path: Path) -> Path:
        """A copy of `path` under this folder, made once and kept while the app runs: the page
        serves it instead of the original, so no folder of the bundle is ever published."""
        path = Path(path)
        key = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:16]
        target = self.root / KEEP / key / path.name
        if not target.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            staging = target.with_name(f".{uuid.uuid4().hex}{target.suffix}")
            shutil.copyfile(path, staging)
            os.replace(staging, target)
        return target

    def preview(self, path, timeout_s: float = 120.0) -> Path | None:
        """An H.264 mp4 copy every browser can play, for uploads some cannot: XVID .avi and mp4v
        in any browser, WebM (webcam recordings) in Safari and on iOS. At most 640 px wide and the
        first PREVIEW_SECONDS, so it stays cheap on a small CPU.

        None when the file is already H.264 mp4, or when ffmpeg is missing or fails (the
        page then shows the player's own message; the analysis is unaffected). The models never
        see the preview: `original_of` maps it back to the upload.
        """
        if path is None or plays_everywhere(path) or shutil.which("ffmpeg") is None:
            return None
        token = uuid.uuid4().hex[:12]
        out = self.new_folder() / f"{Path(path).stem}.preview-{token}.mp4"
        command = [
            "ffmpeg",
            "-v",
            "error",
            "-y",
            "-i",
            str(path),
            "-map",
            "0:v:0",
            "-t",
            str(self.PREVIEW_SECONDS),
            "-vf",
            "scale=trunc(min(iw\\,640)/2)*2:-2",
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-crf",
            "23",
            "-pix_fmt",
            "yuv420p",
            "-movflags",
            "+faststart",
            "-an",
            str(out),
        ]
        try:
            subprocess.run(command, check=True, timeout=timeout_s, capture_output=True)
        except (subprocess.SubprocessError, OSError):
            return None
        self._originals[token] = Path(path)
        return out

    def original_of(self, path):
        """The upload a preview was made from (the models analyse the original, never the copy)."""
        if path is None:
            return None
        match = self.PREVIEW.search(Path(path).name)
        if match:
            original = self._originals.get(match["token"])
            if original is not None and original.is_file():
                return original
        return path


# --------------------------------------------------------------------------- codecs
# Browser-playable (container, codec) pairs, as ffprobe names them.
PLAYABLE = {
    (".mp4", "h264"),
    (".mp4", "av1"),
    (".m4v", "h264"),
    (".webm", "vp8"),
    (".webm", "vp9"),
    (".webm", "av1"),
    (".ogg", "theora"),
    (".ogv", "theora"),
}


# What Safari and iOS play as well as Chromium and Firefox: the page's players get these only.
PLAYS_EVERYWHERE = {(".mp4", "h264"), (".m4v", "h264")}


def video_codec(path) -> str | None:
    """The first video stream's codec name by ffprobe (None without ffprobe or a video stream)."""
    if shutil.which("ffprobe") is None:
        return None
    try:
        out = subprocess.run(
            [
                "ffprobe",
                "-v",
                "error",
                "-select_streams",
                "v:0",
                "-show_entries",
                "stream=codec_name",
                "-of",
                "csv=p=0",
                str(path),
            ],
            capture_output=True,
            text=True,
            timeout=20,
        )
    except (subprocess.SubprocessError, OSError):
        return None
    codec = out.stdout.strip().splitlines()[0].strip(",") if out.stdout.strip() else ""
    return codec or None


def browser_playable(path) -> bool:
    """True when browsers play this file as it is (or when it cannot be told: no ffprobe)."""
    codec = video_codec(path)
    if codec is None:
        return True
    return (Path(path).suffix.lower(), codec) in PLAYABLE


def plays_everywhere(path) -> bool:
    """True for H.264 mp4 (or when it cannot be told: no ffprobe)."""
    codec = video_codec(path)
    return codec is None or (Path(path).suffix.lower(), codec) in PLAYS_EVERYWHERE
