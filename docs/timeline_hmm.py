"""Fit hmmlearn HMMs over a timeline and print the decoded activity sequence (docs/timeline.md).

    har-demo timeline examples/synthetic_mixed_activities.webm --format npz --out /tmp/tl
    python docs/timeline_hmm.py /tmp/tl/synthetic_mixed_activities_timeline.npz

Without a file it runs the timeline of the shipped mixed example itself, through the Python call
(`har_demo.observations.observe`, the shipped bundle). Two HMMs, each with one hidden state per
activity, started where a state means its class (so the decoded states are activities, not
anonymous clusters) and then fitted with Baum-Welch on this video's windows:
- CategoricalHMM on the discrete observations: both models' top class per window (two sequences);
- GaussianHMM on the continuous ones: both models' probability vectors side by side per window.
Needs `pip install hmmlearn` (requirements-dev.txt); the app's own smoothing needs no library.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from hmmlearn import hmm

STICKINESS = 0.9  # the starting transition matrix: stay with 0.9, move to each other class evenly


def timeline_arrays(npz: Path | None) -> dict[str, np.ndarray]:
    """The verb's .npz, or the shipped mixed example's timeline computed here."""
    from har_demo.observations import load_npz, observe

    if npz is not None:
        return load_npz(npz)
    from har_demo.inference import Predictor
    from har_demo.shipped import EXAMPLES_DIR, MIXED_EXAMPLE_NAME, SHIPPED_BUNDLE

    predictor = Predictor.from_ref(SHIPPED_BUNDLE, warm=False)
    return observe(EXAMPLES_DIR / MIXED_EXAMPLE_NAME, predictor, window_s=4.0, stride_s=1.0).arrays()


def sticky(n: int, stay: float) -> np.ndarray:
    matrix = np.full((n, n), (1 - stay) / (n - 1))
    np.fill_diagonal(matrix, stay)
    return matrix


def describe(states: np.ndarray, classes: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> str:
    """'WalkingWithDog 0-4.5 s, TaiChi 4.5-8.5 s, ...': runs of one state. Windows overlap, so a
    change is placed halfway between the centres of the two windows on either side of it."""
    if (states < 0).any():
        return "unknown"
    centres = (starts + ends) / 2
    edges = [0.0, *((centres[:-1] + centres[1:]) / 2), float(ends[-1])]
    runs, first = [], 0
    for w in range(1, len(states) + 1):
        if w == len(states) or states[w] != states[first]:
            runs.append(f"{classes[states[first]]} {edges[first]:.3g}-{edges[w]:.3g} s")
            first = w
    return ", ".join(runs)


def agreement(states: np.ndarray, truth: np.ndarray) -> str:
    known = truth >= 0
    return f"{np.mean(states[known] == truth[known]):.0%} of windows right" if known.any() else "truth unknown"


def main(argv: list[str]) -> int:
    arrays = timeline_arrays(Path(argv[0]) if argv else None)
    classes, models = arrays["classes"], arrays["models"]
    top, probabilities, truth = arrays["top"], arrays["probabilities"], arrays["true"]
    starts, ends = arrays["start_s"], arrays["end_s"]
    n = len(classes)
    print(f"{len(starts)} windows, classes {', '.join(classes)}; true: {describe(truth, classes, starts, ends)}")

    # Discrete: each model's top class is one observation sequence; hmmlearn takes them stacked
    # as a column of class indices, with `lengths`.
    discrete = hmm.CategoricalHMM(n_components=n, n_features=n, init_params="", params="te", n_iter=20)
    discrete.startprob_ = np.full(n, 1 / n)
    discrete.transmat_ = sticky(n, STICKINESS)
    discrete.emissionprob_ = sticky(n, 0.7)  # a model's top class is right 70% of the time, to start
    sequences = top.reshape(-1, 1)  # (models * windows, 1)
    discrete.fit(sequences, lengths=[len(starts)] * len(models))
    for m, model in enumerate(models):
        states = discrete.predict(top[m].reshape(-1, 1))
        print(f"CategoricalHMM, {model} top class ({agreement(states, truth)}):")
        print(f"  {describe(states, classes, starts, ends)}")

    # Continuous: both models' probability vectors side by side, one Gaussian per activity.
    features = np.concatenate(list(probabilities), axis=1)  # (windows, models * classes)
    continuous = hmm.GaussianHMM(n_components=n, covariance_type="diag", init_params="", params="tmc", n_iter=20)
    continuous.startprob_ = np.full(n, 1 / n)
    continuous.transmat_ = sticky(n, STICKINESS)
    continuous.means_ = np.tile(np.eye(n), (1, len(models)))  # state k: every model says class k
    continuous.covars_ = np.full((n, features.shape[1]), 0.1)
    continuous.fit(features)
    states = continuous.predict(features)
    print(f"GaussianHMM, both models' probabilities ({agreement(states, truth)}):")
    print(f"  {describe(states, classes, starts, ends)}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout
    raise SystemExit(main(sys.argv[1:]))
