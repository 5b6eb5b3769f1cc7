"""Evaluation: the report's Table 1 (accuracy, loss) and what it left out.

Per-class precision/recall/F1, macro averages, the confusion matrix, top-5 accuracy when there are
more than five classes, and every misclassified test clip with a strip of the frames the model saw.
`har-demo evaluate --bundle DIR --data ROOT` re-evaluates a bundle on a dataset.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from har_demo.clip import to_model_input
from har_demo.images import frame_strip, write_image
from har_demo.manifest import Report
from har_demo.report_text import table1_text

MAX_MISCLASSIFIED_IMAGES = 48  # per model: enough for the gallery, small enough for the Hub


def compute_metrics(y_true: np.ndarray, probs: np.ndarray, classes: list[str]) -> dict:
    """Metrics of one model on one set of clips, as plain JSON-ready numbers."""
    y_true = np.asarray(y_true, dtype=np.int64)
    probs = np.asarray(probs, dtype=np.float64)
    y_pred = probs.argmax(axis=1)
    k = len(classes)
    confusion = np.zeros((k, k), dtype=np.int64)
    np.add.at(confusion, (y_true, y_pred), 1)
    eps = 1e-7
    loss = float(-np.mean(np.log(np.clip(probs[np.arange(len(y_true)), y_true], eps, 1.0))))
    per_class = {}
    for i, name in enumerate(classes):
        tp = confusion[i, i]
        predicted, actual = confusion[:, i].sum(), confusion[i, :].sum()
        precision = tp / predicted if predicted else 0.0
        recall = tp / actual if actual else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[name] = {
            "precision": round(float(precision), 4),
            "recall": round(float(recall), 4),
            "f1": round(float(f1), 4),
            "support": int(actual),
        }
    present = [c for c in classes if per_class[c]["support"] > 0] or classes
    metrics = {
        "clips": int(len(y_true)),
        "accuracy": round(float((y_pred == y_true).mean()) if len(y_true) else 0.0, 4),
        "loss": round(loss, 4),
        "macro_precision": round(float(np.mean([per_class[c]["precision"] for c in present])), 4),
        "macro_recall": round(float(np.mean([per_class[c]["recall"] for c in present])), 4),
        "macro_f1": round(float(np.mean([per_class[c]["f1"] for c in present])), 4),
        "per_class": per_class,
        "confusion": confusion.tolist(),
    }
    if k > 5:
        top5 = np.argsort(-probs, axis=1)[:, :5]
        metrics["top5_accuracy"] = round(float(np.mean([t in row for t, row in zip(y_true, top5)])), 4)
    return metrics


def predict_arrays(model, frames: np.ndarray, settings, batch_size: int = 32) -> np.ndarray:
    """Probabilities for uint8 clips (N, T, H, W, 3), a batch at a time (memory-mapped input).

    The batches run through the inference fast path (checked against the model on the first one),
    as the app serves them: tracing the model's own frame loops cost more than evaluating.
    """
    from har_demo.fastpath import inference_model
    from har_demo.rewrite_check import checked_runner

    outputs, runner = [], None
    for start in range(0, len(frames), batch_size):
        x = to_model_input(frames[start : start + batch_size], settings)
        if runner is None:
            runner = checked_runner(model, inference_model(model), x[:1])
        outputs.append(np.asarray(runner.predict_on_batch(x)))
    return np.concatenate(outputs) if outputs else np.zeros((0, model.output_shape[-1]))


def evaluate_model(name: str, model, cache, indices: np.ndarray, image_dir: Path | None = None) -> dict:
    """Metrics and the misclassified clips (with frame strips written to image_dir)."""
    indices = np.asarray(indices, dtype=np.int64)
    frames = cache.frames[np.sort(indices)] if len(indices) else cache.frames[:0]
    indices = np.sort(indices)
    probs = predict_arrays(model, frames, cache.settings)
    y_true = cache.labels[indices]
    metrics = compute_metrics(y_true, probs, cache.classes)
    wrong = []
    for row in np.flatnonzero(probs.argmax(axis=1) != y_true):
        clip_path = cache.paths[indices[row]]
        entry = {
            "clip": clip_path,
            "true": cache.classes[y_true[row]],
            "predicted": cache.classes[int(probs[row].argmax())],
            "confidence": round(float(probs[row].max()), 4),
            "probabilities": {c: round(float(p), 4) for c, p in zip(cache.classes, probs[row])},
        }
        if image_dir is not None and len(wrong) < MAX_MISCLASSIFIED_IMAGES:
            image = image_dir / f"{name}_{Path(clip_path).stem}.jpg"
            image.parent.mkdir(parents=True, exist_ok=True)
            write_image(image, frame_strip(frames[row], cache.settings.color_order))
            entry["image"] = f"{image_dir.name}/{image.name}"
        wrong.append(entry)
    return {"test": metrics, "misclassified": wrong}


def format_table(report: dict | Report) -> str:
    """The report's Table 1, plus macro F1, as text (har_demo.report_text writes every results table)."""
    return table1_text(report if isinstance(report, Report) else Report.from_dict(report))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--bundle", required=True, help="bundle folder or OWNER/NAME[@REV]")
    parser.add_argument("--data", type=Path, required=True, help="UCF50-style folder")
    parser.add_argument(
        "--subset",
        default="test",
        choices=("test", "all"),
        help="the bundle's test split recomputed on this data, or every clip",
    )
    parser.add_argument("--out", type=Path, default=None, help="write the evaluation report JSON here")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing --out file")
    parser.add_argument("--cache-dir", type=Path, default=None)
    parser.add_argument("--workers", type=int, default=None)


def run(args: argparse.Namespace) -> int:
    from har_demo.bundle import BundleError
    from har_demo.loader import load_bundle
    from har_demo.training.dataset import build_cache, make_splits

    if args.out is not None and args.out.exists() and not (args.out.is_file() and args.overwrite):
        what = "a folder" if args.out.is_dir() else "a file (add --overwrite to replace it)"
        print(f"error: --out {args.out} already exists and is {what}; nothing was changed.", file=sys.stderr)
        return 2
    try:
        bundle = load_bundle(args.bundle)
    except BundleError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    cache = build_cache(args.data, bundle.classes, bundle.settings, args.cache_dir, args.workers)
    split_info = dict(bundle.manifest.split)
    if args.subset == "all" or not split_info:
        indices = np.arange(len(cache.labels))
        split_info = {"kind": "all clips"}
    else:
        splits = make_splits(
            cache.groups,
            [cache.classes[i] for i in cache.labels],
            split_info.get("kind", "random"),
            split_info.get("test_fraction", 0.25),
            split_info.get("val_fraction", 0.2),
            split_info.get("seed", 27),
            cache.paths,
        )
        indices = splits.test
    report = {
        "bundle": str(bundle.origin),
        "dataset": {"root": str(cache.root), "clips": int(len(cache.labels)), "skipped": cache.skipped},
        "split": split_info,
        "models": {name: evaluate_model(name, model, cache, indices) for name, model in bundle.models.items()},
    }
    print(format_table(report))
    if args.out:
        args.out.write_text(json.dumps(report, indent=1))
        print(f"Wrote {args.out}")
    return 0
