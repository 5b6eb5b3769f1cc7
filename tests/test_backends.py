"""The same models on TensorFlow, JAX and PyTorch: the same probabilities, the timeline, the app.

Keras fixes its backend at import, so each backend runs in its own subprocess
(`python -c "import tests.test_backends as t; t.predictor_child()"` with KERAS_BACKEND set).
The shipped bundle (weights/, real trained .keras files) is served with the fused fast path on
real UCF50 clips. Tolerance: max |p_backend - p_tensorflow| <= 1e-5 on the same frames (the
backends differ only in float32 summation order; measured ~2e-9).

This module imports nothing that imports keras: the parent process stays backend-free.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from har_demo.backend import BACKENDS, installed
from tests.helpers import CHILD_TIMEOUT_S, need
from tests.paths import REPO

TOLERANCE = 1e-5
CLIPS = ("v_TaiChi_g01_c02.avi", "v_Swing_g01_c05.avi", "v_HorseRace_g01_c04.avi")
TIMELINE_CLIP = "v_WalkingWithDog_g01_c03.avi"


def run_child(function: str, backend: str, *args: str, extra_env: dict | None = None) -> dict:
    """`tests.test_backends.<function>(*args)` in a fresh Python on `backend`; its RESULT line as a dict."""
    env = os.environ | {"KERAS_BACKEND": backend, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "3"}
    env.pop("HAR_DEMO_BACKEND", None)
    env |= extra_env or {}
    code = f"import sys, tests.test_backends as t; t.{function}(*sys.argv[1:])"
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=CHILD_TIMEOUT_S,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    line = next(l for l in done.stdout.splitlines() if l.startswith("RESULT "))
    return json.loads(line[len("RESULT ") :])


# ----------------------------------------------------------------------------- in the subprocess
def predictor_child(clips_folder: str) -> None:
    """The shipped bundle through the Predictor (fast path) on real clips, and a timeline."""
    import keras

    from har_demo.clip import read_clip
    from har_demo.inference import Predictor
    from har_demo.timeline import compute_timeline

    predictor = Predictor.from_ref(REPO / "weights")
    folder = Path(clips_folder)
    result = {
        "backend": keras.backend.backend(),
        "predictor_backend": predictor.backend,
        "device": predictor.device,
        "rebuilt": {name: predictor.runners[name] is not model for name, model in predictor.models.items()},
        "clips": {},
    }
    for name in CLIPS:
        clip = read_clip(folder / name, predictor.settings)
        probabilities, _ = predictor.predict_frames(clip.frames)
        result["clips"][name] = {m: p[0].tolist() for m, p in probabilities.items()}
    timeline = compute_timeline(folder / TIMELINE_CLIP, predictor, window_s=2.0, stride_s=1.0)
    result["timeline"] = {m: p.tolist() for m, p in timeline.probabilities.items()}
    result["timeline_segments"] = {m: [s.label for s in timeline.segments(m)] for m in timeline.models}
    print("RESULT " + json.dumps(result))


def app_child(clips_folder: str, examples_cache: str) -> None:
    """The real app (root app.py's create_demo) on 127.0.0.1, asked through gradio_client."""
    import socket

    os.environ["GRADIO_EXAMPLES_CACHE"] = examples_cache
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    from gradio_client import Client, handle_file

    import app

    demo, engine = app.create_demo(str(REPO / "weights"))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    demo.launch(
        server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True, **app.launch_options(engine)
    )
    try:
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        outputs = client.predict(handle_file(str(Path(clips_folder) / CLIPS[0])), api_name="/predict")
        answer = next(o for o in outputs if isinstance(o, dict) and "models" in o)
        timeline = client.predict(handle_file(str(Path(clips_folder) / TIMELINE_CLIP)), 2.0, 1.0, api_name="/timeline")
        client.close()
    finally:
        demo.close()
    import keras

    print(
        "RESULT "
        + json.dumps(
            {
                "backend": keras.backend.backend(),
                "device": engine.device,
                "predict": answer,
                "timeline_outputs": len(timeline),
                "timeline_text": next((o for o in timeline if isinstance(o, str)), ""),
            }
        )
    )


# ----------------------------------------------------------------------------- the tests
@pytest.fixture(scope="module")
def reference(real_clips) -> dict:
    """TensorFlow's answers on the same frames (the baseline every backend is held to)."""
    need("tensorflow")
    return run_child("predictor_child", "tensorflow", str(real_clips))


def max_difference(a: dict, b: dict) -> float:
    return max(float(np.max(np.abs(np.asarray(a[m]) - np.asarray(b[m])))) for m in a)


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_predictor_and_timeline_give_tensorflows_probabilities(backend, reference, real_clips):
    need(backend)
    got = run_child("predictor_child", backend, str(real_clips))
    display = {"jax": "JAX", "torch": "PyTorch"}[backend]
    assert got["backend"] == got["predictor_backend"] == backend
    assert display in got["device"] and "TensorFlow" in reference["device"]
    assert all(got["rebuilt"].values()) and all(reference["rebuilt"].values())  # the fast path, not the fallback
    for clip in CLIPS:
        assert max_difference(got["clips"][clip], reference["clips"][clip]) <= TOLERANCE, clip
    assert len(got["timeline"]["lrcn"]) == len(reference["timeline"]["lrcn"]) >= 3
    assert max_difference(got["timeline"], reference["timeline"]) <= TOLERANCE
    assert got["timeline_segments"] == reference["timeline_segments"]


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_the_app_serves_on_the_backend(backend, reference, real_clips, tmp_path):
    need(backend)
    got = run_child("app_child", backend, str(real_clips), str(tmp_path / "examples-cache"))
    display = {"jax": "JAX", "torch": "PyTorch"}[backend]
    assert got["backend"] == backend and display in got["device"]
    answer = got["predict"]
    want = reference["clips"][CLIPS[0]]
    for model, entry in answer["models"].items():
        probabilities = [entry["probabilities"][c] for c in answer["classes"]]
        assert np.max(np.abs(np.asarray(probabilities) - np.asarray(want[model]))) <= TOLERANCE + 1e-6  # 6 decimals
    assert got["timeline_outputs"] >= 2
    assert "windows of 2 s every 1 s" in got["timeline_text"] and display in got["timeline_text"]  # the device line


# ----------------------------------------------------------------------------- choosing the backend
def choose(env: dict, purpose: str = "serving") -> subprocess.CompletedProcess:
    """har_demo.backend.choose_backend in a fresh Python with exactly these backend variables."""
    clean = {k: v for k, v in os.environ.items() if k not in ("KERAS_BACKEND", "HAR_DEMO_BACKEND")}
    code = (
        "import os, sys\n"
        "from har_demo.backend import BackendError, choose_backend\n"
        "try:\n"
        f"    print(choose_backend({purpose!r}), os.environ.get('KERAS_BACKEND'), 'keras' in sys.modules)\n"
        "except BackendError as e:\n"
        "    print('refused:', e)\n"
    )
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=clean | env, cwd=REPO, timeout=120
    )


def test_har_demo_backend_sets_keras_backend_and_wins():
    need("jax")
    out = choose({"HAR_DEMO_BACKEND": "jax", "KERAS_BACKEND": "torch"}).stdout.split()
    assert out == ["jax", "jax", "False"]  # chosen before keras is imported
    assert choose({"KERAS_BACKEND": "jax"}).stdout.split() == ["jax", "jax", "False"]


def test_serving_default_is_the_fastest_installed_and_training_keeps_tensorflow():
    from har_demo.backend import SERVING_PREFERENCE

    fastest = next(b for b in SERVING_PREFERENCE if installed(b))
    assert choose({}).stdout.split() == [fastest, fastest, "False"]
    assert choose({}, purpose="training").stdout.split()[:2] == ["tensorflow", "None"]


def test_an_unknown_backend_is_refused_in_one_sentence():
    out = choose({"HAR_DEMO_BACKEND": "mxnet"}).stdout
    assert out.startswith("refused: HAR_DEMO_BACKEND='mxnet' is not a backend") and all(b in out for b in BACKENDS)


@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_tflite_export_says_it_needs_tensorflow(backend):
    need(backend)
    done = subprocess.run(
        [sys.executable, "-m", "har_demo", "export", "--bundle", str(REPO / "weights")],
        capture_output=True,
        text=True,
        env=os.environ | {"KERAS_BACKEND": backend},
        cwd=REPO,
        timeout=120,
    )
    assert done.returncode == 2
    assert "The TFLite export needs the TensorFlow backend" in done.stderr and "KERAS_BACKEND=tensorflow" in done.stderr


# ----------------------------------------------------------------------------- training on each backend
def seed_child() -> None:
    """Train a small LRCN twice from the same seed on this backend; the weights must be equal."""
    import tempfile

    import keras

    from har_demo.clip import ClipSettings
    from har_demo.training.config import TrainConfig, seed_everything
    from har_demo.training.dataset import FrameCache, Splits
    from har_demo.training.fit import train_one

    rng = np.random.default_rng(0)
    n = 12
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
    splits = Splits(np.arange(8), np.arange(8, 12), np.arange(0), "random", 0.0, 0.2, 27)
    weights = []
    for _ in range(2):
        seed_everything(27)
        model, _ = train_one("lrcn", cache, splits, TrainConfig(models=("lrcn",), epochs=1), Path(tempfile.mkdtemp()))
        weights.append(model.get_weights())
    difference = max(float(np.max(np.abs(a - b))) for a, b in zip(*weights))
    print("RESULT " + json.dumps({"backend": keras.backend.backend(), "difference": difference}))


@pytest.mark.slow
@pytest.mark.parametrize("backend", BACKENDS)
def test_the_same_seed_gives_the_same_training_run(backend):
    need(backend)
    got = run_child("seed_child", backend)
    assert got == {"backend": backend, "difference": 0.0}


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory):
    from har_demo.training.synth import write_synthetic_dataset

    root = tmp_path_factory.mktemp("backend-train") / "SynthUCF"
    write_synthetic_dataset(root, 3, groups_per_class=2, workers=1, progress=False)
    return root


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_train_cli_runs_on_the_backend(backend, tiny_data, tmp_path):
    """`har-demo train` with the report's settings (1 epoch here) on another backend, bundle served after."""
    need(backend)
    bundle = tmp_path / "bundle"
    done = subprocess.run(
        [sys.executable, "-m", "har_demo", "train", str(tiny_data), "--models", "lrcn", "--epochs", "1"]
        + ["--out", str(bundle), "--cache-dir", str(tmp_path / "cache"), "--workers", "1"],
        capture_output=True,
        text=True,
        env=os.environ | {"KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"},
        cwd=REPO,
        timeout=CHILD_TIMEOUT_S,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    manifest = json.loads((bundle / "manifest.json").read_text())
    assert manifest["versions"]["keras_backend"] == backend
    report = json.loads((bundle / "report.json").read_text())
    test = report["models"]["lrcn"]["test"]
    assert sum(map(sum, test["confusion"])) == test["clips"] > 0


@pytest.mark.slow
def test_predict_json_names_the_serving_default_backend_and_device(real_clips):
    """With no backend variable set, `predict` runs on the first installed of SERVING_PREFERENCE and says so."""
    from har_demo.backend import DISPLAY, SERVING_PREFERENCE

    expected = next(b for b in SERVING_PREFERENCE if installed(b))
    env = {k: v for k, v in os.environ.items() if k not in ("KERAS_BACKEND", "HAR_DEMO_BACKEND")}
    done = subprocess.run(
        [sys.executable, "-m", "har_demo", "predict", str(real_clips / CLIPS[0]), "--bundle", str(REPO / "weights")]
        + ["--json"],
        capture_output=True,
        text=True,
        env=env | {"TF_CPP_MIN_LOG_LEVEL": "3"},
        cwd=REPO,
        timeout=CHILD_TIMEOUT_S,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    document = json.loads(done.stdout)
    assert document["backend"] == expected and DISPLAY[expected] in document["device"]
    assert set(document["clips"][0]["models"]) == {"convlstm", "lrcn"}
