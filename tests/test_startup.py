"""Start-up: a Predictor is ready without tracing, its rewrite check is remembered per model file,
and `predict` refuses what is not a video before Keras loads (docs/performance.md has the timings)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from tests.paths import REPO


def test_a_passed_rewrite_check_is_remembered_by_model_file(tmp_path, monkeypatch):
    monkeypatch.setenv("HAR_DEMO_CACHE", str(tmp_path))
    from har_demo.inference import Predictor
    from har_demo.loader import load_bundle
    from har_demo.rewrite_check import remembered

    bundle = load_bundle(REPO / "weights")
    first = Predictor(bundle, warm=False)
    keys = {name: first._rewrite_key(name) for name in bundle.models}
    assert all(keys.values()) and len(set(keys.values())) == 2
    assert all(remembered(key) for key in keys.values())
    assert all(first.runners[n] is not bundle.models[n] for n in bundle.models)  # the rewrite passed
    passes = json.loads((tmp_path / "checked_rewrites.json").read_text())
    assert set(passes) == set(keys.values()) and all(error <= 1e-4 for error in passes.values())
    # another backend or another file is another key: never taken for checked
    from har_demo.rewrite_check import rewrite_key

    assert not remembered(rewrite_key("0" * 64, first.backend))


def test_a_predictor_serves_eagerly_until_traced_and_both_agree(tmp_path, monkeypatch):
    monkeypatch.setenv("HAR_DEMO_CACHE", str(tmp_path))
    from har_demo.inference import Predictor
    from har_demo.loader import load_bundle

    predictor = Predictor(load_bundle(REPO / "weights"), warm=False)
    assert not predictor.compiled.is_set()  # warm=False: no tracing at all unless asked
    frames = np.random.default_rng(1).integers(0, 255, (2, 20, 64, 64, 3), dtype=np.uint8)
    eager, _ = predictor.predict_frames(frames)
    predictor.warm_up((2,), background=True)
    assert predictor.compiled.wait(timeout=300)
    traced, _ = predictor.predict_frames(frames)
    for name in eager:
        assert eager[name].shape == (2, 4)
        np.testing.assert_allclose(eager[name], traced[name], atol=1e-5)


REFUSE = """
import sys
from har_demo.cli import main
code = main(["predict", *sys.argv[1:]])
print("KERAS_LOADED", "keras" in sys.modules, "CODE", code)
"""


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs a FIFO")
def test_predict_refuses_non_videos_before_keras_loads(tmp_path):
    fifo = tmp_path / "pipe.avi"
    os.mkfifo(fifo)
    text = tmp_path / "notes.mp4"
    text.write_text("not a video")
    (tmp_path / "empty").mkdir()
    result = subprocess.run(
        [sys.executable, "-c", REFUSE, str(fifo), str(tmp_path / "empty"), "/dev/zero", str(text)],
        capture_output=True, text=True, timeout=60, cwd=REPO,
    )  # fmt: skip
    assert "KERAS_LOADED False CODE 1" in result.stdout, result.stdout + result.stderr[-2000:]
    assert "pipe.avi is not a regular file" in result.stdout
    assert "there is no video in this folder" in result.stderr and "zero is not a regular file" in result.stdout
    assert "notes.mp4" in result.stdout


def test_tensorflow_start_up_chatter_is_kept_off_the_terminal():
    from har_demo.quiet_start import CHATTER

    noise = [
        "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
        "I0000 00:00:1796562660.074490    9853 cudart_stub.cc:31] Could not find cuda drivers on your machine",
        "E0000 00:00:1796562677.441288    9853 cuda_platform.cc:52] failed call to cuInit: INTERNAL: CUDA error",
    ]
    kept = ["error: the clip is too long", "E0000 00:00:1796562677.441288    9853 some_kernel.cc:52] a real failure"]
    assert all(CHATTER.search(line) for line in noise) and not any(CHATTER.search(line) for line in kept)
    env = os.environ | {"KERAS_BACKEND": "tensorflow", "PYTHONPATH": str(REPO)}
    env.pop("HAR_DEMO_TF_LOGS", None)
    code = "import sys; from har_demo.quiet_start import import_keras; import_keras(); print('said', file=sys.stderr)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0 and result.stderr.strip() == "said", result.stderr[-2000:]
