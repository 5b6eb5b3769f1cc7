"""The verb dispatcher both CLIs share (`python -m har_demo ...`, `python -m training ...`).

Each verb lives in its own module with `add_arguments(parser)` and `run(args) -> int`; only the
chosen verb's module is imported, so a light verb never pays for TensorFlow.
"""

from __future__ import annotations

import argparse
import importlib
import sys


def run_verbs(prog: str, description: str, verbs: dict[str, tuple[str, str]], argv: list[str] | None = None) -> int:
    """Parse `argv` as `VERB [options]`, import that verb's module and run it."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    subparsers = parser.add_subparsers(dest="verb", required=True, metavar="VERB")
    argv = sys.argv[1:] if argv is None else argv
    chosen = next((a for a in argv if not a.startswith("-")), None)
    for verb, (module_name, help_text) in verbs.items():
        sub = subparsers.add_parser(verb, help=help_text, description=help_text)
        if verb == chosen:
            module = importlib.import_module(module_name)
            module.add_arguments(sub)
            sub.set_defaults(run=module.run)
    args = parser.parse_args(argv)
    return int(args.run(args) or 0)
