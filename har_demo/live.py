"""Live recognition: webcam frames in, both models' smoothed probabilities and a verdict out.

A `LiveSession` (one per browser session, kept in the page's session state) holds a rolling
buffer of the last `window_s` seconds of frames, each shrunk to the bundle's frame size on
arrival, with its arrival time. At most `rate` times a second it samples the buffer into the
bundle's frames per clip (evenly in time, like the tutorial's even steps over a clip), runs every
model once, averages the probabilities over the last `smoothing` updates (what the page shows,
and it says so), and measures updates per second and the lag from a frame's arrival to the bars.

One viewer must not starve the others: each session is rate-limited, and a `LiveGate` shared by
the whole server admits at most `max_sessions` streaming sessions and `max_updates_per_s` model
updates a second in all (host-settable, `LiveLimits.from_env`). A refused update is skipped, not
queued, so a busy server shows older bars rather than growing a backlog. No gradio, no Keras.
"""

from __future__ import annotations

import os
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from har_demo.clip import ClipSettings, prepare_frame
from har_demo.host_limits import parse_limit
from har_demo.verdict import DEFAULT_THRESHOLD, Verdict, judge

Predict = Callable[[np.ndarray], tuple[dict[str, np.ndarray], dict[str, float]]]  # Predictor.predict_frames


class LiveError(ValueError):
    """A frame the live mode cannot use; the message is meant for a person."""


@dataclass(frozen=True)
class LiveLimits:
    """What a host can set (environment variables in brackets)."""

    window_s: float = 2.0  # rolling buffer length [HAR_DEMO_LIVE_WINDOW_S]
    rate: float = 8.0  # model updates per second, per session [HAR_DEMO_LIVE_RATE]
    smoothing: int = 3  # updates averaged for the bars [HAR_DEMO_LIVE_SMOOTHING]
    max_sessions: int = 4  # sessions streaming at once [HAR_DEMO_LIVE_MAX_SESSIONS]
    max_updates_per_s: float = 24.0  # model updates per second, all sessions together [HAR_DEMO_LIVE_MAX_UPDATES]
    idle_s: float = 5.0  # a session that sent nothing for this long frees its place
    min_frames: int = 6  # frames in the buffer before the first prediction
    max_side: int = 4096  # larger frames are refused (memory bound per request)
    time_limit_s: int = 300  # one stream runs at most this long, then the viewer presses record again

    def __post_init__(self) -> None:
        if not (self.window_s > 0 and self.rate > 0 and self.smoothing >= 1 and self.max_sessions >= 1):
            raise ValueError("live limits: window_s and rate must be > 0, smoothing and max_sessions >= 1")
        if not (self.max_updates_per_s > 0 and self.idle_s > 0 and self.min_frames >= 1):
            raise ValueError("live limits: max_updates_per_s and idle_s must be > 0, min_frames >= 1")

    @classmethod
    def from_env(cls, env: dict | None = None) -> LiveLimits:
        env = os.environ if env is None else env
        names = {
            "window_s": ("HAR_DEMO_LIVE_WINDOW_S", float),
            "rate": ("HAR_DEMO_LIVE_RATE", float),
            "smoothing": ("HAR_DEMO_LIVE_SMOOTHING", int),
            "max_sessions": ("HAR_DEMO_LIVE_MAX_SESSIONS", int),
            "max_updates_per_s": ("HAR_DEMO_LIVE_MAX_UPDATES", float),
        }
        values = {key: parse_limit(name, env[name], kind) for key, (name, kind) in names.items() if env.get(name)}
        return cls(**values)


def refuse_images_over(max_pixels: int, error: type[Exception] = LiveError) -> None:
    """Every image PIL opens in this process above `max_pixels` is refused from its header, before decoding.

    Live frames reach the app as images gradio opens with PIL; a 12000x12000 PNG is a few hundred
    KB on the wire and 432 MB decoded. `PIL.Image.open` reads the size from the header and calls
    its decompression-bomb check before any pixel is decoded: that check is replaced by one that
    raises `error` (the app passes gr.Error, so the page shows the sentence) above `max_pixels`.
    """
    from PIL import Image

    limit = int(max_pixels)

    def check(size: tuple[int, int]) -> None:
        width, height = size
        if width * height > limit:
            raise error(
                f"This image is {width}x{height} pixels; this server takes images of at most {limit:,} pixels "
                "(4096x2160, say). It was refused before decoding."
            )

    Image.MAX_IMAGE_PIXELS = limit
    if hasattr(Image, "_decompression_bomb_check"):  # Pillow's own check, called by Image.open
        Image._decompression_bomb_check = check
    else:  # pragma: no cover  (a Pillow without it: its warning becomes an error)
        import warnings

        warnings.filterwarnings("error", category=Image.DecompressionBombWarning)


class LiveGate:
    """Shared by all sessions of one server: admission (max_sessions) and a token bucket of updates."""

    def __init__(self, limits: LiveLimits, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits, self.clock = limits, clock
        self._lock = threading.Lock()
        self._seen: dict[str, float] = {}  # session id -> last frame time
        self._tokens = float(limits.max_updates_per_s)
        self._filled = clock()

    def admit(self, session_id: str) -> bool:
        """True if this session may stream now (it already does, or there is a free place)."""
        now = self.clock()
        with self._lock:
            for sid, seen in list(self._seen.items()):
                if now - seen > self.limits.idle_s:
                    del self._seen[sid]
            if session_id in self._seen or len(self._seen) < self.limits.max_sessions:
                self._seen[session_id] = now
                return True
            return False

    def leave(self, session_id: str) -> None:
        with self._lock:
            self._seen.pop(session_id, None)

    def take(self) -> bool:
        """One model update from the shared budget, if there is one left this moment."""
        now = self.clock()
        with self._lock:
            rate = self.limits.max_updates_per_s
            self._tokens = min(rate, self._tokens + (now - self._filled) * rate)
            self._filled = now
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                return True
            return False

    @property
    def active(self) -> int:
        with self._lock:
            return len(self._seen)


class FrameBuffer:
    """The last window_s seconds of frames, already at the model's size and colour order."""

    def __init__(self, settings: ClipSettings, window_s: float) -> None:
        self.settings, self.window_s = settings, window_s
        self._frames: deque[tuple[float, np.ndarray]] = deque()

    def push(self, frame_rgb: np.ndarray, t: float) -> None:
        """An RGB uint8 webcam frame (H, W, 3) arriving at time t (seconds, monotonic)."""
        bgr = np.ascontiguousarray(frame_rgb[..., 2::-1])  # the clip pipeline starts from BGR, like OpenCV
        self._frames.append((t, prepare_frame(bgr, self.settings)))
        while self._frames and t - self._frames[0][0] > self.window_s:
            self._frames.popleft()

    def __len__(self) -> int:
        return len(self._frames)

    @property
    def span_s(self) -> float:
        return self._frames[-1][0] - self._frames[0][0] if self._frames else 0.0

    @property
    def newest_time(self) -> float:
        return self._frames[-1][0]

    def sample(self, n: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(n frames (n, H, W, 3) uint8, their times): evenly spaced in time over the buffer, nearest frame each."""
        if not self._frames:
            raise LiveError("No frames yet.")
        n = n or self.settings.frames
        times = np.array([t for t, _ in self._frames])
        targets = np.linspace(times[0], times[-1], n)
        picks = np.clip(np.searchsorted(times, targets), 0, len(times) - 1)
        earlier = np.clip(picks - 1, 0, len(times) - 1)
        picks = np.where(np.abs(times[earlier] - targets) <= np.abs(times[picks] - targets), earlier, picks)
        return np.stack([self._frames[i][1] for i in picks]), times[picks]


@dataclass
class LiveUpdate:
    """What the page shows after one update."""

    probabilities: dict[str, np.ndarray]  # this window's
    smoothed: dict[str, np.ndarray]  # mean over the last `smoothed_over` updates
    smoothed_over: int
    verdict: Verdict
    frames: np.ndarray  # (T, H, W, 3) the frames the models saw, in the bundle's colour order
    lag_s: float  # newest frame's arrival -> probabilities ready
    updates_per_s: float
    buffered_s: float
    number: int = 0  # this session's update count, 1 for the first
    model_seconds: dict[str, float] = field(default_factory=dict)

    def stats_text(self) -> str:
        return (
            f"update #{self.number} · {self.updates_per_s:.1f} updates/s · lag {1000 * self.lag_s:.0f} ms · "
            f"window {self.buffered_s:.1f} s ({len(self.frames)} frames) · "
            f"bars averaged over the last {self.smoothed_over} update{'s' if self.smoothed_over != 1 else ''}"
        )


@dataclass
class Step:
    """The result of one incoming frame: an update, or why there is none (skipped is normal)."""

    update: LiveUpdate | None
    reason: str = ""  # "warming", "rate", "busy", "full" when update is None


class LiveSession:
    """One viewer's live stream: buffer, smoothing, rate limit and measurements."""

    def __init__(
        self,
        session_id: str,
        settings: ClipSettings,
        classes: list[str],
        limits: LiveLimits,
        gate: LiveGate,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.session_id, self.settings, self.classes = session_id, settings, list(classes)
        self.limits, self.gate, self.clock = limits, gate, clock
        self.buffer = FrameBuffer(settings, limits.window_s)
        self._history: deque[dict[str, np.ndarray]] = deque(maxlen=limits.smoothing)
        self._update_times: deque[float] = deque(maxlen=20)
        self.last_update: LiveUpdate | None = None
        self.lags: deque[float] = deque(maxlen=1000)
        self.updates = 0

    def _check(self, frame) -> np.ndarray:
        if frame is None:
            raise LiveError("No camera frame arrived; allow the camera and try again.")
        frame = np.asarray(frame)
        if frame.ndim == 2:
            frame = np.repeat(frame[..., None], 3, axis=2)
        if frame.ndim != 3 or frame.shape[2] not in (3, 4) or frame.dtype != np.uint8:
            raise LiveError(f"A camera frame must be an RGB image; got an array of shape {frame.shape}.")
        if max(frame.shape[:2]) > self.limits.max_side or min(frame.shape[:2]) < 8:
            raise LiveError(f"Camera frames must be between 8 and {self.limits.max_side} pixels on a side.")
        return frame[..., :3]

    def step(self, frame, predict: Predict, threshold: float = DEFAULT_THRESHOLD) -> Step:
        """Buffer one webcam frame; run the models when due, allowed and the buffer holds enough."""
        frame = self._check(frame)
        now = self.clock()
        if not self.gate.admit(self.session_id):
            return Step(None, "full")
        self.buffer.push(frame, now)
        if len(self.buffer) < self.limits.min_frames:
            return Step(None, "warming")
        if self._update_times and now - self._update_times[-1] < 1.0 / self.limits.rate:
            return Step(None, "rate")
        if not self.gate.take():
            return Step(None, "busy")
        frames, _ = self.buffer.sample(self.settings.frames)
        probabilities, seconds = predict(frames[None])
        probabilities = {m: np.asarray(p, dtype=np.float32).reshape(-1) for m, p in probabilities.items()}
        self._history.append(probabilities)
        smoothed = {m: np.mean([h[m] for h in self._history], axis=0) for m in probabilities}
        done = self.clock()
        self._update_times.append(now)
        lag = done - self.buffer.newest_time
        self.lags.append(lag)
        self.updates += 1
        update = LiveUpdate(
            probabilities=probabilities,
            smoothed=smoothed,
            smoothed_over=len(self._history),
            verdict=judge(self.classes, smoothed, threshold),
            frames=frames,
            lag_s=lag,
            updates_per_s=self.updates_per_s(),
            buffered_s=self.buffer.span_s,
            number=self.updates,
            model_seconds={m: float(s) for m, s in seconds.items()},
        )
        self.last_update = update
        return Step(update)

    def updates_per_s(self) -> float:
        times = self._update_times
        if len(times) < 2:
            return 0.0
        return (len(times) - 1) / max(times[-1] - times[0], 1e-9)

    def close(self) -> None:
        self.gate.leave(self.session_id)


class LiveHub:
    """All live sessions of one server: one LiveSession per browser session id, and the shared gate."""

    def __init__(self, limits: LiveLimits | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits or LiveLimits.from_env()
        self.clock = clock
        self.gate = LiveGate(self.limits, clock)
        self._sessions: dict[str, tuple[LiveSession, float]] = {}
        self._lock = threading.Lock()

    def session(self, session_id: str, settings: ClipSettings, classes: list[str]) -> LiveSession:
        """This browser session's LiveSession (a new one when the bundle's settings or classes changed)."""
        now = self.clock()
        with self._lock:
            for sid, (_, seen) in list(self._sessions.items()):
                if now - seen > max(60.0, 10 * self.limits.idle_s):  # forgotten streams free their buffers
                    del self._sessions[sid]
            entry = self._sessions.get(session_id)
            if entry is None or entry[0].settings != settings or entry[0].classes != list(classes):
                entry = (LiveSession(session_id, settings, classes, self.limits, self.gate, self.clock), now)
            self._sessions[session_id] = (entry[0], now)
            return entry[0]

    def step(
        self,
        session_id: str,
        frame,
        predict: Predict,
        settings: ClipSettings,
        classes: list[str],
        threshold: float = DEFAULT_THRESHOLD,
    ) -> Step:
        return self.session(session_id, settings, classes).step(frame, predict, threshold)

    def stop(self, session_id: str) -> None:
        with self._lock:
            entry = self._sessions.pop(session_id, None)
        if entry:
            entry[0].close()

    @property
    def sessions(self) -> int:
        with self._lock:
            return len(self._sessions)
