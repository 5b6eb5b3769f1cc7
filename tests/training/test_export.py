"""TFLite export: builtin ops only, run by ai-edge-litert, and the same probabilities as Keras.

Tolerance: the largest absolute difference between TFLite's and Keras's class probabilities on the
same float32 input is at most 1e-4 (measured: ~1e-7, float rounding in a different op order).
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from har_demo.clip import read_clip, to_model_input
from har_demo.loader import load_bundle
from har_demo.training.export import TOLERANCE, ExportError, TFLiteRunner, convert_to_tflite, export_graph, model_ops
from har_demo.training.import_weights import import_bundle

pytestmark = pytest.mark.slow  # trains models or exports them (tens of seconds each)

CLASSES = ["WalkingWithDog", "TaiChi", "Swing", "HorseRace"]
# TFLite builtin operators; a Select TF op would show up as FlexXxx or a custom op
BUILTIN_SEEN = {
    "ADD",
    "CONV_2D",
    "FULLY_CONNECTED",
    "LOGISTIC",
    "MAX_POOL_2D",
    "MUL",
    "PACK",
    "RESHAPE",
    "SOFTMAX",
    "TANH",
    "UNPACK",
    "STRIDED_SLICE",
    "SPLIT",
    "CONCATENATION",
    "SUB",
    "TRANSPOSE",
}


@pytest.fixture(scope="module")
def exported(tmp_path_factory, tutorial_weights, real_clips):
    """The report author's seed models as a bundle, exported by the CLI and checked on the real clips."""
    base = tmp_path_factory.mktemp("export")
    bundle = import_bundle(
        base / "seed",
        {"convlstm": tutorial_weights / "seed_convlstm_keras3.h5", "lrcn": tutorial_weights / "seed_lrcn_keras3.h5"},
        CLASSES,
    )
    clips = sorted(real_clips.iterdir())
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "har_demo",
            "export",
            "--bundle",
            str(bundle),
            "--format",
            "tflite",
            "--check",
            *map(str, clips[:2]),
            "--repeats",
            "3",
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return bundle, bundle / "tflite", clips


def test_export_writes_builtin_only_models_and_a_manifest(exported):
    bundle, out, _ = exported
    document = json.loads((out / "export.json").read_text())
    assert document["format"] == "tflite" and document["classes"] == CLASSES
    assert document["input"]["shape"] == [1, 20, 64, 64, 3] and document["runtime"] == "ai-edge-litert"
    assert document["tolerance"]["max_abs_probability_difference"] == TOLERANCE
    for name in ("convlstm", "lrcn"):
        entry = document["models"][name]
        path = out / entry["file"]
        assert path.stat().st_size == entry["bytes"] < 2_000_000
        ops = set(model_ops(path.read_bytes()))
        assert ops == set(entry["ops"]) and ops <= BUILTIN_SEEN, ops
        assert not any(op.startswith("FLEX") or op == "CUSTOM" for op in ops)
        assert "MAX_POOL_2D" in ops and "CONV_2D" in ops
        assert entry["max_abs_difference"] <= TOLERANCE and entry["same_top_class"]
        assert entry["latency_ms_per_clip"]["tflite"] > 0 and entry["latency_ms_per_clip"]["keras_predict_on_batch"] > 0
    # the bundle itself is untouched: its manifest's hashes still verify
    assert set(load_bundle(bundle).models) == {"convlstm", "lrcn"}


def test_tflite_agrees_with_keras_on_every_real_clip(exported, expected_predictions):
    bundle_path, out, clips = exported
    bundle = load_bundle(bundle_path)
    settings = bundle.settings
    x = np.stack([to_model_input(read_clip(clip, settings).frames, settings) for clip in clips])
    expected = expected_predictions["predictions"]
    for name, model in bundle.models.items():
        runner = TFLiteRunner(out / f"{name}.tflite")
        assert runner.input_shape == (1, 20, 64, 64, 3)
        got = runner.predict(x)
        want = np.concatenate([np.asarray(model.predict_on_batch(clip[None])) for clip in x])
        assert np.max(np.abs(got - want)) <= TOLERANCE, (name, np.max(np.abs(got - want)))
        np.testing.assert_array_equal(got.argmax(1), want.argmax(1))
        for clip, probs in zip(clips, got):  # and what the report author's models said
            assert CLASSES[int(probs.argmax())] == expected[f"seed_{name}_keras3.h5"][clip.name]["pred"], clip.name


def test_trained_models_of_other_shapes_export_too():
    """Functional models as training builds them, at 8 frames of 64x80 and 7 classes."""
    from har_demo.models import build_model

    rng = np.random.default_rng(1)
    x = rng.random((2, 8, 64, 80, 3), dtype=np.float32)
    for name in ("convlstm", "lrcn"):
        model = build_model(name, 7, frames=8, height=64, width=80)
        graph = export_graph(model)
        assert graph.input_shape == (1, 8, 64, 80, 3)
        assert graph.count_params() == model.count_params()  # the same weights, nothing added
        runner = TFLiteRunner(convert_to_tflite(graph))
        want = np.concatenate([np.asarray(model.predict_on_batch(clip[None])) for clip in x])
        assert np.max(np.abs(runner.predict(x) - want)) <= TOLERANCE


def test_models_that_are_not_chains_are_refused():
    import keras

    inputs = keras.Input((4, 8, 8, 3))
    a = keras.layers.TimeDistributed(keras.layers.Flatten())(inputs)
    b = keras.layers.LSTM(4)(a)
    c = keras.layers.LSTM(4)(a)
    model = keras.Model(inputs, keras.layers.Concatenate()([b, c]))
    with pytest.raises(ExportError, match="not fed by the layer before it"):
        export_graph(model)


def test_export_cli_names_a_missing_bundle(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "har_demo", "export", "--bundle", str(tmp_path / "nothing-here")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2 and "error:" in result.stderr


def test_export_graph_is_the_inference_fast_path_plus_a_fixed_batch():
    """One rewrite (har_demo.fastpath) for the app and the export: the same layer kinds, same outputs."""
    from har_demo.fastpath import Framewise, FusedConvLSTM2D, inference_model
    from har_demo.models import build_model

    x = np.random.default_rng(2).random((1, 20, 64, 64, 3), dtype=np.float32)
    for name in ("convlstm", "lrcn"):
        model = build_model(name, 4)
        graph, served = export_graph(model), inference_model(model)
        exported = {type(layer) for layer in graph.layers}
        assert Framewise in exported and Framewise in {type(layer) for layer in served.layers}
        if name == "convlstm":
            assert FusedConvLSTM2D in exported and FusedConvLSTM2D in {type(layer) for layer in served.layers}
        want = np.asarray(model.predict_on_batch(x))
        np.testing.assert_allclose(np.asarray(graph.predict_on_batch(x)), want, atol=1e-5)
        np.testing.assert_allclose(np.asarray(served.predict_on_batch(x)), want, atol=1e-5)
