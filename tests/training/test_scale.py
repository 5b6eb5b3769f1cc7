"""Other clip shapes and many classes, from `har-demo train` to predict."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from har_demo.training.many_classes import make_many_class_folder, transform, variants
from har_demo.training.synth import write_synthetic_dataset

pytestmark = pytest.mark.slow  # trains models or exports them (tens of seconds each)


def run_cli(*args: str) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


@pytest.fixture(scope="module")
def synth(tmp_path_factory):
    root = tmp_path_factory.mktemp("scale") / "SynthUCF"
    write_synthetic_dataset(root, 3, groups_per_class=3, workers=2, progress=False)
    return root


def test_frames_and_size_flow_from_training_into_the_bundle_and_predict(synth, tmp_path):
    bundle = tmp_path / "bundle"
    run_cli(
        "har_demo",
        "train",
        str(synth),
        "--frames",
        "24",
        "--size",
        "72",
        "--epochs",
        "1",
        "--out",
        str(bundle),
        "--cache-dir",
        str(tmp_path / "cache"),
        "--workers",
        "2",
    )
    manifest = json.loads((bundle / "manifest.json").read_text())
    assert (manifest["clip"]["frames"], manifest["clip"]["height"], manifest["clip"]["width"]) == (24, 72, 72)
    from har_demo.loader import load_bundle

    loaded = load_bundle(bundle)
    for model in loaded.models.values():
        assert tuple(model.input_shape) == (None, 24, 72, 72, 3)
    clip = next(synth.glob("HorseRace/*.avi"))
    document = json.loads(run_cli("har_demo", "predict", str(clip), "--bundle", str(bundle), "--json").stdout)
    first = document["clips"][0]
    assert len(first["frame_indices"]) == 24 and set(first["models"]) == {"convlstm", "lrcn"}


def test_a_size_the_model_cannot_take_is_refused_before_any_work(synth, tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "har_demo",
            "train",
            str(synth),
            "--size",
            "48",
            "--out",
            str(tmp_path / "b"),
            "--cache-dir",
            str(tmp_path / "cache"),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2 and "lrcn cannot be built for 20 frames of 48x48" in result.stderr
    assert not (tmp_path / "cache").exists()


def test_variants_are_distinct_and_transform_whole_clips():
    names = [name for name, _ in variants()]
    assert names[0] == "" and len(names) == len(set(names)) == 24
    clip = np.random.default_rng(0).integers(0, 256, (5, 6, 8, 3), dtype=np.uint8)
    assert transform(clip, None, None, None).shape == clip.shape
    assert transform(clip, "cw", None, None).shape == (5, 8, 6, 3)
    np.testing.assert_array_equal(transform(clip, "ud", "negative", "reversed"), 255 - clip[::-1, ::-1])


def test_every_class_of_a_many_class_folder_trains_with_top5(synth, tmp_path):
    many = tmp_path / "Many"
    names = make_many_class_folder(synth, many, 12)
    assert len(names) == 12 and "TaiChiUpsideDown" in names and (many / "SYNTHETIC.json").is_file()
    bundle = tmp_path / "bundle"
    run_cli(
        "har_demo",
        "train",
        str(many),
        "--classes",
        "all",
        "--models",
        "lrcn",
        "--epochs",
        "1",
        "--split",
        "group",
        "--out",
        str(bundle),
        "--cache-dir",
        str(tmp_path / "cache"),
        "--workers",
        "2",
    )
    manifest = json.loads((bundle / "manifest.json").read_text())
    assert manifest["classes"] == sorted(names) and manifest["dataset"]["synthetic"] is True
    test = json.loads((bundle / "report.json").read_text())["models"]["lrcn"]["test"]
    assert len(test["confusion"]) == 12 and len(test["per_class"]) == 12
    assert 0.0 <= test["accuracy"] <= test["top5_accuracy"] <= 1.0
