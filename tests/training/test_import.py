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


@pytest.mark.slow
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


@pytest.mark.slow
def test_import_checks_shapes_against_classes_and_settings(tmp_path, tutorial_weights):
    lrcn = tutorial_weights / "seed_lrcn_keras3.h5"
    with pytest.raises(BundleError, match="predicts 4 classes, but 3 class names"):
        import_bundle(tmp_path / "b", [lrcn], ["A", "B", "C"])
    from har_demo.clip import ClipSettings

    with pytest.raises(BundleError, match=r"takes clips of shape \(20, 64, 64, 3\)"):
        import_bundle(tmp_path / "b", [lrcn], CLASSES, ClipSettings(frames=30))
    with pytest.raises(BundleError, match="both lrcn"):
        import_bundle(tmp_path / "b", [lrcn, lrcn], CLASSES)


@pytest.mark.slow
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


@pytest.mark.slow
def test_single_model_import_serves(tmp_path, tutorial_weights, real_clips):
    out = import_bundle(tmp_path / "lrcn-only", {"lrcn": tutorial_weights / "tutorial_lrcn_keras2.h5"}, CLASSES)
    predictor = Predictor.from_ref(out)
    prediction = predictor.predict_path(real_clips / "v_TaiChi_g01_c02.avi")
    assert list(prediction.probabilities) == ["lrcn"] and prediction.verdict.startswith("LRCN says TaiChi")
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["imported_from"]["lrcn"]["file"] == "tutorial_lrcn_keras2.h5"


PEERS = {
    # file: (classes given, classes in the bundle, clip shape the model takes)
    "peer_lrcn_binary_10x128.h5": ("Swing", ["not Swing", "Swing"], (10, 128, 128, 3)),
    "peer_convlstm_gray_10x128.h5": ("Calm,Active", ["Calm", "Active"], (10, 128, 128, 1)),
}


@pytest.mark.slow
@pytest.mark.parametrize("filename", PEERS)
def test_other_clip_shapes_grayscale_and_sigmoid_models_import_and_predict(
    tmp_path, tutorial_weights, real_clips, filename
):
    """The clip shape comes from the model; one sigmoid unit -> two probabilities summing to 1."""
    given, classes, shape = PEERS[filename]
    out = tmp_path / "bundle"
    imported = subprocess.run(
        [sys.executable, "-m", "har_demo", "import", str(tutorial_weights / filename), "--classes", given,
         "--out", str(out)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert imported.returncode == 0, imported.stderr[-3000:]
    manifest = json.loads((out / "manifest.json").read_text())
    clip = manifest["clip"]
    assert (clip["frames"], clip["height"], clip["width"], clip["channels"]) == shape
    assert manifest["classes"] == classes
    (kind,) = manifest["models"]
    assert "sigmoid_unit" in manifest["imported_from"][kind]
    predicted = subprocess.run(
        [sys.executable, "-m", "har_demo", "predict", str(real_clips / "v_Swing_g01_c05.avi"), "--bundle", str(out),
         "--json"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert predicted.returncode == 0, predicted.stderr[-3000:]
    result = json.loads(predicted.stdout)["clips"][0]
    probabilities = result["models"][kind]["probabilities"]
    assert list(probabilities) == classes and abs(sum(probabilities.values()) - 1) < 1e-4
    assert len(result["frame_indices"]) == 10


@pytest.mark.slow
def test_two_class_head_gives_one_minus_p_and_p(tutorial_weights):
    from har_demo.training.import_weights import as_two_class, is_sigmoid_unit, load_tutorial_model

    model = load_tutorial_model(tutorial_weights / "peer_lrcn_binary_10x128.h5")
    assert is_sigmoid_unit(model)
    x = np.random.default_rng(0).random((2, 10, 128, 128, 3), dtype=np.float32)
    p = np.asarray(model.predict_on_batch(x))[:, 0]
    two = np.asarray(as_two_class(model).predict_on_batch(x))
    np.testing.assert_allclose(two, np.stack([1 - p, p], axis=1), atol=1e-6)


@pytest.mark.slow
def test_binary_names_shape_overrides_and_overwrite(tmp_path, tutorial_weights):
    binary = tutorial_weights / "peer_lrcn_binary_10x128.h5"
    with pytest.raises(BundleError, match="binary model .* give its two class names"):
        import_bundle(tmp_path / "b", [binary], None)
    with pytest.raises(BundleError, match="binary model"):
        import_bundle(tmp_path / "b", [binary], CLASSES)
    with pytest.raises(BundleError, match=r"takes clips of shape \(10, 128, 128, 3\).*\(20, 128, 128, 3\)"):
        import_bundle(tmp_path / "b", [binary], ["no", "yes"], frames=20)  # --frames overrides the model's
    with pytest.raises(BundleError, match=r"takes clips of shape \(10, 128, 128, 3\) and .* of \(20, 64, 64, 3\)"):
        import_bundle(tmp_path / "b", [binary, tutorial_weights / "seed_convlstm_keras3.h5"], ["no", "yes"])
    assert not (tmp_path / "b").exists()
    out = import_bundle(tmp_path / "b", [binary], ["no", "yes"])
    created = json.loads((out / "manifest.json").read_text())["created"]
    from har_demo.training.output import OutputRefused

    with pytest.raises(OutputRefused, match="add --overwrite"):
        import_bundle(out, {"lrcn": tutorial_weights / "seed_lrcn_keras3.h5"}, CLASSES)
    import_bundle(out, {"lrcn": tutorial_weights / "seed_lrcn_keras3.h5"}, CLASSES, overwrite=True)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["classes"] == CLASSES and manifest["clip"]["frames"] == 20
    assert created <= manifest["created"] and sorted(p.name for p in tmp_path.iterdir()) == ["b"]
