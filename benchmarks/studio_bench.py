"""The studio path end to end: webcam-sized clips in, both models trained and served.

    python -m benchmarks.studio_bench [--classes 4] [--clips 10] [--seconds 3] [--epochs N]

Writes CLASSES x CLIPS synthetic clips of SECONDS at 640x480 (.mp4: quick to write; the browser's
own recordings are .webm), passes each through what the page does with a recording (cut to the
clip length, scaled to 320 wide, written as .webm, added to a studio class set: decoded as it
arrives), then times what a
person waits for after pressing Train: the queue, training both models with the tiny-set
defaults, evaluation, the bundle, loading it and a first prediction (served); with both models,
also when the first one (LRCN, trained first) is served while the other trains. The baseline in the
same run is decoding the same folder at training time (what `har-demo train` does), which the
studio has already done by the time Train is pressed. Target: Train -> served < 180 s
on 2 CPU cores.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

TARGET_SECONDS = 180.0
STUDIO_CLASSES = ("WalkingWithDog", "TaiChi", "Swing", "HorseRace")  # what synth can draw


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--classes", type=int, default=4)
    parser.add_argument("--clips", type=int, default=10, help="clips per class")
    parser.add_argument("--groups", type=int, default=3, help="groups (people) per class")
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--height", type=int, default=480)
    parser.add_argument("--epochs", type=int, default=None, help="default: the tiny-set default")
    parser.add_argument("--models", default="convlstm,lrcn")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="studio-bench-"))
    try:
        return run(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run(args: argparse.Namespace, work: Path) -> int:

    from har_demo.studio.classset import ClassSet
    from har_demo.studio.limits import StudioLimits
    from har_demo.studio.recording import trim_recording
    from har_demo.studio.trainer import StudioTrainer, TrainOptions
    from har_demo.training.dataset import build_cache
    from har_demo.training.synth import render_clip, write_video

    rng = np.random.default_rng(27)
    incoming = work / "incoming"
    started = time.perf_counter()
    recordings = []
    for label in STUDIO_CLASSES[: args.classes]:
        for i in range(args.clips):
            path = incoming / f"{label}_{i:02d}.mp4"
            frames = render_clip(label, rng, width=args.width, height=args.height, seconds=args.seconds)
            write_video(path, frames)
            recordings.append((label, path, 1 + i % args.groups))
    print(
        f"wrote {len(recordings)} clips of {args.seconds:g} s at {args.width}x{args.height} ({time.perf_counter() - started:.1f} s, not timed)"
    )

    class_set = ClassSet(work / "session", StudioLimits())
    adds = []
    for label, path, group in recordings:
        if label not in class_set.classes:
            class_set.add_class(label)
        t = time.perf_counter()
        class_set.add_clip(label, trim_recording(path, path.with_suffix(".webm"), args.seconds), group)
        adds.append(time.perf_counter() - t)
    print(
        f"adding a recording (cut, scale, .webm, decode, thumbnail; while recording): median {np.median(adds) * 1000:.0f} ms, total {sum(adds):.1f} s"
    )

    t = time.perf_counter()
    build_cache(
        class_set.data, None, None, work / "baseline-cache", os.cpu_count(), progress=False, log=lambda *_: None
    )
    decode_at_train = time.perf_counter() - t
    t = time.perf_counter()
    class_set.frame_cache()
    from_arrays = time.perf_counter() - t

    import keras  # noqa: F401  (the app has it loaded before anyone presses Train)

    from har_demo.inference import Predictor
    from har_demo.loader import load_bundle

    trainer = StudioTrainer(StudioLimits(max_train_seconds=10_000))
    pressed = time.perf_counter()
    job = trainer.start("bench", class_set, TrainOptions(models=tuple(args.models.split(",")), epochs=args.epochs))
    first_served = None  # the first model(s), served while the rest train (the "ready" event)
    for event in job.events():
        if event.kind == "ready":
            Predictor(load_bundle(event.bundle)).predict_path(recordings[0][1])
            first_served = (", ".join(event.report["models"]), time.perf_counter() - pressed)
    done = job.last
    if done.kind != "done":
        print(f"training failed: {done.message}")
        return 1
    trained = time.perf_counter() - pressed
    predictor = Predictor(load_bundle(done.bundle))
    predictor.predict_path(recordings[0][1])
    served = time.perf_counter() - pressed

    print("\nstep                                   seconds")
    print(f"decode the set at training time (baseline) {decode_at_train:7.1f}")
    print(
        f"studio: frames already decoded, stacked    {from_arrays:7.1f}   ({from_arrays / max(decode_at_train, 1e-9):.2f}x the baseline)"
    )
    for name, result in done.report["models"].items():
        print(
            f"train {name:<10} ({result['epochs_trained']} epochs)        {result['train_seconds']:7.1f}   held-out accuracy {result['test']['accuracy']:.0%}"
        )
    if first_served:
        models, seconds = first_served
        print(
            f"Train pressed -> {models} served first     {seconds:7.1f}   ({seconds / TARGET_SECONDS:.2f}x the target; "
            "loaded and asked once while the rest trains)"
        )
    print(f"Train pressed -> bundle written            {trained:7.1f}")
    print(
        f"Train pressed -> served (loaded, 1 predict) {served:6.1f}   ({served / TARGET_SECONDS:.2f}x the {TARGET_SECONDS:.0f} s target)"
    )
    print(f"cores: {os.cpu_count()}, load average {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
