"""`python -m har_demo VERB ...`: predict (and, from the benchmarks, bench).

    python -m har_demo predict clip.avi other.mp4 --bundle weights --json
"""

from __future__ import annotations

import sys

from har_demo.cli import run_verbs

VERBS: dict[str, tuple[str, str]] = {
    "predict": ("har_demo.predict_cli", "classify video files with a bundle's models"),
    "bench": ("har_demo.bench", "speed benchmarks against the tutorial pipeline"),
}


def main(argv: list[str] | None = None) -> int:
    return run_verbs("python -m har_demo", __doc__.splitlines()[0], VERBS, argv)


if __name__ == "__main__":
    sys.exit(main())
