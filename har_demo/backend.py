"""Which Keras backend runs the models: TensorFlow, JAX or PyTorch, chosen before keras is imported.

Keras fixes its backend when it is first imported (from KERAS_BACKEND, else ~/.keras/keras.json,
else TensorFlow), so the choice is made by the entrypoints, first thing:

  1. HAR_DEMO_BACKEND (this project's setting; it sets KERAS_BACKEND to match), else
  2. KERAS_BACKEND (Keras's own), else
  3. for serving (`predict`, the app): the fastest installed backend, by the start-up and
     latency table in docs/performance.md (SERVING_PREFERENCE); for everything else (training,
     export) Keras's own default, TensorFlow, so training runs and TFLite exports never change
     because another package happens to be installed.

`describe_device()` names the accelerator and the backend for the app header, `predict --json`
and the benchmarks ("GPU: NVIDIA H200 (PyTorch)", "CPU (2 cores, TensorFlow)").
"""

from __future__ import annotations

import importlib.util
import os
import sys

BACKEND_ENV = "HAR_DEMO_BACKEND"
BACKENDS = ("tensorflow", "jax", "torch")
DISPLAY = {"tensorflow": "TensorFlow", "jax": "JAX", "torch": "PyTorch"}
# Fastest first for serving on a CPU, by `har-demo bench backends` (docs/performance.md, "Backends"):
# start-up + 40 clips' model time, medians of two interleaved rounds on the 2-core box. TensorFlow
# won both start-up and latency there; JAX pays minutes of XLA compilation at warm-up, and
# PyTorch's eager ConvLSTM ran 30-100x slower per clip on the busy CPU. So a machine with
# TensorFlow serves on it; a ZeroGPU Space (torch only, requirements-zerogpu.txt) serves on torch.
SERVING_PREFERENCE = ("tensorflow", "jax", "torch")


class BackendError(ValueError):
    """An unknown or uninstalled backend was asked for; the message says which ones there are."""


def installed(name: str) -> bool:
    """True if the backend's framework can be imported here (checked without importing it)."""
    return importlib.util.find_spec(name) is not None


def installed_backends() -> list[str]:
    return [name for name in BACKENDS if installed(name)]


def requested() -> str | None:
    """The backend named by HAR_DEMO_BACKEND, else KERAS_BACKEND, else None."""
    for variable in (BACKEND_ENV, "KERAS_BACKEND"):
        value = os.environ.get(variable, "").strip().lower()
        if value:
            if value not in BACKENDS:
                raise BackendError(f"{variable}={value!r} is not a backend this project runs on: {', '.join(BACKENDS)}")
            return value
    return None


def active() -> str:
    """The backend Keras uses (or will use once imported)."""
    if "keras" in sys.modules:
        return sys.modules["keras"].backend.backend()
    return os.environ.get("KERAS_BACKEND", "tensorflow")


def choose_backend(purpose: str = "serving") -> str:
    """Set KERAS_BACKEND for this process before keras is imported; return the backend.

    `purpose` "serving" picks the fastest installed backend when nothing is requested;
    anything else leaves Keras's default. Once keras is imported this only reports the backend
    (changing it would need a new process), and says so if another one was requested.
    """
    from har_demo import gpu  # noqa: F401  (imports `spaces` before torch, as ZeroGPU asks)

    wanted = requested()
    if "keras" in sys.modules:
        current = active()
        if wanted and wanted != current:
            print(f"note: Keras already runs on {current}; {wanted} needs a new process", file=sys.stderr)
        return current
    if wanted:
        if not installed(wanted):
            raise BackendError(f"the {DISPLAY[wanted]} backend was asked for but `{wanted}` is not installed")
        os.environ["KERAS_BACKEND"] = wanted
        return wanted
    if purpose == "serving":
        for name in SERVING_PREFERENCE:
            if installed(name):
                os.environ["KERAS_BACKEND"] = name
                return name
    return active()


def tensorflow_only(feature: str) -> None:
    """Refuse a TensorFlow-only feature under another backend, in one sentence."""
    if active() != "tensorflow":
        raise BackendError(
            f"{feature} needs the TensorFlow backend, and this process runs Keras on {DISPLAY.get(active(), active())}: "
            f"run it with KERAS_BACKEND=tensorflow (or {BACKEND_ENV}=tensorflow)."
        )


def describe_device() -> str:
    """The accelerator the models run on and the backend, in words ("CPU (2 cores, JAX)")."""
    import keras

    backend = keras.backend.backend()
    name = DISPLAY.get(backend, backend)
    try:
        if backend == "tensorflow":
            import tensorflow as tf

            gpus = tf.config.list_physical_devices("GPU")
            if gpus:
                details = tf.config.experimental.get_device_details(gpus[0])
                return f"GPU: {details.get('device_name', gpus[0].name)} ({name})"
        elif backend == "jax":
            import jax

            device = jax.devices()[0]
            if device.platform != "cpu":
                return f"GPU: {device.device_kind} ({name})"
        elif backend == "torch":
            import torch

            if torch.cuda.is_available():
                return f"GPU: {torch.cuda.get_device_name(0)} ({name})"
    except Exception:  # device discovery must never break serving
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"CPU ({cores} cores, {name})"
