"""HMM smoothing of a timeline (har_demo.smoothing): Viterbi against brute force, stickiness at its ends."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from har_demo.smoothing import agreement, smooth, sticky_transitions, viterbi


def brute_force(probabilities: np.ndarray, transitions: np.ndarray) -> np.ndarray:
    """The most likely path by trying every one (uniform start)."""
    windows, classes = probabilities.shape
    best, best_score = None, -np.inf
    for path in itertools.product(range(classes), repeat=windows):
        score = np.log(probabilities[0, path[0]])
        for w in range(1, windows):
            score += np.log(transitions[path[w - 1], path[w]]) + np.log(probabilities[w, path[w]])
        if score > best_score:
            best, best_score = path, score
    return np.array(best)


@pytest.mark.parametrize("seed", range(8))
def test_viterbi_finds_the_most_likely_path(seed):
    rng = np.random.default_rng(seed)
    probabilities = rng.dirichlet(np.ones(3) * 0.7, size=6)
    transitions = rng.dirichlet(np.ones(3), size=3)
    np.testing.assert_array_equal(viterbi(probabilities, transitions), brute_force(probabilities, transitions))


def test_a_sticky_chain_removes_a_one_window_flicker_and_keeps_a_real_change():
    a, b = [0.8, 0.2], [0.3, 0.7]
    probabilities = np.array([a, a, a, b, a, a, b, b, b, b])  # one stray window, then a lasting change
    np.testing.assert_array_equal(np.argmax(probabilities, axis=1), [0, 0, 0, 1, 0, 0, 1, 1, 1, 1])
    np.testing.assert_array_equal(smooth(probabilities, 0.9), [0, 0, 0, 0, 0, 0, 1, 1, 1, 1])
    np.testing.assert_array_equal(smooth(probabilities, 0.0), np.argmax(probabilities, axis=1))  # off
    np.testing.assert_array_equal(smooth(probabilities, 0.5), np.argmax(probabilities, axis=1))  # s = 1/C: uniform


def test_sticky_transitions_and_their_bounds():
    matrix = sticky_transitions(4, 0.9)
    np.testing.assert_allclose(matrix.sum(axis=1), 1.0)
    assert matrix[0, 0] == pytest.approx(0.9) and matrix[0, 1] == pytest.approx(0.1 / 3)
    for bad in (-0.1, 1.0, 1.5):
        with pytest.raises(ValueError, match="stickiness"):
            sticky_transitions(4, bad)


def test_zero_probabilities_and_empty_timelines():
    probabilities = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    # A zero is floored, not -inf: two switches (2 ln 0.01) beat one window ruled out (ln 1e-6).
    assert smooth(probabilities, 0.99).tolist() == [0, 1, 0]
    assert smooth(np.array([[0.5, 0.5, 0.0]] * 3), 0.9).tolist() in ([0, 0, 0], [1, 1, 1])
    assert smooth(np.zeros((0, 3)), 0.9).shape == (0,)


def test_agreement_counts_only_windows_with_a_known_label():
    assert agreement(np.array([0, 1, 1, 2]), np.array([0, 1, -1, 0])) == pytest.approx(2 / 3)
    assert np.isnan(agreement(np.array([0, 1]), np.array([-1, -1])))
