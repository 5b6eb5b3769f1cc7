"""A pretrained model trained in the studio: the real trainer, one epoch on tiny real clips, then served.

Skipped where the optional weights package is not installed (the page then says so: see
tests/app/test_studio_actions.py). The studio decodes the clips again at the encoder's frame size,
trains the head on cached frame embeddings, evaluates on held-out groups and serves the bundle to
this session, whose Predict answers with the new classes.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from har_demo.app import studio_actions as actions
from har_demo.app import studio_training as training
from har_demo.studio.limits import StudioLimits
from har_demo.studio.trainer import pretrained_unavailable
from har_demo.training.synth import render_clip, write_video
from tests.paths import REPO

DRAWN = {"Waving": "TaiChi", "Pushing": "Swing"}

pytestmark = pytest.mark.slow  # trains a model
if pretrained_unavailable():
    pytest.skip("the pretrained model's weights package is not installed", allow_module_level=True)


def test_a_pretrained_model_trains_in_the_studio_and_serves_this_session(tmp_path):
    from har_demo.app.engine import Engine, EngineRegistry
    from har_demo.app.predict_tab import analyse_video
    from har_demo.inference import Predictor
    from har_demo.loader import load_bundle

    registry = EngineRegistry(Engine(Predictor(load_bundle(REPO / "weights"), warm=False)))
    state = actions.StudioState(StudioLimits(), base=tmp_path / "sessions")
    rng = np.random.default_rng(8)
    for label, drawn in DRAWN.items():
        actions.add_class(state, "s1", label)
        for group in (1, 2):
            paths = []
            for i in range(2):
                path = tmp_path / f"{label}{group}{i}.webm"
                write_video(path, render_clip(drawn, rng, width=96, height=72, seconds=1.0))
                paths.append(str(path))
            assert "Added 2 clips" in actions.add_uploads(state, "s1", label, group, paths)[1]

    outputs = list(training.train(state, registry, "s1", None, ["pretrained"], 1, True))
    said = [out[2] for out in outputs]
    assert any(s.startswith("Training Pretrained LRCN on 8 clips of 2 classes, 1 epochs.") for s in said), said
    assert any(s.startswith("Pretrained LRCN: epoch 1/1") and "held-out" in s for s in said), said
    sid, key, progress, curves, evaluation, *_rest, download = outputs[-1]
    assert "This session now serves the new models in every tab." in progress, progress
    assert "| Pretrained LRCN |" in evaluation and download.visible and download.value.endswith(".zip")

    bundle = state.bundles["s1"]
    manifest = json.loads((bundle / "manifest.json").read_text())
    assert list(manifest["models"]) == ["pretrained"]
    assert (manifest["clip"]["height"], manifest["clip"]["width"]) == (128, 128)
    assert manifest["clip"]["motion"] == "none"  # an ImageNet encoder reads frames, not differences

    engine = registry.get(key)
    analysis = analyse_video(engine, tmp_path / "Waving10.webm")
    assert analysis.ok, analysis.message
    assert analysis.result["classes"] == sorted(DRAWN) and "pretrained" in analysis.result["models"]
