"""Training-time augmentation: seeded, per clip, switchable, training split only, recorded in the bundle."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from har_demo.clip import ClipSettings, read_clip, to_model_input
from har_demo.training.augment import (
    AugmentConfig,
    augment_batch,
    augment_clip,
    dense_frames,
    eval_indices,
    jitter_indices,
)
from har_demo.training.dataset import FrameCache
from har_demo.training.synth import write_synthetic_dataset


def clips(n: int = 6, t: int = 5, h: int = 32, w: int = 40, seed: int = 0) -> np.ndarray:
    frames = np.random.default_rng(seed).integers(0, 256, (n, t, h, w, 3), dtype=np.uint8)
    frames.flags.writeable = False  # like the memory-mapped cache
    return frames


def test_parse_names_and_records():
    assert not AugmentConfig.parse("none").any and AugmentConfig.parse(None).describe() == "none"
    assert AugmentConfig.parse("all").enabled == ["crop", "flip", "jitter", "color"]
    config = AugmentConfig.parse("flip, crop", crop_min=0.7)
    assert config.enabled == ["crop", "flip"] and config.crop_min == 0.7
    assert AugmentConfig.from_dict(config.to_dict() | {"unknown": 1}) == config
    with pytest.raises(ValueError, match="unknown augmentation"):
        AugmentConfig.parse("crop,rotate")
    with pytest.raises(ValueError):
        AugmentConfig(crop_min=0.0)


def test_batches_are_seeded_per_epoch_and_batch_and_leave_the_input_alone():
    frames = clips()
    before = frames.copy()
    config = AugmentConfig.parse("crop,flip,color")
    a = augment_batch(frames, config, seed=27, epoch=0, batch=3)
    assert a.dtype == np.uint8 and a.shape == frames.shape
    np.testing.assert_array_equal(a, augment_batch(frames, config, seed=27, epoch=0, batch=3))
    assert not np.array_equal(a, augment_batch(frames, config, seed=27, epoch=1, batch=3))
    assert not np.array_equal(a, augment_batch(frames, config, seed=28, epoch=0, batch=3))
    np.testing.assert_array_equal(frames, before)
    assert augment_batch(frames, AugmentConfig(), 27, 0, 0) is frames  # nothing on: untouched


def test_flip_mirrors_whole_clips_about_half_the_time():
    frames = clips(n=200, t=3, h=8, w=8)
    out = augment_batch(frames, AugmentConfig(flip=True), 27, 0, 0)
    flipped = np.array([np.array_equal(o, f[:, :, ::-1]) for o, f in zip(out, frames)])
    kept = np.array([np.array_equal(o, f) for o, f in zip(out, frames)])
    assert np.all(flipped ^ kept) and 70 < flipped.sum() < 130


def test_crop_zooms_one_window_for_all_frames_of_a_clip():
    # a clip whose frames are all the same: the crop must be the same window in each frame
    frame = np.random.default_rng(3).integers(0, 256, (48, 64, 3), dtype=np.uint8)
    clip = np.repeat(frame[None], 6, axis=0)
    out = augment_clip(clip, np.random.default_rng(5), AugmentConfig(crop=True, crop_min=0.6))
    assert out.shape == clip.shape and not np.array_equal(out, clip)
    assert all(np.array_equal(out[0], f) for f in out[1:])
    flat = np.full((4, 16, 16, 3), 77, np.uint8)  # a flat image stays flat
    assert np.all(augment_clip(flat, np.random.default_rng(1), AugmentConfig(crop=True)) == 77)


def test_colour_changes_brightness_and_contrast_within_bounds():
    frames = clips(n=50, t=2, h=8, w=8)
    config = AugmentConfig(color=True, brightness=0.1, contrast=0.2)
    out = augment_batch(frames, config, 27, 0, 0)
    shift = out.reshape(50, -1).astype(float).mean(1) - frames.reshape(50, -1).astype(float).mean(1)
    assert np.all(np.abs(shift) <= 0.1 * 255 + 1) and np.std(shift) > 3


def test_switching_one_off_does_not_change_the_others():
    frames = clips(n=20)
    flip_only = augment_batch(frames, AugmentConfig(flip=True), 27, 2, 1)
    with_identity_crop = augment_batch(frames, AugmentConfig(flip=True, crop=True, crop_min=1.0), 27, 2, 1)
    np.testing.assert_array_equal(flip_only, with_identity_crop)


def test_jitter_positions_and_the_exact_evaluation_positions():
    assert dense_frames(20, 3) == 58
    rng = np.random.default_rng(0)
    seen_strides, seen_starts = set(), set()
    for _ in range(300):
        positions = jitter_indices(rng, 20, 3)
        steps = np.diff(positions)
        assert len(positions) == 20 and positions[0] >= 0 and positions[-1] < 58
        assert len(set(steps)) == 1 and steps[0] in (2, 3)
        seen_strides.add(int(steps[0]))
        seen_starts.add(int(positions[0]))
    assert seen_strides == {2, 3} and len(seen_starts) > 10
    np.testing.assert_array_equal(eval_indices(20, 3), np.arange(0, 58, 3))


def test_the_dense_sampling_contains_the_uniform_evaluation_frames(tmp_path):
    root = tmp_path / "one"
    write_synthetic_dataset(root, 1, classes=["TaiChi"], workers=1, progress=False)
    clip = next(root.glob("TaiChi/*.avi"))
    dense = read_clip(clip, ClipSettings(frames=dense_frames(20, 3), sampling="uniform"))
    assert dense.frame_count >= 58  # 2.4 s or more at 25 fps
    usual = read_clip(clip, ClipSettings(frames=20, sampling="uniform"))
    np.testing.assert_array_equal(dense.frames[eval_indices(20, 3)], usual.frames)
    assert [dense.indices[i] for i in eval_indices(20, 3)] == usual.indices


def fake_cache(n: int = 10, t: int = 4) -> FrameCache:
    frames = np.random.default_rng(0).integers(0, 256, (n, t, 16, 16, 3), dtype=np.uint8)
    return FrameCache(
        folder=Path("."),
        frames=frames,
        labels=np.arange(n) % 3,
        classes=["a", "b", "c"],
        paths=[f"c/v_c_g01_c{i:02d}.avi" for i in range(n)],
        groups=["c/g01"] * n,
        settings=ClipSettings(frames=t, height=16, width=16),
        root=Path("."),
    )


def test_make_batches_default_is_unchanged_and_augmentation_is_opt_in():
    from har_demo.training.batches import make_batches

    cache = fake_cache()
    plain = make_batches(cache, np.arange(10), 4, False, 27)
    x, y = plain[0]
    np.testing.assert_array_equal(x, to_model_input(cache.frames[:4], cache.settings))
    np.testing.assert_array_equal(y.argmax(1), cache.labels[:4])
    augmented = make_batches(cache, np.arange(10), 4, False, 27, AugmentConfig(flip=True, color=True))
    xa, ya = augmented[0]
    assert xa.shape == x.shape and not np.array_equal(xa, x)
    np.testing.assert_array_equal(ya, y)
    np.testing.assert_array_equal(xa, augmented[0][0])  # same epoch, same batch: same augmentation
    augmented.on_epoch_end()
    assert not np.array_equal(xa, augmented[0][0])  # next epoch: a new draw


def test_make_batches_jitter_reads_the_dense_cache():
    from har_demo.training.batches import make_batches

    cache = fake_cache(t=4)
    dense = fake_cache(t=dense_frames(4, 3))
    dense.paths = list(reversed(dense.paths))  # rows are matched by path, not position
    with pytest.raises(ValueError, match="dense"):
        make_batches(cache, np.arange(10), 4, False, 27, AugmentConfig(jitter=True))
    batches = make_batches(cache, np.arange(10), 4, False, 27, AugmentConfig(jitter=True), dense)
    x, _ = batches[0]
    for row in range(4):
        source = to_model_input(dense.frames[9 - row], dense.settings)
        assert any(
            np.array_equal(x[row], source[jitter])
            for jitter in [s + k * np.arange(4) for k in (2, 3) for s in range(10 - 3 * k)]
        )


def run_cli(*args: str) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


@pytest.mark.slow
def test_train_cli_records_augmentation_and_the_ablation(tmp_path):
    data, bundle, cache = tmp_path / "SynthUCF", tmp_path / "bundle", tmp_path / "cache"
    write_synthetic_dataset(data, 4, groups_per_class=2, workers=2, progress=False)
    result = run_cli(
        "har_demo",
        "train",
        str(data),
        "--models",
        "lrcn",
        "--epochs",
        "1",
        "--val-fraction",
        "0",
        "--split",
        "group",
        "--augment",
        "all",
        "--augment-ablation",
        "--out",
        str(bundle),
        "--cache-dir",
        str(cache),
        "--workers",
        "2",
    )
    assert "a second cache of 58 frames" in result.stdout and "test accuracy" in result.stdout
    manifest = json.loads((bundle / "manifest.json").read_text())
    augment = manifest["training"]["augment"]
    assert augment["enabled"] == ["crop", "flip", "jitter", "color"] and augment["crop_min"] == 0.8
    assert manifest["training"]["augment_ablation"] is True and manifest["clip"]["frames"] == 20
    report = json.loads((bundle / "report.json").read_text())
    row = report["augmentation"]["models"]["lrcn"]
    assert set(row) == {"with", "without"} and row["with"]["clips"] == row["without"]["clips"] > 0
    assert report["models"]["lrcn"]["test"]["accuracy"] == row["with"]["accuracy"]
    assert not (bundle / "checkpoints").exists()
    shapes = sorted(json.loads(p.read_text())["settings"]["frames"] for p in cache.glob("*/meta.json"))
    assert shapes == [20, 58]  # the usual cache for evaluation, the dense one for jitter
