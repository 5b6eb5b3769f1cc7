"""The models the app serves: `Engine` (one predictor behind one lock) and `EngineRegistry`.

The registry maps a session key (a short string a browser session holds in a `gr.State`) to an
Engine; every visitor without a key (None) gets the default engine, the served bundle. A studio
run's freshly trained bundle or an uploaded model becomes the bundle of ONE session with
`registry.add(...)`, while everybody else keeps the default. The State holds the key, never the
Engine: Gradio deep-copies State values, and a copy of a Keras model per request is no option.
Session engines are capped (`Limits.max_sessions`) and dropped when the session ends (the State's
delete callback).

`choose_bundle` decides which bundle is the default, falling back to the shipped weights (with
a notice for the page) when the one asked for cannot be loaded.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from har_demo.app.limits import Limits
from har_demo.app.text import short_path
from har_demo.backend import describe_device
from har_demo.bundle import Bundle, BundleError
from har_demo.clip import Clip
from har_demo.inference import Prediction
from har_demo.loader import load_bundle
from har_demo.shipped import BUNDLE_ENV, SHIPPED_BUNDLE


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

    def predict_frames(self, frames: np.ndarray):
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
    """Every session slot for own models is taken; the message says so for a person."""


class EngineRegistry:
    """Session key -> Engine, with the default engine for None and for keys it does not know."""

    def __init__(self, default: Engine, limits: Limits | None = None) -> None:
        self.default = default
        self.limits = limits or default.limits
        self._engines: dict[str, Engine] = {}
        self._lock = threading.Lock()

    def add(self, bundle_or_predictor: Any, notice: str = "") -> str:
        """Serve this bundle (or loaded Predictor, or Engine) to one session; returns its key.

        Raises SessionLimitReached when `limits.max_sessions` sessions hold their own models.
        """
        with self._lock:
            if len(self._engines) >= self.limits.max_sessions:
                raise SessionLimitReached(
                    f"The server already holds models for {len(self._engines)} sessions (the limit is "
                    f"{self.limits.max_sessions}); try again when one has finished."
                )
        if isinstance(bundle_or_predictor, Engine):
            engine = bundle_or_predictor
        else:
            predictor = bundle_or_predictor
            if isinstance(predictor, Bundle):
                from har_demo.inference import Predictor

                predictor = Predictor(predictor)
            engine = Engine(predictor, limits=self.limits, notice=notice)
        key = uuid.uuid4().hex
        with self._lock:
            if len(self._engines) >= self.limits.max_sessions:  # another session got the last slot meanwhile
                raise SessionLimitReached(
                    f"The server already holds models for {self.limits.max_sessions} sessions; try again later."
                )
            self._engines[key] = engine
        return key

    def get(self, key: str | None) -> Engine:
        if key is None:
            return self.default
        with self._lock:
            return self._engines.get(key, self.default)

    def drop(self, key: str | None) -> None:
        """Forget a session's engine (the State's delete callback: the session has ended)."""
        if key is None:
            return
        with self._lock:
            self._engines.pop(key, None)

    def __len__(self) -> int:
        """Sessions holding their own engine now."""
        return len(self._engines)

    def __deepcopy__(self, memo) -> EngineRegistry:
        """The one registry of the process: Gradio deep-copies each session's State, delete callback
        (`self.drop`) included, and a copy would copy every Keras model (seconds per page load)."""
        return self


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
