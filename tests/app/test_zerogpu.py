"""ZeroGPU as far as a CPU allows: with a `spaces` package importable, the models run only inside
`spaces.GPU` functions (har_demo.gpu), with a duration sized to the batch; without one nothing
is wrapped. A stand-in `spaces` (tests/data/fake_spaces) records every decoration and call and
pickles arguments and results as ZeroGPU's process boundary does. Each case runs in a fresh Python
(the package is picked up at import).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.paths import REPO

FAKE_SPACES = REPO / "tests" / "data" / "fake_spaces"
CLIP = "v_TaiChi_g01_c02.avi"


def run_python(code: str, *args: str, spaces: bool) -> dict:
    path = [str(FAKE_SPACES), str(REPO)] if spaces else [str(REPO)]
    env = os.environ | {"PYTHONPATH": os.pathsep.join(path), "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, cwd=REPO, timeout=600
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    line = next(l for l in done.stdout.splitlines() if l.startswith("RESULT "))
    return json.loads(line[len("RESULT ") :])


def child(clips_folder: str) -> None:
    """In the subprocess: a Predictor, a clip and a timeline, every model call watched."""
    import spaces

    from har_demo import gpu
    from har_demo.clip import read_clip
    from har_demo.inference import Predictor
    from har_demo.timeline import compute_timeline

    outside = []  # model calls made while no GPU function was running

    def watch(model):
        original = model.predict_on_batch

        def predict_on_batch(x):
            if spaces.ACTIVE == 0:
                outside.append(model.name)
            return original(x)

        model.predict_on_batch = predict_on_batch

    predictor = Predictor.from_ref(REPO / "weights", warm=False)
    for model in [*predictor.models.values(), *predictor.runners.values()]:
        watch(model)
    predictor.warm_up((1, 4))
    after_warm_up = len(spaces.CALLS)
    path = Path(clips_folder) / CLIP
    prediction = predictor.predict_clip(read_clip(path, predictor.settings))
    timeline = compute_timeline(path, predictor, window_s=2.0, stride_s=1.0, batch_size=2)
    print(
        "RESULT "
        + json.dumps(
            {
                "available": gpu.zero_gpu_available(),
                "decorated": spaces.DECORATED,
                "calls": spaces.CALLS,
                "after_warm_up": after_warm_up,
                "outside": outside,
                "windows": timeline.windows,
                "top": {m: prediction.top(m) for m in prediction.probabilities},
                "rebuilt": all(predictor.runners[m] is not predictor.models[m] for m in predictor.models),
            }
        )
    )


@pytest.mark.slow
def test_model_calls_go_through_spaces_gpu_with_sized_durations(real_clips):
    got = run_python("import sys, tests.app.test_zerogpu as t; t.child(sys.argv[1])", str(real_clips), spaces=True)
    assert got["available"]
    gpu_functions = [d["function"] for d in got["decorated"]]
    assert "har_demo.gpu.run_held" in gpu_functions
    assert [d["duration"] for d in got["decorated"] if d["function"] == "har_demo.gpu.run_held"] == ["dynamic"]
    assert got["outside"] == []  # no model ran outside a GPU function, not even the fast path's check
    assert got["rebuilt"]  # and the fast path passed that check
    calls = [c for c in got["calls"] if c["function"] == "har_demo.gpu.run_held"]
    # warm-up (batches 1 and 4), one clip, then the timeline in batches of 2 windows
    assert got["after_warm_up"] == 2
    assert len(calls) == 2 + 1 + math.ceil(got["windows"] / 2)
    assert all(isinstance(c["duration"], int) and 5 <= c["duration"] <= 120 for c in calls)
    assert calls[0]["duration"] <= calls[1]["duration"]  # sized to the batch
    assert set(got["top"]) == {"convlstm", "lrcn"}  # every model answered through the pickled boundary


def test_without_spaces_nothing_is_wrapped():
    code = (
        "import json\n"
        "from har_demo import gpu, inference\n"
        "print('RESULT ' + json.dumps([gpu.zero_gpu_available(), gpu.on_zero_gpu(),"
        " hasattr(gpu.run_held, '__wrapped__'), gpu.gpu_task(5)(len) is len]))\n"
    )
    assert run_python(code, spaces=False) == [False, False, False, True]


def test_gpu_task_clamps_durations_for_zerogpu():
    code = (
        "import json, spaces\n"
        "from har_demo.gpu import gpu_task\n"
        "fixed = gpu_task(1000)(lambda n: n * 2)\n"
        "sized = gpu_task(lambda n: n / 10)(lambda n: n + 1)\n"
        "print('RESULT ' + json.dumps([fixed(3), sized(7), sized(3000), spaces.DECORATED, spaces.CALLS]))\n"
    )
    a, b, c, decorated, calls = run_python(code, spaces=True)
    assert (a, b, c) == (6, 8, 3001)
    ours = [d for d in decorated if d["function"] != "har_demo.gpu.run_held"]  # the trampoline, decorated at import
    assert [d["duration"] for d in ours] == [120, "dynamic"]
    assert [c["duration"] for c in calls] == [120, 5, 120]
