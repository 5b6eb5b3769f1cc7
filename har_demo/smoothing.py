"""HMM smoothing of a timeline: the most likely activity sequence over the windows (Viterbi).

A model's top class flickers where one window looks a little like another activity. An HMM whose
hidden state is the activity and whose observations are the model's per-window probabilities
says activities last: the state stays put with probability `stickiness` from one window to the
next and moves to each other class with an equal share of the rest. Viterbi then finds the single
most likely state sequence. The probabilities stand in for the emission likelihoods (divided by
the uniform class prior, which does not change the argmax), so nothing is fitted and no HMM
library is needed: numpy only, fast enough for the app (O(W * C^2)).

A stickiness s means an expected stay of 1 / (1 - s) windows; 0 turns smoothing off (with the
other classes sharing 1 - s evenly, s = 1/C is the plain per-window argmax as well).
docs/timeline.md measures what it does to agreement with the true labels.
"""

from __future__ import annotations

import numpy as np

DEFAULT_STICKINESS = 0.9
PROBABILITY_FLOOR = 1e-6  # a window that rules a class out entirely must not forbid it forever


def sticky_transitions(classes: int, stickiness: float) -> np.ndarray:
    """(C, C) transition matrix: `stickiness` on the diagonal, the rest shared evenly."""
    if not 0.0 <= stickiness < 1.0:
        raise ValueError(f"The stickiness must be at least 0 and below 1, not {stickiness:g}.")
    if classes == 1:
        return np.ones((1, 1))
    matrix = np.full((classes, classes), (1.0 - stickiness) / (classes - 1))
    np.fill_diagonal(matrix, stickiness)
    return matrix


def viterbi(probabilities: np.ndarray, transitions: np.ndarray, start: np.ndarray | None = None) -> np.ndarray:
    """The most likely state per window, given (W, C) per-window class probabilities as
    emissions, a (C, C) transition matrix and (C,) start probabilities (uniform by default)."""
    probabilities = np.asarray(probabilities, dtype=np.float64)
    windows, classes = probabilities.shape
    if windows == 0:
        return np.zeros(0, dtype=np.int64)
    start = np.full(classes, 1.0 / classes) if start is None else np.asarray(start, dtype=np.float64)
    log_emit = np.log(np.maximum(probabilities, PROBABILITY_FLOOR))
    with np.errstate(divide="ignore"):  # a zero transition is a forbidden one: -inf is right
        log_trans = np.log(transitions)
        score = np.log(start) + log_emit[0]
    back = np.zeros((windows, classes), dtype=np.int64)
    for w in range(1, windows):
        candidates = score[:, None] + log_trans  # from state i (rows) to state j (columns)
        back[w] = np.argmax(candidates, axis=0)
        score = candidates[back[w], np.arange(classes)] + log_emit[w]
    path = np.zeros(windows, dtype=np.int64)
    path[-1] = int(np.argmax(score))
    for w in range(windows - 1, 0, -1):
        path[w - 1] = back[w, path[w]]
    return path


def smooth(probabilities: np.ndarray, stickiness: float = DEFAULT_STICKINESS) -> np.ndarray:
    """The Viterbi class index per window under a sticky transition matrix (see the module)."""
    probabilities = np.asarray(probabilities)
    if stickiness == 0.0:
        return np.argmax(probabilities, axis=1) if len(probabilities) else np.zeros(0, dtype=np.int64)
    return viterbi(probabilities, sticky_transitions(probabilities.shape[1], stickiness))


def agreement(predicted: np.ndarray, truth: np.ndarray) -> float:
    """Share of the windows with a known true class (index >= 0) where `predicted` equals it."""
    predicted, truth = np.asarray(predicted), np.asarray(truth)
    known = truth >= 0
    return float(np.mean(predicted[known] == truth[known])) if known.any() else float("nan")


__all__ = ["DEFAULT_STICKINESS", "agreement", "smooth", "sticky_transitions", "viterbi"]
