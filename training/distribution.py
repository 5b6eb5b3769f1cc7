"""Multi-device training on the JAX backend: Keras' own `keras.distribution.DataParallel`.

`har-demo train ... --distribution data-parallel` (with KERAS_BACKEND=jax) replicates the model
on every device Keras lists (GPUs, or CPU devices made with
XLA_FLAGS=--xla_force_host_platform_device_count=N) and splits each batch over them; the
gradients are averaged by JAX's sharding, so a run gives the one-device run's weights up to float
summation order (tests/training/test_distribute.py checks it). The same engine runs across hosts: start
every host with the JAX coordinator variables set (JAX_COORDINATOR_ADDRESS, JAX_NUM_PROCESSES,
JAX_PROCESS_ID) and `initialize()` below joins them with `jax.distributed.initialize` (every wait
bounded: HAR_DISTRIBUTED_HEARTBEAT, HAR_DISTRIBUTED_WAIT) before the devices are listed; each
process then feeds its own slice of every global batch, and the chief alone writes
(training/sharding.py; the recipe and measured scaling are in docs/distributed.md). This is the
route past one machine while TensorFlow's MultiWorkerMirroredStrategy fails under Keras 3.15.

On TensorFlow, `--strategy mirrored` (tf.distribute) is the equivalent; each refuses the other
backend in one sentence.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator

from har_demo.training import sharding

DISTRIBUTIONS = ("none", "data-parallel")
COORDINATOR_ENV = "JAX_COORDINATOR_ADDRESS"
PROCESSES_ENV = "JAX_NUM_PROCESSES"
PROCESS_ID_ENV = "JAX_PROCESS_ID"
HEARTBEAT_ENV = "HAR_DISTRIBUTED_HEARTBEAT"
DEFAULT_HEARTBEAT_SECONDS = 60


class DistributionError(ValueError):
    """A distribution this backend or machine cannot run; the message says what to do instead."""


def initialize() -> None:
    """Join a multi-process JAX run when the coordinator variables are set (a no-op otherwise).

    JAX reads JAX_COORDINATOR_ADDRESS itself but not the process count and number, which are
    read here (a missing one is refused in a sentence). A process that stops sending heartbeats
    for HAR_DISTRIBUTED_HEARTBEAT seconds (default 60) is declared lost, and the others end
    instead of waiting for it; joining waits at most HAR_DISTRIBUTED_WAIT seconds (default 3600).
    """
    address = os.environ.get(COORDINATOR_ENV)
    if not address:
        return
    import jax
    from jax._src import distributed as jax_distributed

    if jax_distributed.global_state.client is not None:  # joined already
        return
    try:
        count, index = int(os.environ[PROCESSES_ENV]), int(os.environ[PROCESS_ID_ENV])
    except (KeyError, ValueError):
        raise DistributionError(
            f"{COORDINATOR_ENV} is set, so this is one process of a multi-process run: set {PROCESSES_ENV} (how "
            f"many processes) and {PROCESS_ID_ENV} (this one's number, 0 for the chief) too (docs/distributed.md)"
        ) from None
    if not 0 <= index < count:
        raise DistributionError(f"{PROCESS_ID_ENV} must be from 0 to {count - 1}, not {index}")
    heartbeat = int(float(os.environ.get(HEARTBEAT_ENV, DEFAULT_HEARTBEAT_SECONDS)))
    jax.distributed.initialize(
        coordinator_address=address,
        num_processes=count,
        process_id=index,
        initialization_timeout=int(sharding.wait_seconds()),
        heartbeat_timeout_seconds=heartbeat,
        shutdown_timeout_seconds=heartbeat,
    )
    import keras

    # Every process must draw the same initial weights (JAX refuses to assemble a variable from
    # different values); the chief's seed is everyone's until the run seeds Keras itself.
    keras.utils.set_random_seed(sharding.broadcast(secrets.randbelow(2**31) if sharding.is_chief() else None))


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
    processes = sharding.process_count()
    # Several processes: each feeds its own slice of every batch (sharding.local_rows), so Keras must
    # not shard the data again (it can only do that for tf.data, and refuses a PyDataset).
    keras.distribution.set_distribution(
        keras.distribution.DataParallel(devices=devices, auto_shard_dataset=processes == 1)
    )
    across = f" in {processes} processes, this one {sharding.process_index()}" if processes > 1 else ""
    print(f"DataParallel: {len(devices)} device(s){across} ({', '.join(devices)})")
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


@contextlib.contextmanager
def local_only() -> Iterator[None]:
    """Plain one-device Keras inside (e.g. to evaluate or save a trained model in each process on its
    own); the distribution in force before comes back after."""
    import keras

    if keras.backend.backend() != "jax" or keras.distribution.distribution() is None:
        yield
        return
    before = keras.distribution.distribution()
    keras.distribution.set_distribution(None)
    try:
        yield
    finally:
        keras.distribution.set_distribution(before)
