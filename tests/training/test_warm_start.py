"""Warm start (training/warm_start.py): a model begins from a bundle's weights, all but its classifier."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from har_demo.clip import ClipSettings
from har_demo.loader import load_bundle
from har_demo.models import build_model
from har_demo.training.presets import PRESETS
from har_demo.training.warm_start import SHIPPED_REF, WarmStartError, check_source, warm_start
from tests.paths import REPO


@pytest.mark.parametrize("name", ["convlstm", "lrcn"])
def test_every_layer_but_the_classifier_comes_from_the_shipped_model(name):
    shipped = load_bundle(SHIPPED_REF, models=[name])
    model = build_model(name, 3, 20, 64, 64)  # three classes: the shipped bundle has four
    fresh_classifier = [w.copy() for w in model.layers[-1].get_weights()]
    copied = warm_start(model, name, SHIPPED_REF, ClipSettings())
    source = [layer for layer in shipped.models[name].layers if layer.weights]
    target = [layer for layer in model.layers if layer.weights]
    for src, dst in zip(source[:-1], target[:-1]):
        for a, b in zip(src.get_weights(), dst.get_weights()):
            assert np.array_equal(a, b), dst.name
    for a, b in zip(fresh_classifier, target[-1].get_weights()):
        assert np.array_equal(a, b)  # the output layer keeps its fresh weights (and its 3 units)
    assert target[-1].get_weights()[0].shape[-1] == 3
    entry = shipped.manifest.models[name]
    assert copied == {
        "from": "the shipped weights",
        "layers_copied": len(source) - 1,
        "layers": len(source),
        "sha256": shipped.manifest.files[entry.file],
    }


def test_a_source_that_cannot_start_the_models_is_refused_with_a_sentence(tmp_path):
    with pytest.raises(
        WarmStartError, match="its models take 20 frames of 64x64, this run's clips are 10 frames of 64x64"
    ):
        check_source(SHIPPED_REF, ("convlstm", "lrcn"), ClipSettings(frames=10))
    with pytest.raises(WarmStartError, match=f"Cannot start the models from {tmp_path}: .*manifest"):
        check_source(str(tmp_path), ("lrcn",), ClipSettings())
    with pytest.raises(WarmStartError, match="No bundle folder at no/such/bundle"):
        check_source("no/such/bundle", ("lrcn",), ClipSettings())
    with pytest.raises(WarmStartError, match="Cannot start the models from no/such/bundle"):
        warm_start(build_model("lrcn", 2, 20, 64, 64), "lrcn", "no/such/bundle", ClipSettings())
    check_source(SHIPPED_REF, ("convlstm", "lrcn"), ClipSettings())  # the shipped bundle fits its own shape


def test_the_tiny_preset_starts_from_the_shipped_weights_when_their_clips_fit():
    tiny = PRESETS["tiny"]
    assert tiny.fields_for(ClipSettings(), ("lrcn",))["init_from"] == SHIPPED_REF
    assert "init_from" not in tiny.fields_for(ClipSettings(frames=10), ("lrcn",))  # other shape: random
    assert "init_from" not in tiny.fields_for()


def test_the_cli_refuses_a_source_before_training_and_writes_nothing(real_tiny, tmp_path):
    out = tmp_path / "bundle"
    for source, words in ((str(tmp_path), "Cannot start the models from"), ("weights", "10 frames of 64x64")):
        result = subprocess.run(
            [sys.executable, "-m", "har_demo", "train", str(real_tiny), "--classes", "all", "--frames", "10",
             "--init-from", source, "--out", str(out), "--cache-dir", str(tmp_path / "cache")],
            capture_output=True, text=True, cwd=REPO,
        )  # fmt: skip
        assert result.returncode == 2 and words in result.stderr, result.stderr[-2000:]
        assert "Traceback" not in result.stderr and not out.exists() and not (tmp_path / "bundle.partial").exists()
