"""`--out` never deletes what the tool did not write: refusals, the swap, recipes.

Fast: no model is trained here (the CLI refusals come before TensorFlow starts). Every subprocess
runs the worktree's code (PYTHONPATH) from inside a throwaway folder, so even a regression could
only touch that folder.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from har_demo.bundle import FORMAT, MANIFEST_NAME, hash_files
from har_demo.training.options import DEFAULTS
from har_demo.training.output import (
    OutputRefused,
    check_output,
    is_scratch,
    new_scratch,
    publish,
    remove_scratch,
    scratch_path,
)
from har_demo.training.recipe import TRAIN_KEYS, RecipeError, load_recipe, resolve, synthetic_mismatch
from tests.paths import REPO


def fake_bundle(folder: Path, text: str = "weights") -> Path:
    """A folder that reads as a bundle: files hashed in a manifest (no Keras needed)."""
    (folder / "misclassified").mkdir(parents=True)
    (folder / "lrcn.keras").write_text(text)
    (folder / "report.json").write_text("{}")
    (folder / "misclassified" / "lrcn_v_a.jpg").write_text("jpg")
    manifest = {
        "format": FORMAT,
        "format_version": 1,
        "classes": ["a", "b"],
        "clip": {},
        "models": {"lrcn": {"file": "lrcn.keras"}},
    }
    manifest["files"] = hash_files(folder)
    (folder / MANIFEST_NAME).write_text(json.dumps(manifest))
    return folder


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "har_demo", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def test_a_folder_that_is_not_a_bundle_is_refused_and_untouched(tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "thesis.txt").write_text("three years of work")
    for overwrite in (False, True):
        with pytest.raises(OutputRefused, match=r"not a har-demo bundle \(thesis.txt\)"):
            check_output(folder, overwrite)
    assert (folder / "thesis.txt").read_text() == "three years of work"
    check_output(tmp_path / "new")  # a new folder is fine
    (tmp_path / "empty").mkdir()
    check_output(tmp_path / "empty")  # so is an empty one


def test_current_home_and_parent_folders_and_files_are_refused(tmp_path, monkeypatch):
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    for out in (".", "..", str(Path.home())):
        with pytest.raises(OutputRefused, match="current folder, your home folder"):
            check_output(Path(out), overwrite=True)
    (work / "notes.txt").write_text("x")
    with pytest.raises(OutputRefused, match="is a file"):
        check_output(work / "notes.txt", overwrite=True)
    assert scratch_path(Path(".")).name == "work.partial"


def test_a_bundle_is_replaced_only_with_overwrite_and_only_if_it_holds_nothing_else(tmp_path):
    bundle = fake_bundle(tmp_path / "bundle")
    with pytest.raises(OutputRefused, match="already holds a bundle; add --overwrite"):
        check_output(bundle)
    check_output(bundle, overwrite=True)
    (bundle / "misclassified" / "notes.txt").write_text("mine")
    with pytest.raises(OutputRefused, match=r"does not list \(misclassified/notes.txt\)"):
        check_output(bundle, overwrite=True)


def test_publish_swaps_a_complete_bundle_in_and_removes_only_bundle_files(tmp_path):
    out = fake_bundle(tmp_path / "bundle", "old")
    scratch = new_scratch(out, "test")
    assert scratch == scratch_path(out) and is_scratch(scratch)
    fake_bundle(scratch / "inner", "new")  # build the new bundle's files in the scratch folder
    for path in (scratch / "inner").iterdir():
        path.rename(scratch / path.name)
    (scratch / "inner").rmdir()
    publish(scratch, out, overwrite=True)
    assert (out / "lrcn.keras").read_text() == "new" and not is_scratch(out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bundle"]  # no scratch, no old copy left


def test_publish_refuses_a_folder_that_changed_meanwhile_and_keeps_the_new_bundle(tmp_path):
    out = tmp_path / "bundle"
    scratch = new_scratch(out, "test")
    (scratch / "lrcn.keras").write_text("new")
    out.mkdir()
    (out / "thesis.txt").write_text("written while training ran")
    with pytest.raises(OutputRefused, match=f"kept in {scratch}"):
        publish(scratch, out)
    assert (out / "thesis.txt").is_file() and (scratch / "lrcn.keras").is_file() and is_scratch(scratch)


def test_only_marked_scratch_folders_are_ever_removed(tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.txt").write_text("x")
    with pytest.raises(OutputRefused, match="not created by har-demo"):
        remove_scratch(mine)
    assert (mine / "thesis.txt").is_file()
    scratch = new_scratch(tmp_path / "bundle", "test", named=False)
    remove_scratch(scratch)
    assert not scratch.exists()


@pytest.mark.parametrize("verb", ["train", "import"])
def test_cli_refuses_a_thesis_folder_and_the_current_folder(tmp_path, verb):
    (tmp_path / "thesis").mkdir()
    (tmp_path / "thesis" / "thesis.txt").write_text("keep me")
    (tmp_path / "keep.txt").write_text("keep me too")
    first = ["data"] if verb == "train" else ["model.h5"]
    for out in ("thesis", "."):
        result = cli(verb, *first, "--out", out, "--overwrite", cwd=tmp_path)
        assert result.returncode == 2, result.stderr
        assert result.stderr.startswith("error: --out") and "Traceback" not in result.stderr
    assert (tmp_path / "thesis" / "thesis.txt").read_text() == "keep me"
    assert (tmp_path / "keep.txt").read_text() == "keep me too"


def test_train_without_resume_refuses_to_start_over_an_interrupted_run(tmp_path):
    scratch = new_scratch(tmp_path / "bundle", "train")
    (scratch / "checkpoints").mkdir()
    (scratch / "checkpoints" / "lrcn.best.weights.h5").write_text("best so far")
    result = cli("train", "data", "--out", "bundle", cwd=tmp_path)
    assert result.returncode == 2 and "rerun with --resume" in result.stderr
    assert (scratch / "checkpoints" / "lrcn.best.weights.h5").read_text() == "best so far"


def test_recipes_load_and_flags_override_them():
    shipped = load_recipe(REPO / "configs" / "shipped.toml")
    assert shipped["train"]["split"] == "group" and shipped["train"]["patience"] == 10
    assert shipped["synth"]["clips_per_class"] == 300 and shipped["synth"]["groups_per_class"] == 300
    assert shipped["train"]["augment"] == "flip"
    report = load_recipe(REPO / "configs" / "report.toml")
    assert report["train"]["split"] == "random" and report["synth"] == {}
    options = resolve({"patience": 3, "epochs": None}, shipped["train"], DEFAULTS)
    assert options["patience"] == 3 and options["epochs"] == 30 and options["strategy"] == "none"
    assert options["motion"] == "none" and options["init_from"] == "none"  # not in the recipe: the defaults


def test_one_option_table_makes_the_flags_the_recipe_keys_and_the_config_defaults(tmp_path):
    import argparse

    from har_demo.training import train
    from har_demo.training.config import TrainConfig
    from har_demo.training.options import OPTIONS

    parser = argparse.ArgumentParser()
    train.add_arguments(parser)
    flags = {a.dest for a in parser._actions}
    assert {o.name for o in OPTIONS} <= flags and set(TRAIN_KEYS) == {o.name for o in OPTIONS}
    config = TrainConfig()
    for name in ("epochs", "batch_size", "patience", "learning_rate", "split", "seed", "motion", "strategy"):
        assert getattr(config, name) == DEFAULTS[name], name
    recipe = tmp_path / "r.toml"
    recipe.write_text('[train]\nmotion = "difference"\ninit-from = "weights"\n')
    assert load_recipe(recipe)["train"] == {"motion": "difference", "init_from": "weights"}
    recipe.write_text('[train]\nmotion = "flow"\n')
    with pytest.raises(RecipeError, match="motion must be one of none, difference"):
        load_recipe(recipe)


def test_a_recipe_with_an_unknown_or_mistyped_setting_is_refused(tmp_path):
    recipe = tmp_path / "r.toml"
    recipe.write_text("[train]\npatiense = 3\n")
    with pytest.raises(RecipeError, match="no setting 'patiense'"):
        load_recipe(recipe)
    recipe.write_text('[train]\nepochs = "many"\n')
    with pytest.raises(RecipeError, match="epochs must be int"):
        load_recipe(recipe)
    recipe.write_text('[train]\noptimizer = "lbfgs"\n')
    with pytest.raises(RecipeError, match="optimizer must be one of adam, sgd, rmsprop"):
        load_recipe(recipe)
    recipe.write_text("[train\n")
    with pytest.raises(RecipeError, match="not valid TOML"):
        load_recipe(recipe)


def test_a_synthetic_dataset_made_otherwise_than_the_recipe_says_is_named():
    synth = load_recipe(REPO / "configs" / "shipped.toml")["synth"]
    meta = {
        "clips_per_class": 6,
        "groups_per_class": 300,
        "seed": 27,
        "classes": ["WalkingWithDog", "TaiChi", "Swing", "HorseRace"],
        "ext": ".avi",
        "seconds": [2.4, 4.0],
    }
    assert synthetic_mismatch(meta, synth) == ["clips-per-class 6 (the recipe says 300)"]
    assert synthetic_mismatch(meta | {"clips_per_class": 300}, synth) == []


def test_a_recipe_writes_its_synthetic_dataset_once_and_refuses_one_made_otherwise(tmp_path):
    from har_demo.training.train import prepare_data

    recipe = tmp_path / "tiny.toml"
    recipe.write_text('[synth]\nclips-per-class = 1\ngroups-per-class = 1\nclasses = ["TaiChi", "Swing"]\n')
    data = tmp_path / "data"
    prepare_data(data, load_recipe(recipe)["synth"], recipe, workers=1)
    assert sorted(p.name for p in data.glob("*/*.avi")) == ["v_Swing_g01_c01.avi", "v_TaiChi_g01_c01.avi"]
    prepare_data(data, load_recipe(recipe)["synth"], recipe, workers=1)  # the same settings: used as it is
    recipe.write_text('[synth]\nclips-per-class = 2\nclasses = ["TaiChi", "Swing"]\n')
    with pytest.raises(RecipeError, match=r"made with other settings .* clips-per-class 1 \(the recipe says 2\)"):
        prepare_data(data, load_recipe(recipe)["synth"], recipe, workers=1)


def test_evaluate_never_replaces_an_existing_report_file_without_overwrite(tmp_path):
    (tmp_path / "eval.json").write_text("my notes")
    result = cli("evaluate", "--bundle", "b", "--data", "d", "--out", "eval.json", cwd=tmp_path)
    assert result.returncode == 2 and "already exists" in result.stderr
    assert (tmp_path / "eval.json").read_text() == "my notes"


def test_a_run_interrupted_before_a_setting_existed_still_resumes():
    """A run kept by an older version (no lr_schedule in its config) compares equal to today's defaults."""
    from dataclasses import asdict

    from har_demo.training.checkpoint import plain, with_new_defaults
    from har_demo.training.config import TrainConfig

    current = plain({"config": asdict(TrainConfig()), "classes": ["TaiChi", "Swing"]})
    older = plain(current)
    del older["config"]["lr_schedule"]
    assert with_new_defaults(older) == current
    asked_otherwise = plain(older)
    asked_otherwise["config"]["epochs"] = 3
    assert with_new_defaults(asked_otherwise) != current
