"""Inference: clips in, each model's class probabilities out.

Models are loaded once and warmed; every call goes through the compiled `predict_on_batch`
path (no per-call `model.predict` set-up), batching as many clips as it is given. Only Keras 3
APIs are used, so the same code runs on TensorFlow, JAX and PyTorch (KERAS_BACKEND, chosen by
har_demo.backend before keras is imported), on the GPU when the backend sees one.

Each model is served through `inference_model(model)` (har_demo.fastpath): the same function and
the same weight variables, rebuilt so a clip costs a few large ops instead of hundreds of tiny
ones. Each rebuilt model is checked against its original once per model file (har_demo.rewrite_check)
and the original is served if they ever disagree. A Predictor is ready as soon as its models are
loaded: the first call of each model (tracing, which took 1-4 s for ConvLSTM) happens in a
background thread, and until it is done requests run the same models eagerly. The models run in
`Predictor.run_models`, called through har_demo.gpu (inside a `spaces.GPU` function on a ZeroGPU
Space).
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from har_demo.backend import active as active_backend
from har_demo.backend import describe_device
from har_demo.bundle import Bundle
from har_demo.clip import Clip, ClipSettings, read_clip, to_model_input
from har_demo.gpu import call_on_gpu, on_zero_gpu, zero_gpu_available
from har_demo.loader import load_bundle
from har_demo.rewrite_check import checked_runner, rewrite_key
from har_demo.verdict import DEFAULT_THRESHOLD, Verdict, judge


@dataclass
class Prediction:
    """What every model thinks of one clip, and what it cost."""

    clip: Clip
    classes: list[str]
    probabilities: dict[str, np.ndarray]  # model name -> (classes,) float32
    seconds: dict[str, float] = field(default_factory=dict)  # "decode" and one entry per model
    source: str = ""

    @classmethod
    def for_clip(
        cls,
        clip: Clip,
        classes: list[str],
        probabilities: dict[str, np.ndarray],
        seconds: dict[str, float],
        source: str = "",
    ) -> Prediction:
        """From `predict_frames` output for a batch of one clip."""
        return cls(
            clip=clip,
            classes=classes,
            probabilities={name: probs[0] for name, probs in probabilities.items()},
            seconds={"decode": clip.decode_seconds, **seconds},
            source=source,
        )

    def top(self, model: str) -> str:
        return self.classes[int(np.argmax(self.probabilities[model]))]

    def confidence(self, model: str) -> float:
        return float(np.max(self.probabilities[model]))

    @property
    def verdict(self) -> str:
        """The honest verdict's headline (har_demo.verdict), at the default threshold."""
        return self.judged().headline

    def judged(self, threshold: float = DEFAULT_THRESHOLD) -> Verdict:
        """The honest verdict: whether the models agree and how sure each is."""
        return judge(self.classes, self.probabilities, threshold)

    def to_dict(self) -> dict:
        return {
            "source": self.source,
            "classes": self.classes,
            "models": {
                name: {
                    "top": self.top(name),
                    "confidence": round(self.confidence(name), 6),
                    "probabilities": {c: round(float(p), 6) for c, p in zip(self.classes, probs)},
                }
                for name, probs in self.probabilities.items()
            },
            "verdict": self.verdict,
            "sure": {r.model: r.sure for r in self.judged().readings},
            "frame_indices": self.clip.indices,
            "frame_count": self.clip.frame_count,
            "fps": round(self.clip.fps, 3),
            "repeated_frames": self.clip.repeated,
            "notes": self.clip.notes,
            "seconds": {k: round(v, 6) for k, v in self.seconds.items()},
        }


_WARMING = threading.local()  # set in the thread that traces the models (Predictor.warm_up)


def _eager(model, x: np.ndarray) -> np.ndarray:
    """One call without tracing: what a request gets while the traced function is being made."""
    from keras import ops

    return ops.convert_to_numpy(model(x, training=False))


class Predictor:
    """A bundle's models, loaded once, warmed, and called on batches of clips.

    `models` are the bundle's models as loaded; `runners` are what actually runs on each call
    (`inference_model` of each, or the model itself with `fast=False`).
    """

    def __init__(self, bundle: Bundle, warm: bool | tuple[int, ...] = True, fast: bool = True) -> None:
        """`warm`: trace for these batch sizes in the background (True: a batch of 1), serving eagerly
        until that is done; False: no tracing unless `warm_up` is called (every call eager: best for a
        few clips, where tracing would cost more than it saves)."""
        self.bundle = bundle
        self.classes = bundle.classes
        self.settings: ClipSettings = bundle.settings
        self.models = bundle.models
        from har_demo.fastpath import inference_model  # imports keras: there are models by now

        self.runners = {name: inference_model(m) if fast else m for name, m in self.models.items()}
        self.backend = active_backend()
        self.device = describe_device()
        self._checked = not fast
        self.compiled = threading.Event()  # set once every model has been traced (warm_up)
        # One model call at a time per Predictor: the warm-up thread traces while requests run eagerly,
        # and on JAX a traced call and an eager one at once can meet a weight buffer being replaced.
        self.calls = threading.Lock()  # held by whoever calls the models directly (run_models, explain)
        if fast and not zero_gpu_available():  # with `spaces`, models run only in GPU functions: run_models checks
            self._check_runners()
        if warm:
            self.warm_up((1,) if warm is True else tuple(warm), background=True)

    def _check_runners(self) -> None:
        """Serve the loaded model wherever the rebuilt one disagrees with it (it never should)."""
        s = self.settings
        x = np.random.default_rng(0).random((1, s.frames, s.height, s.width, s.channels), dtype=np.float32)
        for name, model in self.models.items():
            self.runners[name] = checked_runner(model, self.runners[name], x, key=self._rewrite_key(name))
        self._checked = True

    def _rewrite_key(self, name: str) -> str | None:
        """The key a passed check is remembered by: the model file's hash, when the manifest lists it."""
        manifest = self.bundle.manifest
        entry = manifest.models.get(name) if hasattr(manifest, "models") else None
        digest = manifest.files.get(entry.file) if entry is not None else None
        return rewrite_key(digest, self.backend) if digest else None

    @classmethod
    def from_ref(cls, ref: str | Path, **kwargs) -> Predictor:
        return cls(load_bundle(ref), **kwargs)

    def warm_up(self, batch_sizes: tuple[int, ...] = (1,), background: bool = False) -> None:
        """Trace each model once per batch size, so no request pays for it; then `compiled` is set.

        With `background`, in a thread: the Predictor serves at once, eagerly, meanwhile.
        On a ZeroGPU Space there is no GPU outside a request (and what a request's worker warms
        does not outlive it), so nothing is run there: the first request checks and traces.
        """
        if on_zero_gpu():
            self.compiled.set()
            return
        if background:
            # not a daemon: a process ending while TensorFlow traces would abort ("exception not rethrown")
            threading.Thread(target=self.warm_up, args=(batch_sizes,), name="har-warm-up").start()
            return
        s = self.settings
        _WARMING.on = True  # run_models traces (predict_on_batch) in this thread, even before `compiled`
        try:
            for batch in batch_sizes:
                self.predict_frames(np.zeros((batch, s.frames, s.height, s.width, 3), dtype=np.uint8))
        finally:
            _WARMING.on = False
        self.compiled.set()

    def predict_frames(self, frames: np.ndarray) -> tuple[dict[str, np.ndarray], dict[str, float]]:
        """uint8 frames (B, T, H, W, 3) -> per-model probabilities (B, C) and seconds per model."""
        frames = np.asarray(frames)
        if frames.ndim == 4:
            frames = frames[None]
        return call_on_gpu(self, "run_models", np.ascontiguousarray(frames, dtype=np.uint8))

    def run_models(self, frames: np.ndarray) -> tuple[dict[str, np.ndarray], dict[str, float]]:
        """Every model on one batch of uint8 frames: the GPU work of a request (har_demo.gpu runs it
        inside a spaces.GPU function on ZeroGPU). Returns per-model probabilities (B, C) and seconds."""
        x = to_model_input(frames, self.settings)
        with self.calls:
            if not self._checked:
                self._check_runners()
            compiled = self.compiled.is_set() or getattr(_WARMING, "on", False)
            probabilities, seconds = {}, {}
            for name, runner in self.runners.items():
                started = time.perf_counter()
                out = runner.predict_on_batch(x) if compiled else _eager(runner, x)
                probabilities[name] = np.asarray(out, dtype=np.float32)
                seconds[name] = time.perf_counter() - started
        return probabilities, seconds

    def gpu_seconds(self, method: str, frames: np.ndarray) -> float:
        """The most one batch may hold a ZeroGPU GPU: an allowance for the first call (weights to the
        GPU, tracing) plus a per-clip share far above what both models need on a GPU (a few ms a clip)."""
        return 20 + 0.05 * len(frames)

    def predict_clip(self, clip: Clip, source: str = "") -> Prediction:
        return Prediction.for_clip(clip, self.classes, *self.predict_frames(clip.frames), source=source)

    def predict_path(self, path: str | os.PathLike, *, max_frames: int | None = None) -> Prediction:
        """Decode a video file with the bundle's clip settings and run every model on it."""
        clip = read_clip(path, self.settings, max_frames=max_frames)
        return self.predict_clip(clip, source=str(path))
