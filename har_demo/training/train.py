"""`har-demo train`: the report's training run, ending in a model bundle.

Defaults are the report's: Adam, categorical cross-entropy, batch 4, at most 30 epochs, early
stopping on val_loss (patience 5, best weights restored), 25% test, 20% of training for
validation, seed 27. The best checkpoint of each model is on disk while it trains, so an
interrupted run keeps its best model in OUT/checkpoints/.

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
import shutil
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from har_demo.backend import BackendError, tensorflow_only
from har_demo.training import distribution
from har_demo.training.augment import AugmentConfig, augment_batch, dense_frames, jitter_indices
from har_demo.training.dataset import (
    FrameCache,
    add_dataset_arguments,
    build_cache,
    make_splits,
    parse_classes,
    settings_from_args,
)
from har_demo.training.evaluate import evaluate_model, format_table

STRATEGIES = ("none", "one-device", "mirrored", "multiworker")


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
    optimizer: str = "adam"
    loss: str = "categorical_crossentropy"
    augment: dict = field(default_factory=dict)  # AugmentConfig.to_dict(); empty = none
    augment_ablation: bool = False  # also train without augmentation and report both
    strategy: str = "none"  # none | one-device | mirrored | multiworker (tf.distribute)
    extra: dict = field(default_factory=dict)

    @property
    def augmentation(self) -> AugmentConfig:
        return AugmentConfig.from_dict(self.augment)


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


def train_one(
    name: str,
    cache: FrameCache,
    splits,
    config: TrainConfig,
    checkpoint_dir: Path,
    augment: AugmentConfig | None = None,
    dense: FrameCache | None = None,
    strategy=None,
):
    """Build, compile and fit one model; return it with its history and timing.

    Under a tf.distribute `strategy` the model is built and compiled in its scope (Keras splits
    each batch over the replicas and all-reduces the gradients), and comes back as a plain copy.
    """
    import keras

    from har_demo.models import build_model

    s = cache.settings
    with strategy.scope() if strategy is not None else contextlib.nullcontext():
        model = build_model(name, len(cache.classes), s.frames, s.height, s.width)
        model.compile(
            optimizer=keras.optimizers.Adam(learning_rate=config.learning_rate),
            loss=config.loss,
            metrics=["accuracy"],  # by keyword: compile()'s third positional parameter is loss_weights
        )
    checkpoint_dir.mkdir(parents=True, exist_ok=True)
    checkpoint = checkpoint_dir / f"{name}.best.keras"
    callbacks = [
        keras.callbacks.EarlyStopping(monitor="val_loss", patience=config.patience, restore_best_weights=True),
        keras.callbacks.ModelCheckpoint(checkpoint, monitor="val_loss", save_best_only=True),
    ]
    has_val = len(splits.val) > 0
    started = time.perf_counter()
    print(f"\nTraining {name}: {len(splits.train)} train / {len(splits.val)} validation clips")
    fit_options = {}
    replicas = int(strategy.num_replicas_in_sync) if strategy is not None else distribution.replicas()
    if strategy is not None and (
        config.batch_size % replicas or min(len(splits.train), len(splits.val) or replicas) < replicas
    ):
        raise ValueError(
            f"--batch-size {config.batch_size} cannot be split evenly over {replicas} replicas (or a split has "
            f"fewer clips than replicas); use a batch size that is a multiple of {replicas}"
        )
    if strategy is not None:
        # make_batches already shuffles the clips with its own seed; Keras would also shuffle the
        # batch order from Python's global random state, which it consumes differently with and
        # without a strategy. Under a strategy the order is make_batches' alone, so one-device
        # and mirrored runs see the same batches.
        fit_options["shuffle"] = False
        print(f"Strategy {type(strategy).__name__}: {strategy.num_replicas_in_sync} replica(s)")
    history = model.fit(
        make_batches(cache, splits.train, config.batch_size, True, config.seed, augment, dense, replicas),
        validation_data=make_batches(cache, splits.val, config.batch_size, False, config.seed, replicas=replicas)
        if has_val
        else None,
        epochs=config.epochs,
        callbacks=callbacks if has_val else [],
        verbose=1 if sys.stdout.isatty() else 2,  # a live bar in a terminal, a line per epoch in logs
        **fit_options,
    )
    seconds = time.perf_counter() - started
    if strategy is not None:
        # A plain copy for evaluation and saving: predict_on_batch on a mirrored model returns
        # one copy of the batch per replica (Keras 3.15), and the bundle must not depend on it.
        plain = build_model(name, len(cache.classes), s.frames, s.height, s.width)
        plain.set_weights(model.get_weights())
        model = plain
    curves = {k: [round(float(v), 5) for v in values] for k, values in history.history.items()}
    val_loss = curves.get("val_loss")
    best_epoch = int(np.argmin(val_loss)) + 1 if val_loss else len(curves.get("loss", []))
    return model, {
        "history": curves,
        "epochs_trained": len(curves.get("loss", [])),
        "best_epoch": best_epoch,
        "train_seconds": round(seconds, 1),
        "params": int(model.count_params()),
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
            raise ValueError(
                f"{name} cannot be built for {s.frames} frames of {s.height}x{s.width}: {reason} "
                "(LRCN needs frames of at least 64x64)"
            ) from None


def _headline(metrics: dict) -> dict:
    keys = ("clips", "accuracy", "loss", "macro_f1", "top5_accuracy")
    return {k: metrics[k] for k in keys if k in metrics}


def train_bundle(
    data: Path,
    out: Path,
    config: TrainConfig,
    classes: list[str] | None = None,
    settings=None,
    cache_dir: Path | None = None,
    workers: int | None = None,
    strategy=None,
) -> Path:
    """The whole run: cache -> splits -> train each model -> evaluate -> bundle at `out`.

    `strategy`: the tf.distribute strategy named by `config.strategy`, if the caller made it
    already (MultiWorkerMirroredStrategy must be made before TensorFlow runs anything).
    """
    from har_demo.bundle import REPORT_NAME, new_manifest, save_models, write_manifest

    if strategy is None:
        strategy = make_strategy(config.strategy)
    check_clip_shape(config.models, settings)  # before a long cache build, not after
    seed_everything(config.seed)
    cache = build_cache(data, classes, settings, cache_dir, workers)
    augment = config.augmentation
    dense = None
    if augment.jitter:
        dense_settings = cache.settings.with_(
            frames=dense_frames(cache.settings.frames, augment.jitter_factor), sampling="uniform"
        )
        print(f"Temporal jitter: a second cache of {dense_settings.frames} frames per clip for training")
        dense = build_cache(data, cache.classes, dense_settings, cache_dir, workers)
    labels = [cache.classes[i] for i in cache.labels]
    splits = make_splits(cache.groups, labels, config.split, config.test_fraction, config.val_fraction, config.seed)
    out = Path(out)
    if strategy is not None and not is_chief(strategy):
        out = Path(tempfile.mkdtemp(prefix="har-worker-"))  # other workers train, the chief writes
    if out.exists():
        shutil.rmtree(out)
    checkpoint_dir = out / "checkpoints"
    checkpoint_dir.mkdir(parents=True)

    models, results, ablation = {}, {}, {}
    for name in config.models:
        seed_everything(config.seed)  # each model starts from the same seed, whichever runs first
        model, info = train_one(name, cache, splits, config, checkpoint_dir, augment, dense, strategy)
        evaluation = evaluate_model(name, model, cache, splits.test, image_dir=out / "misclassified")
        models[name] = model
        results[name] = {**info, **evaluation}
        if config.augment_ablation and augment.any:
            seed_everything(config.seed)
            print(f"\nAblation: {name} again without augmentation, same split and seed")
            baseline, base_info = train_one(
                name, cache, splits, config, checkpoint_dir / "ablation", None, None, strategy
            )
            base_eval = evaluate_model(name, baseline, cache, splits.test)
            ablation[name] = {
                "with": {
                    **_headline(evaluation["test"]),
                    "epochs_trained": info["epochs_trained"],
                    "best_epoch": info["best_epoch"],
                    "train_seconds": info["train_seconds"],
                },
                "without": {
                    **_headline(base_eval["test"]),
                    "epochs_trained": base_info["epochs_trained"],
                    "best_epoch": base_info["best_epoch"],
                    "train_seconds": base_info["train_seconds"],
                },
            }

    shutil.rmtree(checkpoint_dir)  # the bundle now holds the best weights
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
    (out / REPORT_NAME).write_text(json.dumps(report, indent=1))
    entries = save_models(out, models)
    training = {k: v for k, v in asdict(config).items() if k not in ("models", "extra")} | config.extra
    training["augment"] = {"enabled": augment.enabled, **augment.to_dict()}
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
    write_manifest(out, manifest)
    print("\n" + format_table(report))
    print(f"Bundle written to {out}")
    if config.augment_ablation and ablation:
        for name, row in ablation.items():
            w, wo = row["with"], row["without"]
            print(
                f"augmentation ({augment.describe()}) {name}: test accuracy {w['accuracy']:.2%} with, "
                f"{wo['accuracy']:.2%} without"
            )
    return out


def add_arguments(parser: argparse.ArgumentParser) -> None:
    defaults = TrainConfig()
    parser.add_argument("data", type=Path, help="UCF50-style folder: ROOT/<Class>/<clip>.avi")
    parser.add_argument("--out", type=Path, default=Path("runs/bundle"), help="bundle folder to write")
    parser.add_argument("--models", default="both", choices=("both", "convlstm", "lrcn"))
    parser.add_argument("--epochs", type=int, default=defaults.epochs)
    parser.add_argument("--batch-size", type=int, default=defaults.batch_size)
    parser.add_argument("--patience", type=int, default=defaults.patience, help="early stopping on val_loss")
    parser.add_argument("--learning-rate", type=float, default=defaults.learning_rate)
    parser.add_argument(
        "--split",
        default=defaults.split,
        choices=("random", "group"),
        help="random: the report's; group: no UCF group in both train and test",
    )
    parser.add_argument("--test-fraction", type=float, default=defaults.test_fraction)
    parser.add_argument("--val-fraction", type=float, default=defaults.val_fraction)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument(
        "--augment",
        default="none",
        help="training-split augmentation: none (default), all, or a comma list of "
        "crop,flip,jitter,color (see training/augment.py)",
    )
    parser.add_argument(
        "--augment-ablation",
        action="store_true",
        help="also train each model without augmentation and report both in report.json",
    )
    parser.add_argument(
        "--crop-min",
        type=float,
        default=AugmentConfig.crop_min,
        help="smallest random crop side, as a fraction of the frame",
    )
    parser.add_argument(
        "--jitter-factor",
        type=int,
        default=AugmentConfig.jitter_factor,
        help="temporal jitter reads factor*(frames-1)+1 frames per clip",
    )
    parser.add_argument(
        "--strategy",
        default="none",
        choices=STRATEGIES,
        help="tf.distribute strategy: mirrored = all GPUs (or --cpu-devices logical CPUs); "
        "multiworker = several machines via TF_CONFIG",
    )
    parser.add_argument(
        "--cpu-devices",
        type=int,
        default=None,
        help="split the CPU into N logical devices (for --strategy mirrored without GPUs)",
    )
    parser.add_argument(
        "--distribution",
        default="none",
        choices=distribution.DISTRIBUTIONS,
        help="JAX backend: data-parallel = keras.distribution.DataParallel over every device",
    )
    add_dataset_arguments(parser)


def run(args: argparse.Namespace) -> int:
    try:  # each engine on its own backend, refused in one sentence on another
        if args.strategy != "none":
            tensorflow_only(f"--strategy {args.strategy} (tf.distribute)")
        distribution.use_distribution(args.distribution, args.batch_size)
    except (BackendError, distribution.DistributionError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    configure_cpu_devices(args.cpu_devices)
    strategy = make_strategy(args.strategy)  # before TensorFlow runs anything (multiworker insists)
    settings = settings_from_args(args)
    try:
        augment = AugmentConfig.parse(args.augment, crop_min=args.crop_min, jitter_factor=args.jitter_factor)
        check_clip_shape(("convlstm", "lrcn") if args.models == "both" else (args.models,), settings)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    config = TrainConfig(
        models=("convlstm", "lrcn") if args.models == "both" else (args.models,),
        epochs=args.epochs,
        batch_size=args.batch_size,
        patience=args.patience,
        learning_rate=args.learning_rate,
        split=args.split,
        test_fraction=args.test_fraction,
        val_fraction=args.val_fraction,
        seed=args.seed,
        augment=augment.to_dict() if augment.any else {},
        augment_ablation=args.augment_ablation,
        strategy=args.strategy,
    )
    train_bundle(
        args.data, args.out, config, parse_classes(args.classes), settings, args.cache_dir, args.workers, strategy
    )
    return 0
