"""Tutorial weight files (Keras 3 and Keras 2 era) -> bundles that reproduce their predictions."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from har_demo.bundle import BundleError
from har_demo.inference import Predictor
from har_demo.loader import load_bundle
from har_demo.training.import_weights import import_bundle

CLASSES = ["WalkingWithDog", "TaiChi", "Swing", "HorseRace"]
PAIRS = {
    "seed-keras3": {"convlstm": "seed_convlstm_keras3.h5", "lrcn": "seed_lrcn_keras3.h5"},
    "tutorial-keras2": {"convlstm": "tutorial_convlstm_keras2.h5", "lrcn": "tutorial_lrcn_keras2.h5"},
}


@pytest.mark.parametrize("pair", PAIRS)
def test_imported_bundle_reproduces_expected_predictions(
    tmp_path, tutorial_weights, real_clips, expected_predictions, pair
):
    files = PAIRS[pair]
    out = tmp_path / pair
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "har_demo",
            "import",
            *(str(tutorial_weights / f) for f in files.values()),
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    bundle = load_bundle(out)
    assert set(bundle.models) == {"convlstm", "lrcn"}  # kinds detected from the layers
    assert bundle.manifest.source == "imported" and bundle.classes == CLASSES
    predictor = Predictor(bundle)
    expected = expected_predictions["predictions"]
    clips = sorted(real_clips.iterdir())
    assert len(clips) == 6
    for clip in clips:
        prediction = predictor.predict_path(clip)
        for kind, filename in files.items():
            want = expected[filename][clip.name]
            assert prediction.top(kind) == want["pred"], (filename, clip.name)
            np.testing.assert_allclose(prediction.probabilities[kind], want["probs"], atol=0.02)


def test_import_checks_shapes_against_classes_and_settings(tmp_path, tutorial_weights):
    lrcn = tutorial_weights / "seed_lrcn_keras3.h5"
    with pytest.raises(BundleError, match="predicts 4 classes, but 3 class names"):
        import_bundle(tmp_path / "b", [lrcn], ["A", "B", "C"])
    from har_demo.clip import ClipSettings

    with pytest.raises(BundleError, match=r"takes clips of shape \(20, 64, 64, 3\)"):
        import_bundle(tmp_path / "b", [lrcn], CLASSES, ClipSettings(frames=30))
    with pytest.raises(BundleError, match="both lrcn"):
        import_bundle(tmp_path / "b", [lrcn, lrcn], CLASSES)


def test_import_refuses_wrong_files_with_a_message(tmp_path):
    not_a_model = tmp_path / "model.h5"
    not_a_model.write_text("hello")
    with pytest.raises(BundleError, match="not an HDF5 model"):
        import_bundle(tmp_path / "b", [not_a_model], CLASSES)
    with pytest.raises(BundleError, match="No such model file"):
        import_bundle(tmp_path / "b", [tmp_path / "missing.h5"], CLASSES)
    result = subprocess.run(
        [sys.executable, "-m", "har_demo", "import", str(not_a_model), "--out", str(tmp_path / "b")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2 and "error:" in result.stderr and "not an HDF5" in result.stderr


def test_single_model_import_serves(tmp_path, tutorial_weights, real_clips):
    out = import_bundle(tmp_path / "lrcn-only", {"lrcn": tutorial_weights / "tutorial_lrcn_keras2.h5"}, CLASSES)
    predictor = Predictor.from_ref(out)
    prediction = predictor.predict_path(real_clips / "v_TaiChi_g01_c02.avi")
    assert list(prediction.probabilities) == ["lrcn"] and prediction.verdict == "LRCN: TaiChi"
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["imported_from"]["lrcn"]["file"] == "tutorial_lrcn_keras2.h5"
