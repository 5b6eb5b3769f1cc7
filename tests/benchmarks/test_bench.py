"""Smoke tests for `python -m har_demo bench`: it runs on a clip or two, once, and prints tables
with a ratio column. No timing assertions: the numbers belong in docs/performance.md, not in CI.

Tiny stand-in models (the same layer kinds as the report's) keep this to seconds; the rebuilt
inference models must give the loaded models' outputs.
"""

from __future__ import annotations

import numpy as np
import pytest

from har_demo.__main__ import main
from tests.helpers import assert_round_trips

CLASSES = ["WalkingWithDog", "TaiChi", "Swing", "HorseRace"]


def tiny_models() -> dict:
    """ConvLSTM and LRCN in miniature: ConvLSTM2D, TimeDistributed(Conv2D/Dropout), LSTM."""
    import keras
    from keras import layers

    keras.utils.set_random_seed(1)
    inputs = keras.Input((20, 64, 64, 3))
    x = layers.MaxPooling3D((1, 8, 8))(inputs)
    x = layers.ConvLSTM2D(3, (3, 3), return_sequences=True, recurrent_dropout=0.2)(x)
    x = layers.TimeDistributed(layers.Dropout(0.2))(x)
    x = layers.ConvLSTM2D(2, (3, 3), padding="same", return_sequences=False)(x)
    convlstm = keras.Model(inputs, layers.Dense(4, activation="softmax")(layers.Flatten()(x)), name="convlstm")
    lrcn = keras.Sequential(
        [
            keras.Input((20, 64, 64, 3)),
            layers.TimeDistributed(layers.Conv2D(4, (3, 3), strides=4, activation="relu")),
            layers.TimeDistributed(layers.Dropout(0.25)),
            layers.TimeDistributed(layers.GlobalAveragePooling2D()),
            layers.LSTM(5),
            layers.Dense(4, activation="softmax"),
        ],
        name="lrcn",
    )
    return {"convlstm": convlstm, "lrcn": lrcn}


@pytest.fixture(scope="module")
def tiny_bundle(tmp_path_factory):
    from har_demo.bundle import new_manifest, save_models, write_manifest
    from har_demo.clip import ClipSettings

    folder = tmp_path_factory.mktemp("tiny") / "bundle"
    entries = save_models(folder, tiny_models())
    write_manifest(
        folder, new_manifest(name="tiny", classes=CLASSES, settings=ClipSettings(), models=entries, source="test")
    )
    return folder


def test_the_benchmark_bundle_round_trips_byte_for_byte(tiny_bundle):
    assert_round_trips(tiny_bundle)


def test_rebuilt_inference_models_match_the_loaded_ones(tiny_bundle):
    from har_demo.inference import Predictor
    from har_demo.loader import load_bundle

    predictor = Predictor(load_bundle(tiny_bundle))
    frames = np.random.default_rng(3).integers(0, 256, (1, 20, 64, 64, 3), dtype=np.uint8)
    probabilities, seconds = predictor.predict_frames(frames)
    x = frames.astype(np.float32) / 255
    for name, model in predictor.models.items():
        runner = predictor.runners[name]
        assert runner is not model  # rebuilt, not the fallback
        kinds = {type(layer).__name__ for layer in runner.layers}
        assert "TimeDistributed" not in kinds and "ConvLSTM2D" not in kinds, kinds
        np.testing.assert_allclose(probabilities[name], model.predict_on_batch(x), atol=1e-5)
        assert seconds[name] >= 0


def test_bench_clip_prints_tables_with_ratios(tiny_bundle, real_clips, capsys):
    clip = real_clips / "v_TaiChi_g01_c02.avi"
    assert (
        main(
            ["bench", "clip", "--bundle", str(tiny_bundle), "--clips", str(clip), "--synthetic", "0", "--repeats", "1"]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "Machine: " in out and "| speedup |" in out and "ours / (floor + models)" in out
    assert "v_TaiChi_g01_c02.avi" in out and "**median over clips**" in out
    assert "Both models on one already-decoded clip" in out and "speedup vs tutorial" in out


def test_bench_infer_and_build_print_tables_with_ratios(tiny_bundle, tmp_path, capsys):
    assert main(["bench", "infer", "--bundle", str(tiny_bundle), "--batch-sizes", "1", "--repeats", "1"]) == 0
    out = capsys.readouterr().out
    assert "| model | batch | loaded model | ours | ours ms/clip | speedup |" in out
    assert (
        main(
            [
                "bench",
                "build",
                "--build-clips",
                "4",
                "--repeats",
                "1",
                "--workers",
                "1",
                "--work-dir",
                str(tmp_path),
                "--json",
                str(tmp_path / "build.json"),
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "tutorial create_dataset" in out and "| 1.00x |" in out and "clips/s" in out
    assert (tmp_path / "build.json").is_file()


def test_bench_gpu_prints_clips_per_second_end_to_end_and_the_targets(tiny_bundle, real_clips, capsys):
    """`bench gpu` on whatever this process runs (the CPU here): every table, tiny budgets."""
    args = ["bench", "gpu", "--bundle", str(tiny_bundle), "--gpu-batch-sizes", "1,2", "--seconds", "0.05"]
    assert main([*args, "--gpu-repeats", "1", "--real-clips", str(real_clips)]) == 0
    out = capsys.readouterr().out
    assert "| model | batch | ms per call | clips/s | first call (s, tracing) | calls timed |" in out
    assert "| lrcn | 2 |" in out and "| convlstm | 1 |" in out and "Weights on: convlstm " in out
    assert "both models, decoded clip" in out and "timeline, long_mixed_activities.mp4" in out
    assert "GPU targets" in out and "lrcn batch 1 <= 5 ms" in out and "backend " in out
