"""`python -m training train`: the report's training run, ending in a model bundle.

Defaults are the report's: Adam, categorical cross-entropy, batch 4, at most 30 epochs, early
stopping on val_loss (patience 5, best weights restored), 25% test, 20% of training for
validation, seed 27. The best checkpoint of each model is on disk while it trains, so an
interrupted run keeps its best model in OUT/checkpoints/.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from training.dataset import (
    FrameCache,
    add_dataset_arguments,
    build_cache,
    make_splits,
    parse_classes,
    settings_from_args,
)
from training.evaluate import evaluate_model, format_table


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
    extra: dict = field(default_factory=dict)


def seed_everything(seed: int) -> None:
    """Same seed, same machine -> the same run."""
    import keras

    keras.utils.set_random_seed(seed)
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()


def make_batches(cache: FrameCache, indices: np.ndarray, batch_size: int, shuffle: bool, seed: int):
    """A Keras PyDataset reading batches straight from the memory-mapped cache.

    Only one batch is ever converted to float32, so the full UCF50 cache never has to fit in RAM.
    """
    import keras

    from har_demo.clip import to_model_input

    num_classes = len(cache.classes)

    class CachedClips(keras.utils.PyDataset):
        def __init__(self) -> None:
            super().__init__()
            self.order = np.array(indices, dtype=np.int64)
            self.rng = np.random.default_rng(seed)
            if shuffle:
                self.rng.shuffle(self.order)

        def __len__(self) -> int:
            return max(1, -(-len(self.order) // batch_size))

        def __getitem__(self, i: int):
            rows = np.sort(self.order[i * batch_size : (i + 1) * batch_size])
            x = to_model_input(cache.frames[rows], cache.settings)
            y = np.eye(num_classes, dtype=np.float32)[cache.labels[rows]]
            return x, y

        def on_epoch_end(self) -> None:
            if shuffle:
                self.rng.shuffle(self.order)

    return CachedClips()


def train_one(name: str, cache: FrameCache, splits, config: TrainConfig, checkpoint_dir: Path):
    """Build, compile and fit one model; return it with its history and timing."""
    import keras

    from har_demo.models import build_model

    s = cache.settings
    model = build_model(name, len(cache.classes), s.frames, s.height, s.width)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=config.learning_rate),
        loss=config.loss,
        metrics=["accuracy"],  # by keyword: compile()'s third positional parameter is loss_weights
    )
    checkpoint = checkpoint_dir / f"{name}.best.keras"
    callbacks = [
        keras.callbacks.EarlyStopping(monitor="val_loss", patience=config.patience, restore_best_weights=True),
        keras.callbacks.ModelCheckpoint(checkpoint, monitor="val_loss", save_best_only=True),
    ]
    has_val = len(splits.val) > 0
    started = time.perf_counter()
    print(f"\nTraining {name}: {len(splits.train)} train / {len(splits.val)} validation clips")
    history = model.fit(
        make_batches(cache, splits.train, config.batch_size, True, config.seed),
        validation_data=make_batches(cache, splits.val, config.batch_size, False, config.seed) if has_val else None,
        epochs=config.epochs,
        callbacks=callbacks if has_val else [],
        verbose=1 if sys.stdout.isatty() else 2,  # a live bar in a terminal, a line per epoch in logs
    )
    seconds = time.perf_counter() - started
    curves = {k: [round(float(v), 5) for v in values] for k, values in history.history.items()}
    val_loss = curves.get("val_loss")
    best_epoch = int(np.argmin(val_loss)) + 1 if val_loss else len(curves.get("loss", []))
    return model, {
        "history": curves,
        "epochs_trained": len(curves.get("loss", [])),
        "best_epoch": best_epoch,
        "train_seconds": round(seconds, 1),
        "params": int(model.count_params()),
    }


def train_bundle(
    data: Path,
    out: Path,
    config: TrainConfig,
    classes: list[str] | None = None,
    settings=None,
    cache_dir: Path | None = None,
    workers: int | None = None,
) -> Path:
    """The whole run: cache -> splits -> train each model -> evaluate -> bundle at `out`."""
    from har_demo.bundle import REPORT_NAME, new_manifest, save_models, write_manifest

    seed_everything(config.seed)
    cache = build_cache(data, classes, settings, cache_dir, workers)
    labels = [cache.classes[i] for i in cache.labels]
    splits = make_splits(cache.groups, labels, config.split, config.test_fraction, config.val_fraction, config.seed)
    out = Path(out)
    if out.exists():
        shutil.rmtree(out)
    checkpoint_dir = out / "checkpoints"
    checkpoint_dir.mkdir(parents=True)

    models, results = {}, {}
    for name in config.models:
        seed_everything(config.seed)  # each model starts from the same seed, whichever runs first
        model, info = train_one(name, cache, splits, config, checkpoint_dir)
        evaluation = evaluate_model(name, model, cache, splits.test, image_dir=out / "misclassified")
        models[name] = model
        results[name] = {**info, **evaluation}

    shutil.rmtree(checkpoint_dir)  # the bundle now holds the best weights
    dataset = {
        "name": cache.name,  # not the local path: bundles get published
        "synthetic": cache.synthetic,
        "clips": int(len(cache.labels)),
        "classes": cache.classes,
        "skipped": cache.skipped,
    }
    report = {"split": splits.describe(), "dataset": dataset, "models": results}
    (out / REPORT_NAME).write_text(json.dumps(report, indent=1))
    entries = save_models(out, models)
    training = {k: v for k, v in asdict(config).items() if k not in ("models", "extra")} | config.extra
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
    parser.add_argument("--split", default=defaults.split, choices=("random", "group"),
                        help="random: the report's; group: no UCF group in both train and test")
    parser.add_argument("--test-fraction", type=float, default=defaults.test_fraction)
    parser.add_argument("--val-fraction", type=float, default=defaults.val_fraction)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    add_dataset_arguments(parser)


def run(args: argparse.Namespace) -> int:
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
    )
    train_bundle(
        args.data, args.out, config, parse_classes(args.classes), settings_from_args(args), args.cache_dir, args.workers
    )
    return 0
