"""Does HMM smoothing (har_demo.smoothing: Viterbi with a sticky transition matrix) bring the
timeline closer to the truth? Agreement per window, the plain top class as the baseline.

    python benchmarks/timeline_smoothing.py                 # both videos, both bundles, strides 1 and 0.5 s
    python benchmarks/timeline_smoothing.py --strides 1     # the app's default stride only

Videos: the shipped mixed example (examples/synthetic_mixed_activities.webm, truth from its
sidecar) and ../shared/data/real_clips/long_mixed_activities.mp4 (real UCF50 footage, truth
below). Bundles: the shipped one (weights/, trained on synthetic clips) and the report author's
seed models imported from ../shared/data/tutorial_weights (trained on UCF50). Each timeline is
computed once per stride with `har_demo.observations.observe`; every stickiness smooths the same
probabilities. Results go to docs/timeline.md.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
SHARED_DATA = REPO.parent / "shared" / "data"

from har_demo.shipped import EXAMPLES_DIR, MIXED_EXAMPLE_NAME, SHIPPED_BUNDLE  # noqa: E402
from har_demo.truth import Truth, TruthSegment  # noqa: E402

STICKINESS = (0.5, 0.7, 0.8, 0.9, 0.95, 0.98)

# long_mixed_activities.mp4 (866 frames at 27.899 fps, 31.04 s) strings four UCF50 clips together.
# The three scene cuts are the three largest frame-to-frame changes (mean absolute difference of
# 80x60 frames: 70, 58, 54 against at most 53 elsewhere, the camera pans of the first clip), at
# frames 224, 504 and 672; the contact sheet (one frame a second) shows which activity is which.
LONG_MIXED_FPS = 27.899
LONG_MIXED_TRUTH = Truth(
    (
        TruthSegment(0.0, 224 / LONG_MIXED_FPS, "WalkingWithDog"),
        TruthSegment(224 / LONG_MIXED_FPS, 504 / LONG_MIXED_FPS, "HorseRace"),
        TruthSegment(504 / LONG_MIXED_FPS, 672 / LONG_MIXED_FPS, "Swing"),
        TruthSegment(672 / LONG_MIXED_FPS, 866 / LONG_MIXED_FPS, "TaiChi"),
    ),
    source="scene cuts (benchmarks/timeline_smoothing.py)",
)


def import_seed_bundle(out: Path) -> Path:
    from har_demo.training.import_weights import import_bundle

    weights = SHARED_DATA / "tutorial_weights"
    files = [weights / f"seed_{kind}_keras3.h5" for kind in ("convlstm", "lrcn")]
    import_bundle(out, files, ["WalkingWithDog", "TaiChi", "Swing", "HorseRace"])
    return out


def segment_count(labels: np.ndarray) -> int:
    return int(1 + np.count_nonzero(np.diff(labels))) if len(labels) else 0


def measure(obs, stickiness: tuple[float, ...]) -> list[dict]:
    """One row per model (and their mean): agreement and segments, plain and smoothed at each stickiness."""
    from har_demo.smoothing import agreement, smooth

    truth = obs.true_indices()
    sources = {m: obs.timeline.probabilities[m] for m in obs.models}
    sources["mean of both"] = np.mean([sources[m] for m in obs.models], axis=0)
    rows = []
    for name, probs in sources.items():
        plain = np.argmax(probs, axis=1)
        row = {"model": name, "plain": agreement(plain, truth), "plain_segments": segment_count(plain)}
        for s in stickiness:
            path = smooth(probs, s)
            row[s] = agreement(path, truth)
            row[f"{s}_segments"] = segment_count(path)
        rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strides", type=float, nargs="+", default=[1.0, 0.5])
    parser.add_argument("--window", type=float, default=4.0)
    parser.add_argument("--stickiness", type=float, nargs="+", default=list(STICKINESS))
    args = parser.parse_args(argv)

    from har_demo.inference import Predictor
    from har_demo.observations import observe

    long_mixed = SHARED_DATA / "real_clips" / "long_mixed_activities.mp4"
    videos = [(EXAMPLES_DIR / MIXED_EXAMPLE_NAME, None), (long_mixed, LONG_MIXED_TRUTH)]
    stickiness = tuple(args.stickiness)
    with tempfile.TemporaryDirectory() as scratch:
        bundles = {
            "shipped": Predictor.from_ref(SHIPPED_BUNDLE, warm=False),
            "seed (imported)": Predictor.from_ref(import_seed_bundle(Path(scratch) / "seed"), warm=False),
        }
        header = ["video", "bundle", "stride", "model", "windows", "plain"] + [f"s={s:g}" for s in stickiness]
        print("Agreement with the true label per window (segments in brackets; truth has 4)")
        print("| " + " | ".join(header) + " |")
        print("|" + "|".join([":---"] * 4 + ["---:"] * (len(header) - 4)) + "|")
        for video, truth in videos:
            for bundle_name, predictor in bundles.items():
                for stride in args.strides:
                    obs = observe(video, predictor, window_s=args.window, stride_s=stride, truth=truth)
                    for row in measure(obs, stickiness):
                        cells = [video.name, bundle_name, f"{stride:g} s", row["model"], str(obs.timeline.windows)]
                        cells.append(f"{row['plain']:.0%} ({row['plain_segments']})")
                        cells += [f"{row[s]:.0%} ({row[f'{s}_segments']})" for s in stickiness]
                        print("| " + " | ".join(cells) + " |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
