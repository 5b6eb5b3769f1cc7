"""Tiny-set defaults: the split that tests every class, and `har-demo train` switching to them."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pytest

from har_demo.clip import ClipSettings
from har_demo.training import train
from har_demo.training.dataset import scan_dataset
from har_demo.training.tiny import TINY_EPOCHS, TINY_SPLIT, is_tiny, tiny_overrides, tiny_splits
from tests.paths import REAL_TINY


@pytest.fixture(scope="module")
def real_tiny() -> Path:
    if not REAL_TINY.is_dir():
        pytest.skip("../shared/data/real_tiny is not beside this checkout")
    return REAL_TINY


def test_the_tiny_split_tests_every_class_and_keeps_groups_apart(real_tiny):
    records = scan_dataset(real_tiny, None)
    groups = [r.group for r in records]
    labels = [r.label for r in records]
    paths = [str(r.path) for r in records]
    splits = tiny_splits(groups, labels, paths, 0.25, 27)
    assert len(splits.val) == 0 and splits.kind == TINY_SPLIT
    assert sorted({labels[i] for i in splits.test}) == sorted(set(labels))  # Lunges (one group) too
    multi = {l for l in labels if len({g for g, m in zip(groups, labels) if m == l}) > 1}
    train_groups = {groups[i] for i in splits.train}
    assert not {groups[i] for i in splits.test if labels[i] in multi} & train_groups
    lunges = sorted(Path(paths[i]).name for i in splits.test if labels[i] == "Lunges")
    assert lunges == ["v_Lunges_g01_c08.avi", "v_Lunges_g01_c09.avi", "v_Lunges_g01_c10.avi"]
    assert len(splits.train) + len(splits.test) == len(labels)
    assert np.array_equal(tiny_splits(groups, labels, paths, 0.25, 27).test, splits.test)  # seeded


def test_tiny_means_about_ten_clips_a_class():
    assert is_tiny(42, 4) and not is_tiny(6600, 50) and not is_tiny(0, 4)
    assert tiny_overrides(6600, 50) == {}
    assert tiny_overrides(42, 4)["split"] == TINY_SPLIT and tiny_overrides(42, 4)["val_fraction"] == 0.0


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    train.add_arguments(parser)
    return parser.parse_args(list(argv))


def test_train_uses_the_tiny_defaults_for_options_left_alone(real_tiny, capsys):

    base = train.TrainConfig(epochs=30, split="group")
    args = _args(str(real_tiny), "--classes", "all", "--learning-rate", "0.0005")
    config = train.apply_tiny_defaults(replace_lr(base, 0.0005), args, train._asked(args), "all", ClipSettings())
    assert config.split == TINY_SPLIT and config.val_fraction == 0.0 and config.epochs == TINY_EPOCHS
    assert config.learning_rate == 0.0005  # set by the person: kept
    assert config.init_from == "weights"  # the shipped bundle starts both models
    assert config.augment and config.extra["tiny_defaults"]["split"] == TINY_SPLIT
    assert "Tiny dataset (42 clips, 4 classes)" in capsys.readouterr().out
    chosen = _args(str(real_tiny), "--classes", "all", "--split", "group")  # a split someone chose: kept
    assert train.apply_tiny_defaults(base, chosen, train._asked(chosen), "all", ClipSettings()) is base
    off = _args(str(real_tiny), "--classes", "all", "--tiny", "off")
    assert train.apply_tiny_defaults(base, off, train._asked(off), "all", ClipSettings()) is base


def replace_lr(config, lr):
    from dataclasses import replace

    return replace(config, learning_rate=lr)


def test_motion_input_is_the_frame_difference_and_ignores_a_still_background():
    from har_demo.clip import ClipSettings, to_model_input

    rng = np.random.default_rng(0)
    background = rng.integers(0, 256, (1, 1, 8, 8, 3), dtype=np.uint8)
    still = np.repeat(background, 5, axis=1)
    moving = still.copy()
    moving[0, 3, 2:4, 2:4] = 255 - moving[0, 3, 2:4, 2:4]
    settings = ClipSettings(motion="difference")
    x = to_model_input(still, settings)
    assert x.shape == still.shape and np.allclose(x, 128 / 255)  # a still scene is flat grey, whatever it shows
    y = to_model_input(moving, settings)
    changed = np.argwhere(~np.isclose(y, 128 / 255))
    assert set(changed[:, 1]) == {3, 4}  # the change appears, and disappears, where it happens
    frame = moving[0, 3].astype(np.float32) - moving[0, 2]
    assert np.allclose(y[0, 3], np.clip(128 + 2 * frame, 0, 255) / 255)
    assert np.allclose(to_model_input(moving, ClipSettings()), moving / 255.0)  # the default is unchanged
    with pytest.raises(ValueError):
        ClipSettings(motion="optical-flow")
