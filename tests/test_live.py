"""Live mode: rolling buffer, sampling in time, per-session rate, the server-wide gate, real models."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from har_demo.clip import ClipSettings
from har_demo.live import FrameBuffer, LiveError, LiveGate, LiveLimits, LiveSession
from tests.paths import REPO


class Clock:
    """Test time: advanced by hand, so rates and windows are exact."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def frame(value: int, size: tuple[int, int] = (48, 64)) -> np.ndarray:
    return np.full((*size, 3), value, np.uint8)


def test_buffer_keeps_the_last_window_downsized() -> None:
    buffer = FrameBuffer(ClipSettings(), window_s=1.0)
    for i in range(30):
        buffer.push(frame(i), 10 + i * 0.1)
    assert len(buffer) == 11 and buffer.span_s == pytest.approx(1.0)
    frames, times = buffer.sample(5)
    assert frames.shape == (5, 64, 64, 3)
    np.testing.assert_allclose(times, np.linspace(11.9, 12.9, 5), atol=0.051)  # nearest frame to even steps
    assert list(frames[:, 0, 0, 0]) == [round((t - 10) / 0.1) for t in times]


def test_buffer_converts_rgb_to_the_bundles_bgr() -> None:
    buffer = FrameBuffer(ClipSettings(), window_s=1.0)
    rgb = np.zeros((32, 32, 3), np.uint8)
    rgb[..., 0] = 200  # red
    buffer.push(rgb, 0.0)
    frames, _ = buffer.sample(1)
    assert frames[0, 0, 0].tolist() == [0, 0, 200]


def test_gate_admits_max_sessions_and_frees_idle_ones() -> None:
    clock = Clock()
    gate = LiveGate(LiveLimits(max_sessions=2, idle_s=5), clock)
    assert gate.admit("a") and gate.admit("b") and not gate.admit("c")
    assert gate.admit("a"), "a session already streaming stays in"
    clock.now += 6
    assert gate.admit("c") and gate.active == 1
    gate.leave("c")
    assert gate.active == 0


def test_gate_shares_a_budget_of_updates() -> None:
    clock = Clock()
    gate = LiveGate(LiveLimits(max_updates_per_s=4), clock)
    assert sum(gate.take() for _ in range(10)) == 4
    clock.now += 0.5
    assert sum(gate.take() for _ in range(10)) == 2


def test_limits_from_env() -> None:
    limits = LiveLimits.from_env({"HAR_DEMO_LIVE_RATE": "3", "HAR_DEMO_LIVE_MAX_SESSIONS": "9"})
    assert limits.rate == 3 and limits.max_sessions == 9
    with pytest.raises(ValueError):
        LiveLimits.from_env({"HAR_DEMO_LIVE_RATE": "fast"})
    with pytest.raises(ValueError):
        LiveLimits(rate=0)


@pytest.fixture(scope="module")
def predictor():
    from har_demo.inference import Predictor

    return Predictor.from_ref(str(REPO / "weights"))


def clip_frames(path: Path, count: int) -> list[np.ndarray]:
    cap = cv2.VideoCapture(str(path))
    frames = []
    while len(frames) < count:
        ok, bgr = cap.read()
        if not ok:
            break
        frames.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    cap.release()
    return frames


@pytest.mark.slow
def test_session_with_real_models_rate_smoothing_and_verdict(predictor) -> None:
    clock = Clock()
    limits = LiveLimits(window_s=2.0, rate=5.0, smoothing=3, min_frames=6)
    session = LiveSession("s1", predictor.settings, predictor.classes, limits, LiveGate(limits, clock), clock)
    frames = clip_frames(REPO / "examples" / "synthetic_HorseRace.webm", 60)
    updates, reasons = [], []
    for rgb in frames:  # 25 frames a second
        step = session.step(rgb, predictor.predict_frames, threshold=0.5)
        clock.now += 0.04
        (updates.append(step.update) if step.update else reasons.append(step.reason))
    assert reasons[:5] == ["warming"] * 5 and "rate" in reasons
    seconds = len(frames) * 0.04
    assert len(updates) == pytest.approx(1 + (seconds - 0.2) * 5, abs=1.5), "about `rate` updates a second"
    last = updates[-1]
    assert last.frames.shape == (20, 64, 64, 3) and last.smoothed_over == 3
    for model in predictor.runners:
        mean = np.mean([u.probabilities[model] for u in updates[-3:]], axis=0)
        np.testing.assert_allclose(last.smoothed[model], mean, rtol=1e-5)
    assert last.updates_per_s == pytest.approx(5.0, rel=0.2)
    assert last.verdict.readings[0].label == "HorseRace", last.verdict.headline
    assert "averaged over the last 3 updates" in last.stats_text()


@pytest.mark.slow
def test_bad_frames_are_clear_errors(predictor) -> None:
    limits = LiveLimits()
    session = LiveSession("s2", predictor.settings, predictor.classes, limits, LiveGate(limits))
    for bad in (
        None,
        np.zeros((4, 4, 3), np.uint8),
        np.zeros((10, 10, 3), np.float32),
        np.zeros((5000, 10, 3), np.uint8),
    ):
        with pytest.raises(LiveError):
            session.step(bad, predictor.predict_frames)
    assert len(session.buffer) == 0, "a bad frame changes nothing"


def test_hub_keeps_one_session_per_viewer_and_forgets_idle_ones() -> None:
    from har_demo.live import LiveHub
    from har_demo.names import REPORT_CLASSES

    clock = Clock()
    hub = LiveHub(LiveLimits(idle_s=5), clock)
    a = hub.session("a", ClipSettings(), list(REPORT_CLASSES))
    assert hub.session("a", ClipSettings(), list(REPORT_CLASSES)) is a
    assert hub.session("a", ClipSettings(frames=10), list(REPORT_CLASSES)) is not a, "a new bundle: a new buffer"
    hub.session("b", ClipSettings(), list(REPORT_CLASSES))
    clock.now += 120
    hub.session("c", ClipSettings(), list(REPORT_CLASSES))
    assert hub.sessions == 1
    hub.stop("c")
    assert hub.sessions == 0
