"""`har-demo summary`: both models' layer tables and parameter counts.

For 4 classes and 20 x 64 x 64 clips the report's models have 44,524 (ConvLSTM) and 73,060
(LRCN) parameters; this is the quickest check that the code still builds exactly those.
"""

from __future__ import annotations

import argparse

from har_demo.training.dataset import parse_classes


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--classes", default="report", help='"report" (the four) or a comma list')
    parser.add_argument("--num-classes", type=int, default=None, help="instead of --classes")
    parser.add_argument("--frames", type=int, default=20)
    parser.add_argument("--size", type=int, default=64)


def run(args: argparse.Namespace) -> int:
    from har_demo.models import MODEL_NAMES, build_model

    num_classes = args.num_classes or len(parse_classes(args.classes) or [])
    for name in MODEL_NAMES:
        model = build_model(name, num_classes, args.frames, args.size, args.size)
        model.summary()
        print(f"{name}: {model.count_params():,} parameters for {num_classes} classes\n")
    return 0
