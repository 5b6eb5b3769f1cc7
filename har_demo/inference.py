"""Inference: clips in, each model's class probabilities out.

Models are loaded once and warmed; every call goes through the compiled `predict_on_batch`
path (no per-call `model.predict` set-up), batching as many clips as it is given. Only Keras 3
APIs are used, so the same code runs on TensorFlow or, with KERAS_BACKEND=jax, on JAX.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from har_demo.bundle import Bundle, load_bundle
from har_demo.clip import Clip, ClipSettings, read_clip, to_model_input
from har_demo.models import DISPLAY_NAMES


@dataclass
class Prediction:
    """What every model thinks of one clip, and what it cost."""

    clip: Clip
    classes: list[str]
    probabilities: dict[str, np.ndarray]  # model name -> (classes,) float32
    seconds: dict[str, float] = field(default_factory=dict)  # "decode" and one entry per model
    source: str = ""

    def top(self, model: str) -> str:
        return self.classes[int(np.argmax(self.probabilities[model]))]

    def confidence(self, model: str) -> float:
        return float(np.max(self.probabilities[model]))

    @property
    def verdict(self) -> str:
        """One line for a person: do the models agree?"""
        tops = {m: self.top(m) for m in self.probabilities}
        if len(tops) == 1:
            (model, label), = tops.items()
            return f"{DISPLAY_NAMES.get(model, model)}: {label}"
        if len(set(tops.values())) == 1:
            return f"Both models: {next(iter(tops.values()))}"
        said = ", ".join(f"{DISPLAY_NAMES.get(m, m)} says {label}" for m, label in tops.items())
        return f"The models disagree: {said}"

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
            "frame_indices": self.clip.indices,
            "frame_count": self.clip.frame_count,
            "fps": round(self.clip.fps, 3),
            "repeated_frames": self.clip.repeated,
            "notes": self.clip.notes,
            "seconds": {k: round(v, 6) for k, v in self.seconds.items()},
        }


def describe_device() -> str:
    """The accelerator inference runs on, in words ("CPU" when there is none)."""
    import keras

    backend = keras.backend.backend()
    try:
        if backend == "tensorflow":
            import tensorflow as tf

            gpus = tf.config.list_physical_devices("GPU")
            if gpus:
                details = tf.config.experimental.get_device_details(gpus[0])
                return f"GPU: {details.get('device_name', gpus[0].name)} (TensorFlow)"
        elif backend == "jax":
            import jax

            device = jax.devices()[0]
            if device.platform != "cpu":
                return f"GPU: {device.device_kind} (JAX)"
        elif backend == "torch":
            import torch

            if torch.cuda.is_available():
                return f"GPU: {torch.cuda.get_device_name(0)} (PyTorch)"
    except Exception:  # device discovery must never break serving
        pass
    return f"CPU ({os.cpu_count()} cores, {backend})"


class Predictor:
    """A bundle's models, loaded once, warmed, and called on batches of clips."""

    def __init__(self, bundle: Bundle, warm: bool = True) -> None:
        self.bundle = bundle
        self.classes = bundle.classes
        self.settings: ClipSettings = bundle.settings
        self.models = bundle.models
        if warm:
            self.warm_up()

    @classmethod
    def from_ref(cls, ref: str | Path, **kwargs) -> "Predictor":
        return cls(load_bundle(ref), **kwargs)

    def warm_up(self, batch_sizes: tuple[int, ...] = (1,)) -> None:
        """Trace and compile each model once, so the first real request is not the slow one."""
        s = self.settings
        for batch in batch_sizes:
            dummy = np.zeros((batch, s.frames, s.height, s.width, 3), dtype=np.uint8)
            self.predict_frames(dummy)

    def predict_frames(self, frames: np.ndarray) -> tuple[dict[str, np.ndarray], dict[str, float]]:
        """uint8 frames (B, T, H, W, 3) -> per-model probabilities (B, C) and seconds per model."""
        frames = np.asarray(frames)
        if frames.ndim == 4:
            frames = frames[None]
        x = to_model_input(frames, self.settings)
        probabilities, seconds = {}, {}
        for name, model in self.models.items():
            started = time.perf_counter()
            probabilities[name] = np.asarray(model.predict_on_batch(x), dtype=np.float32)
            seconds[name] = time.perf_counter() - started
        return probabilities, seconds

    def predict_clip(self, clip: Clip, source: str = "") -> Prediction:
        probabilities, seconds = self.predict_frames(clip.frames)
        return Prediction(
            clip=clip,
            classes=self.classes,
            probabilities={name: probs[0] for name, probs in probabilities.items()},
            seconds={"decode": clip.decode_seconds, **seconds},
            source=source,
        )

    def predict_path(self, path: str | os.PathLike, *, max_frames: int | None = None) -> Prediction:
        """Decode a video file with the bundle's clip settings and run every model on it."""
        clip = read_clip(path, self.settings, max_frames=max_frames)
        return self.predict_clip(clip, source=str(path))
