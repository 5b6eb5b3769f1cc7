"""Held-out accuracy against the number of people (groups) per class, at a fixed number of clips.

    python -m benchmarks.people_curve [--people 1,2,3,4,6] [--seeds 27,28] [--clips 12] \
        [--models lrcn] [--epochs 15] [--out runs/people_curve.jsonl]

A synthetic set (training/synth.py: every group its own scene and actor, like one person in one
room) of 8 groups a class; groups 7-8 are the test people, never trained on. Each point trains on
`--clips` clips a class spread over the first k groups (k people), so only the number of people
changes, not the amount of data. The models start from random weights: the shipped bundle was
trained on these very classes, so a warm start would already know them. Frame differences and
crop+flip augmentation as the tiny-set defaults (`--motion none`: RGB frames, where the room shows). One JSON line per (k, seed, model); the table in
docs/generalisation.md is their mean over seeds.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

TEST_GROUPS = (7, 8)
GROUPS = 8


def _ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=_ints, default=[1, 2, 3, 4, 6])
    parser.add_argument("--seeds", type=_ints, default=[27, 28])
    parser.add_argument("--clips", type=int, default=12, help="training clips a class, whatever the people")
    parser.add_argument("--test-clips", type=int, default=4, help="test clips of each test group")
    parser.add_argument("--models", default="lrcn")
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument(
        "--motion", default="difference", choices=("difference", "none"), help="none: RGB frames (the room shows)"
    )
    parser.add_argument("--data", type=Path, default=Path("runs/people_synth"))
    parser.add_argument("--cache-dir", type=Path, default=Path("runs/cache"))
    parser.add_argument("--out", type=Path, default=Path("runs/people_curve.jsonl"))
    args = parser.parse_args(argv)

    from har_demo.training.config import TrainConfig, seed_everything
    from har_demo.training.dataset import Splits, build_cache
    from har_demo.training.evaluate import evaluate_model
    from har_demo.training.fit import train_one
    from har_demo.training.synth import write_synthetic_dataset
    from har_demo.training.tiny import TINY_AUGMENT

    per_group = max(args.clips, args.test_clips)
    if not (args.data / "SYNTHETIC.json").is_file():
        write_synthetic_dataset(args.data, per_group * GROUPS, groups_per_class=GROUPS, progress=False, workers=2)
    cache = build_cache(args.data, None, None, args.cache_dir, 2, progress=False)
    cache.settings = cache.settings.with_(motion=args.motion)
    group_of = np.array([int(g.rsplit("/g", 1)[1]) for g in cache.groups])
    clip_of = np.array([int(Path(p).stem.rsplit("_c", 1)[1]) for p in cache.paths])
    test = np.flatnonzero(np.isin(group_of, TEST_GROUPS) & (clip_of <= args.test_clips))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    for people in args.people:
        # clips 1, 2, ... of groups 1..k in turn, until `clips` a class: the same data, more people
        order = [(c, g) for c in range(1, per_group + 1) for g in range(1, people + 1)]
        chosen = set(order[: args.clips])
        train = np.flatnonzero([(c, g) in chosen for c, g in zip(clip_of, group_of)])
        splits = Splits(train, train[:0], test, "people", 0.0, 0.0, 27)
        for seed in args.seeds:
            for name in args.models.split(","):
                config = TrainConfig(
                    models=(name,), epochs=args.epochs, seed=seed, augment=TINY_AUGMENT.to_dict(), motion=args.motion
                )
                seed_everything(seed)
                started = time.perf_counter()
                model, _info = train_one(name, cache, splits, config, args.out.parent / "ckpt", config.augmentation)
                accuracy = evaluate_model(name, model, cache, test)["test"]["accuracy"]
                row = {
                    "people": people,
                    "seed": seed,
                    "model": name,
                    "motion": args.motion,
                    "accuracy": accuracy,
                    "train_clips": int(len(train)),
                    "test_clips": int(len(test)),
                    "epochs": args.epochs,
                    "seconds": round(time.perf_counter() - started, 1),
                }
                print(json.dumps(row), flush=True)
                with open(args.out, "a") as f:
                    f.write(json.dumps(row) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
