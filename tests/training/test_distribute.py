"""Multi-device training through tf.distribute, on a CPU split into two logical devices.

TensorFlow's devices are fixed when it starts, so every run here is a fresh subprocess.

Tolerance. Under a strategy, MirroredStrategy(2 replicas) and OneDeviceStrategy (the same code
path on one device) see the same batches; each replica computes the loss on half of the batch,
the gradients are all-reduced (summed) and Keras scales the loss so that the sum equals the
one-device gradient. The two differ only by float32 summation order, so with dropout switched
off the weights after two epochs agree to 1e-4 (measured: ~1e-6). With dropout on, each replica
draws its own masks for its half of the batch, so the runs are equally valid but not the same
numbers; there the test only asks for the same training loss to within 0.1 after two epochs.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from har_demo.training.synth import write_synthetic_dataset

pytestmark = pytest.mark.slow  # trains models or exports them (tens of seconds each)

WEIGHT_TOLERANCE = 1e-4


def child() -> None:
    """Run in a subprocess: one-device vs mirrored LRCN training, with and without dropout."""
    import tempfile
    from pathlib import Path

    import numpy as np

    from har_demo.training.tf_strategy import configure_cpu_devices

    configure_cpu_devices(2)
    import keras

    import har_demo.models as models
    from har_demo.clip import ClipSettings
    from har_demo.training.config import TrainConfig, seed_everything
    from har_demo.training.dataset import FrameCache, Splits
    from har_demo.training.fit import train_one
    from har_demo.training.tf_strategy import make_strategy

    original = models.build_model

    def without_dropout(*args, **kwargs):
        model = original(*args, **kwargs)
        for layer in model.layers:
            inner = getattr(layer, "layer", layer)
            if isinstance(inner, keras.layers.Dropout):
                inner.rate = 0.0
        return model

    rng = np.random.default_rng(0)
    n = 20
    cache = FrameCache(
        folder=Path("."),
        frames=rng.integers(0, 256, (n, 20, 64, 64, 3), dtype=np.uint8),
        labels=np.arange(n) % 4,
        classes=["a", "b", "c", "d"],
        paths=[f"{i}.avi" for i in range(n)],
        groups=[str(i) for i in range(n)],
        settings=ClipSettings(),
        root=Path("."),
    )
    splits = Splits(np.arange(16), np.arange(16, 20), np.arange(0), "random", 0.0, 0.2, 27)
    config = TrainConfig(models=("lrcn",), epochs=2)
    results = {}
    for dropout in (False, True):
        models.build_model = original if dropout else without_dropout
        runs = {}
        for name in ("one-device", "mirrored"):
            strategy = make_strategy(name)
            seed_everything(27)
            model, info = train_one("lrcn", cache, splits, config, Path(tempfile.mkdtemp()), strategy=strategy)
            runs[name] = (model.get_weights(), info)
        (w1, i1), (w2, i2) = runs["one-device"], runs["mirrored"]
        results["dropout" if dropout else "no_dropout"] = {
            "replicas": [i1["replicas"], i2["replicas"]],
            "max_weight_difference": max(float(np.max(np.abs(a - b))) for a, b in zip(w1, w2)),
            "loss": [i1["history"]["loss"], i2["history"]["loss"]],
            "val_loss": [i1["history"]["val_loss"], i2["history"]["val_loss"]],
            "seconds": [i1["train_seconds"], i2["train_seconds"]],
        }
    print("RESULT " + json.dumps(results))


def test_mirrored_matches_one_device_training():
    result = subprocess.run(
        [sys.executable, "-c", "import tests.training.test_distribute as t; t.child()"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    line = next(l for l in result.stdout.splitlines() if l.startswith("RESULT "))
    results = json.loads(line[len("RESULT ") :])
    strict, noisy = results["no_dropout"], results["dropout"]
    assert strict["replicas"] == noisy["replicas"] == [1, 2]
    assert strict["max_weight_difference"] <= WEIGHT_TOLERANCE, strict
    for a, b in zip(*strict["loss"]):
        assert abs(a - b) <= 1e-4, strict
    for a, b in zip(*strict["val_loss"]):
        assert abs(a - b) <= 1e-4, strict
    assert abs(noisy["loss"][0][-1] - noisy["loss"][1][-1]) <= 0.1, noisy


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory):
    root = tmp_path_factory.mktemp("dist") / "SynthUCF"
    write_synthetic_dataset(root, 4, groups_per_class=2, workers=2, progress=False)
    return root


def test_train_cli_with_mirrored_strategy_on_two_cpu_devices(tiny_data, tmp_path):
    bundle = tmp_path / "bundle"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "har_demo",
            "train",
            str(tiny_data),
            "--models",
            "lrcn",
            "--epochs",
            "1",
            "--strategy",
            "mirrored",
            "--cpu-devices",
            "2",
            "--out",
            str(bundle),
            "--cache-dir",
            str(tmp_path / "cache"),
            "--workers",
            "2",
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "MirroredStrategy: 2 replica(s)" in result.stdout
    manifest = json.loads((bundle / "manifest.json").read_text())
    assert manifest["training"]["strategy"] == "mirrored" and manifest["training"]["replicas"] == 2
    report = json.loads((bundle / "report.json").read_text())
    test = report["models"]["lrcn"]["test"]
    assert report["models"]["lrcn"]["replicas"] == 2 and sum(map(sum, test["confusion"])) == test["clips"]
    # the saved model is a plain one: it loads and serves outside any strategy
    from har_demo.inference import Predictor

    clip = next(tiny_data.glob("Swing/*.avi"))
    prediction = Predictor.from_ref(bundle).predict_path(clip)
    assert prediction.probabilities["lrcn"].shape == (4,)


def test_cpu_devices_must_come_before_tensorflow_starts():
    code = (
        "import tensorflow as tf; tf.constant(1.0)\n"
        "from har_demo.training.tf_strategy import configure_cpu_devices\n"
        "try:\n    configure_cpu_devices(2)\nexcept RuntimeError as e:\n    print('refused:', e)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert "refused: --cpu-devices must be set before TensorFlow starts" in result.stdout


def test_batches_split_evenly_over_replicas():
    """Under a strategy the last batch is cut to a multiple of the replica count (Keras 3.15
    fails on an empty or uneven replica share); without one nothing changes."""
    from pathlib import Path

    import numpy as np

    from har_demo.clip import ClipSettings
    from har_demo.training.batches import make_batches
    from har_demo.training.dataset import FrameCache

    n = 7
    cache = FrameCache(
        folder=Path("."),
        frames=np.zeros((n, 2, 8, 8, 3), np.uint8),
        labels=np.arange(n) % 2,
        classes=["a", "b"],
        paths=[str(i) for i in range(n)],
        groups=[str(i) for i in range(n)],
        settings=ClipSettings(frames=2, height=8, width=8),
        root=Path("."),
    )
    plain = make_batches(cache, np.arange(n), 4, True, 27)
    assert len(plain) == 2 and [len(plain[i][0]) for i in range(2)] == [4, 3]
    even = make_batches(cache, np.arange(n), 4, True, 27, replicas=2)
    assert len(even) == 2 and [len(even[i][0]) for i in range(2)] == [4, 2]
    three = make_batches(cache, np.arange(n), 3, False, 27, replicas=3)
    assert len(three) == 2 and [len(three[i][0]) for i in range(2)] == [3, 3]


# ----------------------------------------------------------------------------- JAX: keras.distribution
JAX_DEVICES = 2


def jax_child() -> None:
    """Run in a subprocess on JAX with two CPU devices: one-device vs DataParallel LRCN, no dropout.

    Small on purpose (12 clips of 8 frames): XLA compiles a training and a validation step for
    each run, which dominates on a busy 2-core box."""
    import tempfile
    from pathlib import Path

    import keras
    import numpy as np

    import har_demo.models as models
    from har_demo.clip import ClipSettings
    from har_demo.training import distribution
    from har_demo.training.config import TrainConfig, seed_everything
    from har_demo.training.dataset import FrameCache, Splits
    from har_demo.training.fit import train_one

    assert keras.backend.backend() == "jax" and len(keras.distribution.list_devices()) == JAX_DEVICES
    original = models.build_model

    def without_dropout(*args, **kwargs):
        model = original(*args, **kwargs)
        for layer in model.layers:
            inner = getattr(layer, "layer", layer)
            if isinstance(inner, keras.layers.Dropout):
                inner.rate = 0.0
        return model

    models.build_model = without_dropout
    rng = np.random.default_rng(0)
    n = 12
    cache = FrameCache(
        folder=Path("."),
        frames=rng.integers(0, 256, (n, 8, 64, 64, 3), dtype=np.uint8),
        labels=np.arange(n) % 4,
        classes=["a", "b", "c", "d"],
        paths=[f"{i}.avi" for i in range(n)],
        groups=[str(i) for i in range(n)],
        settings=ClipSettings(frames=8),
        root=Path("."),
    )
    splits = Splits(np.arange(8), np.arange(8, 12), np.arange(0), "random", 0.0, 0.2, 27)
    config = TrainConfig(models=("lrcn",), epochs=2)
    runs = {}
    for name in ("one-device", "data-parallel"):
        devices = distribution.use_distribution("data-parallel" if name == "data-parallel" else "none", 4)
        seed_everything(27)
        model, info = train_one("lrcn", cache, splits, config, Path(tempfile.mkdtemp()))
        runs[name] = {
            "weights": model.get_weights(),
            "loss": info["history"]["loss"],
            "val_loss": info["history"]["val_loss"],
            "devices": devices,
            "replicas": distribution.replicas(),
        }
        distribution.stop_distribution()
    one, parallel = runs["one-device"], runs["data-parallel"]

    def difference(a, b):
        return max(float(np.max(np.abs(x - y))) for x, y in zip(a["weights"], b["weights"]))

    result = {
        "devices": [one["devices"], parallel["devices"]],
        "replicas": [one["replicas"], parallel["replicas"]],
        "parallel_difference": difference(one, parallel),
        "loss": [one["loss"], parallel["loss"]],
        "val_loss": [one["val_loss"], parallel["val_loss"]],
    }
    print("RESULT " + json.dumps(result))


def jax_env() -> dict:
    import os

    return os.environ | {
        "KERAS_BACKEND": "jax",
        "XLA_FLAGS": f"--xla_force_host_platform_device_count={JAX_DEVICES}",
        "TF_CPP_MIN_LOG_LEVEL": "3",
    }


@pytest.mark.slow
def test_jax_data_parallel_matches_one_device_training():
    pytest.importorskip("jax")
    result = subprocess.run(
        [sys.executable, "-c", "import tests.training.test_distribute as t; t.jax_child()"],
        capture_output=True,
        text=True,
        env=jax_env(),
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    line = next(l for l in result.stdout.splitlines() if l.startswith("RESULT "))
    got = json.loads(line[len("RESULT ") :])
    assert got["devices"] == [1, JAX_DEVICES] and got["replicas"] == [1, JAX_DEVICES]
    assert got["parallel_difference"] <= WEIGHT_TOLERANCE, got
    for a, b in zip(*got["loss"]):
        assert abs(a - b) <= 1e-4, got
    for a, b in zip(*got["val_loss"]):
        assert abs(a - b) <= 1e-4, got


@pytest.mark.slow
def test_each_distribution_engine_refuses_the_other_backend(tmp_path):
    pytest.importorskip("jax")
    import os

    def train(env: dict, *flags: str):
        return subprocess.run(
            [sys.executable, "-m", "har_demo", "train", str(tmp_path), "--out", str(tmp_path / "b"), *flags],
            capture_output=True,
            text=True,
            env=os.environ | {"TF_CPP_MIN_LOG_LEVEL": "3"} | env,
            timeout=300,
        )

    on_jax = train({"KERAS_BACKEND": "jax"}, "--strategy", "mirrored")
    assert (
        on_jax.returncode == 2 and "--strategy mirrored (tf.distribute) needs the TensorFlow backend" in on_jax.stderr
    )
    on_tf = train({"KERAS_BACKEND": "tensorflow"}, "--distribution", "data-parallel")
    assert on_tf.returncode == 2 and "runs on the JAX backend (keras.distribution)" in on_tf.stderr
    uneven = train(jax_env(), "--distribution", "data-parallel", "--batch-size", "3")
    assert uneven.returncode == 2 and "cannot be split evenly over 2 devices" in uneven.stderr
