"""Dataset folders, splits and the frame cache, on real video files."""

from __future__ import annotations

import json

import numpy as np
import pytest

from har_demo.clip import ClipSettings, read_clip
from har_demo.training.dataset import (
    DatasetError,
    build_cache,
    check_splits,
    make_splits,
    parse_classes,
    scan_dataset,
)
from har_demo.training.synth import write_synthetic_dataset


@pytest.fixture(scope="module")
def synth_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("synth") / "SynthUCF"
    write_synthetic_dataset(root, clips_per_class=4, groups_per_class=2, seed=3, workers=1, progress=False)
    return root


def test_scan_reads_layout_classes_and_groups(synth_root):
    records = scan_dataset(synth_root, parse_classes("report"))
    assert len(records) == 16
    assert {r.label for r in records} == {"WalkingWithDog", "TaiChi", "Swing", "HorseRace"}
    assert {r.group for r in records if r.label == "Swing"} == {"Swing/g01", "Swing/g02"}
    assert len(scan_dataset(synth_root, ["TaiChi", "Swing"])) == 8
    assert len(scan_dataset(synth_root, parse_classes("all"))) == 16
    with pytest.raises(ValueError, match="Basketball.*not found"):
        scan_dataset(synth_root, ["Basketball"])


def test_an_empty_class_folder_is_refused_by_name(synth_root, tmp_path):
    empty = synth_root / "EmptyClass"
    empty.mkdir()
    try:
        with pytest.raises(DatasetError, match=r"EmptyClass in .* hold no video files.*--classes TaiChi\)"):
            scan_dataset(synth_root, ["TaiChi", "EmptyClass"])
        with pytest.raises(DatasetError, match="EmptyClass"):
            scan_dataset(synth_root, parse_classes("all"))  # not dropped silently
    finally:
        empty.rmdir()


def _labels(counts: dict[str, int]) -> tuple[list[str], list[str]]:
    """Labels and UCF groups: clip i of a class is in group i % 3 (like a studio's sessions)."""
    labels = [c for c, n in counts.items() for _ in range(n)]
    groups = [f"{c}/g{i % 3:02d}" for c, n in counts.items() for i in range(n)]
    return labels, groups


def test_splits_too_small_to_train_validate_or_test_are_refused_with_counts():
    labels, groups = _labels({"TaiChi": 2, "EmptyClass": 0})
    with pytest.raises(DatasetError, match="EmptyClass have no readable clips"):
        check_splits(make_splits(groups, labels), labels, ["TaiChi", "EmptyClass"])
    with pytest.raises(DatasetError, match="at least two classes"):
        check_splits(make_splits(groups, labels), labels, ["TaiChi"])
    labels, groups = _labels({"TaiChi": 1, "Swing": 1})
    with pytest.raises(DatasetError, match="too small") as refused:
        check_splits(make_splits(groups, labels), labels, ["TaiChi", "Swing"])
    message = str(refused.value)
    assert "no training clip of TaiChi; no validation clip" in message, message
    assert "Train 1 (TaiChi 0, Swing 1), validation 0 (TaiChi 0, Swing 0), test 1 (TaiChi 1, Swing 0)" in message
    labels, groups = _labels({"TaiChi": 2, "Swing": 2})
    with pytest.raises(DatasetError, match="no validation clip"):  # 2 groups: one tested, none left to validate
        check_splits(make_splits(groups, labels, "group", 0.25, 0.2), labels, ["TaiChi", "Swing"])


def test_a_handful_of_clips_per_class_is_enough():
    """4 classes x 10 clips (a studio's tiny real set) pass, by random and by group split."""
    classes = ["A", "B", "C", "D"]
    labels, groups = _labels(dict.fromkeys(classes, 10))
    for kind in ("random", "group"):
        splits = make_splits(groups, labels, kind, 0.25, 0.2, 27)
        check_splits(splits, labels, classes)
    for kind in ("random", "group"):
        no_validation = make_splits(groups, labels, kind, 0.25, 0.0, 27)
        assert len(no_validation.val) == 0 and len(no_validation.train) + len(no_validation.test) == 40
        check_splits(no_validation, labels, classes)  # asked for no validation: none needed


def test_random_split_matches_the_tutorial_and_keras_validation_split():
    labels = [str(i % 4) for i in range(100)]
    splits = make_splits([f"g{i}" for i in range(100)], labels, "random", 0.25, 0.2, 27)
    assert (len(splits.train), len(splits.val), len(splits.test)) == (60, 15, 25)
    # sklearn's ShuffleSplit: the first ceil(25%) of RandomState(27).permutation are the test set
    assert set(splits.test) == set(np.random.RandomState(27).permutation(100)[:25])
    assert not set(splits.train) & set(splits.test) and not set(splits.val) & set(splits.test)


def test_group_split_keeps_every_group_on_one_side():
    groups = [f"{c}/g{g:02d}" for c in "ABCD" for g in range(1, 26) for _ in range(4)]
    labels = [g.split("/")[0] for g in groups]
    splits = make_splits(groups, labels, "group", 0.25, 0.2, 27)
    sides = [set(groups[i] for i in part) for part in (splits.train, splits.val, splits.test)]
    assert not sides[0] & sides[1] and not sides[0] & sides[2] and not sides[1] & sides[2]
    assert len(sides[2]) == 4 * 7  # ceil(25% of 25 groups) per class
    assert all(len(part) for part in (splits.train, splits.val, splits.test))
    again = make_splits(groups, labels, "group", 0.25, 0.2, 27)
    np.testing.assert_array_equal(again.test, splits.test)


def test_cache_is_uint8_memory_mapped_reused_and_names_skipped_files(synth_root, tmp_path):
    broken = synth_root / "TaiChi" / "v_TaiChi_g09_c01.avi"
    broken.write_bytes(b"\x00" * 1000)
    try:
        messages = []
        cache = build_cache(synth_root, None, ClipSettings(), tmp_path, workers=2, progress=False, log=messages.append)
        assert isinstance(cache.frames, np.memmap) and cache.frames.dtype == np.uint8
        assert cache.frames.shape == (16, 20, 64, 64, 3) and cache.synthetic
        assert [s["path"] for s in cache.skipped] == ["TaiChi/v_TaiChi_g09_c01.avi"]
        assert any("v_TaiChi_g09_c01.avi" in m for m in messages)
        # row i is clip i, decoded by the same pipeline the app serves with
        row = cache.paths.index("Swing/v_Swing_g02_c02.avi")
        np.testing.assert_array_equal(cache.frames[row], read_clip(synth_root / cache.paths[row]).frames)

        again = build_cache(synth_root, None, ClipSettings(), tmp_path, workers=1, progress=False, log=messages.append)
        assert again.reused and again.folder == cache.folder
        other = build_cache(
            synth_root, None, ClipSettings(frames=10), tmp_path, workers=1, progress=False, log=messages.append
        )
        assert not other.reused and other.frames.shape[1] == 10
    finally:
        broken.unlink()
    assert not build_cache(
        synth_root, None, ClipSettings(), tmp_path, workers=1, progress=False, log=messages.append
    ).reused


def test_build_cli_subprocess(synth_root, tmp_path):
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "har_demo", "build", str(synth_root), "--cache-dir", str(tmp_path), "--workers", "2"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert "16 clips, 4 classes" in result.stdout
    meta = json.loads(next(tmp_path.glob("*/meta.json")).read_text())
    assert meta["synthetic"] is True and len(meta["paths"]) == 16
