"""One model built, compiled and fitted: the training step of a run."""

from __future__ import annotations

import contextlib
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from har_demo.training import distribution, sharding
from har_demo.training.augment import AugmentConfig
from har_demo.training.batches import make_batches
from har_demo.training.checkpoint import RunState, checkpoint_callback
from har_demo.training.config import SettingsError, TrainConfig
from har_demo.training.dataset import FrameCache
from har_demo.training.warm_start import warm_start


def train_one(
    name: str,
    cache: FrameCache,
    splits,
    config: TrainConfig,
    checkpoint_dir: Path | None = None,
    augment: AugmentConfig | None = None,
    dense: FrameCache | None = None,
    strategy=None,
    callbacks: list | tuple = (),
    *,
    state: RunState | None = None,
    key: str | None = None,
    log: Callable[..., None] = print,
):
    """Build, compile and fit one model; return it with its history and timing.

    Progress is kept in `state` (a RunState; a temporary one in `checkpoint_dir` if not given) under
    `key` (default: the model's name); if it holds an unfinished epoch state for `key`, training
    continues from there. Under a tf.distribute `strategy` the model is built and compiled in its
    scope (Keras splits each batch over the replicas and all-reduces the gradients), and comes back
    as a plain copy. `callbacks` are extra Keras callbacks (e.g. live progress in a page).
    """
    import keras

    from har_demo.fastpath import plain_copy, training_model
    from har_demo.models import build_model
    from har_demo.names import PRETRAINED_NAMES

    if name in PRETRAINED_NAMES:  # a frozen encoder: only the head trains, on cached embeddings
        from har_demo.training.embeddings import train_head

        return train_head(name, cache, splits, config, log=log, callbacks=callbacks)
    key = key or name
    if state is None:
        folder = Path(checkpoint_dir or tempfile.mkdtemp(prefix="har-train-"))
        folder.mkdir(parents=True, exist_ok=True)
        state = RunState(folder, {})
    s = cache.settings
    unit = state.units.get(key, {})
    done_epochs = int(unit.get("epoch", 0)) if not unit.get("done") else 0
    with strategy.scope() if strategy is not None else contextlib.nullcontext():
        if done_epochs:
            model = keras.saving.load_model(state.folder / unit["last"], compile=True)
        else:
            model = build_model(name, len(cache.classes), s.frames, s.height, s.width)
            if config.init_from:
                warm = warm_start(model, name, config.init_from, s)
                unit = {**unit, "warm_start": warm}
                state.update(key, unit)
                log(f"{key}: every layer but the output one starts from {warm['from']}")
            # fit() runs the frame-loop-free rewrite (fastpath.training_model): same weights, faster steps
            model = training_model(model)
            model.compile(
                optimizer=config.make_optimizer(steps=config.epochs * -(-len(splits.train) // config.batch_size)),
                loss=config.loss,
                metrics=["accuracy"],  # by keyword: compile()'s third positional parameter is loss_weights
            )
    has_val = len(splits.val) > 0
    checkpoint = checkpoint_callback(state, key, config.patience if has_val else None)
    resumed = f", resuming after epoch {done_epochs}" if done_epochs else ""
    log(f"\nTraining {key}: {len(splits.train)} train / {len(splits.val)} validation clips{resumed}")
    fit_options = {}
    replicas = int(strategy.num_replicas_in_sync) if strategy is not None else distribution.replicas()
    if strategy is not None and (
        config.batch_size % replicas or min(len(splits.train), len(splits.val) or replicas) < replicas
    ):
        raise SettingsError(
            f"--batch-size {config.batch_size} cannot be split evenly over {replicas} replicas (or a split has "
            f"fewer clips than replicas); use a batch size that is a multiple of {replicas}"
        )
    if strategy is not None:
        # make_batches already shuffles the clips with its own seed; Keras would also shuffle the
        # batch order from Python's global random state, which it consumes differently with and
        # without a strategy. Under a strategy the order is make_batches' alone, so one-device
        # and mirrored runs see the same batches.
        fit_options["shuffle"] = False
        log(f"Strategy {type(strategy).__name__}: {strategy.num_replicas_in_sync} replica(s)")
    train_batches = make_batches(cache, splits.train, config.batch_size, True, config.seed, augment, dense, replicas)
    for _ in range(done_epochs):  # the same shuffles and augmentation draws the first run made
        train_batches.on_epoch_end()
    if done_epochs < config.epochs and not unit.get("stopped"):
        model.fit(
            train_batches,
            validation_data=make_batches(cache, splits.val, config.batch_size, False, config.seed, replicas=replicas)
            if has_val
            else None,
            epochs=config.epochs,
            initial_epoch=done_epochs,
            callbacks=[checkpoint, *callbacks, sharding.agree_to_stop()],
            verbose=(1 if sys.stdout.isatty() else 2) if log is print else 0,  # a bar in a terminal, lines in logs
            **fit_options,
        )
    else:  # interrupted after its last (or early-stopping) epoch: only the best weights to restore
        checkpoint.set_model(model)
        checkpoint.on_train_begin()
        checkpoint.on_train_end()
    # A plain copy for evaluation and saving: the bundle holds the report's layers, not the training
    # rewrite; and predict_on_batch on a mirrored model returns one copy of the batch per replica
    # (Keras 3.15), which the bundle must not depend on.
    with distribution.local_only():  # every process gets a model of its own to evaluate and save
        model = plain_copy(model, build_model(name, len(cache.classes), s.frames, s.height, s.width))
    unit = state.units.get(key, {})
    curves = unit.get("history", {})
    epochs_trained = len(curves.get("loss", []))
    return model, {
        "history": curves,
        "epochs_trained": epochs_trained,
        "best_epoch": unit.get("best_epoch") or epochs_trained,
        "train_seconds": unit.get("train_seconds", 0.0),
        "params": int(model.count_params()),
        **({"resumed_after_epoch": done_epochs} if done_epochs else {}),
        **({"warm_start": unit["warm_start"]} if unit.get("warm_start") else {}),
        **({"replicas": int(strategy.num_replicas_in_sync)} if strategy is not None else {}),
    }
