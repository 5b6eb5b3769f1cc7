"""The training rewrite (fastpath.training_model): the same model to fit, without frame loops."""

from __future__ import annotations

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from har_demo.fastpath import Framewise, plain_copy, training_model  # noqa: E402
from har_demo.models import build_model  # noqa: E402

FRAMES = 6


@pytest.mark.slow
@pytest.mark.parametrize("name", ["lrcn", "convlstm"])
def test_the_training_graph_is_the_model_with_its_weights_and_live_dropout(name, tmp_path):
    model = build_model(name, 4, FRAMES, 64, 64)
    fit_graph = training_model(model)
    assert fit_graph.name == model.name  # the studio's curves are keyed by it
    assert any(isinstance(layer, Framewise) for layer in fit_graph.layers)
    assert not any(isinstance(layer, keras.layers.TimeDistributed) for layer in fit_graph.layers)
    x = np.random.default_rng(0).random((2, FRAMES, 64, 64, 3), dtype=np.float32)
    np.testing.assert_allclose(
        np.asarray(fit_graph(x, training=False)), np.asarray(model(x, training=False)), atol=1e-6
    )
    draws = [np.asarray(fit_graph(x, training=True)) for _ in range(2)]
    assert np.abs(draws[0] - draws[1]).max() > 0  # dropout still drops while training

    fit_graph.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    fit_graph.train_on_batch(x, np.eye(4, dtype=np.float32)[[0, 1]])
    path = tmp_path / "checkpoint.keras"
    fit_graph.save(path)  # a resumable checkpoint, optimizer state included
    reloaded = keras.saving.load_model(path, compile=True)
    assert int(reloaded.optimizer.iterations) == 1
    plain = plain_copy(reloaded, build_model(name, 4, FRAMES, 64, 64))
    assert not any(isinstance(layer, Framewise) for layer in plain.layers)
    np.testing.assert_allclose(np.asarray(plain(x)), np.asarray(fit_graph(x)), atol=1e-6)


def test_a_plain_copy_of_another_architecture_is_refused():
    with pytest.raises(ValueError, match="differ in shape"):
        plain_copy(build_model("lrcn", 4, FRAMES, 64, 64), build_model("convlstm", 4, FRAMES, 64, 64))


def test_a_rebuilt_model_is_used_only_when_it_agrees_with_the_model():
    from har_demo.fastpath import inference_model
    from har_demo.rewrite_check import checked_runner

    keras.utils.set_random_seed(1)
    model = build_model("lrcn", 4, FRAMES, 64, 64)
    x = np.random.default_rng(0).random((1, FRAMES, 64, 64, 3), dtype=np.float32)
    fast = inference_model(model)
    assert checked_runner(model, fast, x) is fast
    keras.utils.set_random_seed(2)
    other = inference_model(build_model("lrcn", 4, FRAMES, 64, 64))  # other weights: other outputs
    with pytest.warns(UserWarning, match="failed its check"):
        assert checked_runner(model, other, x) is model
