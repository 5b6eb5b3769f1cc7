"""One ffprobe per example video while the page is built, not one per component that shows it.

Gradio checks that a video is playable in a browser (an ffprobe subprocess) each time a component
shows it as an example: the page showed six clips in three tabs, 18 probes, 9 s of a busy start.
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Iterator


@contextlib.contextmanager
def probe_each_video_once() -> Iterator[None]:
    """Within the block, gradio's playability check answers once per file (same path, size, time)."""
    from gradio import processing_utils

    original = processing_utils.video_is_playable

    @functools.cache
    def probed(path: str, size: int, mtime: float) -> bool:
        return original(path)

    def video_is_playable(video_filepath: str) -> bool:
        try:
            stat = os.stat(video_filepath)
        except OSError:
            return original(video_filepath)
        return probed(str(video_filepath), stat.st_size, stat.st_mtime)

    processing_utils.video_is_playable = video_is_playable
    try:
        yield
    finally:
        processing_utils.video_is_playable = original
