"""`python -m training VERB ...`: dataset, training, evaluation, import, publishing.

Each verb lives in its own module with `add_arguments(parser)` and `run(args) -> int`.
Modules are imported only when their verb runs, so `synth` never pays for TensorFlow.
"""

from __future__ import annotations

import argparse
import importlib
import sys

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
    parser = argparse.ArgumentParser(prog="python -m training", description=__doc__.splitlines()[0])
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB")
    argv = sys.argv[1:] if argv is None else argv
    chosen = next((a for a in argv if not a.startswith("-")), None)
    for verb, (module_name, help_text) in VERBS.items():
        sub = verbs.add_parser(verb, help=help_text, description=help_text)
        if verb == chosen:  # only the chosen verb's module is imported
            module = importlib.import_module(module_name)
            module.add_arguments(sub)
            sub.set_defaults(run=module.run)
    args = parser.parse_args(argv)
    return int(args.run(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
