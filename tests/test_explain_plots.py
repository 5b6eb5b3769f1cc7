"""Explanation figures and strips from the shipped models on a real clip."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.paths import REPO


@pytest.mark.slow
def test_explanation_figures_for_a_real_clip(real_clips: Path) -> None:
    from har_demo.clip import read_clip
    from har_demo.explain import explain_prediction
    from har_demo.explain_plots import (
        architecture_figure,
        explanation_strip,
        frame_importance_figure,
        verdict_bars_figure,
    )
    from har_demo.inference import Predictor
    from har_demo.models import layer_table
    from har_demo.verdict import bar_data

    predictor = Predictor.from_ref(str(REPO / "weights"))
    clip = read_clip(real_clips / "v_TaiChi_g01_c02.avi", predictor.settings)
    explanation = explain_prediction(predictor, clip.frames)
    again = explain_prediction(predictor, clip.frames)
    for name, saliency in explanation.saliency.items():
        assert saliency.maps.shape == (20, 64, 64) and 0 <= saliency.maps.min() and saliency.maps.max() <= 1
        np.testing.assert_allclose(again.saliency[name].raw, saliency.raw, rtol=1e-4, atol=1e-6)
        strip = explanation_strip(clip.rgb(), saliency)
        assert strip.shape == (2 * 96 + 2, 10 * 96 + 9 * 2, 3)
        probs, _ = predictor.predict_frames(clip.frames)
        imp = explanation.importance[name]
        assert imp.probability == pytest.approx(float(probs[name][0].max()), abs=1e-4)
        assert imp.drops.shape == (20,)
    fig = frame_importance_figure(explanation.importance, clip.times)
    assert len(fig.data) == 2 and len(fig.data[0].y) == 20
    probs, _ = predictor.predict_frames(clip.frames)
    bars = verdict_bars_figure(bar_data(predictor.classes, {m: p[0] for m, p in probs.items()}), 0.6)
    assert len(bars.data) == 2 and any(s.x0 == 0.6 for s in bars.layout.shapes)
    arch = architecture_figure({name: layer_table(m) for name, m in predictor.models.items()})
    texts = " ".join(a.text for a in arch.layout.annotations)
    assert "ConvLSTM2D" in texts and "TD(Conv2D)" in texts and "LSTM" in texts and "20×64×64×4" not in texts
