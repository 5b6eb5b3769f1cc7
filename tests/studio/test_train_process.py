"""A studio training in its own niced child process: real processes, real Keras training, no mocks."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from har_demo.app.studio_actions import StudioState
from har_demo.host_limits import LimitError
from har_demo.studio.limits import StudioLimits
from har_demo.studio.train_process import died, live_children
from har_demo.studio.trainer import StudioTrainer, TrainOptions
from tests.helpers import make_set

REPO = Path(__file__).resolve().parents[2]
NICENESS = 12  # above pytest's own (the suite runs under `nice -n 5`), below the default


def running(pid: int) -> bool:
    """True while `pid` exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def niceness_of(pid: int) -> int:
    """The nice value in /proc/<pid>/stat (field 19)."""
    with open(f"/proc/{pid}/stat") as stat:
        return int(stat.read().rsplit(")", 1)[1].split()[16])


def first_epoch(job):
    """The job's events up to its first epoch (the child is then training)."""
    for event in job.events():
        assert event.kind not in ("done", "error"), event.message
        if event.kind == "epoch":
            return event
    raise AssertionError("the job ended without an epoch")


def test_the_niceness_is_a_checked_host_setting():
    assert StudioLimits.from_env({"HAR_STUDIO_TRAIN_NICENESS": "7"}).train_niceness == 7
    assert StudioLimits.from_env({"HAR_STUDIO_TRAIN_SUBPROCESS": "false"}).train_subprocess is False
    for bad in ("0", "20", "-3", "many"):
        with pytest.raises(LimitError, match="HAR_STUDIO_TRAIN_NICENESS"):
            StudioLimits.from_env({"HAR_STUDIO_TRAIN_NICENESS": bad})


def test_a_child_that_dies_is_a_sentence():
    assert died(-signal.SIGKILL).startswith("Training stopped unexpectedly: its process was killed (signal 9)")
    assert "exited (1)" in died(1)


@pytest.mark.slow
def test_a_training_runs_niced_in_a_child_and_stop_ends_it(tmp_path):
    trainer = StudioTrainer(StudioLimits(train_niceness=NICENESS))
    job = trainer.start("dana", make_set(tmp_path / "s", clips_per_group=1, seed=4), TrainOptions(("lrcn",), 30))
    first_epoch(job)
    pid = job.pid
    assert pid is not None and pid != os.getpid() and running(pid)
    assert niceness_of(pid) == max(NICENESS, os.getpriority(os.PRIO_PROCESS, 0))
    assert os.getpriority(os.PRIO_PROCESS, 0) < NICENESS  # the app itself keeps its priority
    job.stop()
    done = job.wait()
    assert done.kind == "done" and done.stopped, done.message
    assert (done.bundle / "manifest.json").is_file()
    assert len(done.history["lrcn"]["loss"]) < 30
    assert not running(pid) and pid not in live_children()


@pytest.mark.slow
def test_a_killed_child_is_a_sentence_not_a_hang(tmp_path):
    trainer = StudioTrainer(StudioLimits(train_niceness=NICENESS))
    job = trainer.start("erin", make_set(tmp_path / "s", clips_per_group=1, seed=5), TrainOptions(("lrcn",), 30))
    first_epoch(job)
    pid = job.pid
    os.kill(pid, signal.SIGKILL)  # as the kernel's out-of-memory killer would
    started = time.perf_counter()
    last = job.wait()
    assert time.perf_counter() - started < 10
    assert last.kind == "error" and last.message.startswith("Training stopped unexpectedly"), last.message
    assert not running(pid)
    again = trainer.start("erin", make_set(tmp_path / "t", clips_per_group=1, seed=6), TrainOptions(("lrcn",), 1))
    assert again.wait().kind == "done"  # the trainer is free for the next one


@pytest.mark.slow
def test_ending_the_session_reaps_its_child(tmp_path):
    state = StudioState(StudioLimits(train_niceness=NICENESS), base=tmp_path / "sessions")
    class_set = state.sessions.class_set("fred")
    make_set(class_set.folder, clips_per_group=1, seed=7)
    job = state.trainer.start("fred", class_set, TrainOptions(("lrcn",), 30))
    state.jobs["fred"] = job
    first_epoch(job)
    pid = job.pid
    started = time.perf_counter()
    state.end("fred")
    last = job.wait()
    assert time.perf_counter() - started < 10
    assert last.kind == "error" and "session ended" in last.message, last.message
    assert not running(pid) and pid not in live_children()
    assert not class_set.folder.exists()


@pytest.mark.slow
def test_a_host_without_child_processes_trains_in_a_thread(tmp_path):
    trainer = StudioTrainer(StudioLimits(train_subprocess=False))
    job = trainer.start("gina", make_set(tmp_path / "s", clips_per_group=1, seed=8), TrainOptions(("lrcn",), 1))
    done = job.wait()
    assert done.kind == "done", done.message
    assert job.pid is None and not live_children()


APP = """
import sys, time
from pathlib import Path
from har_demo.app.serve import stop_on_sigterm
from har_demo.studio.limits import StudioLimits
from har_demo.studio.trainer import StudioTrainer, TrainOptions
from tests.helpers import make_set

stop_on_sigterm()
trainer = StudioTrainer(StudioLimits(train_niceness=12))
job = trainer.start("hal", make_set(Path(sys.argv[1]), clips_per_group=1, seed=9), TrainOptions(("lrcn",), 30))
for event in job.events():
    if event.kind == "epoch":
        print(job.pid, flush=True)
        break
time.sleep(600)
"""


@pytest.mark.slow
def test_the_apps_sigterm_ends_its_training_child(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    app = subprocess.Popen(
        [sys.executable, "-c", APP, str(tmp_path / "s")], stdout=subprocess.PIPE, text=True, env=env, cwd=REPO
    )
    try:
        pid = int(app.stdout.readline())
        assert running(pid)
        app.send_signal(signal.SIGTERM)
        assert app.wait(timeout=30) == 128 + signal.SIGTERM
        deadline = time.monotonic() + 10
        while running(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not running(pid)
    finally:
        app.kill()
        app.wait()
