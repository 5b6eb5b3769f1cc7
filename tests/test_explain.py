"""Explanations: Grad-CAM that falls on the actor, frame importance, overlays, three backends.

The saliency test renders synthetic clips whose actor box is known per frame
(synth.render_clip_with_boxes), runs the shipped bundle (trained on this generator's clips) and
compares the mean Grad-CAM inside the actor's box with the mean outside it (an equal area of box
against background: ratio > 1 means the map favours the actor).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from har_demo.explain import box_mass_ratio, neighbour_swaps, overlay, upsample
from tests.paths import REPO

WEIGHTS = REPO / "weights"


def test_neighbour_swaps_replace_one_frame_each() -> None:
    x = np.arange(5)[:, None, None, None] * np.ones((5, 2, 2, 3))
    variants = neighbour_swaps(x)
    assert variants.shape == (5, 5, 2, 2, 3)
    for t in range(5):
        changed = [k for k in range(5) if not np.array_equal(variants[t, k], x[k])]
        assert changed == [t]
        assert variants[t, t, 0, 0, 0] == (t - 1 if t else 1)


def test_box_mass_ratio() -> None:
    m = np.zeros((8, 8), np.float32)
    m[2:4, 2:4] = 1.0
    assert box_mass_ratio(m, (2, 2, 4, 4)) == float("inf")
    assert box_mass_ratio(np.ones((8, 8)), (0, 0, 4, 4)) == pytest.approx(1.0)
    assert box_mass_ratio(m + 0.1, (4, 4, 8, 8)) < 1
    with pytest.raises(ValueError):
        box_mass_ratio(m, (0, 0, 8, 8))


def test_overlay_blends_only_where_the_map_is() -> None:
    frames = np.full((2, 16, 16, 3), 100, np.uint8)
    raw = np.zeros((2, 2, 2), np.float32)
    raw[1, 0, 0] = 3.0
    maps = upsample(raw, 16, 16)
    assert maps.max() == pytest.approx(1.0) and maps[0].max() == 0
    out = overlay(frames, maps)
    assert out.shape == frames.shape and out.dtype == np.uint8
    np.testing.assert_array_equal(out[0], frames[0])
    assert not np.array_equal(out[1, :4, :4], frames[1, :4, :4])
    np.testing.assert_array_equal(out[1, 12:, 12:], frames[1, 12:, 12:])


def _actor_clips(settings, classes, per_class: int):
    """(class index, model-ready clip, boxes at the model's frame size) for synthetic clips."""
    from har_demo.clip import prepare_frame, sample_indices, to_model_input
    from har_demo.training import synth

    scale = np.array([settings.width / synth.WIDTH, settings.height / synth.HEIGHT] * 2)
    for ci, name in enumerate(classes):
        for k in range(per_class):
            frames, boxes = synth.render_clip_with_boxes(name, np.random.default_rng([99, ci, k]))
            idx = sample_indices(len(frames), settings.frames, settings.sampling)
            x = to_model_input(np.stack([prepare_frame(frames[i], settings) for i in idx]), settings)
            b = boxes[idx] * scale
            b = np.stack([np.floor(b[:, 0]), np.floor(b[:, 1]), np.ceil(b[:, 2]), np.ceil(b[:, 3])], 1).astype(int)
            b[boxes[idx, 0] < 0] = -1
            yield ci, x, b


def clip_ratio(maps: np.ndarray, boxes: np.ndarray) -> float:
    """Mean saliency inside the actor's boxes over mean saliency outside them, pooled over the clip's frames."""
    inside = np.zeros(maps.shape, dtype=bool)
    for t, (x0, y0, x1, y1) in enumerate(boxes):
        if x0 >= 0:
            inside[t, y0:y1, x0:x1] = True
    return float(maps[inside].mean() / max(float(maps[~inside].mean()), 1e-12)) if maps.sum() > 0 else float("nan")


def saliency_ratios(layer: str | None, per_class: int = 3) -> dict[str, list[float]]:
    """Per model, per clip: clip_ratio of the Grad-CAM of the clip's true class."""
    from har_demo.explain import GradCam
    from har_demo.loader import load_bundle

    bundle = load_bundle(str(WEIGHTS))
    cams = {name: GradCam(model, name, layer) for name, model in bundle.models.items()}
    ratios: dict[str, list[float]] = {name: [] for name in cams}
    for ci, x, boxes in _actor_clips(bundle.settings, bundle.classes, per_class):
        for name, cam in cams.items():
            ratios[name].append(clip_ratio(cam.explain(x, bundle.classes, class_index=ci).maps, boxes))
    return ratios


@pytest.mark.slow
def test_saliency_falls_on_the_actor() -> None:
    """Default layers (ConvLSTM's 29x29 conv_lstm_2, LRCN's 16x16 conv_2): the actor's box beats the background."""
    from har_demo.explain import choose_layer
    from har_demo.loader import load_bundle

    models = load_bundle(str(WEIGHTS)).models
    assert {name: choose_layer(m) for name, m in models.items()} == {"convlstm": "conv_lstm_2", "lrcn": "conv_2"}
    ratios = saliency_ratios(layer=None)
    print(
        "box/background saliency ratio per clip:", json.dumps({k: [round(r, 2) for r in v] for k, v in ratios.items()})
    )
    for name, values in ratios.items():
        assert np.nanmedian(values) > 1.2, f"{name}: Grad-CAM does not favour the actor ({values})"
        assert np.mean(np.array(values) > 1) >= 0.6, f"{name}: most clips' maps should favour the actor ({values})"


def _frame_importance_run(backend: str) -> dict:
    script = f"""
import json, numpy as np
from har_demo.loader import load_bundle
from har_demo.explain import GradCam, frame_importance
from har_demo.training import synth
from har_demo.clip import prepare_frame, sample_indices, to_model_input
b = load_bundle({str(WEIGHTS)!r})
s = b.settings
frames = synth.render_clip("Swing", np.random.default_rng(4), seconds=1.0)
idx = sample_indices(len(frames), s.frames, s.sampling)
x = to_model_input(np.stack([prepare_frame(frames[i], s) for i in idx]), s)
sal = GradCam(b.models["convlstm"], "convlstm", "last").explain(x, b.classes)
fine = GradCam(b.models["convlstm"], "convlstm").explain(x, b.classes)
imp = frame_importance(b.models["lrcn"].predict_on_batch, x, b.classes, "lrcn")
print("RESULT" + json.dumps({{"mass": sal.frame_mass.tolist(), "label": sal.label, "p": sal.probability,
      "raw_max": float(sal.raw.max()), "drops": imp.drops.tolist(), "imp_label": imp.label,
      "fine_mass": fine.frame_mass.tolist()}}))
"""
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(REPO)}
    out = subprocess.run([sys.executable, "-c", script], cwd=REPO, env=env, capture_output=True, text=True, timeout=240)
    assert out.returncode == 0, out.stderr[-3000:]
    line = next(line for line in out.stdout.splitlines() if line.startswith("RESULT"))
    return json.loads(line[len("RESULT") :])


@pytest.mark.slow
def test_the_same_explanation_on_tensorflow_jax_and_torch() -> None:
    results = {backend: _frame_importance_run(backend) for backend in ("tensorflow", "jax", "torch")}
    reference = results["tensorflow"]
    assert reference["raw_max"] > 0 and len(reference["drops"]) == 20
    for backend, result in results.items():
        assert result["label"] == reference["label"] and result["imp_label"] == reference["imp_label"], backend
        np.testing.assert_allclose(result["mass"], reference["mass"], atol=1e-3, err_msg=backend)
        np.testing.assert_allclose(result["drops"], reference["drops"], atol=1e-4, err_msg=backend)
        # The default map (conv_lstm_2) is two ConvLSTM layers further from the output: float
        # differences between backends grow on the way (up to 0.004 of a frame's share measured).
        np.testing.assert_allclose(result["fine_mass"], reference["fine_mass"], atol=1e-2, err_msg=backend)
