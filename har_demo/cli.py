"""The one entrypoint: `har-demo VERB ...` (also `python -m har_demo VERB ...`).

    har-demo predict clip.avi --bundle weights --json
    har-demo app
    har-demo synth data/SynthUCF50 && har-demo train data/SynthUCF50 --config configs/shipped.toml

Each verb lives in its own module with `add_arguments(parser)` and `run(args) -> int`; only the
chosen verb's module is imported, so a light verb (synth, --help) never pays for TensorFlow.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

PROG = "har-demo"

# verb -> (module, one line of help). The order is the order of `har-demo --help`.
VERBS: dict[str, tuple[str, str]] = {
    "predict": ("har_demo.predict_cli", "classify video files with a bundle's models"),
    "app": ("har_demo.app.serve", "start the Gradio app"),
    "timeline": ("har_demo.timeline_cli", "per-window probabilities of long videos, as HMM observations"),
    "synth": ("har_demo.training.synth", "write a synthetic UCF50-layout video dataset"),
    "build": ("har_demo.training.dataset", "decode a UCF50-style folder into the memory-mapped frame cache"),
    "train": ("har_demo.training.train", "train ConvLSTM and/or LRCN and write a model bundle"),
    "evaluate": ("har_demo.training.evaluate", "re-evaluate a bundle on a dataset"),
    "summary": ("har_demo.training.summary", "print both models' layer tables and parameter counts"),
    "import": ("har_demo.training.import_weights", "turn tutorial .h5/.keras files into a bundle"),
    "export": ("har_demo.training.export", "write TensorFlow Lite models for a bundle"),
    "push": ("har_demo.training.push", "publish a bundle to the Hugging Face Hub"),
    "bench": ("benchmarks.bench", "speed and memory benchmarks against baselines (from a checkout)"),
}

# Verbs that serve models run on the fastest installed Keras backend unless one is asked for.
SERVING_VERBS = ("predict", "app", "timeline")

# Verbs that need Keras from the start import it first, without TensorFlow's start-up chatter
# (har_demo.quiet_start); `predict` and `app` do so themselves, after their cheap refusals.
KERAS_VERBS = ("train", "evaluate", "summary", "import", "export")

# The benchmarks live beside the package in a checkout, not inside the library.
CHECKOUT = Path(__file__).resolve().parents[1]


def _import_verb(module_name: str):
    if module_name.startswith("benchmarks.") and (CHECKOUT / "benchmarks").is_dir():
        if str(CHECKOUT) not in sys.path:
            sys.path.insert(0, str(CHECKOUT))
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            raise SystemExit(
                f"{PROG}: this verb needs a checkout of the repository ({exc.name} is not installed)"
            ) from None
        raise


def main(argv: list[str] | None = None) -> int:
    """Parse `argv` as `VERB [options]`, import that verb's module and run it."""
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.splitlines()[0])
    subparsers = parser.add_subparsers(dest="verb", required=True, metavar="VERB")
    argv = sys.argv[1:] if argv is None else argv
    chosen = next((a for a in argv if not a.startswith("-")), None)
    for verb, (module_name, help_text) in VERBS.items():
        sub = subparsers.add_parser(verb, help=help_text, description=help_text)
        if verb == chosen:
            if verb in SERVING_VERBS:  # before anything imports keras (see har_demo.backend)
                from har_demo.backend import choose_backend

                choose_backend("serving")
            if verb in KERAS_VERBS:
                from har_demo.quiet_start import import_keras

                import_keras()
            module = _import_verb(module_name)
            module.add_arguments(sub)
            sub.set_defaults(run=module.run)
    args = parser.parse_args(argv)
    return int(args.run(args) or 0)
