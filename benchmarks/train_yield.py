"""Visitors' predictions while a group trains: idle, in a thread (yielding or not), in a niced child process.

    python benchmarks/train_yield.py                  # 20 predictions a phase
    python benchmarks/train_yield.py --predictions 40 --clips-per-class 8

Why: on a 2-core Space one studio training took every core, and other visitors' predictions went
from 0.7-0.9 s to a median 2.2 s (target: p95 within 3x of idle). The studio trainer
now pauses after each batch while a visitor's model call waits (StudioTrainer(yield_to=...), at
most MAX_YIELD_S a batch). In one process: the shipped models behind the app's Engine, a real
class set (../shared/data/real_tiny) training LRCN in the studio's trainer, and one prediction of
a real clip's frames every 0.5 s: first with nothing training, then while it trains without
yielding, then while it trains yielding, then while it trains in its own child process at
the host's niceness (`--niceness`, several to compare; har_demo/studio/train_process.py). Prints p50/p95 per phase and the ratio to idle, and
how many epochs each training reached in the same time.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.common import SHARED_DATA, describe_machine, table  # noqa: E402


def measure(engine, frames, count: int) -> list[float]:
    seconds = []
    for _ in range(count):
        started = time.perf_counter()
        engine.predict_frames(frames)
        seconds.append(time.perf_counter() - started)
        time.sleep(0.5)
    return seconds


def while_training(
    engine, frames, count: int, class_set, yield_to, subprocess: bool = False, niceness: int = 5
) -> tuple[list[float], int]:
    from har_demo.studio.limits import StudioLimits
    from har_demo.studio.trainer import StudioTrainer, TrainOptions

    limits = StudioLimits(max_train_seconds=3600, max_epochs=200, train_subprocess=subprocess, train_niceness=niceness)
    trainer = StudioTrainer(limits, yield_to=yield_to)
    job = trainer.start("bench", class_set, TrainOptions(models=("lrcn",), epochs=200))
    epochs = 0
    for event in job.events():
        if event.kind == "started":
            break
        if event.kind == "error":
            raise SystemExit(event.message)
    time.sleep(5)  # into the first epochs
    seconds = measure(engine, frames, count)
    job.stop()
    for event in job.events():
        epochs = max(epochs, event.epoch)
    return seconds, epochs


def main(argv: list[str] | None = None) -> int:
    from har_demo.studio.limits import StudioLimits

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--predictions", type=int, default=20)
    parser.add_argument("--clips-per-class", type=int, default=6)
    parser.add_argument("--niceness", type=int, nargs="+", default=[StudioLimits().train_niceness])
    args = parser.parse_args(argv)

    from har_demo.app.engine import Engine, predictions_waiting
    from har_demo.clip import read_clip
    from har_demo.inference import Predictor
    from har_demo.loader import load_bundle
    from har_demo.studio.classset import ClassSet

    describe_machine()
    engine = Engine(Predictor(load_bundle("weights")))
    frames = read_clip(SHARED_DATA / "real_clips" / "v_TaiChi_g01_c02.avi", engine.settings).frames[None]
    work = Path(tempfile.mkdtemp(prefix="har-train-yield-"))
    class_set = ClassSet(work / "set", StudioLimits(max_clip_seconds=60))  # real_tiny has 11 s clips
    for folder in sorted(p for p in (SHARED_DATA / "real_tiny").iterdir() if p.is_dir()):
        class_set.add_class(folder.name)
        for i, clip in enumerate(sorted(folder.glob("*.avi"))[: args.clips_per_class]):
            class_set.add_clip(folder.name, clip, 1 + i % 2)

    measure(engine, frames, 3)  # warm
    idle = measure(engine, frames, args.predictions)
    greedy, greedy_epochs = while_training(engine, frames, args.predictions, class_set, None)
    polite, polite_epochs = while_training(engine, frames, args.predictions, class_set, predictions_waiting)
    niced = {n: while_training(engine, frames, args.predictions, class_set, None, True, n) for n in args.niceness}

    def p95(values: list[float]) -> float:
        return sorted(values)[min(len(values) - 1, int(0.95 * len(values)))]

    base = p95(idle)
    rows = [
        ["nothing training", f"{statistics.median(idle):.3f}", f"{base:.3f}", "1.0x", "-"],
        [
            "training in a thread, not yielding",
            f"{statistics.median(greedy):.3f}",
            f"{p95(greedy):.3f}",
            f"{p95(greedy) / base:.1f}x",
            greedy_epochs,
        ],
        [
            "training in a thread, yielding (before)",
            f"{statistics.median(polite):.3f}",
            f"{p95(polite):.3f}",
            f"{p95(polite) / base:.1f}x",
            polite_epochs,
        ],
    ]
    for niceness, (seconds, epochs) in niced.items():
        rows.append(
            [
                f"training in a child process at niceness {niceness}",
                f"{statistics.median(seconds):.3f}",
                f"{p95(seconds):.3f}",
                f"{p95(seconds) / base:.1f}x",
                epochs,
            ]
        )
    table(  # prints itself
        f"One clip's prediction (model call only), {args.predictions} a phase, every 0.5 s",
        ["phase", "p50 s", "p95 s", "p95 / idle", "epochs reached"],
        rows,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
