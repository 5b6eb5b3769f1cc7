"""The tiny preset: the split that tests every class, and `har-demo train` choosing it, asked or by size."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pytest

from har_demo.clip import ClipSettings
from har_demo.training import train
from har_demo.training.dataset import scan_dataset, tiny_splits
from har_demo.training.presets import PRESETS, choose_preset
from har_demo.training.tiny import TINY_EPOCHS, TINY_SPLIT


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


def test_auto_chooses_the_tiny_preset_for_about_ten_clips_a_class():
    tiny = PRESETS["tiny"]
    assert choose_preset(42, 4) is tiny and choose_preset(160, 4) is tiny
    assert choose_preset(161, 4) is None and choose_preset(6600, 50) is None and choose_preset(0, 4) is None
    assert tiny.fields["split"] == TINY_SPLIT and tiny.fields["val_fraction"] == 0.0


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    train.add_arguments(parser)
    return parser.parse_args(list(argv))


def _choose(args: argparse.Namespace, config):
    options, _ = train.resolve_options(args)
    return train.choose_preset_for(config, args, options["preset"], train._asked(args), "all", ClipSettings())


def test_train_chooses_the_tiny_preset_for_a_tiny_set_and_keeps_options_given(real_tiny):
    base = train.TrainConfig(epochs=30, split="group")
    args = _args(str(real_tiny), "--classes", "all", "--learning-rate", "0.0005")
    config, line = _choose(args, replace_lr(base, 0.0005))
    assert config.split == TINY_SPLIT and config.val_fraction == 0.0 and config.epochs == TINY_EPOCHS
    assert config.learning_rate == 0.0005  # set by the person: kept
    assert config.init_from == "weights"  # the shipped bundle starts both models
    assert config.augment and config.extra["preset"] == "tiny"
    assert config.extra["preset_fields"]["split"] == TINY_SPLIT and "learning_rate" not in config.extra["preset_fields"]
    assert line.startswith("Preset: tiny (chosen for a dataset of 42 clips in 4 classes); sets split=tiny")
    assert "augment=crop,flip" in line and "\n" not in line


def test_a_chosen_split_or_no_preset_keeps_the_config_and_says_why(real_tiny):
    base = train.TrainConfig(epochs=30, split="group")
    assert _choose(_args(str(real_tiny), "--classes", "all", "--split", "group"), base) == (
        base,
        "Preset: none (a split was chosen).",
    )
    for flags in (("--tiny", "off"), ("--preset", "none")):
        assert _choose(_args(str(real_tiny), "--classes", "all", *flags), base) == (base, "Preset: none (asked).")


def test_the_tiny_preset_asked_by_name_applies_to_any_dataset(tmp_path):
    base = train.TrainConfig()
    for flags in (("--tiny", "on"), ("--preset", "tiny")):
        config, line = _choose(_args(str(tmp_path), *flags), base)  # no dataset is read when a preset is asked
        assert config.split == TINY_SPLIT and config.extra["preset"] == "tiny"
        assert line.startswith("Preset: tiny (asked); sets ")
    with pytest.raises(train.RecipeError, match="--tiny off asks for the preset 'none', --preset for 'tiny'"):
        _choose(_args(str(tmp_path), "--tiny", "off", "--preset", "tiny"), base)


def test_a_recipe_chooses_a_preset_by_name_and_an_unknown_one_is_refused(tmp_path):
    from har_demo.training.recipe import load_recipe

    recipe = tmp_path / "r.toml"
    recipe.write_text('[train]\npreset = "tiny"\nepochs = 3\n')
    config, line = _choose(_args(str(tmp_path), "--config", str(recipe)), train.TrainConfig(epochs=3))
    assert config.split == TINY_SPLIT and config.epochs == 3  # the recipe's epochs: kept
    assert line.startswith("Preset: tiny (asked)")
    recipe.write_text("[train]\nepochs = 3\n")  # a recipe that names no preset decides everything
    base = train.TrainConfig(epochs=3)
    assert _choose(_args(str(tmp_path), "--config", str(recipe)), base) == (
        base,
        "Preset: none (the recipe r.toml decides).",
    )
    recipe.write_text('[train]\npreset = "huge"\n')
    with pytest.raises(train.RecipeError, match="preset must be one of auto, none, tiny, not 'huge'"):
        load_recipe(recipe)


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


def test_the_studio_asks_for_its_preset_by_name_and_an_unknown_one_is_refused_before_queueing():
    from har_demo.studio.errors import TrainingRefused
    from har_demo.studio.trainer import StudioTrainer, TrainOptions

    assert TrainOptions().preset in PRESETS
    with pytest.raises(TrainingRefused, match="There is no training preset 'huge'; the presets are tiny"):
        StudioTrainer().start("session", None, TrainOptions(preset="huge"))
