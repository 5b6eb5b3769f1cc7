"""Multi-device training on the JAX backend: Keras' own `keras.distribution.DataParallel`.

`har-demo train ... --distribution data-parallel` (with KERAS_BACKEND=jax) replicates the model
on every device Keras lists (GPUs, or CPU devices made with
XLA_FLAGS=--xla_force_host_platform_device_count=N) and splits each batch over them; the
gradients are averaged by JAX's sharding, so a run gives the one-device run's weights up to float
summation order (tests/test_distribute.py checks it). The same engine runs across hosts: start
every host with the JAX coordinator variables set (JAX_COORDINATOR_ADDRESS, JAX_NUM_PROCESSES,
JAX_PROCESS_ID) and `initialize()` below calls `keras.distribution.initialize()`
(`jax.distributed.initialize`) before the devices are listed. This is the documented route past
one machine while TensorFlow's MultiWorkerMirroredStrategy fails under Keras 3.15.

On TensorFlow, `--strategy mirrored` (tf.distribute) is the equivalent; each refuses the other
backend in one sentence.
"""

from __future__ import annotations

import os

DISTRIBUTIONS = ("none", "data-parallel")
COORDINATOR_ENV = "JAX_COORDINATOR_ADDRESS"


class DistributionError(ValueError):
    """A distribution this backend or machine cannot run; the message says what to do instead."""


def initialize() -> None:
    """Join a multi-host JAX run when the coordinator variables are set (a no-op otherwise)."""
    if os.environ.get(COORDINATOR_ENV):
        import keras

        keras.distribution.initialize()


def use_distribution(name: str | None, batch_size: int | None = None) -> int:
    """Make `name` Keras' global distribution for what is built next; return the device count.

    "none" (or None) changes nothing and returns 1. A `batch_size` that does not split evenly
    over the devices is refused (each device takes an equal share of every batch).
    """
    if name in (None, "none"):
        return 1
    if name not in DISTRIBUTIONS:
        raise DistributionError(f"--distribution must be one of {', '.join(DISTRIBUTIONS)}, not {name!r}")
    import keras

    backend = keras.backend.backend()
    if backend != "jax":
        raise DistributionError(
            f"--distribution {name} runs on the JAX backend (keras.distribution) and this process runs Keras on "
            f"{backend}: run it with KERAS_BACKEND=jax, or use --strategy mirrored on TensorFlow."
        )
    initialize()
    devices = keras.distribution.list_devices()
    if batch_size is not None and batch_size % len(devices):
        raise DistributionError(
            f"--batch-size {batch_size} cannot be split evenly over {len(devices)} devices; "
            f"use a multiple of {len(devices)}"
        )
    keras.distribution.set_distribution(keras.distribution.DataParallel(devices=devices))
    print(f"DataParallel: {len(devices)} device(s) ({', '.join(devices)})")
    return len(devices)


def replicas() -> int:
    """How many devices each batch is split over now (1 without a distribution)."""
    import keras

    if keras.backend.backend() != "jax":
        return 1
    distribution = keras.distribution.distribution()
    if distribution is None:
        return 1
    return int(distribution.device_mesh.devices.size)


def stop_distribution() -> None:
    """Back to plain one-device Keras (the global distribution cleared)."""
    import keras

    if keras.backend.backend() == "jax":
        keras.distribution.set_distribution(None)
