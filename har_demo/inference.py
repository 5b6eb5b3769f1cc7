"""Inference: clips in, each model's class probabilities out.

Models are loaded once and warmed; every call goes through the compiled `predict_on_batch`
path (no per-call `model.predict` set-up), batching as many clips as it is given. Only Keras 3
APIs are used, so the same code runs on TensorFlow or, with KERAS_BACKEND=jax, on JAX.

Each model is served through `inference_model(model)`: the same function and the same weight
variables, rebuilt so a clip costs a few large ops instead of hundreds of tiny ones (Keras runs
TimeDistributed as a Python loop over the 20 frames, and ConvLSTM2D as eight small convolutions
per time step). That makes both models together about 2x faster per clip on a 2-core CPU (see
docs/performance.md). `warm_up` checks the rebuilt model against the original and
serves the original if they ever disagree.
"""

from __future__ import annotations

import os
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from har_demo.bundle import Bundle
from har_demo.clip import Clip, ClipSettings, read_clip, to_model_input
from har_demo.loader import load_bundle
from har_demo.names import DISPLAY_NAMES


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
        """One line for a person: do the models agree?"""
        tops = {m: self.top(m) for m in self.probabilities}
        if len(tops) == 1:
            ((model, label),) = tops.items()
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


def _passthrough(source):
    """Dropout (or TimeDistributed(Dropout)) at inference: the identity."""
    import keras

    class Passthrough(keras.layers.Layer):
        def __init__(self) -> None:
            super().__init__(name=source.name)

        def call(self, x, mask=None, training=None):
            return x

    return Passthrough()


def _framewise(wrapper):
    """TimeDistributed(layer) as one call on (batch * time) frames instead of a loop over time."""
    import keras
    from keras import ops

    inner = wrapper.layer
    if isinstance(inner, keras.layers.Dropout):
        return _passthrough(wrapper)

    class Framewise(keras.layers.Layer):
        def __init__(self) -> None:
            super().__init__(name=wrapper.name)
            self.inner = inner  # the same layer object: weights are shared, not copied

        def call(self, x, mask=None, training=None):
            if mask is not None:
                raise ValueError("the fast path has no masked TimeDistributed; inference_model keeps the original")
            steps = x.shape[1]
            y = self.inner(ops.reshape(x, (-1, *x.shape[2:])))
            return ops.reshape(y, (-1, steps, *y.shape[1:]))

    return Framewise()


def _fused_convlstm(source):
    """ConvLSTM2D for inference: one input and one recurrent convolution per step for the four
    gates together (Keras does 8 per step), and none on the all-zero state of the first step."""
    import keras
    from keras import ops

    cell = source.cell
    if (
        source.stateful
        or source.go_backwards
        or source.return_state
        or getattr(source, "zero_output_for_mask", False)
        or cell.data_format != "channels_last"
        or cell.rank != 2
    ):
        return source  # not the plain case: keep Keras's own layer

    class FusedConvLSTM2D(keras.layers.Layer):
        def __init__(self) -> None:
            super().__init__(name=source.name)
            self.cell = cell  # shared weights

        def call(self, x, mask=None, training=None, initial_state=None):
            if mask is not None or initial_state is not None:
                raise ValueError(
                    "the fast path has no masked ConvLSTM2D or initial state; inference_model keeps the original"
                )
            n = cell.filters
            h = c = None
            outputs = []
            for t in range(x.shape[1]):
                g = ops.conv(
                    x[:, t], cell.kernel, strides=cell.strides, padding=cell.padding, dilation_rate=cell.dilation_rate
                )
                if cell.use_bias:
                    g = g + cell.bias
                if h is not None:  # the state starts at zero: its convolution would add nothing
                    g = g + ops.conv(h, cell.recurrent_kernel, strides=1, padding="same")
                i = cell.recurrent_activation(g[..., :n])
                o = cell.recurrent_activation(g[..., 3 * n :])
                candidate = i * cell.activation(g[..., 2 * n : 3 * n])
                c = candidate if c is None else cell.recurrent_activation(g[..., n : 2 * n]) * c + candidate
                h = o * cell.activation(c)
                outputs.append(h)
            return ops.stack(outputs, axis=1) if source.return_sequences else h

    return FusedConvLSTM2D()


def inference_model(model, jit_compile: bool | None = None):
    """`model` rebuilt for fast inference: same outputs, same (shared) weight variables.

    TimeDistributed layers run on all frames at once, dropout is dropped and ConvLSTM2D is fused
    (see above). Layers it does not know are kept as they are; a model it cannot rebuild comes
    back unchanged. `jit_compile=None` keeps Keras's "auto" choice: XLA on JAX and on GPUs, not
    for TensorFlow on a CPU, where XLA took 25-40 s to compile ConvLSTM and ran no faster.
    """
    import keras

    def rebuild(layer):
        if isinstance(layer, keras.layers.TimeDistributed):
            return _framewise(layer)
        if isinstance(layer, keras.layers.ConvLSTM2D):
            return _fused_convlstm(layer)
        if isinstance(layer, keras.layers.Dropout):
            return _passthrough(layer)
        return layer

    try:
        fast = keras.models.clone_model(model, clone_function=rebuild)
    except Exception as exc:  # an unusual architecture: serve it as it is
        warnings.warn(f"{model.name}: serving the model as loaded ({exc})", stacklevel=2)
        return model
    if jit_compile is not None:
        fast.jit_compile = jit_compile
    return fast


class Predictor:
    """A bundle's models, loaded once, warmed, and called on batches of clips.

    `models` are the bundle's models as loaded; `runners` are what actually runs on each call
    (`inference_model` of each, or the model itself with `fast=False`).
    """

    def __init__(self, bundle: Bundle, warm: bool = True, fast: bool = True) -> None:
        self.bundle = bundle
        self.classes = bundle.classes
        self.settings: ClipSettings = bundle.settings
        self.models = bundle.models
        self.runners = {name: inference_model(m) if fast else m for name, m in self.models.items()}
        self._checked = not fast
        if warm:
            self.warm_up()

    def _check_runners(self) -> None:
        """Serve the loaded model wherever the rebuilt one disagrees with it (it never should)."""
        s = self.settings
        x = np.random.default_rng(0).random((1, s.frames, s.height, s.width, 3), dtype=np.float32)
        for name, model in self.models.items():
            runner = self.runners[name]
            if runner is model:
                continue
            try:
                error = float(np.max(np.abs(runner.predict_on_batch(x) - model.predict_on_batch(x))))
            except Exception as exc:
                error, reason = np.inf, f"{type(exc).__name__}: {exc}"
            else:
                reason = f"outputs differ by {error:.2g}"
            if not error <= 1e-4:
                warnings.warn(
                    f"{name}: the fast inference model failed its check ({reason}); serving the original", stacklevel=2
                )
                self.runners[name] = model
        self._checked = True

    @classmethod
    def from_ref(cls, ref: str | Path, **kwargs) -> Predictor:
        return cls(load_bundle(ref), **kwargs)

    def warm_up(self, batch_sizes: tuple[int, ...] = (1,)) -> None:
        """Trace and compile each model once, so the first real request is not the slow one."""
        if not self._checked:
            self._check_runners()
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
        if not self._checked:
            self._check_runners()
        for name, runner in self.runners.items():
            started = time.perf_counter()
            probabilities[name] = np.asarray(runner.predict_on_batch(x), dtype=np.float32)
            seconds[name] = time.perf_counter() - started
        return probabilities, seconds

    def predict_clip(self, clip: Clip, source: str = "") -> Prediction:
        return Prediction.for_clip(clip, self.classes, *self.predict_frames(clip.frames), source=source)

    def predict_path(self, path: str | os.PathLike, *, max_frames: int | None = None) -> Prediction:
        """Decode a video file with the bundle's clip settings and run every model on it."""
        clip = read_clip(path, self.settings, max_frames=max_frames)
        return self.predict_clip(clip, source=str(path))
