"""The models the app serves: `Engine` (one predictor behind one lock) and `EngineRegistry`.

The registry maps a session key (a short string a browser session holds in a `gr.State`) to an
Engine; every visitor without a key (None) gets the default engine, the served bundle. A studio
run's freshly trained bundle or an uploaded model becomes the bundle of ONE session with
`registry.add(...)`, while everybody else keeps the default. The State holds the key, never the
Engine: Gradio deep-copies State values, and a copy of a Keras model per request is no option.
Session engines are held within a memory budget (`Limits.session_models_mb`, estimated from each
bundle's files and clip shape before it is loaded), the least recently used evicted to make room,
and freed when the page goes away (the app's unload event) or after `Limits.session_idle_s` idle.

`choose_bundle` decides which bundle is the default, falling back to the shipped weights (with
a notice for the page) when the one asked for cannot be loaded.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from har_demo.app.text import short_path
from har_demo.backend import describe_device
from har_demo.bundle import Bundle, BundleError
from har_demo.clip import Clip
from har_demo.inference import Prediction
from har_demo.loader import load_bundle
from har_demo.request_limits import Limits
from har_demo.shipped import BUNDLE_ENV, SHIPPED_BUNDLE

MB = 1024 * 1024
MAX_NOTICES = 4096  # keys whose "your models went" sentence is still owed


class _InFlight:
    """How many model calls (predictions, timeline batches, live updates) are waiting or running, process-wide."""

    def __init__(self) -> None:
        self.count = 0
        self._lock = threading.Lock()

    def __enter__(self) -> None:
        with self._lock:
            self.count += 1

    def __exit__(self, *_exc) -> None:
        with self._lock:
            self.count -= 1


PREDICTIONS = _InFlight()


def predictions_waiting() -> bool:
    """True while a visitor's model call waits or runs: the studio's training yields between batches."""
    return PREDICTIONS.count > 0


class Engine:
    """A bundle's predictor, the limits and the device: built once, shared by many requests.

    Model calls go through one lock: Keras models are not guaranteed to be thread-safe on every
    backend, and on a small CPU box parallel calls only compete for the same cores. A call takes
    tens of milliseconds (timelines go in batches), so no request waits long behind another.
    """

    def __init__(self, predictor, limits: Limits | None = None, notice: str = "", bundle: Bundle | None = None) -> None:
        self.predictor = predictor
        self.bundle: Bundle = bundle or predictor.bundle  # what the page describes (the predictor's by default)
        self.limits = limits or Limits()
        self.notice = notice  # e.g. the Hub bundle could not be loaded; shown at the top of the page
        self.device = describe_device()
        self._lock = threading.Lock()

    @property
    def settings(self):
        return self.predictor.settings

    @property
    def classes(self) -> list[str]:
        return list(self.predictor.classes)

    @property
    def timeline_batch(self) -> int:
        """Timeline windows per model call: bounded by bytes (`limits.timeline_batch_mb`), not by a count."""
        from har_demo.model_bounds import batch_windows
        from har_demo.timeline import BATCH_SIZE

        s = self.settings
        return batch_windows(
            s.frames, s.height, s.width, s.channels, int(self.limits.timeline_batch_mb * MB), BATCH_SIZE
        )

    def predict_frames(self, frames: np.ndarray):
        with PREDICTIONS:  # counted while waiting too: a training yields to them (predictions_waiting)
            with self._lock:
                return self.predictor.predict_frames(frames)

    def predict_clip(self, clip: Clip, source: str = "") -> Prediction:
        return Prediction.for_clip(clip, self.classes, *self.predict_frames(clip.frames), source=source)

    def explain(self, frames: np.ndarray):
        """Grad-CAM and frame importance for one clip (har_demo.explain), behind the same lock."""
        from har_demo.explain import explain_prediction

        with self._lock:
            return explain_prediction(self.predictor, frames)


class SessionLimitReached(Exception):
    """No room for this session's own models; the message says so for a person."""


EVICTED_NOTICE = (
    "This session's own models were set aside to make room for another group (the server holds only "
    "so many at once, the least recently used go first); you are back on the shipped models. Train or "
    "import again to serve yours."
)
IDLE_NOTICE = (
    "This session's own models were freed after {minutes:g} minutes without a request; you are back on "
    "the shipped models. Train or import again to serve yours."
)


@dataclass
class _Held:
    """One session's own engine, what it is estimated to take, whose it is and when it was last used."""

    engine: Engine
    nbytes: int
    owner: str | None
    last_used: float


class EngineRegistry:
    """Session key -> Engine, with the default engine for None and for keys it does not know.

    Capacity follows memory: each session engine carries an estimate of what it takes (model_bounds),
    and together they stay within `limits.session_models_bytes` (and `limits.max_sessions`). To make
    room, `make_room` evicts the least recently used sessions BEFORE anything is loaded; an evicted
    or idle-freed session is told so on its next request (`take_notice`). `drop_owner` frees a
    browser session's models when its page goes away (the app's unload event).
    """

    def __init__(self, default: Engine, limits: Limits | None = None, clock: Callable[[], float] = time.monotonic):
        self.default = default
        self.limits = limits or default.limits
        self.clock = clock
        self._held: dict[str, _Held] = {}
        self._notices: OrderedDict[str, str] = OrderedDict()  # key -> why it went (bounded)
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ capacity
    def make_room(self, nbytes: int, owner: str | None = None, replacing: str | None = None) -> None:
        """Evict least recently used sessions until `nbytes` more fit; SessionLimitReached if they never can.

        `replacing`: the key this load will replace (its bytes count as free). Called before a load.
        """
        budget = self.limits.session_models_bytes
        if nbytes > budget:
            raise SessionLimitReached(
                f"These models need about {nbytes / MB:,.0f} MB to serve, more than the "
                f"{budget / MB:,.0f} MB this server keeps for visitors' own models; they were not loaded."
            )
        with self._lock:
            self._expire_locked()
            while True:
                others = {k: h for k, h in self._held.items() if k != replacing}
                if sum(h.nbytes for h in others.values()) + nbytes <= budget and len(others) < self.limits.max_sessions:
                    return
                if not others:  # pragma: no cover  (nbytes <= budget and max_sessions >= 1)
                    return
                oldest = min(others, key=lambda k: others[k].last_used)
                self._forget_locked(oldest, EVICTED_NOTICE)

    def room_for(self, nbytes: int) -> int:
        """How many more sessions of `nbytes` each fit now, evicting no one (for the Train tab)."""
        with self._lock:
            self._expire_locked()
            used = sum(h.nbytes for h in self._held.values())
            count = len(self._held)
        by_memory = max(0, self.limits.session_models_bytes - used) // max(1, nbytes)
        return int(max(0, min(by_memory, self.limits.max_sessions - count)))

    def capacity_for(self, nbytes: int) -> int:
        """How many sessions of `nbytes` each the server holds when none is taken."""
        return int(max(0, min(self.limits.session_models_bytes // max(1, nbytes), self.limits.max_sessions)))

    # ------------------------------------------------------------------ sessions
    def add(
        self,
        bundle_or_predictor: Any,
        notice: str = "",
        *,
        nbytes: int | None = None,
        owner: str | None = None,
        replacing: str | None = None,
    ) -> str:
        """Serve this bundle (or loaded Predictor, or Engine) to one session; returns its key.

        `nbytes`: the estimate make_room was called with (None: estimated here from the loaded
        bundle). Evicts the least recently used sessions if the estimate does not fit; `replacing`
        (this session's previous key) is dropped in the same step, never counted against the room.
        """
        if isinstance(bundle_or_predictor, Engine):
            engine = bundle_or_predictor
        else:
            predictor = bundle_or_predictor
            if isinstance(predictor, Bundle):
                from har_demo.inference import Predictor

                predictor = Predictor(predictor)
            engine = Engine(predictor, limits=self.limits, notice=notice)
        if nbytes is None:
            nbytes = engine_bytes(engine)
        self.make_room(nbytes, owner, replacing=replacing)
        key = uuid.uuid4().hex
        with self._lock:
            if replacing is not None:
                self._held.pop(replacing, None)
            self._held[key] = _Held(engine, nbytes, owner, self.clock())
        return key

    def get(self, key: str | None) -> Engine:
        """The session's engine (its use counts as activity), or the default one."""
        if key is None:
            return self.default
        with self._lock:
            self._expire_locked()
            held = self._held.get(key)
            if held is None:
                return self.default
            held.last_used = self.clock()
            return held.engine

    def take_notice(self, key: str | None) -> str | None:
        """Why this session's models went (evicted, idle), once; None when they did not."""
        if key is None:
            return None
        with self._lock:
            self._expire_locked()
            return self._notices.pop(key, None)

    def drop(self, key: str | None) -> None:
        """Forget a session's engine (it was replaced, or the session has ended)."""
        if key is None:
            return
        with self._lock:
            self._held.pop(key, None)

    def drop_owner(self, owner: str | None) -> int:
        """Free every engine of one browser session (its page went away); returns how many."""
        if owner is None:
            return 0
        with self._lock:
            keys = [k for k, h in self._held.items() if h.owner == owner]
            for key in keys:
                self._held.pop(key, None)
        return len(keys)

    def held_bytes(self) -> int:
        with self._lock:
            return sum(h.nbytes for h in self._held.values())

    def _expire_locked(self) -> None:
        idle = self.limits.session_idle_s
        now = self.clock()
        for key in [k for k, h in self._held.items() if now - h.last_used > idle]:
            self._forget_locked(key, IDLE_NOTICE.format(minutes=idle / 60))

    def _forget_locked(self, key: str, why: str) -> None:
        self._held.pop(key, None)
        self._notices[key] = why
        while len(self._notices) > MAX_NOTICES:
            self._notices.popitem(last=False)

    def keys(self) -> list[str]:
        """The keys of the sessions holding their own engine now."""
        with self._lock:
            self._expire_locked()
            return list(self._held)

    def __len__(self) -> int:
        """Sessions holding their own engine now."""
        with self._lock:
            self._expire_locked()
            return len(self._held)

    def __deepcopy__(self, memo) -> EngineRegistry:
        """The one registry of the process: Gradio deep-copies each session's State, delete callback
        (`self.drop`) included, and a copy would copy every Keras model (seconds per page load)."""
        return self


def engine_bytes(engine: Engine) -> int:
    """The memory estimate of a loaded engine: its bundle's model files and clip shape."""
    from har_demo.model_bounds import estimate_bytes

    bundle, s = engine.bundle, engine.settings
    files = [bundle.path / bundle.manifest.models[m].file for m in bundle.model_names if m in bundle.manifest.models]
    weights = sum(f.stat().st_size for f in files if f.is_file())
    return estimate_bytes(
        weights, len(bundle.model_names), s.frames, s.height, s.width, s.channels, engine.timeline_batch
    )


# --------------------------------------------------------------------------- the default bundle
def choose_bundle(
    ref: str | os.PathLike | None = None,
    *,
    default: str | os.PathLike = SHIPPED_BUNDLE,
    env: dict | None = None,
    loader: Callable[[Any], Bundle] = load_bundle,
) -> tuple[Bundle, str]:
    """Load the bundle to serve and say, for the page, if it is not the one asked for.

    `ref` (or $HAR_DEMO_BUNDLE) is a local folder or a Hub reference OWNER/NAME[@REVISION];
    nothing given means `default` (the shipped weights/). When the asked-for bundle cannot be
    loaded (Hub unreachable and not cached, a damaged folder, a malformed manifest) the default
    is served and the returned notice says why. When the default itself fails, BundleError says
    what to do.
    """
    env = os.environ if env is None else env
    wanted = str(ref) if ref else (env.get(BUNDLE_ENV) or "").strip() or None
    if wanted is None or _same_place(wanted, default):
        try:
            return loader(default), ""
        except BundleError as exc:
            raise BundleError(
                f"{exc}\nThe app serves {default} by default: put a bundle there (train one with "
                "`har-demo train`, or import tutorial weights with `har-demo import`), "
                f"or set {BUNDLE_ENV} to a bundle folder or a Hub repo OWNER/NAME[@REVISION]."
            ) from exc
    try:
        return loader(wanted), ""
    except BundleError as exc:
        first = str(exc).strip()
    except Exception as exc:  # noqa: BLE001  whoever controls the asked-for bundle must not crash-loop the app
        first = f"it is not a valid bundle ({type(exc).__name__}: {exc})."
    try:
        bundle = loader(default)
    except BundleError as exc:
        raise BundleError(f"Could not load {wanted}: {first}\nThe fallback {default} failed too: {exc}") from exc
    return (
        bundle,
        f"Could not load the bundle **{wanted}**: {first} Showing the shipped bundle ({short_path(default)}) instead.",
    )


def _same_place(ref: str, default) -> bool:
    try:
        return Path(ref).expanduser().resolve() == Path(default).expanduser().resolve()
    except OSError:
        return False
