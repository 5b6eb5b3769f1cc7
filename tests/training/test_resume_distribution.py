"""`--resume` continues a run with the distribution it started with, and refuses another one.

The interrupted run's state is written by training.checkpoint.RunState (as a run does after
each epoch); the real `har-demo train` then decides, and refuses before any training starts.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.paths import REPO


def _interrupted_run(out: Path, distribution: str) -> Path:
    from har_demo.training.checkpoint import RunState
    from har_demo.training.options import DEFAULTS
    from har_demo.training.output import scratch_path

    scratch = scratch_path(out)
    scratch.mkdir(parents=True)
    options = {**DEFAULTS, "models": "lrcn", "distribution": distribution}
    RunState(scratch, {"kind": "train", "out": str(out), "run": {}, "options": options, "units": {}}).save()
    return scratch


def _train(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "KERAS_BACKEND": "tensorflow", "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "har_demo", "train", *args], capture_output=True, text=True, env=env, timeout=300
    )


def test_resume_uses_the_stored_distribution_and_refuses_another(real_tiny: Path, tmp_path: Path) -> None:
    from har_demo.training.output import read_marker

    out = tmp_path / "run"
    scratch = _interrupted_run(out, "data-parallel")
    before = read_marker(scratch)

    conflicting = _train(str(real_tiny), "--out", str(out), "--resume", "--distribution", "none")
    assert conflicting.returncode == 2, conflicting.stderr[-2000:]
    assert "used distribution 'data-parallel' (asked: 'none')" in conflicting.stderr

    # Without the flag the stored distribution decides: this process runs TensorFlow, so the
    # data-parallel run it would continue is refused in its own sentence.
    stored = _train(str(real_tiny), "--out", str(out), "--resume")
    assert stored.returncode == 2, stored.stderr[-2000:]
    assert "--distribution data-parallel runs on the JAX backend" in stored.stderr
    assert read_marker(scratch) == before and not out.exists()
