"""`har-demo train`: the report's training run, ending in a model bundle.

Defaults are the report's: Adam, categorical cross-entropy, batch 4, at most 30 epochs, early
stopping on val_loss (patience 5, best weights restored), 25% test, 20% of training for
validation, seed 27. `--config FILE` reads a recipe (configs/shipped.toml, configs/report.toml;
see training/recipe.py); flags override it.

Nothing is deleted that the tool did not write (training/output.py): the bundle is built in
`OUT.partial` beside OUT and swapped in when complete, so the old bundle stays until then. That
folder keeps each model's best weights and last state (with the optimizer) after every epoch; on
Ctrl-C the run stops with one line saying what was kept, and `--resume` skips the finished models
and continues the interrupted one from its last epoch.

Beyond the report (docs/future_work.md): `--augment` (training/augment.py: crop, flip, temporal
jitter, colour; training split only; `--augment-ablation` also trains without it and puts both
test results in report.json), `--frames/--size` for other clip shapes, and `--strategy` to train
through tf.distribute (MirroredStrategy over several GPUs, or over `--cpu-devices N` logical CPU
devices; MultiWorkerMirroredStrategy over several machines, configured by TF_CONFIG).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from har_demo.backend import BackendError, tensorflow_only
from har_demo.clip import ClipSettings
from har_demo.training import distribution
from har_demo.training.augment import AugmentConfig, augment_batch, dense_frames, jitter_indices
from har_demo.training.dataset import (
    DatasetError,
    FrameCache,
    add_dataset_arguments,
    build_cache,
    check_splits,
    make_splits,
    parse_classes,
    scan_dataset,
)
from har_demo.training.evaluate import evaluate_model, format_table
from har_demo.training.output import (
    OutputRefused,
    check_output,
    is_scratch,
    new_scratch,
    publish,
    read_marker,
    scratch_path,
    write_marker,
)
from har_demo.training.recipe import RecipeError, load_recipe, resolve, synth_arguments, synthetic_mismatch
from har_demo.training.tiny import NOTE, TINY_MAX_CLIPS_PER_CLASS, TINY_SPLIT, tiny_overrides, tiny_splits
from har_demo.training.tiny import window_seconds as tiny_window_seconds
from har_demo.training.warm_start import WarmStartError, check_source, warm_start

STRATEGIES = ("none", "one-device", "mirrored", "multiworker")
OPTIMIZERS = ("adam", "sgd", "rmsprop")
LR_SCHEDULES = ("constant", "cosine")
EXIT_INTERRUPTED = 130  # what a shell reports for a Ctrl-C


class SettingsError(ValueError):
    """Training settings that cannot work together (a clip shape, a batch size); said in a sentence."""


@dataclass
class TrainConfig:
    """Everything that decides a training run; recorded in the bundle's manifest."""

    models: tuple[str, ...] = ("convlstm", "lrcn")
    epochs: int = 30
    batch_size: int = 4
    patience: int = 5
    learning_rate: float = 1e-3
    split: str = "random"
    test_fraction: float = 0.25
    val_fraction: float = 0.2
    seed: int = 27
    optimizer: str = "adam"  # adam | sgd | rmsprop, at `learning_rate`
    lr_schedule: str = "constant"  # constant | cosine: decays to 0 over the run (see make_optimizer)
    loss: str = "categorical_crossentropy"
    augment: dict = field(default_factory=dict)  # AugmentConfig.to_dict(); empty = none
    augment_ablation: bool = False  # also train without augmentation and report both
    strategy: str = "none"  # none | one-device | mirrored | multiworker (tf.distribute)
    motion: str = "none"  # "difference": models see frame differences (clip.to_model_input; tiny sets)
    init_from: str = ""  # a bundle whose weights start the models (training/warm_start.py); "" = random
    extra: dict = field(default_factory=dict)

    @property
    def augmentation(self) -> AugmentConfig:
        return AugmentConfig.from_dict(self.augment)

    def make_optimizer(self, steps: int | None = None):
        """The Keras optimizer this config names, at its learning rate.

        With lr_schedule "cosine" the rate falls from `learning_rate` to 0 over the run's `steps`
        (its epochs x batches): with no validation split to pick a best epoch (tiny sets), the last
        weights are the ones kept, and a rate that has come down makes them settled ones.
        """
        import keras

        kinds = {"adam": keras.optimizers.Adam, "sgd": keras.optimizers.SGD, "rmsprop": keras.optimizers.RMSprop}
        if self.optimizer not in kinds:
            raise ValueError(f"optimizer must be one of {', '.join(OPTIMIZERS)}, not {self.optimizer!r}")
        if self.lr_schedule not in LR_SCHEDULES:
            raise ValueError(f"lr_schedule must be one of {', '.join(LR_SCHEDULES)}, not {self.lr_schedule!r}")
        rate = self.learning_rate
        if self.lr_schedule == "cosine" and steps:
            rate = keras.optimizers.schedules.CosineDecay(self.learning_rate, decay_steps=int(steps))
        return kinds[self.optimizer](learning_rate=rate)


def seed_everything(seed: int) -> None:
    """Same seed, same machine -> the same run."""
    import keras

    keras.utils.set_random_seed(seed)
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()


def make_batches(
    cache: FrameCache,
    indices: np.ndarray,
    batch_size: int,
    shuffle: bool,
    seed: int,
    augment: AugmentConfig | None = None,
    dense: FrameCache | None = None,
    replicas: int = 1,
):
    """A Keras PyDataset reading batches straight from the memory-mapped cache.

    Only one batch is ever converted to float32, so the full UCF50 cache never has to fit in RAM.
    With `augment` (training only), each batch is augmented on the fly; temporal jitter reads
    the clip's frames from `dense`, the denser cache (see training/augment.py).
    With `replicas` > 1 (tf.distribute), the last batch is cut to a multiple of `replicas`, so
    every replica gets the same number of clips (an empty or uneven share breaks Keras 3.15's
    distributed step); at most replicas - 1 clips per pass are left out.
    """
    import cv2
    import keras

    from har_demo.clip import INTERPOLATIONS, to_model_input

    num_classes = len(cache.classes)
    augment = augment if augment is not None and augment.any else None
    if augment is not None and augment.jitter:
        if dense is None:
            raise ValueError("temporal jitter needs the dense frame cache")
        where = {path: row for row, path in enumerate(dense.paths)}
        dense_rows = np.array([where.get(path, -1) for path in cache.paths], dtype=np.int64)
    interpolation = INTERPOLATIONS.get(cache.settings.interpolation, cv2.INTER_LINEAR)

    class CachedClips(keras.utils.PyDataset):
        def __init__(self) -> None:
            super().__init__()
            self.order = np.array(indices, dtype=np.int64)
            self.rng = np.random.default_rng(seed)
            self.epoch = 0
            if shuffle:
                self.rng.shuffle(self.order)

        def __len__(self) -> int:
            usable = len(self.order) - len(self.order) % replicas if replicas > 1 else len(self.order)
            return max(1, -(-usable // batch_size))

        def _frames(self, rows: np.ndarray, i: int) -> np.ndarray:
            if augment is None:
                return cache.frames[rows]
            if augment.jitter:
                rng = np.random.default_rng([seed, self.epoch, i, 1])
                clips = []
                for row in rows:
                    positions = jitter_indices(rng, cache.settings.frames, augment.jitter_factor)
                    d = dense_rows[row]
                    # a clip the dense pass could not read keeps its usual frames
                    clips.append(dense.frames[d][positions] if d >= 0 else cache.frames[row])
                frames = np.stack(clips)
            else:
                frames = cache.frames[rows]
            return augment_batch(frames, augment, seed, self.epoch, i, interpolation)

        def __getitem__(self, i: int):
            rows = self.order[i * batch_size : (i + 1) * batch_size]
            if replicas > 1:
                rows = rows[: len(rows) - len(rows) % replicas]
            rows = np.sort(rows)
            x = to_model_input(self._frames(rows, i), cache.settings)
            y = np.eye(num_classes, dtype=np.float32)[cache.labels[rows]]
            return x, y

        def on_epoch_end(self) -> None:
            self.epoch += 1
            if shuffle:
                self.rng.shuffle(self.order)

    return CachedClips()


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


class RunState:
    """The run's progress, kept in the scratch folder's marker after every epoch (atomically).

    units[key] is either {"done": True, "result": {...}, "entry": {...}} for a finished model, or
    the last epoch's state of the one being trained ({"epoch", "best", "best_epoch", "wait",
    "history", "last", "train_seconds"}), which `--resume` continues from.
    """

    def __init__(self, folder: Path, data: dict | None = None) -> None:
        self.folder = Path(folder)
        self.data = data if data is not None else read_marker(self.folder)
        self.data.setdefault("units", {})
        self.where = "preparing the run"  # for the one line printed on Ctrl-C

    @property
    def units(self) -> dict:
        return self.data["units"]

    def update(self, key: str, unit: dict) -> None:
        self.units[key] = unit
        self.save()

    def save(self) -> None:
        write_marker(self.folder, self.data)


def _checkpoint_callback(state: RunState, key: str, patience: int | None):
    """Best weights, last state and early stopping in one callback, all of it resumable.

    The same rule as keras.callbacks.EarlyStopping(monitor="val_loss", restore_best_weights=True):
    stop once val_loss has not improved for `patience` epochs, then restore the best epoch's weights.
    Every file is written under a new name first, so an interrupt never leaves a half-written one
    where the state points.
    """
    import keras

    folder = state.folder / "checkpoints"
    folder.mkdir(exist_ok=True)
    best_path = folder / f"{key}.best.weights.h5"

    class Checkpoint(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            unit = state.units.get(key, {})
            self.history = {k: list(v) for k, v in unit.get("history", {}).items()}
            self.best = unit.get("best", math.inf)
            self.best_epoch = unit.get("best_epoch", 0)
            self.wait = unit.get("wait", 0)
            self.seconds = unit.get("train_seconds", 0.0)
            self.started = time.perf_counter()

        def on_epoch_begin(self, epoch, logs=None):
            state.where = f"{key} epoch {epoch + 1}"

        def on_epoch_end(self, epoch, logs=None):
            logs = logs or {}
            for name, value in logs.items():
                self.history.setdefault(name, []).append(round(float(value), 5))
            current = logs.get("val_loss")
            if current is not None:
                self.wait += 1
                if current < self.best:
                    self.best, self.best_epoch, self.wait = float(current), epoch + 1, 0
                    temporary = folder / f"{key}.best.tmp.weights.h5"
                    self.model.save_weights(temporary)
                    os.replace(temporary, best_path)
            stop = patience is not None and current is not None and self.wait >= patience and epoch > 0
            previous = state.units.get(key, {}).get("last")
            last = f"checkpoints/{key}.epoch{epoch + 1}.keras"
            self.model.save(state.folder / last)  # with the optimizer's state, to continue from
            state.update(
                key,
                {
                    "epoch": epoch + 1,
                    "best": self.best if current is not None else None,
                    "best_epoch": self.best_epoch,
                    "wait": self.wait,
                    "history": self.history,
                    "last": last,
                    "train_seconds": round(self.seconds + time.perf_counter() - self.started, 1),
                    "stopped": stop,
                    "warm_start": state.units.get(key, {}).get("warm_start"),  # where its weights began
                },
            )
            if previous and previous != last:
                (state.folder / previous).unlink(missing_ok=True)
            if stop:
                self.model.stop_training = True

        def on_train_end(self, logs=None):
            if patience is not None and best_path.is_file():
                self.model.load_weights(best_path)

    return Checkpoint()


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
    checkpoint = _checkpoint_callback(state, key, config.patience if has_val else None)
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
            callbacks=[checkpoint, *callbacks],
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


def check_clip_shape(models, settings=None) -> None:
    """Refuse, with a message, a frame count or size a model cannot be built for.

    LRCN pools each frame by 4, 4, 2 and 2, so it needs frames of at least 64x64.
    """
    from har_demo.clip import ClipSettings
    from har_demo.models import build_model

    s = settings or ClipSettings()
    for name in models:
        try:
            build_model(name, 2, s.frames, s.height, s.width)
        except ValueError as exc:
            lines = [l.strip() for l in str(exc).splitlines() if l.strip()]
            reason = next((l for l in lines if "size would be" in l or "negative" in l), lines[0] if lines else "")
            reason = reason.replace("\x1b[1m", "").replace("\x1b[0m", "")[:300]
            raise SettingsError(
                f"{name} cannot be built for {s.frames} frames of {s.height}x{s.width}: {reason} "
                "(LRCN needs frames of at least 64x64)"
            ) from None


def _headline(metrics: dict) -> dict:
    keys = ("clips", "accuracy", "loss", "macro_f1", "top5_accuracy")
    return {k: metrics[k] for k in keys if k in metrics}


def _summary(info: dict, evaluation: dict) -> dict:
    return {
        **_headline(evaluation["test"]),
        "epochs_trained": info["epochs_trained"],
        "best_epoch": info["best_epoch"],
        "train_seconds": info["train_seconds"],
    }


class Interrupted(KeyboardInterrupt):
    """Ctrl-C during a run; the message is the one line saying what was kept and how to go on."""


def _plain(value):
    """As it reads back from JSON (tuples become lists), so a stored run compares equal."""
    return json.loads(json.dumps(value))


def _differences(stored: dict, current: dict) -> list[str]:
    keys = sorted(set(stored) | set(current))
    return [f"{k} {stored.get(k)!r} (now {current.get(k)!r})" for k in keys if stored.get(k) != current.get(k)]


def _with_new_defaults(run: dict | None) -> dict | None:
    """A stored run's info with the defaults of TrainConfig fields added since it was written.

    A run interrupted under an older version resumes under this one when it asked for nothing new.
    """
    if run is None or not isinstance(run.get("config"), dict):
        return run
    return {**run, "config": {**_plain(asdict(TrainConfig())), **run["config"]}}


def _check_scratch(scratch: Path, resume: bool) -> None:
    """Refuse to start over a folder in the way, or over an interrupted run without --resume."""
    if not scratch.exists():
        return
    if not is_scratch(scratch):
        raise OutputRefused(
            f"{scratch} is in the way (the bundle is built there before it replaces --out) and was not made by "
            "har-demo; nothing was changed: move it or name another --out."
        )
    if not resume:
        units = read_marker(scratch).get("units", {})
        where = ", ".join(
            f"{k} done" if u.get("done") else f"{k} after epoch {u.get('epoch', 0)}" for k, u in units.items()
        )
        raise OutputRefused(
            f"{scratch} holds the checkpoints of an interrupted run ({where or 'no epoch finished'}); "
            "rerun with --resume to continue it, or delete that folder to start over."
        )


def train_bundle(
    data: Path,
    out: Path,
    config: TrainConfig,
    classes: list[str] | None = None,
    settings=None,
    cache_dir: Path | None = None,
    workers: int | None = None,
    strategy=None,
    *,
    overwrite: bool = False,
    resume: bool = False,
    options: dict | None = None,
    cache: FrameCache | None = None,
    callbacks: list | tuple = (),
    stop=None,
    log: Callable[..., None] = print,
    on_first_models: Callable[[Path], None] | None = None,
) -> Path:
    """The whole run: cache -> splits -> train each model -> evaluate -> bundle at `out`.

    `out` must be new, empty, or (with `overwrite`) a bundle; the new bundle is built in
    `out.partial` and swapped in when complete. With `resume`, an interrupted run's progress there
    is continued (same data and config, else refused). `options`: the CLI's resolved options,
    kept with the run so `--resume` alone reuses them. `strategy`: the tf.distribute strategy named
    by `config.strategy`, if the caller made it already (MultiWorkerMirroredStrategy must be made
    before TensorFlow runs anything). `cache`: frames already decoded (e.g. the studio's);
    `callbacks`: extra Keras callbacks for each model's fit; `stop`: a threading.Event, once set no
    further model is trained (the bundle holds those trained so far); `log`: where the run's lines
    go (anything but `print` also silences Keras's progress output); `on_first_models`: called
    after each model but the last with a complete bundle of the models trained so far, written
    beside `out` (`<out>.first-N`), so a page can serve them while the rest train. Ctrl-C raises
    `Interrupted` with what was kept.
    """
    from har_demo.bundle import new_manifest, save_models, write_manifest, write_report

    out = Path(out)
    if strategy is None:
        strategy = make_strategy(config.strategy)
    chief = strategy is None or is_chief(strategy)
    scratch = scratch_path(out)
    if chief:  # every refusal before the slow work
        check_output(out, overwrite)
        _check_scratch(scratch, resume)
    check_clip_shape(config.models, settings)
    state = RunState(scratch, {})
    try:
        seed_everything(config.seed)
        state.where = "decoding clips"
        windows = tiny_window_seconds(config)
        cache = (
            cache
            if cache is not None
            else build_cache(data, classes, settings, cache_dir, workers, window_seconds=windows)
        )
        if config.motion != cache.settings.motion:  # made from the same frames: only the model input changes
            cache.settings = cache.settings.with_(motion=config.motion)
        labels = [cache.classes[i] for i in cache.labels]
        if config.split == TINY_SPLIT:
            splits = tiny_splits(cache.groups, labels, cache.paths, config.test_fraction, config.seed)
        else:
            splits = make_splits(
                cache.groups, labels, config.split, config.test_fraction, config.val_fraction, config.seed
            )
        check_splits(splits, labels, cache.classes)
        augment = config.augmentation
        dense = None
        if augment.jitter:
            dense_settings = cache.settings.with_(
                frames=dense_frames(cache.settings.frames, augment.jitter_factor), sampling="uniform"
            )
            log(f"Temporal jitter: a second cache of {dense_settings.frames} frames per clip for training")
            dense = build_cache(data, cache.classes, dense_settings, cache_dir, workers, window_seconds=windows)
        run_info = _plain(
            {
                "config": asdict(config),
                "classes": cache.classes,
                "clip": cache.settings.to_dict(),
                "dataset": cache.name,
                "split": splits.describe(),
            }
        )
        resumed = False
        if not chief:  # other workers train, the chief writes
            state = RunState(Path(tempfile.mkdtemp(prefix="har-worker-")), {})
        elif resume and scratch.exists():
            state = RunState(scratch)
            stored = _with_new_defaults(state.data.get("run"))
            if stored is not None and stored != run_info:
                changed = _differences(stored.get("config", {}), run_info["config"]) or _differences(stored, run_info)
                raise OutputRefused(
                    f"The interrupted run in {scratch} was made with other settings: {'; '.join(changed[:4])}. "
                    "Resume it with the same data and settings, or delete that folder to start over."
                )
            resumed = True
            log(f"Resuming the interrupted run in {scratch}")
        else:
            if resume:
                log(f"No interrupted run at {scratch}; starting a new one.")
            new_scratch(out, "train")
            state = RunState(scratch, {"kind": "train", "out": str(out), "run": run_info, "options": options or {}})
            state.save()
        folder = state.folder

        def stop_asked() -> bool:
            return stop is not None and stop.is_set()

        def write_bundle_files(dest: Path, results: dict, entries: dict, ablation: dict) -> dict:
            """report.json and manifest.json in `dest` for the models of `entries` (their files are there)."""
            dataset = {
                "name": cache.name,  # not the local path: bundles get published
                "synthetic": cache.synthetic,
                "clips": int(len(cache.labels)),
                "classes": cache.classes,
                "skipped": cache.skipped,
            }
            report = {"split": splits.describe(), "dataset": dataset, "models": results}
            if ablation:
                report["augmentation"] = {
                    "augment": augment.to_dict(),
                    "note": "test metrics of the same models trained with and without augmentation "
                    f"(same {splits.kind} split, seed {config.seed}); the bundle holds the augmented ones",
                    "models": ablation,
                }
            write_report(dest, report)
            training = {k: v for k, v in asdict(config).items() if k not in ("models", "extra")} | config.extra
            training["augment"] = {"enabled": augment.enabled, **augment.to_dict()}
            training["resumed"] = resumed
            if strategy is not None:
                training["replicas"] = int(strategy.num_replicas_in_sync)
            manifest = new_manifest(
                name=f"{cache.name}-{config.split}-split",
                classes=cache.classes,
                settings=cache.settings,
                models=entries,
                source="trained",
                dataset=dataset,
                split=splits.describe(),
                training=training,
            )
            write_manifest(dest, manifest)  # hashes every file; the marker (a dot file) is not one of them
            return report

        results, entries, ablation = {}, {}, {}
        for name in config.models:
            if stop_asked() and results:
                break  # stopped: the models trained so far make the bundle
            unit = state.units.get(name, {})
            if unit.get("done"):
                log(f"\n{name}: finished before the interruption; kept from {folder}")
            else:
                seed_everything(config.seed)  # each model starts from the same seed, whichever runs first
                model, info = train_one(
                    name, cache, splits, config, augment=augment, dense=dense, strategy=strategy,
                    state=state, key=name, callbacks=callbacks, log=log,
                )  # fmt: skip
                state.where = f"evaluating {name}"
                evaluation = evaluate_model(name, model, cache, splits.test, image_dir=folder / "misclassified")
                row = None
                if config.augment_ablation and augment.any:
                    seed_everything(config.seed)
                    log(f"\nAblation: {name} again without augmentation, same split and seed")
                    key = f"{name}-without-augmentation"
                    baseline, base_info = train_one(
                        name, cache, splits, config, strategy=strategy, state=state, key=key, log=log
                    )  # fmt: skip
                    row = {
                        "with": _summary(info, evaluation),
                        "without": _summary(base_info, evaluate_model(name, baseline, cache, splits.test)),
                    }
                unit = {
                    "done": True,
                    "result": {**info, **evaluation},
                    "entry": save_models(folder, {name: model})[name],
                }
                if row:
                    unit["ablation"] = row
                state.update(name, unit)
            results[name], entries[name] = unit["result"], unit["entry"]
            if unit.get("ablation"):
                ablation[name] = unit["ablation"]
            if on_first_models is not None and chief and name != config.models[-1] and not stop_asked():
                state.where = "writing the bundle of the models so far"
                preview = out.parent / f"{out.name}.first-{len(entries)}"
                on_first_models(_first_models_bundle(folder, preview, results, entries, write_bundle_files))
        state.where = "writing the bundle"

        if not chief:
            return out
        checkpoints = folder / "checkpoints"
        if checkpoints.is_dir():
            # rmtree is safe: this run created checkpoints/ inside its own marked scratch folder, and
            # the bundle now holds the best weights.
            shutil.rmtree(checkpoints)
        report = write_bundle_files(folder, results, entries, ablation)
        publish(folder, out, overwrite)
    except KeyboardInterrupt:
        if state.folder == scratch and is_scratch(scratch):
            kept = f"checkpoints kept in {scratch}; rerun with --resume to continue"
        else:
            kept = "nothing was written"
        raise Interrupted(f"Interrupted in {state.where}; {kept} (the bundle at {out} is unchanged).") from None
    log("\n" + format_table(report))
    log(f"Bundle written to {out}" + (" (resumed)" if resumed else ""))
    for name, row in ablation.items():
        w, wo = row["with"], row["without"]
        log(
            f"augmentation ({augment.describe()}) {name}: test accuracy {w['accuracy']:.2%} with, "
            f"{wo['accuracy']:.2%} without"
        )
    return out


def _first_models_bundle(folder: Path, dest: Path, results: dict, entries: dict, write_files) -> Path:
    """A new bundle at `dest` of the models trained so far: their files and strips copied from the
    run's `folder`, then its own report and manifest (`write_files`, the run's writer)."""
    dest.mkdir(parents=True)
    for name, entry in entries.items():
        shutil.copy2(folder / entry["file"], dest / entry["file"])
        for wrong in results[name].get("misclassified", []):
            if wrong.get("image"):
                (dest / wrong["image"]).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(folder / wrong["image"], dest / wrong["image"])
    write_files(dest, dict(results), dict(entries), {})
    return dest


def train_defaults() -> dict:
    """Each option's default, read from where it lives (TrainConfig, AugmentConfig, ClipSettings)."""
    config, augment, clip = TrainConfig(), AugmentConfig(), ClipSettings()
    return {
        "models": "both",
        "epochs": config.epochs,
        "batch_size": config.batch_size,
        "patience": config.patience,
        "learning_rate": config.learning_rate,
        "optimizer": config.optimizer,
        "lr_schedule": config.lr_schedule,
        "split": config.split,
        "test_fraction": config.test_fraction,
        "val_fraction": config.val_fraction,
        "seed": config.seed,
        "augment": "none",
        "augment_ablation": config.augment_ablation,
        "crop_min": augment.crop_min,
        "jitter_factor": augment.jitter_factor,
        "strategy": config.strategy,
        "classes": "report",
        "frames": clip.frames,
        "size": clip.height,
        "sampling": clip.sampling,
    }


def add_arguments(parser: argparse.ArgumentParser) -> None:
    d = train_defaults()
    add = parser.add_argument
    add("data", type=Path, help="UCF50-style folder: ROOT/<Class>/<clip>.avi")
    add("--config", type=Path, default=None, help="a recipe (TOML, e.g. configs/shipped.toml); flags override it")
    add("--out", type=Path, default=Path("runs/bundle"), help="bundle folder to write (new, empty, or a bundle)")
    add("--overwrite", action="store_true", help="replace the bundle already at --out (once the new one is complete)")
    add("--resume", action="store_true", help="continue the interrupted run kept in OUT.partial")
    # Every setting defaults to None here, so a flag given on the command line can override a recipe.
    add("--models", default=None, choices=("both", "convlstm", "lrcn"), help=f"default {d['models']}")
    add("--epochs", type=int, default=None, help=f"at most this many (default {d['epochs']})")
    add("--batch-size", type=int, default=None, help=f"default {d['batch_size']}")
    add("--patience", type=int, default=None, help=f"early stopping on val_loss (default {d['patience']})")
    add("--learning-rate", type=float, default=None, help=f"default {d['learning_rate']}")
    add("--optimizer", default=None, choices=OPTIMIZERS, help=f"default {d['optimizer']}")
    add(
        "--lr-schedule",
        default=None,
        choices=LR_SCHEDULES,
        help=f"cosine: the learning rate falls to 0 over the run (default {d['lr_schedule']})",
    )
    add(
        "--split",
        default=None,
        choices=("random", "group", TINY_SPLIT),
        help=f"random: the report's; group: no UCF group in both train and test; {TINY_SPLIT}: a group split "
        f"that also tests single-group classes, no validation (default {d['split']}; tiny sets: {TINY_SPLIT})",
    )
    add("--test-fraction", type=float, default=None, help=f"default {d['test_fraction']}")
    add("--val-fraction", type=float, default=None, help=f"of what is left for training (default {d['val_fraction']})")
    add("--seed", type=int, default=None, help=f"default {d['seed']}")
    add(
        "--augment",
        default=None,
        help="training-split augmentation: none (default), all, or a comma list of "
        "crop,flip,jitter,color (see training/augment.py)",
    )
    add(
        "--augment-ablation",
        action="store_true",
        default=None,
        help="also train each model without augmentation and report both in report.json",
    )
    add("--crop-min", type=float, default=None, help=f"smallest random crop side, a fraction (default {d['crop_min']})")
    add(
        "--jitter-factor",
        type=int,
        default=None,
        help=f"temporal jitter reads factor*(frames-1)+1 frames per clip (default {d['jitter_factor']})",
    )
    add(
        "--strategy",
        default=None,
        choices=STRATEGIES,
        help="tf.distribute strategy: mirrored = all GPUs (or --cpu-devices logical CPUs); "
        "multiworker = several machines via TF_CONFIG (default none)",
    )
    add(
        "--cpu-devices",
        type=int,
        default=None,
        help="split the CPU into N logical devices (for --strategy mirrored without GPUs)",
    )
    parser.add_argument(
        "--motion",
        default=None,
        choices=("none", "difference"),
        help="difference: the models see each frame minus the one before (the tiny-set default)",
    )
    parser.add_argument(
        "--init-from",
        default=None,
        metavar="BUNDLE",
        help="start the models from this bundle's weights, every layer but the output one: a folder, "
        "OWNER/NAME[@REV], or weights = the shipped bundle (a folder of that name: ./weights); none = random "
        "weights (the default; tiny sets: weights, when its clips have the run's shape)",
    )
    parser.add_argument(
        "--tiny",
        default="auto",
        choices=("auto", "on", "off"),
        help="tiny-set defaults (training/tiny.py: the tiny group split, no validation, fixed epochs, "
        "augmentation) for options left at their defaults; auto: when the dataset has at most "
        f"{TINY_MAX_CLIPS_PER_CLASS} clips per class",
    )
    parser.add_argument(
        "--distribution",
        default="none",
        choices=distribution.DISTRIBUTIONS,
        help="JAX backend: data-parallel = keras.distribution.DataParallel over every device",
    )
    add_dataset_arguments(parser)
    parser.set_defaults(classes=None, frames=None, size=None, sampling=None)  # so a recipe can set them


def resolve_options(args: argparse.Namespace) -> tuple[dict, dict]:
    """(options, synth): defaults < the recipe's [train] < flags; and the recipe's [synth].

    With --resume, the interrupted run's own options are used; a flag or recipe asking otherwise is refused.
    """
    from har_demo.training.recipe import TRAIN_KEYS

    recipe = load_recipe(args.config) if args.config else {"train": {}, "synth": {}}
    explicit = {key: getattr(args, key, None) for key in TRAIN_KEYS}
    options = resolve(explicit, recipe["train"], train_defaults())
    scratch = scratch_path(args.out)
    if args.resume and is_scratch(scratch):
        stored = read_marker(scratch).get("options") or {}
        asked = {k for k in TRAIN_KEYS if explicit.get(k) is not None or k in recipe["train"]}
        conflicts = [
            f"{k.replace('_', '-')} {stored[k]!r} (asked: {options[k]!r})"
            for k in sorted(asked)
            if k in stored and stored[k] != options[k]
        ]
        if conflicts:
            raise RecipeError(
                f"The interrupted run in {scratch} used {'; '.join(conflicts)}; drop those settings to resume it, "
                "or delete that folder to start over."
            )
        options = {**options, **stored}
    return options, recipe["synth"]


def _asked(args: argparse.Namespace) -> set[str]:
    """The training options a person set, by a flag or in the recipe (tiny defaults leave those alone)."""
    from har_demo.training.recipe import TRAIN_KEYS

    recipe = load_recipe(args.config)["train"] if args.config else {}
    keys = (*TRAIN_KEYS, "motion", "init_from")
    return {k for k in keys if getattr(args, k, None) is not None or k in recipe}


def prepare_data(data: Path, synth: dict, recipe: Path | None, workers: int | None = None) -> None:
    """Make the recipe's synthetic dataset if DATA does not exist; refuse one made otherwise."""
    if not synth:
        return
    data = Path(data)
    meta_path = data / "SYNTHETIC.json"
    if not data.exists():
        from har_demo.training.synth import write_synthetic_dataset

        print(f"{data} does not exist: writing the synthetic dataset {recipe} describes first.")
        summary = write_synthetic_dataset(data, **synth_arguments(synth), workers=workers)
        print(summary.line())
    elif meta_path.is_file():
        mismatch = synthetic_mismatch(json.loads(meta_path.read_text()), synth)
        if mismatch:
            raise RecipeError(
                f"{data} is a synthetic dataset made with other settings than {recipe} says: {'; '.join(mismatch)}. "
                "Give a new DATA folder (it is written for you) or the one the recipe made."
            )
    else:
        print(f"note: {recipe} describes a synthetic dataset, but {data} is not one; its [synth] is not used.")


def apply_tiny_defaults(
    config: TrainConfig, args: argparse.Namespace, asked: set[str], classes, settings: ClipSettings
) -> TrainConfig:
    """Tiny-set defaults for the options a person did not set (`asked`: by a flag or the recipe).

    `--tiny auto` applies them when the dataset is small and neither a recipe nor `--split` was
    given (a recipe, or a chosen split, is a run someone specified), and not on `--resume` (the
    interrupted run's settings decide; resume a tiny-defaults run with `--tiny on`); `--tiny on`
    always, `off` never.
    """
    if args.tiny == "off" or (args.tiny == "auto" and (args.config or "split" in asked or args.resume)):
        return config
    records = scan_dataset(args.data, parse_classes(classes))
    n_classes = len({r.label for r in records})
    overrides = tiny_overrides(len(records) if args.tiny == "auto" else 1, n_classes, settings, config.models)
    changed = {k: v for k, v in overrides.items() if k not in asked}
    if not changed:
        return config
    print(f"Tiny dataset ({len(records)} clips, {n_classes} classes): using {NOTE}: {changed}")
    return replace(config, **changed, extra={**config.extra, "tiny_defaults": {"note": NOTE, **changed}})


def run(args: argparse.Namespace) -> int:
    try:
        check_output(args.out, args.overwrite)  # refusals first, before TensorFlow starts (~10 s)
        options, synth = resolve_options(args)
        _check_scratch(scratch_path(args.out), args.resume)
        models = ("convlstm", "lrcn") if options["models"] == "both" else (options["models"],)
        settings = ClipSettings(
            frames=options["frames"], height=options["size"], width=options["size"], sampling=options["sampling"]
        )
        augment = AugmentConfig.parse(
            options["augment"], crop_min=options["crop_min"], jitter_factor=options["jitter_factor"]
        )
        prepare_data(args.data, synth, args.config, args.workers)
        if options["strategy"] != "none":  # each engine on its own backend, refused in one sentence on another
            tensorflow_only(f"--strategy {options['strategy']} (tf.distribute)")
        distribution.use_distribution(args.distribution, options["batch_size"])
    except (OutputRefused, ValueError, BackendError, distribution.DistributionError) as exc:
        # RecipeError and the settings' own checks are ValueErrors
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"Interrupted before training started; nothing was written ({args.out} is unchanged).", file=sys.stderr)
        return EXIT_INTERRUPTED
    config = TrainConfig(
        models=models,
        epochs=options["epochs"],
        batch_size=options["batch_size"],
        patience=options["patience"],
        learning_rate=options["learning_rate"],
        optimizer=options["optimizer"],
        lr_schedule=options["lr_schedule"],
        split=options["split"],
        test_fraction=options["test_fraction"],
        val_fraction=options["val_fraction"],
        seed=options["seed"],
        augment=augment.to_dict() if augment.any else {},
        augment_ablation=bool(options["augment_ablation"]),
        strategy=options["strategy"],
        motion=args.motion or "none",
        init_from="" if args.init_from in (None, "none") else args.init_from,
        extra={"recipe": args.config.name} if args.config else {},
    )
    try:
        config = apply_tiny_defaults(config, args, _asked(args), options["classes"], settings)
        if config.init_from:
            check_source(config.init_from, config.models, settings)
    except (ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        configure_cpu_devices(args.cpu_devices)
        strategy = make_strategy(options["strategy"])  # before TensorFlow runs anything (multiworker insists)
        check_clip_shape(models, settings)
        train_bundle(
            args.data,
            args.out,
            config,
            parse_classes(options["classes"]),
            settings,
            args.cache_dir,
            args.workers,
            strategy,
            overwrite=args.overwrite,
            resume=args.resume,
            options=options,
        )
    except Interrupted as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_INTERRUPTED
    except KeyboardInterrupt:
        print(f"Interrupted before training started; nothing was written ({args.out} is unchanged).", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (OutputRefused, DatasetError, RecipeError, SettingsError, WarmStartError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0
