"""A video with bytes appended after its container's end: the studio stores only the video.

Real clips (XviD .avi from the tiny set, the shipped VP9 .webm example) with junk appended decode
like the clean files; the studio's copy must end where the container does, decode to the same
frames, and the user's file must be left exactly as it was.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import numpy as np
import pytest

from tests.paths import REPO

JUNK = np.random.default_rng(7).integers(0, 256, 1_500_000, dtype=np.uint8).tobytes()


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(params=["JumpingJack/v_JumpingJack_g01_c01.avi", "webm"])
def clean(request, real_tiny: Path) -> Path:
    return REPO / "examples" / "synthetic_Swing.webm" if request.param == "webm" else real_tiny / request.param


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="the studio cuts a file to its container with ffmpeg")
def test_bytes_after_the_video_are_not_stored(clean: Path, tmp_path: Path) -> None:
    from har_demo.clip import read_clip
    from har_demo.studio.classset import ClassSet

    upload = tmp_path / "upload" / clean.name.replace(".", "_junk.", 1)
    upload.parent.mkdir()
    upload.write_bytes(clean.read_bytes() + JUNK)
    before = _digest(upload)

    studio = ClassSet(tmp_path / "studio")
    studio.add_class("Jumping")
    (info,) = studio.add_video("Jumping", upload).clips
    stored = info.path
    assert stored.suffix == clean.suffix
    assert stored.stat().st_size < clean.stat().st_size + 64 * 1024, "the appended bytes were stored"
    assert JUNK[:4096] not in stored.read_bytes()
    assert np.array_equal(read_clip(stored, studio.settings).frames, read_clip(clean, studio.settings).frames)
    assert _digest(upload) == before  # the user's own file is only read
    assert not [p for p in stored.parent.iterdir() if p.name.startswith(".")], "a scratch file was left behind"
