"""The pretrained model beside the report's two (docs/pretrained.md): one JSON line per trained bundle.

    python -m benchmarks.pretrained_bench sizes                      # encoder ms a frame by frame size
    python -m benchmarks.pretrained_bench latency BUNDLE... [--rounds 15]  # per-clip latency, interleaved
    python -m benchmarks.pretrained_bench train DATA --split group --models lrcn,convlstm,pretrained,pretrained_attention \
        [--epochs 10] [--seeds 27,28,29] [--tiny-defaults] [--fine-tune-last-block] [--out runs/pretrained.jsonl]

`train` trains each model into its own bundle with training.run.train_bundle (the CLI's run), then
records held-out accuracy, training seconds (for the pretrained kinds: the head's fit, and the
one-off embedding pass apart), training clips/s, the bundle's size and per-clip CPU latency through
the Predictor (median of 5, one clip, after a warm-up). The report's two train at 64 px, the
pretrained kinds at 128 px (har_demo.pretrained.DEFAULT_SIZE). `--tiny-defaults` applies what
`har-demo train` applies to a tiny set (training/tiny.py). Ratios: every latency is also given
against LRCN's, measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from dataclasses import replace
from pathlib import Path


def encoder_sizes(sizes=(64, 112, 128, 160, 224), frames: int = 20, rounds: int = 9) -> list[dict]:
    """Milliseconds a frame for the encoder on `frames`-frame batches, at each size.

    The sizes take turns within each round, so a busy machine slows them alike; the ratio to 112 px
    is the number to read.
    """
    import numpy as np

    from har_demo.encoder import pretrained_lite0

    encoders = {size: pretrained_lite0(size) for size in sizes}
    inputs = {size: np.random.default_rng(0).normal(size=(frames, size, size, 3)).astype("float32") for size in sizes}
    times = {size: [] for size in sizes}
    for size in sizes:
        encoders[size].predict_on_batch(inputs[size])
    for _ in range(rounds):
        for size in sizes:
            started = time.perf_counter()
            encoders[size].predict_on_batch(inputs[size])
            times[size].append(time.perf_counter() - started)
    base = statistics.median(times[112]) if 112 in times else None
    rows = []
    for size in sizes:
        median = statistics.median(times[size])
        rows.append({"size": size, "ms_per_frame": round(1000 * median / frames, 2)})
        if base:
            rows[-1]["vs_112"] = round(median / base, 2)
        print(json.dumps(rows[-1]), flush=True)
    return rows


def latencies(bundles: list[Path], clip_path: Path, rounds: int = 15) -> None:
    """Per-clip latency of each bundle's Predictor on one real clip, taking turns each round."""
    from har_demo.clip import read_clip
    from har_demo.inference import Predictor

    predictors = {b: Predictor.from_ref(b) for b in bundles}
    frames = {b: read_clip(clip_path, p.settings).frames for b, p in predictors.items()}
    times = {b: [] for b in bundles}
    for b, p in predictors.items():
        p.predict_frames(frames[b])
    for _ in range(rounds):
        for b, p in predictors.items():
            started = time.perf_counter()
            p.predict_frames(frames[b])
            times[b].append(time.perf_counter() - started)
    base = statistics.median(times[bundles[0]])
    for b in bundles:
        median = statistics.median(times[b])
        row = {"bundle": b.name, "models": list(predictors[b].models), "latency_ms": round(1000 * median, 1)}
        print(json.dumps(row | {f"vs_{bundles[0].name}": round(median / base, 2)}), flush=True)


DEFAULT_CLIP = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "real_clips" / "v_Swing_g01_c05.avi"


def latency_s(bundle: Path, clip_path: Path, rounds: int = 5) -> float:
    from har_demo.clip import read_clip
    from har_demo.inference import Predictor

    predictor = Predictor.from_ref(bundle)
    frames = read_clip(clip_path, predictor.settings).frames
    predictor.predict_frames(frames)
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        predictor.predict_frames(frames)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def train_models(args) -> None:
    from har_demo.clip import ClipSettings
    from har_demo.names import PRETRAINED_NAMES
    from har_demo.pretrained import DEFAULT_SIZE
    from har_demo.training.config import TrainConfig
    from har_demo.training.presets import PRESETS
    from har_demo.training.run import train_bundle

    probe = sorted(args.data.rglob("*.avi"))[0]
    lrcn_latency = None
    for name in args.models.split(","):
        size = (args.size or DEFAULT_SIZE) if name in PRETRAINED_NAMES else 64
        settings = ClipSettings(height=size, width=size)
        seeds = [int(s) for s in args.seeds.split(",")]
        for seed in seeds if name in PRETRAINED_NAMES else seeds[:1]:  # the report's two: one seed (CPU time)
            config = TrainConfig(
                models=(name,), epochs=args.epochs, split=args.split, val_fraction=args.val_fraction, seed=seed
            )
            tuned = args.fine_tune_last_block and name in PRETRAINED_NAMES
            config = replace(config, fine_tune_last_block=tuned)
            if args.tiny_defaults:
                overrides = PRESETS["tiny"].fields_for(settings, config.models)
                config = replace(config, **{k: v for k, v in overrides.items() if k != "epochs"})
            out = args.work / f"{args.data.name}-{name}-{size}-{seed}{'-ft' if tuned else ''}"
            started = time.perf_counter()
            train_bundle(
                args.data, out, config, None, settings, args.work / "cache", 1, overwrite=True, log=lambda *a: None
            )
            wall = time.perf_counter() - started
            report = json.loads((out / "report.json").read_text())
            result = report["models"][name]
            train_clips = int(report["split"]["train_clips"])
            latency = latency_s(out, probe)
            if name == "lrcn":
                lrcn_latency = latency
            row = {
                "data": args.data.name,
                "split": config.split,
                "model": name,
                "seed": seed,
                "size": size,
                "fine_tune_last_block": tuned,
                "epochs": result.get("epochs_trained"),
                "accuracy": result["test"]["accuracy"],
                "test_clips": result["test"]["clips"],
                "train_seconds": result.get("train_seconds"),
                "embedding_seconds": result.get("embedding_seconds"),
                "run_wall_seconds": round(wall, 1),
                "train_clips": train_clips,
                "train_clips_per_s": round(train_clips * result["epochs_trained"] / result["train_seconds"], 1),
                "bundle_mb": round(sum(p.stat().st_size for p in out.rglob("*") if p.is_file()) / 1e6, 2),
                "latency_ms": round(1000 * latency, 1),
                "latency_vs_lrcn": round(latency / lrcn_latency, 2) if lrcn_latency else None,
            }
            print(json.dumps(row), flush=True)
            with args.out.open("a") as f:
                f.write(json.dumps(row) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="what", required=True)
    sub.add_parser("sizes")
    latency = sub.add_parser("latency")
    latency.add_argument("bundles", type=Path, nargs="+", help="the first is the baseline")
    latency.add_argument("--clip", type=Path, default=DEFAULT_CLIP)
    latency.add_argument("--rounds", type=int, default=15)
    train = sub.add_parser("train")
    train.add_argument("data", type=Path)
    train.add_argument("--split", default="group")
    train.add_argument("--models", default="lrcn,convlstm,pretrained,pretrained_attention")
    train.add_argument("--epochs", type=int, default=10)
    train.add_argument("--val-fraction", type=float, default=0.0)
    train.add_argument("--seeds", default="27,28,29")
    train.add_argument("--tiny-defaults", action="store_true")
    train.add_argument(
        "--fine-tune-last-block", action="store_true", help="the pretrained kinds: train the last block too"
    )
    train.add_argument("--size", type=int, default=None, help="the pretrained kinds' frame size (default 112)")
    train.add_argument("--work", type=Path, default=Path("runs/pretrained-bench"))
    train.add_argument("--out", type=Path, default=Path("runs/pretrained.jsonl"))
    args = parser.parse_args(argv)
    if args.what == "sizes":
        encoder_sizes()
    elif args.what == "latency":
        latencies(args.bundles, args.clip, args.rounds)
    else:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        train_models(args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
