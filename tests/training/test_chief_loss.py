"""Losing process 0 of a multi-process run: what the other process does, as docs/distributed.md says.

Process 0 runs JAX's coordination service; killed, it takes the service with it, and jaxlib ends
every other process from a C++ thread (a fatal log line, then abort) before any Python code can
speak. The only hook jaxlib has, `missed_heartbeat_callback`, aborts with std::bad_cast when given
a Python function (jax 0.10). These tests pin both facts: if the second one starts failing, the
hook works and the lost chief can end with our sentence too.
"""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from har_demo.training.launch import free_port, process_env

pytestmark = pytest.mark.slow  # starts JAX processes joined by jax.distributed

HEARTBEAT = 10
JAX_FATAL = "Terminating process because the JAX distributed service detected fatal errors"
CHILD = """
import os, sys, time
hook = sys.argv[1] == "hook"
if hook:  # what a Python hook for the lost coordinator would be
    from jax._src.lib import _jax
    make = _jax.get_distributed_runtime_client
    def with_hook(*args, **kwargs):
        def lost(*_):
            print("OUR HOOK RAN", flush=True)
            os._exit(3)
        return make(*args, missed_heartbeat_callback=lost, **kwargs)
    _jax.get_distributed_runtime_client = with_hook
from har_demo.training import distribution
distribution.initialize()
print("joined", flush=True)
time.sleep(120)
"""


def _until_joined(child: subprocess.Popen) -> str:
    lines = []
    for line in child.stdout:
        lines.append(line)
        if line.strip() == "joined":
            return "".join(lines)
    raise AssertionError("a process did not join: " + "".join(lines)[-3000:])


def _lose_the_chief(hook: str) -> tuple[int, str, float]:
    """Join two processes, kill process 0, return process 1's exit status, output and seconds to end."""
    port = free_port()
    children = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD, hook if i == 1 else "plain"],
            env=process_env(i, 2, port, heartbeat=HEARTBEAT),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for i in range(2)
    ]
    try:
        early = [_until_joined(child) for child in children]
        children[0].kill()
        started = time.monotonic()
        output = early[1] + children[1].communicate(timeout=4 * HEARTBEAT)[0]
        return children[1].returncode, output, time.monotonic() - started
    finally:
        for child in children:
            child.kill()
            child.wait()


def test_the_others_end_at_once_with_jax_s_own_line() -> None:
    code, output, seconds = _lose_the_chief("plain")
    assert code != 0 and JAX_FATAL in output, output[-3000:]
    assert seconds < 2 * HEARTBEAT  # bounded: no waiting for a heartbeat timeout


def test_jaxlib_has_no_working_python_hook_for_a_lost_coordinator() -> None:
    code, output, _ = _lose_the_chief("hook")
    assert "OUR HOOK RAN" not in output and "bad_cast" in output, output[-3000:]
