"""`har-demo predict CLIP... [--bundle REF] [--json]`.

The models load once for all the clips given; each clip reports every model's probabilities,
the top class, the frame indices used and the seconds spent decoding and in each model.

Start-up is most of a short run, so the work is ordered around it: every path is checked from
its header first (a folder, a FIFO or a non-video is refused before Keras loads), the clips are
decoded in threads while Keras imports and the models load, and they are run in batches,
eagerly (tracing the models would cost more than a few clips take).
"""

from __future__ import annotations

import argparse
import json
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from har_demo.shipped import default_bundle_ref

BATCH = 16  # clips per model call
DECODERS = 2  # decoding threads (OpenCV releases the GIL while it decodes)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "clips", nargs="+", type=Path, help="video files (avi, mp4, mov, webm, mkv, gif) or folders of them"
    )
    parser.add_argument(
        "--bundle",
        default=None,
        help="bundle folder or Hub repo OWNER/NAME[@REVISION] (default: weights/ or $HAR_DEMO_BUNDLE)",
    )
    parser.add_argument("--json", action="store_true", help="one JSON document on stdout")


def _print_prediction(prediction) -> None:
    from har_demo.names import DISPLAY_NAMES

    clip = prediction.clip
    print(f"\n{prediction.source}  ({clip.frame_count} frames, {clip.fps:.2f} fps, {clip.duration:.1f} s)")
    print(f"  frames used: {clip.indices}")
    for note in clip.notes:
        print(f"  note: {note}")
    for name, probs in prediction.probabilities.items():
        ranked = sorted(zip(prediction.classes, probs), key=lambda kv: -kv[1])
        shown = "  ".join(f"{c} {p:.1%}" for c, p in ranked[:5])
        print(f"  {DISPLAY_NAMES.get(name, name):<9} -> {prediction.top(name):<16} {shown}")
    timing = "  ".join(f"{k} {v * 1000:.1f} ms" for k, v in prediction.seconds.items())
    print(f"  {prediction.verdict}.  Time: {timing}")


def _decoded(paths: list[Path], settings) -> list:
    """Futures of each path's Clip (or its VideoError), decoding in threads from now on."""
    from har_demo.clip import read_clip

    pool = ThreadPoolExecutor(max_workers=DECODERS, thread_name_prefix="har-decode")
    futures = [pool.submit(read_clip, path, settings) for path in paths]
    pool.shutdown(wait=False)
    return futures


def _predictions(predictor, clips: list) -> list:
    """Each clip's Prediction, the models called once per batch (their seconds shared out evenly)."""
    import numpy as np

    from har_demo.inference import Prediction

    out = []
    for start in range(0, len(clips), BATCH):
        batch = clips[start : start + BATCH]
        probabilities, seconds = predictor.predict_frames(np.stack([clip.frames for clip, _ in batch]))
        share = {name: s / len(batch) for name, s in seconds.items()}
        for i, (clip, source) in enumerate(batch):
            rows = {name: probs[i : i + 1] for name, probs in probabilities.items()}
            out.append(Prediction.for_clip(clip, predictor.classes, rows, share, source=source))
    return out


def run(args: argparse.Namespace) -> int:
    from har_demo.bundle import BundleError, read_manifest
    from har_demo.clip import VideoError, probe, video_paths
    from har_demo.loader import load_resolved, resolve_bundle_path

    try:
        folder, origin = resolve_bundle_path(args.bundle or default_bundle_ref())
        settings = read_manifest(folder).clip
    except BundleError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    clips, empty = video_paths(args.clips)  # a folder stands for the videos in it
    for problem in empty:
        print(f"error: {problem}", file=sys.stderr)
    if not clips:
        return 2
    args.clips = clips
    errors: dict[int, str] = {}
    for i, path in enumerate(args.clips):  # refusals first: header only, before Keras loads
        try:
            probe(path)
        except VideoError as exc:
            errors[i] = str(exc)
    wanted = [i for i in range(len(args.clips)) if i not in errors]
    futures = dict(zip(wanted, _decoded([args.clips[i] for i in wanted], settings)))
    predictor = None
    if wanted:
        from har_demo.quiet_start import import_keras

        import_keras()  # here, while the clips decode
        from har_demo.backend import describe_device
        from har_demo.inference import Predictor

        try:
            predictor = Predictor(load_resolved(folder, origin), warm=False)
        except BundleError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    clips = []
    for i, future in futures.items():
        try:
            clips.append((i, future.result()))
        except VideoError as exc:
            errors[i] = str(exc)
    predicted = dict(zip([i for i, _ in clips], _predictions(predictor, [(c, str(args.clips[i])) for i, c in clips])))
    results = []
    for i, path in enumerate(args.clips):
        if i in errors:
            results.append({"source": str(path), "error": errors[i]})
            if not args.json:
                print(f"\n{path}: error: {errors[i]}")
            continue
        results.append(predicted[i].to_dict())
        if not args.json:
            _print_prediction(predicted[i])
    if args.json:
        document = {"bundle": origin, "clips": results}
        if predictor is not None:
            document |= {"backend": predictor.backend, "device": describe_device()}
        print(json.dumps(document, indent=1))
    return 1 if errors or empty else 0
