"""`har-demo predict CLIP... [--bundle REF] [--json]`.

The models load once for all the clips given; each clip reports every model's probabilities,
the top class, the frame indices used and the seconds spent decoding and in each model.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from har_demo.shipped import default_bundle_ref


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("clips", nargs="+", type=Path, help="video files (avi, mp4, mov, webm, mkv, gif)")
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


def run(args: argparse.Namespace) -> int:
    from har_demo.bundle import BundleError
    from har_demo.clip import VideoError
    from har_demo.inference import Predictor, describe_device

    try:
        predictor = Predictor.from_ref(args.bundle or default_bundle_ref())
    except BundleError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    results, failures = [], 0
    for path in args.clips:
        try:
            prediction = predictor.predict_path(path)
        except VideoError as exc:
            failures += 1
            results.append({"source": str(path), "error": str(exc)})
            if not args.json:
                print(f"\n{path}: error: {exc}")
            continue
        results.append(prediction.to_dict())
        if not args.json:
            _print_prediction(prediction)
    if args.json:
        document = {
            "bundle": str(predictor.bundle.origin),
            "backend": predictor.backend,
            "device": describe_device(),
            "clips": results,
        }
        print(json.dumps(document, indent=1))
    return 1 if failures else 0
