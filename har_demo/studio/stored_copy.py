"""The studio's own copy of a video: what the container holds, never the bytes after its end.

A file with junk appended decodes like the clean one (a decoder stops where the container ends),
so a byte-for-byte copy would keep the junk in the session's folder, its zip and the training
data. ffmpeg's stream copy (`-c copy`) rewrites the container to its real length without
re-encoding; the copy is then decoded and must give the very frames the original gave, else the
clip is refused. The user's file is only read. Without ffmpeg the bytes are copied as they are.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np

from har_demo.clip import Clip, VideoError, read_clip
from har_demo.studio.errors import ClipRefused

REMUX_SECONDS = 60  # a stream copy of a clip-sized file takes well under a second


def _refused(name: str, why: str) -> ClipRefused:
    return ClipRefused(f"{name} could not be stored as it decoded ({why}); save it as mp4 or webm and try again.")


def store_copy(source: Path, target: Path, clip: Clip, name: str | None = None) -> None:
    """Write `source`'s container, cut to its real length, at `target`; `clip` is how `source` decoded."""
    source, target, name = Path(source), Path(target), name or Path(source).name
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        shutil.copyfile(source, target)
        return
    scratch = target.with_name(f".{target.name}.partial{target.suffix}")
    command = [ffmpeg, "-v", "error", "-nostdin", "-y", "-i", str(source)]
    command += ["-map", "0:v:0", "-map", "0:a?", "-c", "copy", str(scratch)]
    try:
        try:
            done = subprocess.run(command, capture_output=True, timeout=REMUX_SECONDS, check=False)
        except subprocess.TimeoutExpired:
            raise _refused(name, f"copying its streams took over {REMUX_SECONDS} s") from None
        if done.returncode != 0 or not scratch.is_file():
            raise _refused(name, "ffmpeg could not copy its streams")
        try:
            again = read_clip(scratch, clip.settings, max_frames=max(clip.frame_count, 1))
        except VideoError:
            raise _refused(name, "the copy did not decode") from None
        if again.frame_count != clip.frame_count or not np.array_equal(again.frames, clip.frames):
            raise _refused(name, "the copy decoded to other frames")
        os.replace(scratch, target)
    finally:
        scratch.unlink(missing_ok=True)
