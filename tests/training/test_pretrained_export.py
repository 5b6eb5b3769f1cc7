"""`har-demo export` on a bundle with the pretrained kinds: TFLite with builtin ops only, checked
against Keras on a real clip before anything is written."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from tests.paths import REPO

pytestmark = pytest.mark.slow  # trains a tiny bundle, converts the encoder


def test_the_pretrained_kinds_export_to_tflite_and_answer_as_keras_does(pretrained_bundle, real_clips, tmp_path):
    from har_demo.clip import read_clip, to_model_input
    from har_demo.inference import Predictor
    from har_demo.training.export import TFLiteRunner

    out = tmp_path / "tflite"
    clip = real_clips / "v_TaiChi_g01_c02.avi"
    done = subprocess.run(
        [sys.executable, "-m", "har_demo", "export", "--bundle", str(pretrained_bundle), "--out", str(out)]
        + ["--models", "pretrained,pretrained_attention", "--check", str(clip), "--repeats", "1"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    document = json.loads((out / "export.json").read_text())
    assert list(document["models"]) == ["pretrained", "pretrained_attention"]
    predictor = Predictor.from_ref(pretrained_bundle)
    x = to_model_input(read_clip(clip, predictor.settings).frames, predictor.settings)[None]
    for name, entry in document["models"].items():
        assert entry["max_abs_difference"] <= 1e-4 and entry["same_top_class"]
        assert "FLEX" not in " ".join(entry["ops"]) and "DEPTHWISE_CONV_2D" in entry["ops"]
        assert entry["bytes"] > 10e6  # the encoder's weights are in the flatbuffer too
        got = TFLiteRunner(out / entry["file"]).predict(x)
        want = np.asarray(predictor.models[name].predict_on_batch(x))
        assert np.allclose(got, want, atol=1e-4) and np.isclose(got.sum(), 1.0, atol=1e-4)
