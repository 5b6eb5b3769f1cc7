"""Start the N processes of one multi-process run on this machine (loopback), as N hosts would.

For trying `--distribution data-parallel` across processes without a cluster, and for the tests
and benchmarks/scaling.py: each process gets the JAX coordinator variables (a free port on
127.0.0.1), one CPU device, and optionally one CPU core of its own (`taskset`). On real hosts the
same variables are set by hand or by Slurm (docs/distributed.md).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def process_env(index: int, count: int, port: int, base: dict | None = None, heartbeat: int | None = None) -> dict:
    """The environment of process `index` of `count`: JAX backend, coordinator variables, one CPU device."""
    env = dict(os.environ if base is None else base)
    env.update(
        {
            "KERAS_BACKEND": "jax",
            "JAX_PLATFORMS": "cpu",
            "XLA_FLAGS": "--xla_force_host_platform_device_count=1",
            "TF_CPP_MIN_LOG_LEVEL": "3",
            "PYTHONUNBUFFERED": "1",
        }
    )
    if count > 1:
        env.update(
            {
                "JAX_COORDINATOR_ADDRESS": f"127.0.0.1:{port}",
                "JAX_NUM_PROCESSES": str(count),
                "JAX_PROCESS_ID": str(index),
            }
        )
    if heartbeat is not None:
        env["HAR_DISTRIBUTED_HEARTBEAT"] = str(heartbeat)
    return env


def start_processes(
    argv: Sequence[str],
    count: int,
    logs: Path,
    *,
    cores: Sequence[int] | None = None,
    heartbeat: int | None = None,
    env: dict | None = None,
) -> list[subprocess.Popen]:
    """`python -m har_demo ARGV` as `count` processes of one run; process i's output in logs/process-i.log.

    With `cores`, process i runs on core cores[i % len(cores)] alone (taskset, where installed).
    """
    logs = Path(logs)
    logs.mkdir(parents=True, exist_ok=True)
    port = free_port()
    pin = shutil.which("taskset") if cores else None
    processes = []
    for index in range(count):
        command = [sys.executable, "-m", "har_demo", *argv]
        if pin:
            command = [pin, "-c", str(cores[index % len(cores)]), *command]
        with open(logs / f"process-{index}.log", "w") as log:
            processes.append(
                subprocess.Popen(
                    command,
                    env=process_env(index, count, port, env, heartbeat),
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
    return processes


def wait_all(processes: Sequence[subprocess.Popen], timeout: float) -> list[int | None]:
    """Each process's exit status; one still running after `timeout` seconds in all is killed (None)."""
    import time

    deadline = time.monotonic() + timeout
    codes: list[int | None] = []
    for process in processes:
        try:
            codes.append(process.wait(timeout=max(0.1, deadline - time.monotonic())))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            codes.append(None)
    return codes
