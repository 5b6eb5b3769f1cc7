"""tf.distribute strategies for `--strategy` (TensorFlow backend): made before TensorFlow runs anything."""

from __future__ import annotations

import sys

from har_demo.training.options import STRATEGIES


def configure_cpu_devices(count: int | None) -> None:
    """Split the CPU into `count` logical devices (must run before TensorFlow initialises)."""
    if not count or count < 2:
        return
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    try:
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * count)
    except RuntimeError as exc:  # TensorFlow already initialised in this process
        raise RuntimeError(f"--cpu-devices must be set before TensorFlow starts: {exc}") from exc


def make_strategy(name: str):
    """The tf.distribute strategy named `name`, or None for plain Keras (the report's run)."""
    if name in (None, "none"):
        return None
    import tensorflow as tf

    if name == "multiworker":  # reads TF_CONFIG; must come before anything starts TensorFlow
        strategy = tf.distribute.MultiWorkerMirroredStrategy()
        if getattr(strategy.extended, "_num_workers", 1) > 1:
            print(
                "warning: Keras 3 (3.15 and before) cannot yet fit() under MultiWorkerMirroredStrategy with "
                "more than one worker (keras-team/keras#20585; reproduced here with two workers on one "
                "machine). Single-machine --strategy mirrored works; see docs/future_work.md.",
                file=sys.stderr,
            )
        return strategy
    gpus = [d.name for d in tf.config.list_logical_devices("GPU")]
    cpus = [d.name for d in tf.config.list_logical_devices("CPU")]
    if name == "one-device":
        return tf.distribute.OneDeviceStrategy((gpus or cpus)[0])
    if name == "mirrored":
        return tf.distribute.MirroredStrategy(gpus or cpus)
    raise ValueError(f"strategy must be one of {', '.join(STRATEGIES)}, not {name!r}")


def is_chief(strategy) -> bool:
    """Only the chief worker of a multi-worker run writes the bundle."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.task_type:
        return True
    return resolver.task_type == "chief" or (resolver.task_type == "worker" and resolver.task_id == 0)
