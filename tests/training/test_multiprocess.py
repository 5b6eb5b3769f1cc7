"""Data-parallel training across processes: two `har-demo train` processes on 127.0.0.1.

Each process is a real `python -m har_demo train --distribution data-parallel` joined through
jax.distributed (coordinator on a free loopback port, one CPU device each), as two hosts would
be. The one-process run with the same global batch is the reference: the two processes each
feed half of every batch, and the weights they train must be the same to float summation order
(measured: ~4e-7 after 2 epochs, dropout on: JAX draws the global batch's dropout masks the same
way however the batch is sharded).

Every process has a timeout, and the JAX heartbeat is set to 10 s, so a lost process ends the
run in seconds rather than hanging.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

from har_demo.training.launch import free_port, process_env, start_processes, wait_all
from har_demo.training.output import SCRATCH_MARKER
from har_demo.training.synth import write_synthetic_dataset

pytestmark = pytest.mark.slow  # each run starts JAX and compiles a training step (tens of seconds)

WEIGHT_TOLERANCE = 1e-4
RUN_TIMEOUT = 420  # seconds for a whole run (start-up, compiling, 2-3 epochs) on a loaded 2-core box
HEARTBEAT = 10


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("multiprocess") / "SynthUCF"
    write_synthetic_dataset(root, 8, groups_per_class=2, workers=2, progress=False)
    return root


def train_argv(data: Path, out: Path, cache: Path, epochs: int, processes: int, *extra: str) -> list[str]:
    return [
        "train", str(data), "--models", "lrcn", "--epochs", str(epochs), "--frames", "8", "--tiny", "off",
        "--batch-size", "4", "--distribution", "data-parallel" if processes > 1 else "none",
        "--out", str(out), "--cache-dir", str(cache), "--workers", "1", *extra,
    ]  # fmt: skip


def run(data: Path, out: Path, cache: Path, epochs: int, processes: int, *extra: str) -> tuple[list, list[str]]:
    logs = out.parent / f"{out.name}-logs"
    started = start_processes(
        train_argv(data, out, cache, epochs, processes, *extra), processes, logs, heartbeat=HEARTBEAT
    )
    codes = wait_all(started, RUN_TIMEOUT)
    return codes, [(logs / f"process-{i}.log").read_text() for i in range(processes)]


def weights(bundle: Path) -> list[np.ndarray]:
    import h5py  # the .keras file is a zip holding model.weights.h5; read it without starting Keras

    with zipfile.ZipFile(bundle / "lrcn.keras") as archive, archive.open("model.weights.h5") as file:
        found = []
        with h5py.File(file) as h5:
            h5.visititems(lambda name, item: found.append((name, item[()])) if isinstance(item, h5py.Dataset) else None)
        return [value for _, value in sorted(found, key=lambda pair: pair[0])]


def epochs_run(log: str) -> list[str]:
    return [line.split()[1] for line in log.splitlines() if line.startswith("Epoch ")]


@pytest.fixture(scope="module")
def reference(data, tmp_path_factory) -> Path:
    """The one-process run of the same data, batch and seed."""
    folder = tmp_path_factory.mktemp("reference")
    codes, logs = run(data, folder / "bundle", folder / "cache", 2, 1)
    assert codes == [0], logs[0][-3000:]
    return folder / "bundle"


def test_two_processes_train_the_one_process_model(data, reference, tmp_path):
    out = tmp_path / "bundle"
    codes, logs = run(data, out, tmp_path / "cache", 2, 2)
    assert codes == [0, 0], logs[0][-3000:] + logs[1][-3000:]
    for index, log in enumerate(logs):
        assert f"DataParallel: 2 device(s) in 2 processes, this one {index}" in log
    # one bundle, written by the chief; the other process waited for it and wrote nothing beside it
    assert "Bundle written to" in logs[0] and "Bundle written to" not in logs[1]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bundle", "bundle-logs", "cache"]
    assert (out / "manifest.json").is_file() and not Path(f"{out}.partial").exists()
    # the frame cache was decoded once, by the chief; the other process read it
    assert "Cached 32 clips" in logs[0] and "Reusing frame cache" in logs[1]
    # both stopped on the same epoch, and trained the one-process model
    assert epochs_run(logs[0]) == epochs_run(logs[1]) == ["1/2", "2/2"]
    one, two = weights(reference), weights(out)
    assert [w.shape for w in one] == [w.shape for w in two]
    difference = max(float(np.max(np.abs(a - b))) for a, b in zip(one, two))
    assert difference <= WEIGHT_TOLERANCE, difference
    report, reference_report = (json.loads((b / "report.json").read_text()) for b in (out, reference))
    assert report["models"]["lrcn"]["history"]["loss"] == pytest.approx(
        reference_report["models"]["lrcn"]["history"]["loss"], abs=1e-4
    )


def test_a_killed_process_leaves_a_run_that_resumes(data, tmp_path):
    out, cache = tmp_path / "bundle", tmp_path / "cache"
    marker = Path(f"{out}.partial") / SCRATCH_MARKER
    logs = tmp_path / "killed-logs"
    processes = start_processes(train_argv(data, out, cache, 3, 2), 2, logs, heartbeat=HEARTBEAT)
    deadline = time.monotonic() + RUN_TIMEOUT
    while time.monotonic() < deadline and all(p.poll() is None for p in processes):
        units = json.loads(marker.read_text()).get("units", {}) if marker.is_file() else {}
        if units.get("lrcn", {}).get("epoch", 0) >= 1:
            break
        time.sleep(0.05)
    assert all(p.poll() is None for p in processes), "a process ended before the first epoch was kept"
    processes[1].kill()  # the other process, mid-way through epoch 2 of 3
    codes = wait_all(processes, 120)
    chief_log = (logs / "process-0.log").read_text()
    assert codes[0] == 3, chief_log[-3000:]  # it ended on its own (None would mean it hung and was killed)
    assert "start every process again with the same command and --resume" in chief_log
    assert not out.exists() and json.loads(marker.read_text())["units"]["lrcn"]["epoch"] >= 1

    codes, resumed = run(data, out, cache, 3, 2, "--resume")
    assert codes == [0, 0], resumed[0][-3000:] + resumed[1][-3000:]
    assert "Resuming the interrupted run" in resumed[0]
    assert epochs_run(resumed[0]) == epochs_run(resumed[1]) and epochs_run(resumed[0])[-1] == "3/3"
    report = json.loads((out / "report.json").read_text())["models"]["lrcn"]
    assert report["resumed_after_epoch"] >= 1 and report["epochs_trained"] == 3
    assert not Path(f"{out}.partial").exists()


def coordination_child() -> None:
    """Run as process JAX_PROCESS_ID of two: what the coordination helpers give each process."""
    import numpy as np

    from har_demo.training import distribution, sharding

    distribution.initialize()
    index = sharding.process_index()
    shared = Path(os.environ["SHARED_FOLDER"])
    scratch, own = shared / "scratch", shared / f"own-{index}"
    own.mkdir()
    units = {}
    if sharding.is_chief():  # a run interrupted after epoch 2, as RunState keeps it
        (scratch / "checkpoints").mkdir(parents=True)
        (scratch / "checkpoints" / "lrcn.epoch2.keras").write_bytes(b"last state")
        (scratch / "checkpoints" / "lrcn.best.weights.h5").write_bytes(b"best weights")
        units = {"lrcn": {"epoch": 2, "last": "checkpoints/lrcn.epoch2.keras"}}
    got = {
        "index": index,
        "count": sharding.process_count(),
        "rows": sharding.local_rows(np.arange(8)).tolist(),
        "broadcast": sharding.broadcast(f"from {index}"),
        "shared": sharding.shares_folder(shared),
        "separate": sharding.shares_folder(shared / f"disk-{index}"),  # each process its own folder
        "units": sharding.follow_chief(units, scratch, own),
        "files": sorted(p.name for p in (own / "checkpoints").glob("*")) if index else [],
        "bytes": (own / "checkpoints" / "lrcn.epoch2.keras").read_bytes().decode() if index else "",
    }
    sharding.check_same("clips", ["a.avi", "b.avi"])
    try:
        sharding.check_same("clips", ["a.avi", "b.avi"][: index + 1])
        got["disagree"] = None
    except sharding.ProcessesDisagree as exc:
        got["disagree"] = str(exc)
    sharding.barrier("end")
    print("RESULT " + json.dumps(got), flush=True)


def test_processes_agree_through_the_coordination_service(tmp_path):
    """Real jax.distributed on loopback, no training: slices, broadcast, disk probe, resume, check."""
    port = free_port()
    children = [
        subprocess.Popen(
            [sys.executable, "-c", "import tests.training.test_multiprocess as t; t.coordination_child()"],
            env=process_env(i, 2, port, heartbeat=HEARTBEAT) | {"SHARED_FOLDER": str(tmp_path)},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for i in range(2)
    ]
    outputs = [child.communicate(timeout=180)[0] for child in children]
    results = []
    for child, output in zip(children, outputs):
        assert child.returncode == 0, output[-3000:]
        results.append(json.loads(next(l for l in output.splitlines() if l.startswith("RESULT "))[7:]))
    chief, other = results
    assert (chief["index"], other["index"], chief["count"]) == (0, 1, 2)
    assert chief["rows"] == [0, 1, 2, 3] and other["rows"] == [4, 5, 6, 7]  # together: the whole batch
    assert chief["broadcast"] == other["broadcast"] == "from 0"
    assert other["shared"] is True and other["separate"] is False
    assert other["units"] == chief["units"] == {"lrcn": {"epoch": 2, "last": "checkpoints/lrcn.epoch2.keras"}}
    assert other["files"] == ["lrcn.best.weights.h5", "lrcn.epoch2.keras"] and other["bytes"] == "last state"
    for result in results:  # both refuse, with the same sentence
        assert result["disagree"] and "process(es) 1 see(s) other clips than process 0" in result["disagree"]
    assert not list(tmp_path.glob("**/.har-shared-*"))  # the probe files are gone
