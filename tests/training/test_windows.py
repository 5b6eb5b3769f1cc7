"""Every clip counts: long clips become windows (studio, zips, `har-demo train`), groups stay honest."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest

from har_demo.clip import read_clip
from har_demo.studio.archive import import_zip
from har_demo.studio.classset import ClassSet
from har_demo.studio.errors import ArchiveRefused, ClipRefused
from har_demo.studio.limits import StudioLimits
from har_demo.training.dataset import build_cache, tiny_splits
from har_demo.training.synth import render_clip, write_video
from har_demo.training.windows import source_path, window_count, window_ranges
from tests.paths import REAL_TINY


def synth_clip(path: Path, label: str = "TaiChi", seed: int = 0, seconds: float = 1.0) -> Path:
    frames = render_clip(label, np.random.default_rng(seed), width=96, height=72, seconds=seconds)
    write_video(path, frames)
    return path


@pytest.fixture(scope="module")
def videos(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("videos")
    return {
        "short": synth_clip(folder / "short.avi", "TaiChi", 1, seconds=1.0),
        "long": synth_clip(folder / "my long take.avi", "Swing", 2, seconds=5.0),
        "ucf": synth_clip(folder / "v_Swing_g02_c01.avi", "Swing", 3, seconds=1.0),
        "too long": synth_clip(folder / "marathon.avi", "Swing", 4, seconds=14.0),
    }


def test_window_ranges_cut_a_long_clip_into_equal_non_overlapping_windows():
    assert window_count(10.4, 10.0) == 1 and window_count(10.6, 10.0) == 2 and window_count(300, 10.0, 6) == 6
    assert window_ranges(100, 25.0, 10.0) == [(0, 100)]  # 4 s: one window, the whole clip
    ranges = window_ranges(400, 25.0, 10.0)  # 16 s: two windows of 8 s
    assert ranges == [(0, 200), (200, 400)]
    spread = window_ranges(25 * 100, 25.0, 10.0, max_windows=3)  # 100 s, at most 3: spread over it
    assert len(spread) == 3 and spread[0][0] == 0 and spread[-1][1] == 2500
    assert all(stop - first == 250 for first, stop in spread)


def test_a_long_upload_becomes_several_clips_of_its_group_with_a_note(tmp_path, videos):
    s = ClassSet(tmp_path / "session", StudioLimits(max_clip_seconds=2.0))
    s.add_class("Swing")
    added = s.add_video("Swing", videos["long"], group=3)
    assert len(added.clips) == 3 and {c.group for c in added.clips} == {3}
    assert "my long take.avi is 5.0 s long" in added.note and "3 clips" in added.note
    for clip in added.clips:  # each is a real, playable clip of at most the limit
        assert read_clip(clip.path).duration <= 2.0 + 0.1
    assert s.frame_cache().frames.shape[0] == 3
    with pytest.raises(ClipRefused, match=r"marathon.avi is 14.0 s long"):  # over 6 windows: refused by name
        s.add_video("Swing", videos["too long"], group=3)
    with pytest.raises(ClipRefused):  # add_clip alone still takes only clips up to the limit
        s.add_clip("Swing", videos["long"], group=3)


def test_the_studio_cuts_uploads_at_the_tiny_set_window_under_its_clip_limit(tmp_path, videos):
    from har_demo.training.tiny import TINY_WINDOW_SECONDS

    s = ClassSet(tmp_path / "session")  # the default limit: 10 s clips
    s.add_class("Swing")
    added = s.add_video("Swing", videos["too long"], group=1)  # 14 s
    assert len(added.clips) == window_count(14.0, min(10.0, TINY_WINDOW_SECONDS)) > 1
    assert all(read_clip(c.path).duration <= TINY_WINDOW_SECONDS + 0.1 for c in added.clips)


def test_an_upload_with_a_ucf_name_keeps_its_group_and_number(tmp_path, videos):
    s = ClassSet(tmp_path / "session")
    s.add_class("Swing")
    added = s.add_video("Swing", videos["ucf"], group=1)
    assert [(c.name, c.group) for c in added.clips] == [("v_Swing_g02_c01.avi", 2)]
    assert added.note == "v_Swing_g02_c01.avi keeps group 2 from its name."
    plain = s.add_video("Swing", videos["short"], group=5)
    assert plain.clips[0].group == 5 and plain.note == ""
    assert s.next_group() == 6


def test_a_zip_imports_every_clip_it_can_and_names_the_skipped_ones_by_their_own_names(tmp_path, videos):
    archive = tmp_path / "set.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.write(videos["short"], "Waving/first.avi")
        z.write(videos["long"], "Waving/v_Waving_g02_c03.avi")
        z.writestr("Waving/broken.avi", b"\0" * 4000)
        z.write(videos["too long"], "Clapping/marathon.avi")
        z.write(videos["ucf"], "Clapping/v_Clapping_g03_c02.avi")
    s = ClassSet(tmp_path / "session", StudioLimits(max_clip_seconds=2.0))
    report = import_zip(s, archive)
    assert s.counts() == {"Clapping": 1, "Waving": 4} and report.clips == 5
    assert s.groups() == {"Clapping": [3], "Waving": [2, 3]}  # g02 kept; the plain name: a new group after it
    assert "v_Waving_g02_c03.avi is 5.0 s long" in report.sentence()
    assert sorted(item.split(":")[0] for item in report.skipped) == ["Clapping/marathon.avi", "Waving/broken.avi"]
    text = report.sentence()
    assert "marathon.avi is 14.0 s long" in text and "00" not in text  # never a staging name
    with zipfile.ZipFile(tmp_path / "none.zip", "w") as z:
        z.writestr("Waving/broken.avi", b"\0" * 4000)
    with pytest.raises(ArchiveRefused, match="broken.avi"):
        import_zip(s, tmp_path / "none.zip")
    assert s.counts() == {"Clapping": 1, "Waving": 4}  # a refused zip changes nothing


def test_har_demo_train_caches_a_long_clip_as_windows_of_its_group(tmp_path, videos):
    root = tmp_path / "data"
    for label, clip_name, key in (
        ("Swing", "v_Swing_g01_c01.avi", "long"),
        ("Swing", "v_Swing_g01_c02.avi", "short"),
        ("Swing", "v_Swing_g02_c01.avi", "short"),
        ("TaiChi", "v_TaiChi_g01_c01.avi", "short"),
    ):
        (root / label).mkdir(parents=True, exist_ok=True)
        (root / label / clip_name).write_bytes(videos[key].read_bytes())
    cache = build_cache(
        root, None, None, tmp_path / "cache", 1, progress=False, log=lambda *_: None, window_seconds=2.0
    )
    assert cache.paths[:3] == [
        "Swing/v_Swing_g01_c01#w1.avi",
        "Swing/v_Swing_g01_c01#w2.avi",
        "Swing/v_Swing_g01_c01#w3.avi",
    ]
    assert cache.groups[:3] == ["Swing/g01"] * 3 and cache.frames.shape[0] == 6
    assert not np.array_equal(cache.frames[0], cache.frames[1])  # different moments of the clip
    whole = build_cache(root, None, None, tmp_path / "cache", 1, progress=False, log=lambda *_: None, window_seconds=0)
    assert whole.frames.shape[0] == 4  # 0: one squeezed clip, as before


def test_the_tiny_split_keeps_the_windows_of_one_clip_on_one_side():
    paths = ["A/a1#w1.avi", "A/a1#w2.avi", "A/a2.avi", "A/a3#w1.avi", "A/a3#w2.avi", "B/b1.avi", "B/b2.avi"]
    labels = ["A"] * 5 + ["B"] * 2
    groups = ["A/g01"] * 5 + ["B/g01", "B/g02"]
    splits = tiny_splits(groups, labels, paths, 0.25, 27)
    held = {paths[i] for i in splits.test}
    assert {"A/a3#w1.avi", "A/a3#w2.avi"} <= held and not {"A/a1#w1.avi", "A/a1#w2.avi"} & held
    assert {source_path(p) for p in held} & {source_path(paths[i]) for i in splits.train} == set()


@pytest.mark.skipif(not REAL_TINY.is_dir(), reason="../shared/data/real_tiny is not here")
def test_real_tiny_uses_all_42_clips_and_its_long_ones_as_windows(tmp_path):
    cache = build_cache(
        REAL_TINY, None, None, tmp_path / "cache", 2, progress=False, log=lambda *_: None, window_seconds=10.0
    )
    sources = {source_path(p) for p in cache.paths}
    assert len(sources) == 42 and len(cache.paths) > 42
    assert sum("#w" in p for p in cache.paths) >= 2 * 7  # the seven JumpRope clips over 10 s among them


def test_only_tiny_runs_cut_long_clips():
    from har_demo.split_kinds import window_seconds
    from har_demo.training.tiny import TINY_WINDOW_SECONDS

    assert window_seconds("tiny") == TINY_WINDOW_SECONDS > 0
    assert window_seconds("random") == window_seconds("group") == 0.0  # the report's splits count whole clips


@pytest.mark.slow
def test_har_demo_train_on_a_tiny_set_trains_on_the_windows_of_a_long_clip(tmp_path):
    import json

    from har_demo.cli import main
    from har_demo.training.tiny import TINY_WINDOW_SECONDS

    root = tmp_path / "data"
    rng = np.random.default_rng(8)
    for label in ("Swing", "TaiChi"):
        for group in (1, 2):
            for clip in (1, 2):
                seconds = 12.0 if (label, group, clip) == ("Swing", 1, 1) else 1.0
                path = root / label / f"v_{label}_g{group:02d}_c{clip:02d}.avi"
                path.parent.mkdir(parents=True, exist_ok=True)
                write_video(path, render_clip(label, rng, width=96, height=72, seconds=seconds))
    out = tmp_path / "bundle"
    args = [
        "train", str(root), "--classes", "all", "--models", "lrcn", "--epochs", "1",
        "--cache-dir", str(tmp_path / "cache"), "--out", str(out), "--init-from", "none",
    ]  # fmt: skip
    assert main(args) == 0
    split = json.loads((out / "report.json").read_text())["split"]
    windows = window_count(12.0, TINY_WINDOW_SECONDS)
    assert windows > 1 and split["kind"] == "tiny" and split["train_clips"] + split["test_clips"] == 7 + windows
