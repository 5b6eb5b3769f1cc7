"""`python -m training VERB ...`: dataset, training, evaluation, import, publishing.

Each verb lives in its own module with `add_arguments(parser)` and `run(args) -> int`.
Modules are imported only when their verb runs, so `synth` never pays for TensorFlow.
"""

from __future__ import annotations

import sys

from har_demo.cli import run_verbs

VERBS: dict[str, tuple[str, str]] = {
    "synth": ("training.synth", "write a synthetic UCF50-layout video dataset"),
    "build": ("training.dataset", "decode a UCF50-style folder into the memory-mapped frame cache"),
    "train": ("training.train", "train ConvLSTM and/or LRCN and write a model bundle"),
    "evaluate": ("training.evaluate", "re-evaluate a bundle on a dataset"),
    "summary": ("training.summary", "print both models' layer tables and parameter counts"),
    "import": ("training.import_weights", "turn tutorial .h5/.keras files into a bundle"),
    "push": ("training.push", "publish a bundle to the Hugging Face Hub"),
    "export": ("training.export", "write TensorFlow Lite models for a bundle"),
}


def main(argv: list[str] | None = None) -> int:
    return run_verbs("python -m training", __doc__.splitlines()[0], VERBS, argv)


if __name__ == "__main__":
    sys.exit(main())
