"""Explain on models imported from the tutorial's .h5 files: real weights, real clips.

A Keras 3 Sequential loaded from an .h5 file was never called, so it has no symbolic output to
cut at a layer; Grad-CAM must still explain it, with the same probabilities the predictor gives.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

CLIPS = ["v_TaiChi_g01_c02.avi", "v_Swing_g01_c05.avi"]


@pytest.mark.parametrize("clip_name", CLIPS)
def test_explain_an_imported_bundle_on_a_real_clip(predictor, real_clips: Path, clip_name: str) -> None:
    from har_demo.clip import read_clip
    from har_demo.explain import explain_prediction

    frames = read_clip(real_clips / clip_name, predictor.settings).frames
    explanation = explain_prediction(predictor, frames)
    probabilities, _ = predictor.predict_frames(frames)
    assert set(explanation.saliency) == set(explanation.importance) == {"convlstm", "lrcn"}
    for name, saliency in explanation.saliency.items():
        served = np.asarray(probabilities[name]).reshape(-1)
        assert saliency.label == predictor.classes[int(np.argmax(served))]
        assert saliency.probability == pytest.approx(float(served.max()), abs=1e-4)
        assert saliency.maps.shape == (20, 64, 64) and np.isfinite(saliency.maps).all()
        assert saliency.raw.max() > 0, f"{name}: an empty heat map"


def test_gradcam_on_a_model_loaded_straight_from_the_h5(tutorial_weights: Path) -> None:
    import keras

    from har_demo.explain import GradCam

    model = keras.models.load_model(tutorial_weights / "seed_lrcn_keras3.h5", compile=False)
    x = np.random.default_rng(0).random((20, 64, 64, 3), dtype=np.float32)
    saliency = GradCam(model, "lrcn").explain(x, ["WalkingWithDog", "TaiChi", "Swing", "HorseRace"])
    expected = np.asarray(model.predict_on_batch(x[None]))[0]
    assert saliency.probability == pytest.approx(float(expected.max()), abs=1e-5)
    assert saliency.label == ["WalkingWithDog", "TaiChi", "Swing", "HorseRace"][int(np.argmax(expected))]
