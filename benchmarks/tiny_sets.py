"""The tiny-set measurements behind training/tiny.py: one config per call, one JSON line out.

    python -m benchmarks.tiny_sets '{"models": ["lrcn"], "augment": "crop,flip", "motion": true}' \
        [--data ../shared/data/real_tiny] [--out runs/tiny_sets.jsonl]

Trains with train.train_one on the tiny split (training/tiny.py, no validation) and records the
held-out accuracy after every epoch as well as at the end (the per-epoch curve looks at the test
clips, so it is for understanding, not for choosing a checkpoint). Spec keys: models, epochs, lr,
schedule ("constant" or "cosine"), batch, seed, augment, motion, init_from (a bundle to start from, e.g. "weights":
training/warm_start.py), split ("tiny", or "report" for the report's group split with early stopping on its
validation clips), windows (seconds a window of a long clip covers, default the tiny sets' (training/tiny.py);
0: a long clip is one squeezed clip, as before), input ("frames", or a benchmarks/tiny_inputs.py
transform: "flow", "crop"; decoded at `source_size` pixels first, default 128).

Each model's held-out probabilities are kept in the row, so benchmarks/tiny_table.py can combine
both models' (their mean) for the same seed and spec.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "real_tiny"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("spec", help="a JSON object (see the module docstring)")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--out", type=Path, default=Path("runs/tiny_sets.jsonl"))
    parser.add_argument("--cache-dir", type=Path, default=Path("runs/cache"))
    args = parser.parse_args(argv)
    spec = json.loads(args.spec)

    import keras

    from har_demo.training.augment import AugmentConfig, dense_frames
    from har_demo.training.config import TrainConfig, seed_everything
    from har_demo.training.dataset import build_cache, make_splits, tiny_splits
    from har_demo.training.evaluate import evaluate_model, predict_arrays
    from har_demo.training.fit import train_one
    from har_demo.training.tiny import TINY_WINDOW_SECONDS

    config = TrainConfig(
        models=tuple(spec.get("models", ["convlstm", "lrcn"])),
        epochs=spec.get("epochs", 30),
        patience=spec.get("patience", 5),
        learning_rate=spec.get("lr", 1e-3),
        batch_size=spec.get("batch", 4),
        seed=spec.get("seed", 27),
        augment=AugmentConfig.parse(spec.get("augment", "none")).to_dict(),
        lr_schedule=spec.get("schedule", "constant"),
        init_from=spec.get("init_from", ""),
    )
    windows = spec.get("windows", TINY_WINDOW_SECONDS)
    kind = spec.get("input", "frames")
    if kind == "frames":
        cache = build_cache(args.data, None, None, args.cache_dir, 2, progress=False, window_seconds=windows)
    else:  # decoded larger, then made into 64x64 inputs by the transform
        from benchmarks.tiny_inputs import transform_frames
        from har_demo.clip import ClipSettings

        side = spec.get("source_size", 128)
        big = ClipSettings(height=side, width=side)
        cache = build_cache(args.data, None, big, args.cache_dir, 2, progress=False, window_seconds=windows)
        cache.frames = transform_frames(cache.frames, kind)
        cache.settings = ClipSettings()
    labels = [cache.classes[i] for i in cache.labels]
    if spec.get("split", "tiny") == "report":
        splits = make_splits(cache.groups, labels, "group", 0.25, 0.2, config.seed)
    else:
        splits = tiny_splits(cache.groups, labels, cache.paths, 0.25, config.seed)
    augment = config.augmentation
    dense = None
    if augment.jitter:
        dense_settings = cache.settings.with_(
            frames=dense_frames(cache.settings.frames, augment.jitter_factor), sampling="uniform"
        )
        dense = build_cache(args.data, cache.classes, dense_settings, args.cache_dir, 2, progress=False)
    if spec.get("motion"):
        cache.settings = cache.settings.with_(motion="difference")
    test = np.sort(splits.test)
    curves: dict[str, list[float]] = {}

    class HeldOutAccuracy(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None) -> None:
            probs = predict_arrays(self.model, cache.frames[test], cache.settings)
            accuracy = float((probs.argmax(1) == cache.labels[test]).mean())
            curves.setdefault(self.model.name, []).append(round(accuracy, 3))

    row = {
        "spec": spec,
        "train_clips": int(len(splits.train)),
        "test_clips": int(len(test)),
        "test_labels": cache.labels[test].tolist(),
        "classes": list(cache.classes),
        # classes recorded in one group: their test clips are the people they trained on (memory)
        "memory_classes": sorted(
            c for c in cache.classes if len({g for g, l in zip(cache.groups, labels) if l == c}) == 1
        ),
    }
    for name in config.models:
        seed_everything(config.seed)
        started = time.perf_counter()
        model, info = train_one(
            name, cache, splits, config, args.out.parent / "ckpt", augment, dense, callbacks=(HeldOutAccuracy(),)
        )
        result = evaluate_model(name, model, cache, splits.test)["test"]
        row[name] = {
            "accuracy": result["accuracy"],
            "loss": result["loss"],
            "confusion": result["confusion"],
            "epochs": info["epochs_trained"],
            "seconds": round(time.perf_counter() - started, 1),
            "train_accuracy": info["history"]["accuracy"][-1],
            "held_out_per_epoch": curves.get(name),
            "probabilities": np.round(predict_arrays(model, cache.frames[test], cache.settings), 4).tolist(),
        }
        shown = {k: v for k, v in row[name].items() if k != "probabilities"}
        print(name, json.dumps(shown), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "a") as f:
        f.write(json.dumps(row) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
